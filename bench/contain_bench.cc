// Containment benchmarks (issue 6), inside the test sandbox:
//  1. stop latency on a 1000-process tree with 100 setsid escapees, per mode, next to bare
//     cgroup.kill and kill -- -PGID, with the survivors of each;
//  2. start overhead of each mode: make + spawn /bin/true + wait + finish.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "launcher/contain/cgroup.h"
#include "launcher/contain/containment.h"
#include "launcher/contain/spawn_contained.h"
#include "launcher/os/sys.h"
#include "launcher/os/proc.h"
#include "bench/bench_util.h"
#include "tests/sandbox/sandbox.h"

using progeny::Containment;
using progeny::ContainMode;
using progeny::Fd;
using progeny::test::Scenario;

namespace {

using bench::median;
using bench::now_ms;

void drain_zombies() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {}
}

// Processes left in the sandbox, but for `except` (the watchdog while it still runs).
int survivors(pid_t except) {
  int n = 0;
  for (const auto& o : Scenario(-1).others()) {
    auto st = progeny::read_proc_stat(std::atoi(o.c_str()));
    if (st && st->pid != except && st->state != 'Z') ++n;
  }
  return n;
}

// 899 plain children + 100 setsid escapees + the top = 1000 processes.
const std::vector<std::string> kTree = {"899", "100", "0", "stay"};

struct Started {
  pid_t pid = -1;
  Fd pidfd;
  Fd out;
};

