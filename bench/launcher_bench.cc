// Launcher benchmarks, run inside the test sandbox (they start and kill process trees):
//  1. start overhead: progeny run -- /bin/true against bare /bin/true, tini and timeout;
//  2. stop latency on a 1110-process tree with 111 setsid escapees: progeny, kill -- -PGID,
//     and cgroup v2 cgroup.kill, with the survivors of each.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "launcher/os/fd.h"
#include "launcher/os/proc.h"
#include "bench/bench_util.h"
#include "tests/sandbox/sandbox.h"

using progeny::test::build_path;
using progeny::test::fixture;
using progeny::test::Scenario;

namespace {

using bench::median;
using bench::now_us;

// Median wall time of `runs` runs of argv, in microseconds.
double time_runs(const std::vector<std::string>& argv, int runs) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    double a = now_us();
    progeny::test::run_command(argv, "/dev/null");
    t.push_back(now_us() - a);
  }
  return median(t);
}

bool exists(const char* path) { return ::access(path, X_OK) == 0; }

void start_overhead(Scenario& s, int runs) {
  std::string progeny = build_path("bin/progeny");
  double bare = time_runs({"/bin/true"}, runs);
  struct Row {
    const char* name;
    std::vector<std::string> argv;
  };
  std::vector<Row> rows = {
      {"progeny run --contain none --no-preload --bpf off (launcher alone)",
       {progeny, "run", "--contain", "none", "--no-preload", "--bpf", "off", "--", "/bin/true"}},
      {"progeny run --no-preload --bpf off (+ cgroup)", {progeny, "run", "--no-preload", "--bpf", "off", "--", "/bin/true"}},
      {"progeny run --bpf off (+ cgroup, shim)", {progeny, "run", "--bpf", "off", "--", "/bin/true"}},
      {"progeny run (defaults: + BPF tracker)", {progeny, "run", "--", "/bin/true"}},
  };
  if (exists("/usr/bin/tini")) rows.push_back({"tini -s --", {"/usr/bin/tini", "-s", "--", "/bin/true"}});
  rows.push_back({"timeout 10", {"/usr/bin/timeout", "10", "/bin/true"}});
  std::printf("\n## Start overhead (median of %d runs)\n\n", runs);
  std::printf("| command | median | added vs bare | ratio |\n|---|---|---|---|\n");
  std::printf("| /bin/true (bare) | %.0f µs | - | 1.00 |\n", bare);
  for (const auto& r : rows) {
    double t = time_runs(r.argv, runs);
    std::printf("| %s | %.0f µs | %+.0f µs | %.2f |\n", r.name, t, t - bare, t / bare);
  }
  std::fflush(stdout);
  (void)s;
}

// Pids in /proc other than the sandbox init and us.
int count_others() {
  int n = 0;
  for (const auto& o : progeny::test::Scenario(-1).others()) {
    (void)o;
    ++n;
  }
  return n;
}

// Waits until nothing but init and us remains (up to limit_ms); returns the survivors.
int settle(int limit_ms) {
  for (int waited = 0; waited < limit_ms; waited += 2) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    if (count_others() == 0) return 0;
    ::usleep(2000);
  }
  return count_others();
}

const std::vector<std::string> kTree = {"10", "3", "10", "stay"};  // 1110 processes, 111 setsid

