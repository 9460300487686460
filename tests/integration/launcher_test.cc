// `progeny run` and `progeny kill` on the fixture trees, each in its own sandbox: zero
// survivors, the right exit status, and no zombie left behind.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace {

using progeny::test::build_path;
using progeny::test::exited_with;
using progeny::test::expect_gone_within_a_second;
using progeny::test::expect_nothing_left;
using progeny::test::fixture;
using progeny::test::progeny_bin;
using progeny::test::status_text;
using progeny::test::run_command;
using progeny::test::run_in_sandbox;
using progeny::test::SandboxOptions;
using progeny::test::Scenario;

// Who runs progeny and with which --contain: the bare launcher (walk + subreaper) as root
// and as an unprivileged user, and each kernel containment mode.
struct Setup {
  uid_t uid;
  const char* contain;
};

class RunScenario : public ::testing::TestWithParam<Setup> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root (PID namespace, pids cgroup)";
  }
  SandboxOptions opts(int pids_max = 4096) {
    SandboxOptions o;
    o.pids_max = pids_max;
    o.uid = o.gid = GetParam().uid;
    return o;
  }
  // progeny run --contain MODE
  std::vector<std::string> run_argv() const {
    return {progeny_bin(), "run", "--contain", GetParam().contain};
  }
  // progeny run -k 300ms ARGS: expects COMMAND's exit code and nothing left.
  void expect_clean_run(const std::vector<std::string>& args, int code, int pids_max = 4096) {
    auto r = run_in_sandbox(
        [&](Scenario& s) {
          std::vector<std::string> argv = run_argv();
          argv.insert(argv.end(), {"-q", "-k", "300ms", "--"});
          argv.insert(argv.end(), args.begin(), args.end());
          int st = run_command(argv, "/dev/null");
          s.expect(exited_with(st, code), "progeny ended with " + status_text(st) +
                                              ", expected exit " + std::to_string(code));
          expect_nothing_left(s);
          return 0;
        },
        opts(pids_max));
    EXPECT_TRUE(r.ok()) << r.describe();
  }
};

TEST_P(RunScenario, DoubleForkDaemons) { expect_clean_run({fixture("double_fork"), "5", "exit"}, 0); }
TEST_P(RunScenario, SetsidEscapees) { expect_clean_run({fixture("escapee"), "setsid", "4"}, 0); }
TEST_P(RunScenario, SetpgidEscapees) { expect_clean_run({fixture("escapee"), "setpgid", "4"}, 0); }
TEST_P(RunScenario, TermIgnoringChildren) { expect_clean_run({fixture("term_ignorer"), "3"}, 0); }
TEST_P(RunScenario, StoppedSubtree) { expect_clean_run({fixture("stopped_subtree"), "4"}, 0); }
TEST_P(RunScenario, ZombieMaker) { expect_clean_run({fixture("zombie_maker"), "10"}, 0); }
TEST_P(RunScenario, Chain200Deep) { expect_clean_run({fixture("chain"), "200"}, 0); }
TEST_P(RunScenario, BoundedForkBomb) {
  expect_clean_run({fixture("fork_bomb"), "10", "3", "10"}, 0, 3000);
}
TEST_P(RunScenario, ForksWhileBeingStopped) {
  expect_clean_run({fixture("fork_during_stop"), "5"}, 0);
}
TEST_P(RunScenario, ExitCodeOfCommandIsKept) {
  expect_clean_run({"/bin/sh", "-c", "(setsid sleep 60 &); exit 42"}, 42);
}

