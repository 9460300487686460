// Issue 12's launcher-death must-shows, each in the sandbox: the keeper killed alone and
// together with the launcher, and
// programs the shim never runs in (setuid, static) started by dash as nobody under the shim
// alone.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "launcher/os/proc.h"
#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace {

using progeny::test::exited_with;
using progeny::test::wait_for_keeper;
using progeny::test::fixture;
using progeny::test::held_by_keeper;
using progeny::test::left_after;
using progeny::test::pid_of;
using progeny::test::progeny_bin;
using progeny::test::run_command;
using progeny::test::run_in_sandbox;
using progeny::test::SandboxOptions;
using progeny::test::Scenario;
using progeny::test::status_text;
using progeny::test::wait_until;

struct Mode {
  uid_t uid;
  const char* contain;
  bool bpf;
};

std::vector<std::string> run_argv(const Mode& m) {
  return {progeny_bin(), "run", "-q", "--contain", m.contain, "--bpf", m.bpf ? "on" : "off",
          "--"};
}

// Whether the keeper holds a pidfd of `pid`.
bool keeper_holds(const Scenario& s, pid_t pid) { return held_by_keeper(s).count(pid) != 0; }

// The process of the sandbox whose command line is `what` (not one that merely names it, as
// progeny's and sh's do), or 0.
pid_t find_process(const Scenario& s, const std::string& what) {
  std::string tail = ") " + what;  // "PID (COMM) ARGV"
  for (const auto& p : s.others())
    if (p.ends_with(tail)) return pid_of(p);
  return 0;
}

std::string listed(const std::vector<std::string>& procs, size_t max = 10) {
  std::string out;
  for (size_t i = 0; i < procs.size() && i < max; ++i) out += "\n  " + procs[i];
  if (procs.size() > max) out += "\n  ...";
  return out;
}

// A tree of setsid escapees and double-forked daemons, READY once it is up.
std::vector<std::string> contain_tree() {
  return {fixture("contain_tree"), "3", "3", "3", "stay"};
}

// The keeper killed alone (docs/shim.md, "What happens to the keeper"): the ends it held go
// with it, and the launcher's end of each, armed for its member, sees the hang-up: the kernel
// kills every member that handed in a lifeline. The tree fails closed, COMMAND's death ends
// the run (progeny dies of COMMAND's signal, as it does for any), and nothing is left.
class KeeperDeath : public ::testing::TestWithParam<uid_t> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root";
  }
};

TEST_P(KeeperDeath, KilledKeeperTakesTheShimmedTreeDown) {
  SandboxOptions o;
  o.uid = o.gid = GetParam();
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        auto argv = run_argv({GetParam(), "none", false});
        for (auto& a : contain_tree()) argv.push_back(a);
        auto c = progeny::test::start_command(argv);
        std::string seen;
        if (!s.expect(progeny::test::wait_for_line(c.out_fd, "READY", 20000, &seen),
                      "no READY: " + seen))
          return 1;
        pid_t keeper = wait_for_keeper(s);
        if (!s.expect(keeper != 0, "no keeper in shim-only mode")) return 1;
        progeny::test::kill_in_sandbox(keeper);
        int st = progeny::test::wait_status(c.pid, 30000);
        s.expect(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
                 "the run did not end with COMMAND killed: " + status_text(st));
        if (st == -1) ::kill(c.pid, SIGKILL);  // progeny, our own child
        ::close(c.out_fd);
        auto left = left_after(s, 20000);
        s.expect(left.empty(), std::to_string(left.size()) +
                                   " process(es) outlived their keeper:" + listed(left));
        return 0;
      },
      o);
  EXPECT_TRUE(r.ok()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Modes, KeeperDeath, ::testing::Values(0, 65534),
                         [](const auto& info) { return info.param == 0 ? "root" : "nobody"; });

// The keeper and the launcher SIGKILLed one right after the other (`pkill -9 progeny` matches
// both), in either order: whichever's ends the kernel closes first, the other's, armed for
// the member, sees the hang-up (docs/shim.md). The second is killed the moment the first is a
// zombie (its descriptors released), before its members' signals have done their work. Two
// teardowns that overlap on the two CPUs can both drop their ends' notification before either
// hangs up (docs/shim.md): that case is not claimed, so not tested. Three rounds per order,
// root and nobody, nothing left in any.
class KeeperAndLauncherDeath : public ::testing::TestWithParam<std::tuple<uid_t, bool>> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root";
  }
};

// 'Z' once `pid` is a zombie, 0 once it is gone.
char state_of(pid_t pid) {
  auto st = progeny::read_proc_stat(pid);
  return st ? st->state : 0;
}

