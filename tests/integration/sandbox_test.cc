// The sandbox itself: if it leaked, every other integration test would be unsafe.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/sandbox/sandbox.h"

using progeny::test::run_in_sandbox;
using progeny::test::Scenario;

namespace {

void skip_unless_root() {
  if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root (PID namespace, pids cgroup)";
}

TEST(Sandbox, ScenarioIsPid2UnderItsOwnInit) {
  skip_unless_root();
  auto r = run_in_sandbox([](Scenario& s) {
    s.expect(::getpid() == 2, "scenario pid is " + std::to_string(::getpid()));
    s.expect(::getppid() == 1, "scenario parent is " + std::to_string(::getppid()));
    s.expect(s.others().empty(), "fresh /proc shows other processes");
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(r.survivors.empty()) << r.describe();
}

TEST(Sandbox, ReportsSurvivorsAndKillsThem) {
  skip_unless_root();
  auto r = run_in_sandbox([](Scenario&) {
    if (::fork() == 0) {
      ::setsid();
      ::pause();
      ::_exit(0);
    }
    return 0;
  });
  ASSERT_TRUE(r.ran) << r.describe();
  EXPECT_EQ(r.survivors.size(), 1u) << r.describe();
}

TEST(Sandbox, PidsCgroupCapsForks) {
  skip_unless_root();
  progeny::test::SandboxOptions opts;
  opts.pids_max = 20;
  auto r = run_in_sandbox(
      [](Scenario& s) {
        int made = 0;
        for (int i = 0; i < 40; ++i) {
          pid_t p = ::fork();
          if (p == 0) {
            ::pause();
            ::_exit(0);
          }
          if (p < 0) break;
          ++made;
        }
        s.expect(made < 20, "forked " + std::to_string(made) + " processes past a cap of 20");
        return 0;
      },
      opts);
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(Sandbox, RunsScenarioAsNonRoot) {
  skip_unless_root();
  progeny::test::SandboxOptions opts;
  opts.uid = 65534;
  opts.gid = 65534;
  auto r = run_in_sandbox(
      [](Scenario& s) {
        s.expect(::geteuid() == 65534, "euid is " + std::to_string(::geteuid()));
        return 0;
      },
      opts);
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(Sandbox, FailingScenarioIsReported) {
  skip_unless_root();
  auto r = run_in_sandbox([](Scenario& s) {
    s.fail("deliberate");
    return 3;
  });
  ASSERT_TRUE(r.ran) << r.describe();
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_TRUE(WIFEXITED(r.scenario_status) && WEXITSTATUS(r.scenario_status) == 3);
}

}  // namespace