TEST_P(RunScenario, TimeoutStopsEverythingWith124) {
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        auto argv = run_argv();
        argv.insert(argv.end(), {"-k", "200ms", "-t", "300ms", "--", fixture("fork_during_stop"), "4", "stay"});
        int st = run_command(argv, "/dev/null");
        s.expect(exited_with(st, 124), "timeout gave " + status_text(st));
        expect_nothing_left(s);
        return 0;
      },
      opts());
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_P(RunScenario, NestedRunsStopTheirOwnAndTheOuterStopsAll) {
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        // The inner run ends normally and stops its daemons itself.
        auto argv = run_argv();
        argv.insert(argv.end(), {"-q", "--", progeny_bin(), "run", "-q", "--", fixture("double_fork"), "3", "exit"});
        int st = run_command(argv, "/dev/null");
        s.expect(exited_with(st, 0), "nested run gave " + status_text(st));
        expect_nothing_left(s);
        // The outer run times out while the inner one still runs: the outer stops it all.
        argv = run_argv();
        argv.insert(argv.end(), {"-q", "-k", "200ms", "-t", "500ms", "--", progeny_bin(), "run", "-q",
                                 "-k", "10s", "--", fixture("term_ignorer"), "3", "stay"});
        st = run_command(argv, "/dev/null");
        s.expect(exited_with(st, 124), "outer timeout gave " + status_text(st));
        expect_nothing_left(s);
        return 0;
      },
      opts());
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_P(RunScenario, WaitKeepsRunningUntilTheDaemonExits) {
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        std::string out = "/tmp/progeny-wait." + std::to_string(::getpid());
        // COMMAND exits at once; its daemon writes a file after 300 ms, then exits.
        auto argv = run_argv();
        argv.insert(argv.end(), {"--wait", "--", "/bin/sh", "-c",
                                 "(setsid sh -c 'sleep 0.3; echo done > " + out + "' &); exit 5"});
        int st = run_command(argv, "/dev/null");
        s.expect(exited_with(st, 5), "--wait gave " + status_text(st));
        s.expect(progeny::test::read_file(out) == "done\n", "the daemon did not finish its work");
        ::unlink(out.c_str());
        expect_nothing_left(s);
        // Bounded by --timeout.
        argv = run_argv();
        argv.insert(argv.end(), {"--wait", "-t", "300ms", "--", fixture("double_fork"), "2", "exit"});
        st = run_command(argv, "/dev/null");
        s.expect(exited_with(st, 124), "--wait --timeout gave " + status_text(st));
        expect_nothing_left(s);
        return 0;
      },
      opts());
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_P(RunScenario, ExecFailuresMapTo127And126) {
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        auto argv = run_argv();
        argv.insert(argv.end(), {"--", "/nonexistent/command"});
        int st = run_command(argv, "/dev/null");
        s.expect(exited_with(st, 127), "missing command gave " + status_text(st));
        std::string plain = "/tmp/progeny-plain." + std::to_string(::getpid());
        progeny::test::run_command({"/bin/sh", "-c", "echo data > " + plain});
        argv = run_argv();
        argv.insert(argv.end(), {"--", plain});
        st = run_command(argv, "/dev/null");
        ::unlink(plain.c_str());
        s.expect(exited_with(st, 126), "non-executable gave " + status_text(st));
        st = run_command({progeny_bin(), "run", "--timeout", "soon", "--", "/bin/true"}, "/dev/null");
        s.expect(exited_with(st, 125), "bad duration gave " + status_text(st));
        return 0;
      },
      opts());
  EXPECT_TRUE(r.ok()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Modes, RunScenario,
                         ::testing::Values(Setup{0, "none"}, Setup{65534, "none"},
                                           Setup{0, "cgroup"}, Setup{0, "pidns"},
                                           Setup{65534, "pidns"}),
                         [](const auto& info) {
                           return std::string(info.param.uid == 0 ? "root_" : "nobody_") +
                                  info.param.contain;
                         });

class RunBehaviour : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root (PID namespace, pids cgroup)";
  }
};

