// Containment modes against trees with setsid escapees and double-forked daemons: zero
// survivors after the stop and after the owner's SIGKILL, and no cgroup left behind.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "launcher/contain/cgroup.h"
#include "launcher/contain/containment.h"
#include "launcher/os/pidfs.h"
#include "launcher/os/proc.h"
#include "launcher/os/sys.h"
#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace progeny {
namespace {

using test::exists;
using test::run_in_sandbox;
using test::Scenario;
using test::wait_until;

constexpr int kBoundMs = 10000;  // upper bound for every wait; never a timing assertion

void skip_unless_root() {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (sandbox)";
}

// Reaps every child until none is left or the bound passes (the scenario is a subreaper).
void reap_all() {
  for (int i = 0; i < kBoundMs / 10; ++i) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {}
    if (::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD) return;
    ::usleep(10000);
  }
}

// One line from fd (without the newline), empty on EOF or after the bound.
std::string read_line(int fd) {
  std::string line;
  char c;
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, kBoundMs) == 1 && ::read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

struct Started {
  pid_t pid = -1;
  Fd pidfd;
  Fd out;  // COMMAND's stdout
};

// Starts argv through the containment, stdout on a pipe, as the launcher would.
Started start(Containment& c, const std::vector<std::string>& argv, std::string* why) {
  Started s;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return s;
  Fd r(p[0]), w(p[1]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  s.pid = c.spawn(&s.pidfd, why);
  if (s.pid == 0) {
    if (::getppid() != c.expected_parent()) ::_exit(121);
    ::dup2(w.get(), 1);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  s.out = std::move(r);
  return s;
}

// A process's state letter ('Z': a zombie), or 0 once it is gone.
char state_of(pid_t pid) {
  auto st = read_proc_stat(pid);
  return st ? st->state : 0;
}

// pidns: the intermediate's reports until COMMAND's status (the first names COMMAND). As the
// launcher does, COMMAND is opened by its pidfs inode, and when COMMAND has ended before that
// (a busy launcher) it must still be there: its parent keeps it a zombie until told that it
// was named. So: COMMAND's end awaited (no descriptor of it held, which would keep it
// openable), then it must be a zombie, with no status for 300 ms (a parent that reaps at once
// has reported by then), opened by its inode, and named.
bool command_status(Containment& c, int* status, Scenario& s) {
  PidnsReport r{};
  bool named = false;
  for (;;) {
    pollfd p{c.status_fd(), POLLIN, 0};
    if (::poll(&p, 1, kBoundMs) != 1 || !c.pidns_report(&r)) return false;
    if (r.kind == PidnsReport::kStarted && r.command_ino != 0) {
      pid_t pid = 0;
      if (Fd cmd = open_pidfd_by_ino(r.command_ino))
        if (auto pids = pidfd_pids(cmd.get())) pid = pids->pid;
      s.expect(pid > 0, "COMMAND could not be opened by its identity");
      char st = 0;
      wait_until([&] { return (st = state_of(pid)) == 'Z' || st == 0; }, kBoundMs);
      s.expect(st == 'Z', std::string("COMMAND is not a zombie after its end: state ") + (st ? st : '-'));
      pollfd early{c.status_fd(), POLLIN, 0};
      s.expect(::poll(&early, 1, 300) == 0, "COMMAND was reaped before it was named");
      named = static_cast<bool>(open_pidfd_by_ino(r.command_ino));
      s.expect(named, "COMMAND could not be opened by its identity after its end");
      c.pidns_command_named();
    }
    if (r.kind == PidnsReport::kEnded) {
      *status = r.status;
      return named;
    }
  }
}

std::vector<std::string> tree_argv(int plain, int escapees, int daemons, const char* mode) {
  return {test::fixture("contain_tree"), std::to_string(plain), std::to_string(escapees),
          std::to_string(daemons), mode};
}

// 10 plain children, 10 setsid escapees, 10 double-forked daemons, plus the top.
constexpr size_t kTreeSize = 31;

TEST(ContainCgroup, KillEmptiesTreeWithEscapeesAndDaemons) {
  skip_unless_root();
  auto r = run_in_sandbox([](Scenario& s) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::string why;
    auto c = Containment::make(ContainMode::cgroup, &why);
    if (!s.expect(c != nullptr, "make(cgroup): " + why)) return 1;
    s.note(c->reason());
    Started t = start(*c, tree_argv(10, 10, 10, "stay"), &why);
    if (!s.expect(t.pid > 0, "spawn: " + why)) return 1;
    if (!s.expect(test::wait_for_line(t.out.get(), "READY", kBoundMs), "no READY")) return 1;
    std::vector<pid_t> m = c->members();
    s.expect(m.size() == kTreeSize, "members " + std::to_string(m.size()));
    s.expect(std::find(m.begin(), m.end(), c->watchdog_pid()) == m.end(),
             "the watchdog is counted as a member");
    std::vector<pid_t> survivors;
    s.expect(c->stop(std::chrono::milliseconds(kBoundMs), &survivors),
             std::to_string(survivors.size()) + " survivors after stop");
    s.expect(c->members().empty(), "members left after stop");
    std::string leaf = c->cgroup_path();
    s.expect(exists(leaf), "no leaf at " + leaf);
    c->finish();
    s.expect(!exists(leaf), "leaf " + leaf + " still exists");
    reap_all();
    s.expect(s.others().empty(), "processes left: " + std::to_string(s.others().size()));
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(r.survivors.empty()) << r.describe();
}

// The owner (a stand-in for the launcher) is SIGKILLed mid-run: its watchdog must kill the
// leaf and remove it.
TEST(ContainCgroup, WatchdogKillsAndRemovesLeafWhenOwnerDies) {
  skip_unless_root();
  auto r = run_in_sandbox([](Scenario& s) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    int p[2];
    if (::pipe(p) != 0) return 1;
    pid_t owner = ::fork();
    if (owner == 0) {
      ::close(p[0]);
      std::string why;
      auto c = Containment::make(ContainMode::cgroup, &why);
      if (!c) ::_exit(2);
      Started t = start(*c, tree_argv(10, 10, 10, "stay"), &why);
      if (t.pid <= 0 || !test::wait_for_line(t.out.get(), "READY", kBoundMs)) ::_exit(3);
      std::string msg = c->cgroup_path() + "\n" + std::to_string(c->watchdog_pid()) + "\n";
      (void)!::write(p[1], msg.data(), msg.size());
      for (;;) ::pause();
    }
    ::close(p[1]);
    std::string leaf = read_line(p[0]);
    pid_t watchdog = std::atoi(read_line(p[0]).c_str());
    if (!s.expect(!leaf.empty() && exists(leaf), "no leaf from the owner: " + leaf)) return 1;
    // What a terminal or a careless pkill sends must not take the watchdog down first.
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP})
      if (watchdog > 0) ::kill(watchdog, sig);
    ::kill(owner, SIGKILL);
    for (int i = 0; i < kBoundMs / 10 && exists(leaf); ++i) ::usleep(10000);
    s.expect(!exists(leaf), "the watchdog did not remove " + leaf);
    reap_all();
    s.expect(s.others().empty(), std::to_string(s.others().size()) + " survivors");
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(r.survivors.empty()) << r.describe();
}

TEST(ContainCgroup, LeafRemovedAfterNormalEndAndOnErrorPaths) {
  skip_unless_root();
  auto r = run_in_sandbox([](Scenario& s) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::string why;
    {
      // Normal end: COMMAND exits, the run finishes.
      auto c = Containment::make(ContainMode::cgroup, &why);
      if (!s.expect(c != nullptr, why)) return 1;
      Started t = start(*c, {"/bin/true"}, &why);
      int st = -1;
      ::waitpid(t.pid, &st, 0);
      s.expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "true failed");
      std::string leaf = c->cgroup_path();
      c->finish();
      s.expect(!exists(leaf), "leaf left after normal end");
    }
    {
      // An error path: the containment is destroyed while the tree still runs.
      auto c = Containment::make(ContainMode::cgroup, &why);
      if (!s.expect(c != nullptr, why)) return 1;
      Started t = start(*c, tree_argv(3, 3, 3, "stay"), &why);
      s.expect(test::wait_for_line(t.out.get(), "READY", kBoundMs), "no READY");
      std::string leaf = c->cgroup_path();
      c.reset();
      s.expect(!exists(leaf), "leaf left after destruction");
    }
    {
      // A nested run's leaf below ours, left by an inner launcher that died: removed too.
      auto c = Containment::make(ContainMode::cgroup, &why);
      if (!s.expect(c != nullptr, why)) return 1;
      Fd pidfd;
      pid_t inner = c->spawn(&pidfd, &why);
      if (inner == 0) {
        auto nested = CgroupLeaf::create(&why);
        if (!nested) ::_exit(1);
        ::_exit(nested->path().find("/progeny-") != std::string::npos ? 0 : 1);  // no cleanup
      }
      int st = -1;
      ::waitpid(inner, &st, 0);
      s.expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "inner leaf not created");
      std::string leaf = c->cgroup_path();
      c->finish();
      s.expect(!exists(leaf), "leaf with a nested leaf left behind");
    }
    reap_all();
    s.expect(s.others().empty(), "processes left");
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(r.survivors.empty()) << r.describe();
}

TEST(ContainPidns, CommandIsPid3UnderAnIntermediateAndItsStatusComesBack) {
  skip_unless_root();
  auto r = run_in_sandbox([](Scenario& s) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::string why;
    auto c = Containment::make(ContainMode::pidns, &why);
    if (!s.expect(c != nullptr, why)) return 1;
    Started t = start(*c, {"/bin/sh", "-c", "echo $$ $PPID; kill -TERM $$"}, &why);
    if (!s.expect(t.pid > 0, why)) return 1;
    std::string seen;
    test::wait_for_line(t.out.get(), "3 2", kBoundMs, &seen);
    s.expect(seen.find("3 2") == 0, "pid/ppid inside: " + seen);
    int st = 0;
    s.expect(command_status(*c, &st, s) && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
             "status " + std::to_string(st));
    int init_st = test::wait_status(t.pid, kBoundMs);
    s.expect(WIFEXITED(init_st) && WEXITSTATUS(init_st) == 128 + SIGTERM, "init status");
    c->finish();
    reap_all();
    s.expect(s.others().empty(), "processes left");
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(ContainPidns, StopAndOwnerDeathKillTheWholeNamespace) {
  skip_unless_root();
  auto r = run_in_sandbox([](Scenario& s) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::string why;
    {
      auto c = Containment::make(ContainMode::pidns, &why);
      if (!s.expect(c != nullptr, why)) return 1;
      Started t = start(*c, tree_argv(10, 10, 10, "exit"), &why);
      s.expect(test::wait_for_line(t.out.get(), "READY", kBoundMs), "no READY");
      // init + intermediate + the tree minus its top (exited) = 32. The top exits right after
      // READY: a walk while its children move to the init can miss them (3 in 40 runs), so
      // the namespace's tree must be complete once the move is done.
      size_t seen = 0;
      s.expect(wait_until([&] { return (seen = c->members().size()) >= kTreeSize; }, kBoundMs),
               "members " + std::to_string(seen));
      std::vector<pid_t> survivors;
      s.expect(c->stop(std::chrono::milliseconds(kBoundMs), &survivors), "stop left survivors");
      reap_all();
      s.expect(s.others().empty(), "processes left after stop");
    }
    {
      // The owner (stand-in for the launcher) is SIGKILLed: the init dies with it.
      int p[2];
      if (::pipe(p) != 0) return 1;
      pid_t owner = ::fork();
      if (owner == 0) {
        ::close(p[0]);
        auto c = Containment::make(ContainMode::pidns, &why);
        if (!c) ::_exit(2);
        Started t = start(*c, tree_argv(10, 10, 10, "stay"), &why);
        if (t.pid <= 0 || !test::wait_for_line(t.out.get(), "READY", kBoundMs)) ::_exit(3);
        (void)!::write(p[1], "R\n", 2);
        for (;;) ::pause();
      }
      ::close(p[1]);
      s.expect(test::wait_for_line(p[0], "R", kBoundMs), "owner not ready");
      s.expect(s.others().size() >= kTreeSize + 2, "tree not there");
      ::kill(owner, SIGKILL);
      reap_all();
      s.expect(s.others().empty(), std::to_string(s.others().size()) + " survivors");
    }
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(r.survivors.empty()) << r.describe();
}

TEST(ContainUnprivileged, CgroupRefusedWithReasonAutoFallsBackPidnsWorks) {
  skip_unless_root();
  test::SandboxOptions opts;
  opts.uid = 65534;
  opts.gid = 65534;
  auto r = run_in_sandbox(
      [](Scenario& s) {
        std::string why;
        s.expect(Containment::make(ContainMode::cgroup, &why) == nullptr, "cgroup allowed");
        s.expect(why.find("not delegated") != std::string::npos, "reason: " + why);
        auto a = Containment::make(ContainMode::auto_, &why);
        s.expect(a && a->mode() == ContainMode::none, "auto did not fall back to none");
        if (a) s.expect(a->reason().find("cgroup unavailable") != std::string::npos, a->reason());
        auto c = Containment::make(ContainMode::pidns, &why);
        if (!c) {
          s.note("pidns unavailable as non-root: " + why);
          return 0;
        }
        Started t = start(*c, {"/bin/sh", "-c", "exit 7"}, &why);
        int st = -1;
        s.expect(command_status(*c, &st, s), "no status");
        s.expect(WIFEXITED(st) && WEXITSTATUS(st) == 7, "status " + std::to_string(st));
        test::wait_status(t.pid, kBoundMs);
        return 0;
      },
      opts);
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
}  // namespace progeny