// Starts the tree through `spawn` (fork-like), in its own process group when asked.
template <typename Spawn>
Started start_tree(Spawn spawn, bool own_group) {
  Started s;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return s;
  Fd r(p[0]), w(p[1]);
  std::vector<std::string> argv = {progeny::test::fixture("contain_tree")};
  argv.insert(argv.end(), kTree.begin(), kTree.end());
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  s.pid = spawn(&s.pidfd);
  if (s.pid == 0) {
    if (own_group) ::setpgid(0, 0);
    ::dup2(w.get(), 1);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (own_group && s.pid > 0) ::setpgid(s.pid, s.pid);
  s.out = std::move(r);
  return s;
}

constexpr int kReps = 5;

enum class Method { contain_cgroup, bare_cgroup_kill, contain_pidns, killpg };

// One measurement: builds the tree, stops it, returns ms (and the survivors in *left_n).
double stop_once(Scenario& s, Method m, const char* name, int* left_n) {
  std::string why;
  ContainMode mode = m == Method::contain_pidns ? ContainMode::pidns
                     : m == Method::killpg      ? ContainMode::none
                                                : ContainMode::cgroup;
  auto c = Containment::make(mode, &why);
  if (!c) {
    std::printf("| %s | unavailable: %s | - |\n", name, why.c_str());
    return -1;
  }
  // Bare cgroup.kill: a leaf of our own with no Containment around it (no freeze, no
  // watchdog), the child cloned straight into it.
  std::unique_ptr<progeny::CgroupLeaf> bare;
  if (m == Method::bare_cgroup_kill) bare = progeny::CgroupLeaf::create(&why);
  Started t = bare ? start_tree(
                         [&](Fd* pidfd) {
                           progeny::CloneSpec spec;
                           spec.cgroup_fd = bare->dirfd();
                           return progeny::clone_contained(spec, pidfd);
                         },
                         false)
                   : start_tree([&](Fd* pidfd) { return c->spawn(pidfd, &why); },
                                m == Method::killpg);
  if (t.pid <= 0 || !progeny::test::wait_for_line(t.out.get(), "READY", 60000)) {
    s.fail(std::string(name) + ": tree not ready");
    return -1;
  }
  double a = now_ms();
  std::vector<pid_t> left;
  switch (m) {
    case Method::contain_cgroup:
    case Method::contain_pidns:
      c->stop(std::chrono::seconds(30), &left);
      break;
    case Method::bare_cgroup_kill:
      if (!bare->kill_all() || !bare->wait_empty(std::chrono::seconds(30))) s.fail("cgroup.kill");
      break;
    case Method::killpg:
      ::killpg(t.pid, SIGKILL);  // the group made for this tree above
      break;
  }
  // Everything killed is a zombie child of ours now (subreaper) or gone; reaping ends it.
  if (m == Method::killpg) {
    // Done when nothing of the group is left alive (the escapees are not in it any more).
    ::waitpid(t.pid, nullptr, 0);
    for (bool any = true; any;) {
      drain_zombies();
      any = false;
      for (const auto& o : Scenario(-1).others()) {
        auto st = progeny::read_proc_stat(std::atoi(o.c_str()));
        if (st && st->pgrp == t.pid && st->state != 'Z') any = true;
      }
    }
  }
  drain_zombies();
  double ms = now_ms() - a;
  *left_n = survivors(c->watchdog_pid());
  c->finish();
  bare.reset();
  // kill -- -PGID leaves the escapees: end them here, outside the measurement.
  for (const auto& o : Scenario(-1).others()) progeny::test::kill_in_sandbox(std::atoi(o.c_str()));
  for (int i = 0; i < 500 && survivors(-1) > 0; ++i) {
    drain_zombies();
    ::usleep(10000);
  }
  drain_zombies();
  return ms;
}

void stop_row(Scenario& s, Method m, const char* name, int reps) {
  std::vector<double> t;
  int worst = 0;
  for (int i = 0; i < reps; ++i) {
    int left = 0;
    double ms = stop_once(s, m, name, &left);
    if (ms < 0) return;
    t.push_back(ms);
    worst = std::max(worst, left);
  }
  std::printf("| %s | %.1f ms (%.1f-%.1f) | %d |\n", name, median(t),
              *std::min_element(t.begin(), t.end()), *std::max_element(t.begin(), t.end()), worst);
  std::fflush(stdout);
}

void stop_latency(Scenario& s) {
  std::printf("\n## Containment stop latency (1000 processes, 100 setsid escapees)\n\n");
  std::printf("| method | stop request → last process reaped, median of %d (min-max) | "
              "survivors (worst) |\n|---|---|---|\n", kReps);
  stop_row(s, Method::contain_cgroup, "--contain cgroup: freeze + cgroup.kill + wait empty", kReps);
  stop_row(s, Method::bare_cgroup_kill, "bare cgroup.kill + wait empty", kReps);
  stop_row(s, Method::contain_pidns, "--contain pidns: SIGKILL to the namespace init", kReps);
  stop_row(s, Method::killpg, "kill -- -PGID (SIGKILL)", kReps);
}

void start_overhead(int runs) {
  std::printf("\n## Containment start overhead (make + spawn /bin/true + wait + finish)\n\n");
  std::printf("| mode | median | vs none |\n|---|---|---|\n");
  double base = 0;
  for (ContainMode mode : {ContainMode::none, ContainMode::cgroup, ContainMode::pidns}) {
    std::vector<double> t;
    std::string why;
    for (int i = 0; i < runs; ++i) {
      double a = now_ms();
      auto c = Containment::make(mode, &why);
      if (!c) break;
      Fd pidfd;
      pid_t p = c->spawn(&pidfd, &why);
      if (p == 0) {
        char* args[] = {const_cast<char*>("/bin/true"), nullptr};
        ::execv(args[0], args);
        ::_exit(127);
      }
      ::waitpid(p, nullptr, 0);
      c->finish();
      t.push_back(now_ms() - a);
      drain_zombies();
    }
    if (t.empty()) {
      std::printf("| %s | unavailable: %s | - |\n", progeny::contain_mode_name(mode), why.c_str());
      continue;
    }
    double m = median(t);
    if (mode == ContainMode::none) base = m;
    std::printf("| %s | %.3f ms | +%.3f ms |\n", progeny::contain_mode_name(mode), m, m - base);
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 100;
  progeny::test::SandboxOptions o;
  o.pids_max = 4000;
  o.timeout_s = 300;
  auto r = progeny::test::run_in_sandbox(
      [&](Scenario& s) {
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        start_overhead(runs);
        stop_latency(s);
        return 0;
      },
      o);
  if (!r.ok()) {
    std::fprintf(stderr, "%s", r.describe().c_str());
    return 1;
  }
  return 0;
}
