// BPF tracker benchmarks (issues 4 and 11), inside the test sandbox:
//  1. cold start: the whole Tracker::start (open, load, seed, attach, walk), split by phase;
//  2. `progeny run -- /bin/true` with and without the tracker, against tini and timeout,
//     interleaved round by round so drifting machine load hits every row alike;
//  3. the programs' own run time per process, from the kernel's BPF statistics;
//  4. per-process overhead: a fork+exit+wait loop (a tracked workload process) with and without
//     a tracker attached, its events consumed meanwhile as the launcher would (records built,
//     not written);
//  5. stop latency on the 1110-process tree with 111 setsid escapees: begin_stop, then SIGKILL
//     through pidfds of the map's verified members until the map is empty (compare with the
//     cgroup.kill row of launcher_bench).
// `bpf_bench --programs N` runs only 3 and 4, to compare a change of the programs (the exit
// program's cost figures, issue 13) against the build before it.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bpf/tracker.h"
#include "launcher/members/signal_gate.h"
#include "launcher/os/fd.h"
#include "launcher/os/proc.h"
#include "launcher/os/sys.h"
#include "bench/bench_util.h"
#include "tests/sandbox/sandbox.h"

using progeny::bpf::Tracker;
using progeny::test::Scenario;

namespace {

using bench::median;
using bench::now_us;

// CPU time of this process (the kernel's work in its syscalls included): unlike the wall
// clock, it does not grow with the other jobs that share this machine.
double cpu_us() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double min_of(const std::vector<double>& v) { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }
double max_of(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

void start_time(Scenario& s, int runs) {
  std::vector<double> total, cpu, open, load, seed, attach, walk;
  for (int i = 0; i < runs; ++i) {
    std::string why;
    double a = now_us(), c = cpu_us();
    auto tracker = Tracker::start(::getpid(), &why);
    total.push_back(now_us() - a);
    cpu.push_back(cpu_us() - c);
    if (!tracker) {
      s.fail("tracker: " + why);
      return;
    }
    const auto& p = tracker->start_phases();
    open.push_back(p.open_us);
    load.push_back(p.load_us);
    seed.push_back(p.seed_us);
    attach.push_back(p.attach_us);
    walk.push_back(p.walk_us);
  }
  std::printf("\n## Tracker cold start: the whole Tracker::start (%d runs)\n\n", runs);
  std::printf("| phase | median | min | max |\n|---|---|---|---|\n");
  auto row = [](const char* name, const std::vector<double>& v) {
    std::printf("| %s | %.2f ms | %.2f ms | %.2f ms |\n", name, median(v) / 1000, min_of(v) / 1000,
                max_of(v) / 1000);
  };
  row("open (object, options)", open);
  row("load (maps, verifier)", load);
  row("seed (root)", seed);
  row("attach", attach);
  row("walk (descendants) + ring buffer", walk);
  row("**total** (wall)", total);
  row("total CPU time (user + kernel, this process)", cpu);
}

// `progeny run -- /bin/true` with and without the tracker, tini and timeout: one run of each
// per round, the order rotated each round, medians side by side.
void run_overhead(Scenario& s, int rounds) {
  std::string progeny = progeny::test::build_path("bin/progeny");
  struct Row {
    const char* name;
    std::vector<std::string> argv;
    std::vector<double> t;
  };
  std::vector<Row> rows = {
      {"/bin/true (bare)", {"/bin/true"}, {}},
      {"progeny run --bpf off -- /bin/true", {progeny, "run", "--bpf", "off", "--", "/bin/true"}, {}},
      {"progeny run --bpf on -- /bin/true", {progeny, "run", "--bpf", "on", "--", "/bin/true"}, {}},
      {"timeout 10 /bin/true", {"/usr/bin/timeout", "10", "/bin/true"}, {}},
  };
  if (::access("/usr/bin/tini", X_OK) == 0)
    rows.push_back({"tini -s -- /bin/true", {"/usr/bin/tini", "-s", "--", "/bin/true"}, {}});
  for (int r = 0; r < rounds; ++r)
    for (size_t i = 0; i < rows.size(); ++i) {
      Row& row = rows[(i + static_cast<size_t>(r)) % rows.size()];
      double a = now_us();
      int st = progeny::test::run_command(row.argv, "/dev/null");
      row.t.push_back(now_us() - a);
      if (st != 0) s.fail(std::string(row.name) + ": exit status " + std::to_string(st));
    }
  double bare = median(rows[0].t);
  std::printf("\n## `progeny run -- /bin/true`, tracker on and off, tini, timeout (%d interleaved rounds)\n\n",
              rounds);
  std::printf("| command | median | min | added vs bare |\n|---|---|---|---|\n");
  for (const auto& row : rows)
    std::printf("| %s | %.2f ms | %.2f ms | %+.2f ms |\n", row.name, median(row.t) / 1000,
                min_of(row.t) / 1000, (median(row.t) - bare) / 1000);
}

// Microseconds per fork+_exit+waitpid over n iterations (the --fork-loop mode).
double fork_loop(int n) {
  double a = now_us();
  for (int i = 0; i < n; ++i) {
    pid_t p = ::fork();
    if (p == 0) ::_exit(0);
    ::waitpid(p, nullptr, 0);
  }
  return (now_us() - a) / n;
}

// Runs the fork loop in a fresh exec of this binary, as the workload under a launcher would
// be: the process holding the tracker maps its ring buffer, and every fork of that process
// copies those mappings (~50 µs here), a cost the launcher pays once for COMMAND and tracked
// processes never pay. With a tracker, its events are consumed meanwhile, as the launcher's
// poll loop does.
double timed_workload(int n, Tracker* t) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(p[1], 1);
    std::string count = std::to_string(n);
    ::execl("/proc/self/exe", "bpf_bench", "--fork-loop", count.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(p[1]);
  uint64_t records = 0;
  auto sink = [&](const progeny::Record& r) { records += !r.event.empty(); };
  std::string out;
  for (;;) {
    pollfd fds[2] = {{p[0], POLLIN, 0}, {t ? t->event_fd() : -1, POLLIN, 0}};
    ::poll(fds, 2, -1);
    if (t) t->consume(sink);
    if (fds[0].revents) {
      char buf[64];
      ssize_t r = ::read(p[0], buf, sizeof buf);
      if (r <= 0) break;
      out.append(buf, static_cast<size_t>(r));
    }
  }
  ::close(p[0]);
  ::waitpid(pid, nullptr, 0);
  if (t) t->consume(sink);
  return std::atof(out.c_str());
}

// The kernel's own account of each program's run time (BPF run-time statistics, enabled only
// while the fd from bpf_enable_stats is open) over a fork+exit+wait loop of n processes.
void program_cost(Scenario& s, int n) {
  progeny::Fd stats(bpf_enable_stats(BPF_STATS_RUN_TIME));
  if (!stats) {
    std::printf("\n## Program run time per process: unavailable (bpf_enable_stats: %s)\n",
                std::strerror(errno));
    return;
  }
  std::string why;
  auto t = Tracker::start(::getpid(), &why);
  if (!t) {
    s.fail("tracker: " + why);
    return;
  }
  timed_workload(n, t.get());
  std::printf("\n## Program run time per process (bpf_enable_stats, %d × fork+exit+wait)\n\n", n);
  std::printf("| program | runs | ns per run | ns per process |\n|---|---|---|---|\n");
  uint64_t total = 0;
  for (const auto& p : t->program_stats()) {
    total += p.run_time_ns;
    std::printf("| %s | %llu | %.0f | %.0f |\n", p.name.c_str(),
                static_cast<unsigned long long>(p.run_cnt),
                p.run_cnt ? static_cast<double>(p.run_time_ns) / static_cast<double>(p.run_cnt) : 0.0,
                static_cast<double>(p.run_time_ns) / n);
  }
  std::printf("| **all** | | | %.0f |\n", static_cast<double>(total) / n);
}

void fork_overhead(Scenario& s, int n, int rounds) {
  std::vector<double> off, on;
  uint64_t lost = 0;
  for (int r = 0; r < rounds; ++r) {  // interleaved so drifting machine load hits both
    off.push_back(timed_workload(n, nullptr));
    std::string why;
    auto t = Tracker::start(::getpid(), &why);
    if (!t) {
      s.fail("tracker: " + why);
      return;
    }
    on.push_back(timed_workload(n, t.get()));
    lost += t->lost();
  }
  double a = median(off), b = median(on);
  std::printf("\n## Fork loop: %d × fork+exit+wait, median of %d interleaved rounds\n\n", n, rounds);
  std::printf("| tracker | per process | overhead |\n|---|---|---|\n");
  std::printf("| off | %.1f µs | - |\n| on | %.1f µs | %+.1f µs (%+.1f%%) |\n", a, b, b - a,
              (b - a) / a * 100);
  if (lost) std::printf("\n(%llu events lost)\n", static_cast<unsigned long long>(lost));
}

void stop_latency(Scenario& s) {
  std::string why;
  auto t = Tracker::start(::getpid(), &why);
  if (!t) {
    s.fail("tracker: " + why);
    return;
  }
  auto c = progeny::test::start_command({progeny::test::fixture("fork_bomb"), "10", "3", "10", "stay"});
  if (!progeny::test::wait_for_line(c.out_fd, "READY", 60000)) {
    s.fail("tree not ready");
    return;
  }
  size_t members = t->members().size();
  double a = now_us();
  t->begin_stop();
  int rounds = 0;
  for (; rounds < 100000; ++rounds) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    // A member leaves the map at its exit; the tree is stopped once the sandbox has reaped
    // the last of them too.
    auto ms = t->members();
    if (ms.empty() && Scenario(-1).others().empty()) break;
    for (const auto& m : ms)
      if (auto k = progeny::Proof::kernel_member(m.pid, m.start_time, m.ino))
        progeny::signal_gate::send(*k, SIGKILL);
    ::usleep(200);
  }
  double ms = (now_us() - a) / 1000;
  ::close(c.out_fd);
  std::printf("\n## Stop latency with the tracker: fork_bomb 10 3 10 (%zu members, setsid escapees)\n\n",
              members);
  std::printf("| method | stop request → map empty and all reaped | survivors |\n|---|---|---|\n");
  std::printf("| tracker: begin_stop + pidfd SIGKILL of members | %.1f ms (%d rounds) | %zu |\n", ms,
              rounds, Scenario(-1).others().size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--fork-loop") {
    std::printf("%f\n", fork_loop(std::atoi(argv[2])));
    return 0;
  }
  bool programs_only = argc == 3 && std::string(argv[1]) == "--programs";
  int n = argc > 1 ? std::atoi(argv[argc - 1]) : 10000;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each table out as it is made, even if killed
  auto r = progeny::test::run_in_sandbox(
      [&](Scenario& s) {
        if (!programs_only) {
          start_time(s, 60);
          run_overhead(s, 60);
        }
        program_cost(s, n);
        fork_overhead(s, n, 5);
        if (!programs_only) stop_latency(s);
        std::fflush(stdout);
        return 0;
      },
      [] {
        progeny::test::SandboxOptions o;
        o.pids_max = 4000;
        o.timeout_s = 600;
        return o;
      }());
  if (!r.ok()) {
    std::fprintf(stderr, "%s", r.describe().c_str());
    return 1;
  }
  return 0;
}