TEST_P(KeeperAndLauncherDeath, KilledOneRightAfterTheOtherTheyLeaveNothing) {
  auto [uid, keeper_first] = GetParam();
  SandboxOptions o;
  o.uid = o.gid = uid;
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        for (int round = 1; round <= 3; ++round) {
          std::string at = " (round " + std::to_string(round) + ")";
          auto argv = run_argv({uid, "none", false});
          for (auto& a : contain_tree()) argv.push_back(a);
          auto c = progeny::test::start_command(argv);
          std::string seen;
          if (!s.expect(progeny::test::wait_for_line(c.out_fd, "READY", 20000, &seen),
                        "no READY" + at + ": " + seen))
            return 1;
          pid_t keeper = wait_for_keeper(s);
          if (!s.expect(keeper != 0, "no keeper in shim-only mode" + at)) return 1;
          auto kill_first_then_second = [&](auto first, pid_t first_pid, auto second) {
            first();
            s.expect(wait_until([&] { char st = state_of(first_pid); return st == 'Z' || st == 0; },
                                20000),
                     "the first one killed did not die" + at);
            second();
          };
          auto kill_keeper = [&] { progeny::test::kill_in_sandbox(keeper); };
          auto kill_launcher = [&] { ::kill(c.pid, SIGKILL); };  // progeny, our own child
          if (keeper_first) kill_first_then_second(kill_keeper, keeper, kill_launcher);
          else kill_first_then_second(kill_launcher, c.pid, kill_keeper);
          ::close(c.out_fd);
          auto left = left_after(s, 20000);
          if (!s.expect(left.empty(), std::to_string(left.size()) + " process(es) outlived" +
                                          " the keeper and the launcher" + at + ":" +
                                          listed(left)))
            return 1;
        }
        return 0;
      },
      o);
  EXPECT_TRUE(r.ok()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Modes, KeeperAndLauncherDeath,
                         ::testing::Combine(::testing::Values(0, 65534), ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) == 0 ? "root" : "nobody") +
                                  (std::get<1>(info.param) ? "_KeeperFirst" : "_LauncherFirst");
                         });

// Programs started by dash as nobody under the shim alone (--contain none --bpf off) that the
// shim never runs in: a setuid one (the loader drops LD_PRELOAD) and a static one. dash runs a
// foreground command in a vfork child, whose exec marker the kernel clears (setuid) or nobody
// reads (static): the lifeline its exec hook hands in for such a target and the keeper's
// pidfd of it, from its parent's fork record, cover it (docs/shim.md, "Windows").
// One that takes root as its real uid too is beyond any signal of nobody's (the kernel's
// lifeline check and kill(2)'s both compare real uids): it survives the launcher alone, as
// README's mechanisms table says.
class UnshimmedUnderNobody : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root";
    suid_ = "/tmp/progeny-setuid-sleeper." + std::to_string(::getpid());
    ASSERT_TRUE(exited_with(run_command({"/bin/cp", fixture("setuid_sleeper"), suid_}), 0));
    ASSERT_EQ(::chown(suid_.c_str(), 0, 0), 0);
    ASSERT_EQ(::chmod(suid_.c_str(), 04755), 0);
  }
  void TearDown() override {
    if (!suid_.empty()) ::unlink(suid_.c_str());
  }
  // Runs `sh -c script` as nobody, waits until `what` (a process's command line) is up,
  // printed READY when `ready`, and, bounded, until the keeper holds it; then SIGKILLs the
  // launcher. What is left after a bound.
  std::vector<std::string> left_by_killed_launcher(Scenario& s, const std::string& script,
                                                   const std::string& what, bool ready) {
    auto argv = run_argv({65534, "none", false});
    for (const char* a : {"/bin/sh", "-c"}) argv.push_back(a);
    argv.push_back(script);
    auto c = progeny::test::start_command(argv);
    std::string seen;
    pid_t target = 0;
    bool up = (!ready || progeny::test::wait_for_line(c.out_fd, "READY", 20000, &seen)) &&
              wait_until([&] { return (target = find_process(s, what)) != 0; }, 20000);
    if (s.expect(up, what + " did not start: " + seen + listed(s.others())) &&
        !wait_until([&] { return keeper_holds(s, target); }, 10000))
      s.note("the keeper holds no pidfd of " + std::to_string(target));
    ::kill(c.pid, SIGKILL);  // progeny, our own child
    progeny::test::wait_status(c.pid, 10000);
    ::close(c.out_fd);
    return left_after(s, 5000);
  }
  // The same, but `what` is started while the launcher is stopped (SIGSTOP) and the launcher
  // is SIGKILLed before it ran again: it never read the fork record of sh's vfork child, so
  // the keeper cannot hold the child; only a lifeline the child handed in before its exec,
  // still in the listen queue, covers it. The script waits on `fifo` ("@FIFO" in it).
  std::vector<std::string> left_by_launcher_killed_while_stopped(Scenario& s, std::string script,
                                                                 const std::string& what) {
    std::string fifo = "/tmp/progeny-stopped-launcher." + std::to_string(::getpid());
    ::unlink(fifo.c_str());
    if (!s.expect(::mkfifo(fifo.c_str(), 0666) == 0 && ::chmod(fifo.c_str(), 0666) == 0,
                  "mkfifo " + fifo))
      return {};
    script.replace(script.find("@FIFO"), 5, fifo);
    auto argv = run_argv({65534, "none", false});
    for (const char* a : {"/bin/sh", "-c"}) argv.push_back(a);
    argv.push_back(script);
    auto c = progeny::test::start_command(argv);
    pid_t sh = 0;
    bool up = wait_until([&] { return (sh = find_process(s, "/bin/sh -c " + script)) != 0 &&
                                      keeper_holds(s, sh); }, 20000);
    s.expect(up, "sh did not start, or the keeper does not hold it:" + listed(s.others()));
    ::kill(c.pid, SIGSTOP);  // progeny, our own child; SIGKILLed below on every path
    bool stopped = up && wait_until([&] { return state_of(c.pid) == 'T'; }, 20000);
    int go = -1;
    // Opens once sh waits on the fifo (a reader is there).
    if (s.expect(stopped, "the launcher did not stop") &&
        wait_until([&] { return (go = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC)) >= 0; },
                   20000)) {
      s.expect(::write(go, "go\n", 3) == 3, "write to the fifo");
      ::close(go);
      pid_t target = 0;
      if (s.expect(wait_until([&] { return (target = find_process(s, what)) != 0; }, 20000),
                   what + " did not start:" + listed(s.others())))
        s.expect(!keeper_holds(s, target), "the keeper holds it: the launcher was not stopped");
    }
    ::kill(c.pid, SIGKILL);
    ::kill(c.pid, SIGCONT);  // harmless once it is dead; never left stopped
    progeny::test::wait_status(c.pid, 10000);
    ::close(c.out_fd);
    ::unlink(fifo.c_str());
    return left_after(s, 5000);
  }
  // As nobody: nothing outlives a launcher killed while stopped (above).
  void expect_nothing_left_by_stopped_launcher(const std::string& script, const std::string& what) {
    SandboxOptions o;
    o.uid = o.gid = 65534;
    auto r = run_in_sandbox(
        [&](Scenario& s) {
          auto left = left_by_launcher_killed_while_stopped(s, script, what);
          s.expect(left.empty(), std::to_string(left.size()) +
                                     " process(es) outlived the launcher:" + listed(left));
          return 0;
        },
        o);
    EXPECT_TRUE(r.ok()) << r.describe();
  }
  std::string suid_;
};