TEST_F(RunBehaviour, DiesOfTheSameSignalAsCommand) {
  auto r = run_in_sandbox([&](Scenario& s) {
    rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
    int st = run_command({progeny_bin(), "run", "--", "/bin/sh", "-c", "kill -SEGV $$"}, "/dev/null");
    s.expect(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV && !WCOREDUMP(st),
             "expected death by SIGSEGV without core, got " + status_text(st));
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(RunBehaviour, ForwardsSignalsToCommand) {
  auto r = run_in_sandbox([&](Scenario& s) {
    auto c = progeny::test::start_command(
        {progeny_bin(), "run", "--", "/bin/sh", "-c",
         "trap 'echo USR1' USR1; trap 'echo TERM; exit 9' TERM; echo READY; "
         "while :; do sleep 0.02; done"});
    std::string seen;
    s.expect(progeny::test::wait_for_line(c.out_fd, "READY", 5000, &seen), "no READY: " + seen);
    ::kill(c.pid, SIGUSR1);  // c.pid is progeny, our own child
    s.expect(progeny::test::wait_for_line(c.out_fd, "USR1", 5000, &seen), "USR1 not forwarded: " + seen);
    ::kill(c.pid, SIGTERM);
    s.expect(progeny::test::wait_for_line(c.out_fd, "TERM", 5000, &seen), "TERM not forwarded: " + seen);
    int st = progeny::test::wait_status(c.pid, 10000);
    s.expect(exited_with(st, 9), "progeny gave " + status_text(st));
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// --wait: a TERM that reaches COMMAND before it exits (a daemon's parent, still exiting when
// the daemon already serves) ends the run too: forwarded to COMMAND, then the tree stopped.
TEST_F(RunBehaviour, WaitRunAskedToEndWhileCommandRunsStopsTheTreeAfterIt) {
  auto r = run_in_sandbox([&](Scenario& s) {
    auto c = progeny::test::start_command(
        {progeny_bin(), "run", "-q", "--wait", "--timeout", "60s", "--", "/bin/sh", "-c",
         "trap 'exit 0' TERM; (setsid sleep 60 &); echo READY; "
         "while :; do sleep 0.02; done"});
    std::string seen;
    s.expect(progeny::test::wait_for_line(c.out_fd, "READY", 10000, &seen), "no READY: " + seen);
    ::kill(c.pid, SIGTERM);  // progeny, our own child
    int st = progeny::test::wait_status(c.pid, 20000);
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st) + " (still waiting for the daemon?)");
    if (st == -1) ::kill(c.pid, SIGKILL);
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(RunBehaviour, ForwardGroupReachesTheWholeGroup) {
  auto r = run_in_sandbox([&](Scenario& s) {
    // The background child stays in COMMAND's group and reports the USR1 it gets. Its
    // `sleep` is in the group too and dies of the USR1; the loop's stderr is muted so the shell's
    // "User defined signal 1" notice does not land in the test output.
    auto c = progeny::test::start_command(
        {progeny_bin(), "run", "--forward", "group", "--", "/bin/sh", "-c",
         "sh -c 'trap \"echo CHILD-USR1; exit 0\" USR1; echo READY; "
         "{ while :; do sleep 0.02; done; } 2>/dev/null' & "
         "trap '' USR1; echo OUTER-READY; wait"});
    std::string seen;
    // Both shells must have their traps in place before the signal.
    s.expect(progeny::test::wait_for_line(c.out_fd, "READY", 5000, &seen), "no READY: " + seen);
    if (seen.find("OUTER-READY") == std::string::npos)
      s.expect(progeny::test::wait_for_line(c.out_fd, "OUTER-READY", 5000, &seen), "no OUTER-READY: " + seen);
    ::kill(c.pid, SIGUSR1);
    s.expect(progeny::test::wait_for_line(c.out_fd, "CHILD-USR1", 5000, &seen),
             "the group member did not get USR1: " + seen);
    int st = progeny::test::wait_status(c.pid, 10000);
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st));
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(RunBehaviour, SecondTermDuringTheStopEscalatesToKill) {
  auto r = run_in_sandbox([&](Scenario& s) {
    // COMMAND exits; its TERM-ignoring children would take the whole 60 s grace.
    auto c = progeny::test::start_command(
        {progeny_bin(), "run", "-q", "-k", "60s", "--", fixture("term_ignorer"), "3", "exit"});
    std::string seen;
    s.expect(progeny::test::wait_for_line(c.out_fd, "READY", 5000, &seen), "no READY: " + seen);
    int st = progeny::test::wait_status(c.pid, 300);
    s.expect(st == -1, "progeny ended before the grace period: " + status_text(st));
    ::kill(c.pid, SIGTERM);
    st = progeny::test::wait_status(c.pid, 20000);
    s.expect(exited_with(st, 0), "after escalation progeny gave " + status_text(st));
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(RunBehaviour, KilledLauncherTakesCommandDownUnlessPdeathsigNone) {
  auto r = run_in_sandbox([&](Scenario& s) {
    for (bool with_pdeathsig : {true, false}) {
      // Only the parent-death signal: no containment, no tracker (its own kill on our death).
      std::vector<std::string> argv = {progeny_bin(), "run", "--contain", "none", "--bpf", "off"};
      if (!with_pdeathsig) argv.insert(argv.end(), {"--pdeathsig", "none"});
      argv.insert(argv.end(), {"--", "/bin/sh", "-c", "echo READY; exec sleep 60"});
      auto c = progeny::test::start_command(argv);
      std::string seen;
      s.expect(progeny::test::wait_for_line(c.out_fd, "READY", 5000, &seen), "no READY: " + seen);
      ::kill(c.pid, SIGKILL);
      progeny::test::wait_status(c.pid, 5000);
      // COMMAND (sleep) was reparented to the sandbox init, which reaps it when it dies.
      bool gone = false;
      for (int i = 0; i < 200 && !gone; ++i) {
        gone = s.others().empty();
        if (!gone) ::usleep(5000);
      }
      s.expect(gone == with_pdeathsig, with_pdeathsig ? "COMMAND outlived a SIGKILLed launcher"
                                                      : "--pdeathsig none still killed COMMAND");
    }
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(RunBehaviour, CommandInheritsMaskAndIgnoredSignalsButNoDescriptors) {
  auto r = run_in_sandbox([&](Scenario& s) {
    ::signal(SIGHUP, SIG_IGN);  // as nohup does
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    ::sigprocmask(SIG_BLOCK, &usr2, nullptr);
    std::string want = "/tmp/progeny-want." + std::to_string(::getpid());
    std::string got = "/tmp/progeny-got." + std::to_string(::getpid());
    const std::string probe = "grep -E '^Sig(Blk|Ign)' /proc/self/status; ls /proc/self/fd | wc -l";
    run_command({"/bin/sh", "-c", probe}, want);
    // The launcher's own descriptors (the shim leaves none: InvisibleShim.* checks it).
    run_command({progeny_bin(), "run", "--no-preload", "--", "/bin/sh", "-c", probe}, got);
    s.expect(progeny::test::read_file(want) == progeny::test::read_file(got),
             "COMMAND's view differs:\nwithout progeny:\n" + progeny::test::read_file(want) +
                 "with progeny:\n" + progeny::test::read_file(got));
    ::unlink(want.c_str());
    ::unlink(got.c_str());
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(RunBehaviour, OptionParsingStopsAtTheFirstNonOption) {
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string out = "/tmp/progeny-opts." + std::to_string(::getpid());
    int st = run_command({progeny_bin(), "run", "/bin/echo", "-v", "--timeout", "x"}, out);
    s.expect(exited_with(st, 0), "gave " + status_text(st));
    s.expect(progeny::test::read_file(out) == "-v --timeout x\n",
             "COMMAND got: " + progeny::test::read_file(out));
    ::unlink(out.c_str());
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(RunBehaviour, KillStopsAForeignTreeAndRefusesAncestors) {
  auto r = run_in_sandbox([&](Scenario& s) {
    auto c = progeny::test::start_command({fixture("double_fork"), "3", "stay"});
    std::string seen;
    s.expect(progeny::test::wait_for_line(c.out_fd, "READY", 5000, &seen), "no READY: " + seen);
    // The daemons were reparented to the sandbox init: out of reach without the tracker, as
    // documented. The top process and anything still below it must go.
    auto below = progeny::test::start_command({fixture("escapee"), "setsid", "3", "stay"});
    s.expect(progeny::test::wait_for_line(below.out_fd, "READY", 5000, &seen), "no READY: " + seen);
    int st = run_command({progeny_bin(), "kill", "-k", "300ms", std::to_string(below.pid)}, "/dev/null");
    s.expect(exited_with(st, 0), "progeny kill gave " + status_text(st));
    progeny::test::wait_status(below.pid, 5000);
    st = run_command({progeny_bin(), "kill", "1"}, "/dev/null");
    s.expect(exited_with(st, 125), "kill 1 gave " + status_text(st));
    for (const char* bad : {"0", "abc", "-1"}) {
      st = run_command({progeny_bin(), "kill", "--", bad}, "/dev/null");
      s.expect(exited_with(st, 125), std::string("kill -- ") + bad + " gave " + status_text(st));
    }
    st = run_command({progeny_bin(), "kill", std::to_string(::getpid())}, "/dev/null");
    s.expect(exited_with(st, 125), "kill of an ancestor gave " + status_text(st));
    st = run_command({progeny_bin(), "kill", std::to_string(c.pid)}, "/dev/null");
    s.expect(exited_with(st, 0), "progeny kill gave " + status_text(st));
    progeny::test::wait_status(c.pid, 5000);
    // Only the three reparented daemons may remain.
    s.expect(s.others().size() == 3, std::to_string(s.others().size()) + " left, expected 3");
    return 0;
  });
  ASSERT_TRUE(r.ran) << r.describe();
  EXPECT_TRUE(r.failures.empty()) << r.describe();
}

}  // namespace

namespace {

// Whatever the mode, kill -9 of the launcher must not leave the tree running: a tree of
// setsid escapees and double-forked daemons is gone within a second (issue 6).
class LauncherDeath : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root (PID namespace, pids cgroup)";
  }
};

TEST_P(LauncherDeath, KillMinus9LeavesNothing) {
  auto r = run_in_sandbox([&](Scenario& s) {
    auto c = progeny::test::start_command({progeny_bin(), "run", "--contain", GetParam(), "--",
                                           fixture("contain_tree"), "5", "5", "5", "stay"});
    std::string seen;
    if (!s.expect(progeny::test::wait_for_line(c.out_fd, "READY", 10000, &seen), "no READY: " + seen))
      return 1;
    s.expect(s.others().size() > 10, "the tree is smaller than expected");
    ::kill(c.pid, SIGKILL);  // progeny, our own child
    progeny::test::wait_status(c.pid, 5000);
    expect_gone_within_a_second(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// "none" relies on the shim: every dynamically linked member has a lifeline at the keeper.
INSTANTIATE_TEST_SUITE_P(Modes, LauncherDeath, ::testing::Values("cgroup", "pidns", "none"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace

namespace {

// No parent-death signal reaches a setsid'd grandchild of a static binary; the tracker's
// in-kernel kill on the launcher's exit does (issue 4), with no shim and no containment.
TEST(LauncherDeathBpf, StaticTreeDiesWithTheLauncher) {
  REQUIRE_TRACKER();
  auto r = run_in_sandbox([&](Scenario& s) {
    auto c = progeny::test::start_command(
        {progeny_bin(), "run", "--bpf", "on", "--contain", "none", "--no-preload", "--",
         "/bin/busybox", "sh", "-c",
         "for i in 1 2 3; do setsid sh -c 'sleep 1000 & exec sleep 1000' & done; "
         "sh -c 'sleep 1000 &' & sleep 0.2; echo READY; exec sleep 1000"});
    std::string seen;
    if (!s.expect(progeny::test::wait_for_line(c.out_fd, "READY", 10000, &seen), "no READY: " + seen))
      return 1;
    s.expect(s.others().size() >= 8, "the tree is smaller than expected");
    ::kill(c.pid, SIGKILL);  // progeny, our own child
    progeny::test::wait_status(c.pid, 5000);
    expect_gone_within_a_second(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace

namespace {

class RunReports : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root (PID namespace, pids cgroup)";
  }
};

// A CI job can fail a suite that leaks processes: exit 3 only when COMMAND succeeded and left
// descendants behind.
TEST_F(RunReports, FailOnRunawayExits3OnlyForALeak) {
  auto r = run_in_sandbox([&](Scenario& s) {
    int leak = run_command({progeny_bin(), "run", "-q", "--fail-on-runaway", "--",
                            fixture("double_fork"), "2", "exit"}, "/dev/null");
    s.expect(exited_with(leak, 3), "a leaking run gave " + status_text(leak));
    int clean = run_command({progeny_bin(), "run", "-q", "--fail-on-runaway", "--", "/bin/sh",
                             "-c", "/bin/true & wait"}, "/dev/null");
    s.expect(exited_with(clean, 0), "a clean run gave " + status_text(clean));
    int failed = run_command({progeny_bin(), "run", "-q", "--fail-on-runaway", "--", "/bin/sh",
                              "-c", "(setsid sleep 60 &); exit 4"}, "/dev/null");
    s.expect(exited_with(failed, 4), "a failing leaky run gave " + status_text(failed));
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// The runaway report names what outlived COMMAND and how it escaped; --trace shows events live.
TEST_F(RunReports, RunawayReportAndTraceOnStderr) {
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string err = "/tmp/progeny-report." + std::to_string(::getpid());
    int st = run_command({progeny_bin(), "run", "--trace", "--", fixture("escapee"), "setsid", "1"}, err);
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st));
    std::string text = progeny::test::read_file(err);
    s.expect(text.find("outlived COMMAND") != std::string::npos, "no runaway report:\n" + text);
    s.expect(text.find("called setsid") != std::string::npos, "the escape is not named:\n" + text);
    s.expect(text.find(" fork ") != std::string::npos && text.find(" exec ") != std::string::npos,
             "--trace shows no fork/exec lines:\n" + text);
    st = run_command({progeny_bin(), "run", "-q", "--", fixture("escapee"), "setsid", "1"}, err);
    s.expect(progeny::test::read_file(err).find("outlived") == std::string::npos, "-q still reports");
    ::unlink(err.c_str());
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace

namespace {

// The classic: a grandchild keeps the output pipe open, so a reader of progeny's output would
// wait for it. progeny does not hang, names it, and stops it (issue 6).
TEST_F(RunReports, GrandchildHoldingTheOutputPipeIsNamedAndStopped) {
  auto r = run_in_sandbox([&](Scenario& s) {
    auto c = progeny::test::start_command({"/bin/sh", "-c",
                                           progeny_bin() + " run -- /bin/sh -c '(setsid sleep 60 &); "
                                           "echo READY' 2>&1"});
    std::string seen;
    s.expect(progeny::test::wait_for_line(c.out_fd, "READY", 5000, &seen), "no READY: " + seen);
    int st = progeny::test::wait_status(c.pid, 10000);
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st));
    // EOF on the pipe: nothing holds it any more.
    progeny::test::wait_for_line(c.out_fd, "never", 2000, &seen);
    s.expect(seen.find("holds progeny's stdout/stderr open") != std::string::npos,
             "the holder is not named:\n" + seen);
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace

namespace {

// A setuid program: the dynamic loader drops LD_PRELOAD for it (AT_SECURE), so only the
// tracker sees it; the stop ends it all the same (issue 4).
TEST(SetuidTree, RecordedByTheTrackerOnlyAndStopped) {
  REQUIRE_TRACKER();
  std::string suid = "/tmp/progeny-suid-sleep." + std::to_string(::getpid());
  std::string log = suid + ".jsonl";
  ASSERT_TRUE(exited_with(run_command({"/bin/cp", "/bin/sleep", suid}), 0));
  ASSERT_EQ(::chown(suid.c_str(), 65534, 65534), 0);
  ASSERT_EQ(::chmod(suid.c_str(), 04755), 0);
  auto r = run_in_sandbox([&](Scenario& s) {
    int st = run_command({progeny_bin(), "run", "-q", "--bpf", "on", "--contain", "none",
                          "--log", log, "--", "/bin/sh", "-c",
                          "(" + suid + " 60 &); sleep 0.2; exit 0"}, "/dev/null");
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st));
    expect_nothing_left(s);
    std::string text = progeny::test::read_file(log);
    bool bpf_exec = false, shim_exec = false;
    std::istringstream lines(text);
    for (std::string l; std::getline(lines, l);) {
      if (l.find("\"event\":\"exec\"") == std::string::npos ||
          l.find("\"path\":\"" + suid + "\"") == std::string::npos)
        continue;
      bpf_exec |= l.find("\"source\":\"bpf\"") != std::string::npos;
      shim_exec |= l.find("\"source\":\"shim\"") != std::string::npos;
    }
    s.expect(bpf_exec, "the tracker did not record the setuid exec");
    s.expect(!shim_exec, "the shim recorded a setuid program: the loader should have dropped it");
    return 0;
  });
  ::unlink(suid.c_str());
  ::unlink(log.c_str());
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace

namespace {

// --contain pidns: the shim inside sees the namespace's pids; the log speaks the launcher's,
// keeping the namespace's as ns_pid, so the lineage stays one tree (issue 6).
TEST_F(RunReports, PidNamespaceLineageUsesLauncherPids) {
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string log = "/tmp/progeny-pidns." + std::to_string(::getpid()) + ".jsonl";
    int st = run_command({progeny_bin(), "run", "-q", "--contain", "pidns", "--bpf", "off",
                          "--log", log, "--", "/bin/sh", "-c", "/bin/true"}, "/dev/null");
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st));
    std::string text = progeny::test::read_file(log);
    // COMMAND is PID 3 in its namespace; in the log it has the launcher's pid for it.
    bool found = false;
    std::istringstream lines(text);
    for (std::string l; std::getline(lines, l);) {
      if (l.find("\"source\":\"shim\"") == std::string::npos || l.find("\"event\":\"exec\"") == std::string::npos ||
          l.find("\"path\":\"/bin/sh\"") == std::string::npos)
        continue;
      found = true;
      s.expect(l.find("\"ns_pid\":3") != std::string::npos, "no ns_pid 3: " + l);
      s.expect(l.find("\"pid\":3,") == std::string::npos, "namespace pid left in place: " + l);
    }
    s.expect(found, "no shim exec record of COMMAND:\n" + text);
    ::unlink(log.c_str());
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace

namespace {

// Every fork of a 1110-process burst is in the log or counted as lost, never silently
// missing (the whole tree shares one inherited data connection to the launcher).
TEST_F(RunReports, ForkBurstIsRecordedOrCounted) {
  SandboxOptions opts;
  opts.pids_max = 3000;
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        std::string log = "/tmp/progeny-burst." + std::to_string(::getpid()) + ".jsonl";
        int st = run_command({progeny_bin(), "run", "-q", "--contain", "none", "--bpf", "off",
                              "--log", log, "--", fixture("fork_bomb"), "10", "3", "10"},
                             "/dev/null");
        s.expect(exited_with(st, 0), "progeny gave " + status_text(st));
        size_t forks = 0, lost = 0;
        std::istringstream lines(progeny::test::read_file(log));
        for (std::string l; std::getline(lines, l);) {
          if (l.find("\"event\":\"fork\"") != std::string::npos) ++forks;
          size_t at = l.find("\"event\":\"lost\"");
          if (at != std::string::npos) lost += std::stoul(l.substr(l.find("\"count\":") + 8));
        }
        s.expect(forks + lost >= 1110, std::to_string(forks) + " fork records and " +
                                           std::to_string(lost) + " counted lost, of 1110 forks");
        ::unlink(log.c_str());
        return 0;
      },
      opts);
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace

namespace {

// Issue 10 item 5: an outer run without a cgroup of its own (none) stops a nested run that
// has one. The nested run's watchdog is let finish, so its cgroup is removed; the sandbox
// fails the test on any cgroup left behind.
TEST(NestedRuns, AnInnerCgroupIsRemovedWhenTheOuterRunStopsIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root";
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string inner_log = "/tmp/progeny-inner." + std::to_string(::getpid()) + ".jsonl";
    int st = run_command({progeny_bin(), "run", "-q", "--contain", "none", "-k", "200ms", "-t",
                          "500ms", "--", progeny_bin(), "run", "-q", "--contain", "cgroup", "-k",
                          "10s", "--log", inner_log, "--", "/bin/sh", "-c",
                          "trap '' TERM; sleep 30"},
                         "/dev/null");
    s.expect(exited_with(st, 124), "the outer timeout gave " + status_text(st));
    std::string text = progeny::test::read_file(inner_log);
    s.expect(text.find("\"mechanisms\":[") != std::string::npos &&
                 text.find("\"cgroup\"") != std::string::npos,
             "the inner run did not use a cgroup:\n" + text);
    ::unlink(inner_log.c_str());
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(r.leaked_cgroups.empty()) << r.describe();
}

}  // namespace
