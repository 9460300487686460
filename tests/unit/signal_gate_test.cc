// Every signal progeny sends goes through launcher/members/signal_gate.cc: this test reads the
// sources of everything that runs as progeny (the launcher, the tracker's user side) and of
// the shim, and fails on any signal-sending call found elsewhere. Adding a new signalling
// path means adding it to the gate, where the checks are.
#include <gtest/gtest.h>

#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/source_tree.h"

namespace {

using progeny::test::code_only;
using progeny::test::kCodeFolders;
using progeny::test::read_source;
using progeny::test::sources_in;

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Whether `code` calls something that sends a signal, by any spelling: a call of kill, killpg,
// tgkill, tkill, raise or sigqueue (as a whole word), of anything ending in pidfd_send_signal
// or starting with bpf_send_signal, a SYS_ number of a signalling syscall, or the arming of a
// descriptor to signal its owner (F_SETOWN, F_SETOWN_EX, F_SETSIG: the kernel sends it later).
bool sends_signal(const std::string& code) {
  static const char* const kCalls[] = {"kill", "killpg", "tgkill", "tkill", "raise", "sigqueue"};
  static const char* const kSyscalls[] = {"SYS_kill", "SYS_tkill", "SYS_tgkill",
                                          "SYS_pidfd_send_signal", "SYS_rt_sigqueueinfo",
                                          "SYS_rt_tgsigqueueinfo", "F_SETOWN", "F_SETOWN_EX",
                                          "F_SETSIG"};
  for (size_t i = 0; i < code.size();) {
    if (!word_char(code[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < code.size() && word_char(code[j])) ++j;
    std::string word = code.substr(i, j - i);
    size_t k = j;
    while (k < code.size() && code[k] == ' ') ++k;
    bool call = k < code.size() && code[k] == '(';
    for (const char* c : kCalls)
      if (call && word == c) return true;
    if (call && (word.ends_with("pidfd_send_signal") || word.starts_with("bpf_send_signal")))
      return true;
    for (const char* sc : kSyscalls)
      if (word == sc) return true;
    i = j;
  }
  return false;
}

struct Allowed {
  const char* file;
  const char* why;
};
constexpr Allowed kAllowed[] = {
    {"launcher/members/signal_gate.cc", "the gate"},
    {"shim/transport.cc",
     "the shim's one signal: to its own process, when its launcher is gone; and the arming of "
     "its own lifeline end"},
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
      if (sends_signal(line))
        offenders.push_back(f + ":" + std::to_string(n) + ": " + line);
    }
    // cgroup.kill is named only where it is written and checked: the gate.
    if (!allowed(f) && text.find("\"cgroup.kill\"") != std::string::npos)
      offenders.push_back(f + ": names cgroup.kill");
  }
  std::string all;
  for (const auto& o : offenders) all += "\n  " + o;
  EXPECT_TRUE(offenders.empty()) << "signalling outside launcher/members/signal_gate.cc:" << all;
}

// The scan itself finds what it is there to find (a test that cannot fail proves nothing).
TEST(SignalGate, TheScanRecognisesEverySpelling) {
  for (const char* call : {"::kill(pid, 9);", "kill (p, SIGTERM)", "::raise(SIGSTOP);",
                           "syscall(SYS_pidfd_send_signal, fd, 9, 0, 0);", "killpg(g, 9)",
                           "sys_pidfd_send_signal(fd, sig)", "syscall(SYS_tgkill, a, b, 9)",
                           "fcntl(fd, F_SETSIG, SIGKILL)", "::fcntl(s, F_SETOWN_EX, &o)"})
    EXPECT_TRUE(sends_signal(code_only(call))) << call;
  for (const char* fine : {"// we kill(2) nothing here", "leaf->kill_all();",
                           "msg(\"cannot kill(it)\");", "skill(x)", "fcntl(fd, F_GETSIG)"})
    EXPECT_FALSE(sends_signal(code_only(fine))) << fine;
}

}  // namespace
