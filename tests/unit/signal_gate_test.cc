// Every signal progeny sends goes through launcher/members/signal_gate.cc: this test reads the
// sources of everything that runs as progeny (the launcher, the tracker's user side) and of
// the shim, and fails on any signal-sending call found elsewhere. Adding a new signalling
// path means adding it to the gate, where the checks are.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/source_tree.h"

namespace {

using progeny::test::code_only;
using progeny::test::kCodeFolders;
using progeny::test::read_source;
using progeny::test::sources_in;

// Calls that send a signal, or write cgroup.kill, by any spelling.
const std::regex kSignalling(
    R"((\bkill|\bkillpg|\btgkill|\btkill|\braise|\bsigqueue|pidfd_send_signal|bpf_send_signal\w*)\s*\(|SYS_(kill|tkill|tgkill|pidfd_send_signal|rt_sigqueueinfo|rt_tgsigqueueinfo)\b)");
const std::regex kCgroupKill(R"(cgroup\.kill)");

struct Allowed {
  const char* file;
  const char* why;
};
constexpr Allowed kAllowed[] = {
    {"launcher/members/signal_gate.cc", "the gate"},
    {"shim/transport.cc", "the shim's one signal: to its own process, when its launcher is gone"},
};

bool allowed(const std::string& file) {
  for (const auto& a : kAllowed)
    if (file == a.file) return true;
  return false;
}

TEST(SignalGate, NoSourceSignalsAroundTheGate) {
  std::vector<std::string> files;
  for (const auto& dir : kCodeFolders)
    for (auto& f : sources_in(dir)) files.push_back(f);
  ASSERT_GT(files.size(), 20U) << "sources not found under " << progeny::test::kSourceDir;
  std::vector<std::string> offenders;
  for (const auto& f : files) {
    std::string text = read_source(f);
    std::string code = code_only(text);
    std::istringstream lines(code);
    int n = 0;
    for (std::string line; std::getline(lines, line);) {
      ++n;
      if (allowed(f)) continue;
      if (std::regex_search(line, kSignalling))
        offenders.push_back(f + ":" + std::to_string(n) + ": " + line);
    }
    // cgroup.kill may be named only where it is written (the gate) or checked (the gate).
    if (!allowed(f) && std::regex_search(text, kCgroupKill) &&
        std::regex_search(code, std::regex(R"("cgroup\.kill")")))
      offenders.push_back(f + ": writes cgroup.kill");
  }
  std::string all;
  for (const auto& o : offenders) all += "\n  " + o;
  EXPECT_TRUE(offenders.empty()) << "signalling outside launcher/members/signal_gate.cc:" << all;
}

// The scan itself finds what it is there to find (a test that cannot fail proves nothing).
TEST(SignalGate, TheScanRecognisesEverySpelling) {
  for (const char* call : {"::kill(pid, 9);", "kill (p, SIGTERM)", "::raise(SIGSTOP);",
                           "syscall(SYS_pidfd_send_signal, fd, 9, 0, 0);", "killpg(g, 9)",
                           "sys_pidfd_send_signal(fd, sig)", "syscall(SYS_tgkill, a, b, 9)"})
    EXPECT_TRUE(std::regex_search(code_only(call), kSignalling)) << call;
  for (const char* fine : {"// we kill(2) nothing here", "leaf->kill_all();",
                           "msg(\"cannot kill(it)\");", "skill(x)"})
    EXPECT_FALSE(std::regex_search(code_only(fine), kSignalling)) << fine;
}

}  // namespace
