// Helpers shared by the integration tests that run `progeny run` in the sandbox: the binary,
// readable wait statuses, "nothing left behind", and the tracker requirement.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

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