void stop_latency(Scenario& s) {
  std::printf("\n## Stop latency: %s (1110 processes, 111 setsid escapees)\n\n", "fork_bomb 10 3 10");
  std::printf("| method | stop request → last process reaped | survivors |\n|---|---|---|\n");
  std::string seen;
  // progeny: SIGTERM to the launcher is forwarded to COMMAND, which dies; the rest is stopped
  // (freeze, TERM, grace, SIGKILL). Timed until progeny exits: it has reaped them all.
  struct Mode {
    const char* name;
    std::vector<std::string> opts;
  };
  for (const Mode& mode : {Mode{"progeny run --contain none (walk, no privileges)", {"--contain", "none"}},
                           Mode{"progeny run --contain cgroup", {"--contain", "cgroup"}}}) {
    std::vector<double> times;
    int worst = 0;
    for (int round = 0; round < 3; ++round) {
      std::vector<std::string> argv = {build_path("bin/progeny"), "run", "-q", "--no-preload", "--bpf", "off"};
      argv.insert(argv.end(), mode.opts.begin(), mode.opts.end());
      argv.push_back("--");
      argv.push_back(fixture("fork_bomb"));
      argv.insert(argv.end(), kTree.begin(), kTree.end());
      auto c = progeny::test::start_command(argv);
      if (!progeny::test::wait_for_line(c.out_fd, "READY", 30000, &seen)) s.fail("tree not ready");
      double a = now_us();
      ::kill(c.pid, SIGTERM);  // our child
      progeny::test::wait_status(c.pid, 60000);
      times.push_back(now_us() - a);
      worst = std::max(worst, settle(0));
      ::close(c.out_fd);
      settle(5000);
    }
    std::printf("| %s | %.1f ms | %d |\n", mode.name, median(times) / 1000, worst);
  }
  // cgroup v2 cgroup.kill on a leaf made for this tree (the v2 root is shared with the host
  // on this hybrid layout; the leaf is ours alone and removed afterwards).
  {
    std::string leaf = "/sys/fs/cgroup/unified/progeny-bench." + std::to_string(::getpid()) + "." +
                       std::to_string(::time(nullptr));
    if (::mkdir(leaf.c_str(), 0755) != 0) {
      std::printf("| cgroup.kill | unavailable: %s | - |\n", std::strerror(errno));
    } else {
      progeny::Fd dir(::open(leaf.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
      std::vector<std::string> argv = {fixture("fork_bomb")};
      argv.insert(argv.end(), kTree.begin(), kTree.end());
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0) s.fail("pipe");
      pid_t pid = ::fork();
      if (pid == 0) {
        int fd = ::openat(dir.get(), "cgroup.procs", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || ::write(fd, "0", 1) != 1) ::_exit(99);
        ::dup2(p[1], 1);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
      }
      ::close(p[1]);
      if (!progeny::test::wait_for_line(p[0], "READY", 30000, &seen)) s.fail("tree not ready");
      double a = now_us();
      progeny::Fd kill_fd(::openat(dir.get(), "cgroup.kill", O_WRONLY | O_CLOEXEC));
      if (!kill_fd || ::write(kill_fd.get(), "1", 1) != 1) s.fail("cgroup.kill failed");
      ::waitpid(pid, nullptr, 0);
      // Done when the last process is reaped (by the sandbox's init, their reaper here), as
      // for progeny above.
      int survivors = settle(60000);
      double t = now_us() - a;
      std::printf("| cgroup v2 cgroup.kill | %.1f ms | %d |\n", t / 1000, survivors);
      ::close(p[0]);
      ::rmdir(leaf.c_str());
    }
  }
  // kill -- -PGID: the tree's own group (we made it a group leader); escapees are missed.
  {
    std::vector<std::string> argv = {fixture("fork_bomb")};
    argv.insert(argv.end(), kTree.begin(), kTree.end());
    auto c = progeny::test::start_command(argv);
    ::setpgid(c.pid, c.pid);
    if (!progeny::test::wait_for_line(c.out_fd, "READY", 30000, &seen)) s.fail("tree not ready");
    double a = now_us();
    ::killpg(c.pid, SIGKILL);  // the group we created for this tree
    ::waitpid(c.pid, nullptr, 0);
    // Done when no process of that group remains.
    for (;;) {
      bool any = false;
      for (const auto& o : Scenario(-1).others()) {
        pid_t pid = std::atoi(o.c_str());
        auto st = progeny::read_proc_stat(pid);
        if (st && st->pgrp == c.pid && st->state != 'Z') any = true;
      }
      while (::waitpid(-1, nullptr, WNOHANG) > 0) {
      }
      if (!any) break;
      ::usleep(500);
    }
    double t = now_us() - a;
    int survivors = count_others();
    std::printf("| kill -- -PGID (SIGKILL) | %.1f ms | %d |\n", t / 1000, survivors);
    ::close(c.out_fd);
    // The escapees the group kill missed die with the sandbox; measure cgroup.kill first.
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  auto r = progeny::test::run_in_sandbox(
      [&](Scenario& s) {
        start_overhead(s, runs);
        stop_latency(s);
        return 0;
      },
      [] {
        progeny::test::SandboxOptions o;
        o.pids_max = 4000;
        o.timeout_s = 300;
        return o;
      }());
  if (!r.ok()) {
    std::fprintf(stderr, "%s", r.describe().c_str());
    return 1;
  }
  return 0;
}
