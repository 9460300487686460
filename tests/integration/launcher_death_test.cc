// Issue 12's launcher-death must-shows, each in the sandbox: the keeper killed alone, and a
// setuid program run by nobody under the shim alone.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace {

using progeny::test::exited_with;
using progeny::test::fixture;
using progeny::test::progeny_bin;
using progeny::test::run_command;
using progeny::test::run_in_sandbox;
using progeny::test::SandboxOptions;
using progeny::test::Scenario;
using progeny::test::status_text;

struct Mode {
  uid_t uid;
  const char* contain;
  bool bpf;
};

std::vector<std::string> run_argv(const Mode& m) {
  return {progeny_bin(), "run", "-q", "--contain", m.contain, "--bpf", m.bpf ? "on" : "off",
          "--"};
}

pid_t pid_of(const std::string& described) { return std::stoi(described); }

bool is_keeper(const std::string& described) {
  return described.find(" (progeny-keeper)") != std::string::npos;
}

// The keeper of the one run in the sandbox, or 0.
pid_t find_keeper(const Scenario& s) {
  for (const auto& p : s.others())
    if (is_keeper(p)) return pid_of(p);
  return 0;
}

bool wait_until(const std::function<bool()>& cond, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (cond()) return true;
    ::usleep(10000);
  }
  return cond();
}

// Reaps what comes to the scenario and waits (bounded) until nothing but the scenario and
// the init is left; what is still there after `timeout_ms` is returned.
std::vector<std::string> left_after(Scenario& s, int timeout_ms) {
  wait_until(
      [&] {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        return s.others().empty();
      },
      timeout_ms);
  return s.others();
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

// The keeper killed alone (docs/shim.md, "What happens to the keeper"): the ends it held are
// closed, which signals nobody, so the run goes on with every member alive; the stop at the
// end (here: the launcher asked to end with SIGTERM) still takes every one of them down.
class KeeperDeath : public ::testing::TestWithParam<uid_t> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root";
  }
};

TEST_P(KeeperDeath, KilledKeeperLeavesTheRunGoingAndItsStopComplete) {
  SandboxOptions o;
  o.uid = o.gid = GetParam();
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        auto argv = run_argv({GetParam(), "none", false});
        argv.insert(argv.begin() + 2, {"-k", "300ms"});
        for (auto& a : contain_tree()) argv.push_back(a);
        auto c = progeny::test::start_command(argv);
        std::string seen;
        if (!s.expect(progeny::test::wait_for_line(c.out_fd, "READY", 20000, &seen),
                      "no READY: " + seen))
          return 1;
        pid_t keeper = find_keeper(s);
        if (!s.expect(keeper != 0, "no keeper in shim-only mode")) return 1;
        size_t before = s.others().size();
        progeny::test::kill_in_sandbox(keeper);
        // Gone is the keeper only: wait until it is, then give a hang-up that would kill the
        // members (~1 ms when it happens) ample time to show.
        s.expect(wait_until([&] { return find_keeper(s) == 0; }, 10000), "the keeper lives on");
        ::usleep(500000);
        int st = progeny::test::wait_status(c.pid, 0);
        s.expect(st == -1, "the run ended with its keeper: " + status_text(st));
        s.expect(s.others().size() == before - 1,
                 std::to_string(s.others().size()) + " processes left of " +
                     std::to_string(before) + " after the keeper alone was killed:" +
                     listed(s.others()));
        ::kill(c.pid, SIGTERM);  // progeny, our own child: end the run
        st = progeny::test::wait_status(c.pid, 20000);
        s.expect(st != -1, "the run did not end after SIGTERM");
        if (st == -1) ::kill(c.pid, SIGKILL);
        ::close(c.out_fd);
        auto left = left_after(s, 10000);
        s.expect(left.empty(), std::to_string(left.size()) +
                                   " process(es) outlived the run's stop:" + listed(left));
        return 0;
      },
      o);
  EXPECT_TRUE(r.ok()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Modes, KeeperDeath, ::testing::Values(0, 65534),
                         [](const auto& info) { return info.param == 0 ? "root" : "nobody"; });

// A setuid-root program started by nobody under the shim alone (--contain none --bpf off):
// the loader drops LD_PRELOAD, so only the lifeline its parent's fork child handed in (the
// exec keeps the process) and the keeper's pidfd could cover it. One that takes root as its
// real uid too is beyond any signal of nobody's (the kernel's lifeline check and kill(2)'s
// both compare real uids): it survives the launcher alone, as README's mechanisms table says.
class SetuidUnderNobody : public ::testing::Test {
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
  // The launcher SIGKILLed with `mode` running setuid below it; what is left after a bound.
  std::vector<std::string> left_by_killed_launcher(Scenario& s, const char* mode) {
    auto argv = run_argv({65534, "none", false});
    for (const char* a : {"/bin/sh", "-c"}) argv.push_back(a);
    argv.push_back("sleep 300 & " + suid_ + " " + mode + "; wait");
    auto c = progeny::test::start_command(argv);
    std::string seen;
    if (!s.expect(progeny::test::wait_for_line(c.out_fd, "READY", 20000, &seen),
                  "no READY: " + seen))
      return s.others();
    ::kill(c.pid, SIGKILL);  // progeny, our own child
    progeny::test::wait_status(c.pid, 10000);
    ::close(c.out_fd);
    return left_after(s, 5000);
  }
  std::string suid_;
};

TEST_F(SetuidUnderNobody, TakingRootAsItsRealUidItOutlivesTheLauncherAlone) {
  SandboxOptions o;
  o.uid = o.gid = 65534;
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        auto left = left_by_killed_launcher(s, "root");
        // Only the setuid program: the rest of the tree (sh, sleep) and the keeper are gone.
        s.expect(left.size() == 1 && left[0].find(suid_) != std::string::npos,
                 "expected only the root-uid setuid program to be left:" + listed(left));
        return 0;  // the sandbox's init (root) kills it
      },
      o);
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