TEST_F(UnshimmedUnderNobody, SetuidTakingRootAsItsRealUidOutlivesTheLauncherAlone) {
  SandboxOptions o;
  o.uid = o.gid = 65534;
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        auto left = left_by_killed_launcher(s, "sleep 300 & " + suid_ + " root; wait",
                                            suid_ + " root", true);
        // Only the setuid program: the rest of the tree (sh, sleep) and the keeper are gone.
        s.expect(left.size() == 1 && left[0].find(suid_) != std::string::npos,
                 "expected only the root-uid setuid program to be left:" + listed(left));
        return 0;  // the sandbox's init (root) kills it
      },
      o);
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(UnshimmedUnderNobody, SetuidKeepingItsRealUidDiesWithTheLauncher) {
  SandboxOptions o;
  o.uid = o.gid = 65534;
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        auto left = left_by_killed_launcher(s, suid_ + " keep; wait", suid_ + " keep", true);
        s.expect(left.empty(), std::to_string(left.size()) +
                                   " process(es) outlived the launcher:" + listed(left));
        return 0;
      },
      o);
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(UnshimmedUnderNobody, SetuidStartedWhileTheLauncherIsStoppedDiesWithIt) {
  expect_nothing_left_by_stopped_launcher("read x <@FIFO; " + suid_ + " keep; wait", suid_ + " keep");
}

TEST_F(UnshimmedUnderNobody, StaticStartedWhileTheLauncherIsStoppedDiesWithIt) {
  if (::access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "no /bin/busybox (busybox-static)";
  expect_nothing_left_by_stopped_launcher("read x <@FIFO; /bin/busybox sleep 300; wait",
                                          "/bin/busybox sleep 300");
}

TEST_F(UnshimmedUnderNobody, StaticProgramDiesWithTheLauncher) {
  if (::access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "no /bin/busybox (busybox-static)";
  SandboxOptions o;
  o.uid = o.gid = 65534;
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        auto left = left_by_killed_launcher(s, "/bin/busybox sleep 300; wait",
                                            "/bin/busybox sleep 300", false);
        s.expect(left.empty(), std::to_string(left.size()) +
                                   " process(es) outlived the launcher:" + listed(left));
        return 0;
      },
      o);
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
