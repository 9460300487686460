// Every signal progeny sends goes through launcher/signal_gate.cc: this test reads the
// sources of everything that runs as progeny (the launcher, the tracker's user side) and of
// the shim, and fails on any signal-sending call found elsewhere. Adding a new signalling
// path means adding it to the gate, where the checks are.
#include <dirent.h>

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

// The source tree, as the Makefile compiled this test.
const std::string kSource = PROGENY_SOURCE_DIR;

std::vector<std::string> sources_in(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir((kSource + "/" + dir).c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    bool c_family = n.ends_with(".cc") || n.ends_with(".h") || (n.ends_with(".c") && !n.ends_with(".bpf.c"));
    if (c_family) out.push_back(dir + "/" + n);
  }
  ::closedir(d);
  return out;
}

// The text without comments and string literals' contents, so prose ("sends SIGKILL to...")
// and messages do not count, while every call does.
std::string code_only(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "//") == 0) {
      while (i < text.size() && text[i] != '\n') ++i;
      out.push_back('\n');
    } else if (text.compare(i, 2, "/*") == 0) {
      size_t end = text.find("*/", i + 2);
      i = end == std::string::npos ? text.size() : end + 1;
    } else if (text[i] == '"') {
      out.push_back('"');
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\') ++i;
      out.push_back('"');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Calls that send a signal, or write cgroup.kill, by any spelling.
const std::regex kSignalling(
    R"((\bkill|\bkillpg|\btgkill|\btkill|\braise|\bsigqueue|pidfd_send_signal|bpf_send_signal\w*)\s*\(|SYS_(kill|tkill|tgkill|pidfd_send_signal|rt_sigqueueinfo|rt_tgsigqueueinfo)\b)");
const std::regex kCgroupKill(R"(cgroup\.kill)");

struct Allowed {
  const char* file;
  const char* why;
};
constexpr Allowed kAllowed[] = {
    {"launcher/signal_gate.cc", "the gate"},
    {"shim/transport.cc", "the shim's one signal: to its own process, when its launcher is gone"},
};

bool allowed(const std::string& file) {
  for (const auto& a : kAllowed)
    if (file == a.file) return true;
  return false;
}

TEST(SignalGate, NoSourceSignalsAroundTheGate) {
  std::vector<std::string> files;
  for (const char* dir : {"launcher", "bpf", "shim"})
    for (auto& f : sources_in(dir)) files.push_back(f);
  ASSERT_GT(files.size(), 20U) << "sources not found under " << kSource;
  std::vector<std::string> offenders;
  for (const auto& f : files) {
    std::ifstream in(kSource + "/" + f);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string code = code_only(ss.str());
    std::istringstream lines(code);
    int n = 0;
    for (std::string line; std::getline(lines, line);) {
      ++n;
      if (allowed(f)) continue;
      if (std::regex_search(line, kSignalling))
        offenders.push_back(f + ":" + std::to_string(n) + ": " + line);
    }
    // cgroup.kill may be named only where it is written (the gate) or checked (the gate).
    if (!allowed(f) && std::regex_search(ss.str(), kCgroupKill) &&
        std::regex_search(code, std::regex(R"("cgroup\.kill")")))
      offenders.push_back(f + ": writes cgroup.kill");
  }
  std::string all;
  for (const auto& o : offenders) all += "\n  " + o;
  EXPECT_TRUE(offenders.empty()) << "signalling outside launcher/signal_gate.cc:" << all;
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
