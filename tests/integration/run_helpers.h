// Helpers shared by the integration tests that run `progeny run` in the sandbox: the binary,
// readable wait statuses, "nothing left behind", the keeper's holdings, and the tracker
// requirement.
#pragma once
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "tests/sandbox/sandbox.h"

namespace progeny::test {

inline std::string progeny_bin() { return build_path("bin/progeny"); }

inline std::string status_text(int st) {
  if (st == -1) return "still running";
  if (WIFEXITED(st)) return "exit " + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) return "signal " + std::to_string(WTERMSIG(st));
  return "status " + std::to_string(st);
}

inline bool exited_with(int st, int code) {
  return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == code;
}

// Nothing but the scenario and the sandbox's init may exist once progeny has returned.
inline void expect_nothing_left(Scenario& s) {
  auto left = s.others();
  std::string what;
  for (const auto& l : left) what += "\n  " + l;
  s.expect(left.empty(), std::to_string(left.size()) + " process(es) left behind:" + what);
}

// After the launcher's SIGKILL: the tree must be gone within a second (the orphans come to
// the sandbox's init, which the scenario helps reap).
inline void expect_gone_within_a_second(Scenario& s) {
  for (int i = 0; i < 100 && !s.others().empty(); ++i) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    ::usleep(10000);
  }
  expect_nothing_left(s);
}

// Whether a path exists (the marker files scenarios hand each other).
inline bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// Polls cond every 10 ms until it holds (true) or timeout_ms has passed (cond's last answer).
inline bool wait_until(const std::function<bool()>& cond, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (cond()) return true;
    ::usleep(10000);
  }
  return cond();
}

// Reaps what comes to the scenario and waits (bounded) until nothing but the scenario and
// the init is left; what is still there after `timeout_ms` is returned.
inline std::vector<std::string> left_after(Scenario& s, int timeout_ms) {
  wait_until(
      [&] {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        return s.others().empty();
      },
      timeout_ms);
  return s.others();
}

// The pid of a Scenario::others() entry ("PID (COMM) ARGV").
inline pid_t pid_of(const std::string& described) { return std::stoi(described); }

// The keeper of the one run in the sandbox, or 0.
inline pid_t find_keeper(const Scenario& s) {
  for (const auto& p : s.others())
    if (p.find(" (progeny-keeper)") != std::string::npos) return pid_of(p);
  return 0;
}

// The keeper once it has named itself (bounded: a loaded machine may not have run the forked
// keeper's first instructions yet when COMMAND's tree is up), or 0.
inline pid_t wait_for_keeper(const Scenario& s, int timeout_ms = 20000) {
  pid_t keeper = 0;
  wait_until([&] { return (keeper = find_keeper(s)) != 0; }, timeout_ms);
  return keeper;
}

// The processes the keeper holds a pidfd of (each pidfd's fdinfo names its pid); empty when
// there is no keeper.
inline std::set<pid_t> held_by_keeper(const Scenario& s) {
  std::set<pid_t> held;
  pid_t keeper = find_keeper(s);
  if (!keeper) return held;
  std::string dir = "/proc/" + std::to_string(keeper) + "/fdinfo/";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return held;
  const std::string key = "\nPid:\t";
  for (dirent* e; (e = ::readdir(d));) {
    if (e->d_name[0] == '.') continue;
    std::string info = read_file(dir + e->d_name);
    size_t at = info.find(key);
    if (at != std::string::npos) held.insert(std::atoi(info.c_str() + at + key.size()));
  }
  ::closedir(d);
  return held;
}

// "" when `progeny run --bpf on` works here, else why not (progeny exits 125 with a reason).
inline std::string tracker_unavailable() {
  if (::geteuid() != 0) return "the sandbox and the tracker need root";
  int probe = run_command({progeny_bin(), "run", "--bpf", "on", "--no-preload", "--contain",
                           "none", "--", "/bin/true"}, "/dev/null");
  return exited_with(probe, 0) ? ""
                               : "the BPF tracker does not load here (progeny run -v --bpf on says why)";
}

}  // namespace progeny::test

// Skips without the tracker, but fails where it must work (CI sets PROGENY_BPF_MUST_WORK=1).
#define REQUIRE_TRACKER()                                                              \
  do {                                                                                 \
    std::string why = progeny::test::tracker_unavailable();                            \
    if (!why.empty() && std::getenv("PROGENY_BPF_MUST_WORK")) FAIL() << why;           \
    if (!why.empty()) GTEST_SKIP() << why;                                             \
  } while (0)
