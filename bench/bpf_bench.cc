// BPF tracker benchmarks (issue 4), inside the test sandbox:
//  1. skeleton open+load+attach time (Tracker::start, which also seeds the root);
//  2. per-process overhead: a fork+exit+wait loop (a tracked workload process) with and without
//     a tracker attached, its events consumed meanwhile as the launcher would (records built,
//     not written);
//  3. stop latency on the 1110-process tree with 111 setsid escapees: begin_stop, then SIGKILL
//     through pidfds of the map's verified members until the map is empty (compare with the
//     cgroup.kill row of launcher_bench).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
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

void start_time(Scenario& s, int runs) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    std::string why;
    double a = now_us();
    auto tracker = Tracker::start(::getpid(), &why);
    t.push_back(now_us() - a);
    if (!tracker) {
      s.fail("tracker: " + why);
      return;
    }
  }
  std::printf("\n## Tracker start: open+load+seed+attach (%d runs)\n\n", runs);
  std::printf("| median | min | max |\n|---|---|---|\n| %.1f ms | %.1f ms | %.1f ms |\n",
              median(t) / 1000, *std::min_element(t.begin(), t.end()) / 1000,
              *std::max_element(t.begin(), t.end()) / 1000);
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
    auto ms = t->members();
    if (ms.empty()) break;
    for (const auto& m : ms)
      if (auto k = progeny::Proof::kernel_member(m.pid, m.start_time, m.ino))
        progeny::signal_gate::send(*k, SIGKILL);
    ::usleep(200);
  }
  double ms = (now_us() - a) / 1000;
  ::close(c.out_fd);
  std::printf("\n## Stop latency with the tracker: fork_bomb 10 3 10 (%zu members, setsid escapees)\n\n",
              members);
  std::printf("| method | stop request → map empty (all reaped) | survivors |\n|---|---|---|\n");
  std::printf("| tracker: begin_stop + pidfd SIGKILL of members | %.1f ms (%d rounds) | %zu |\n", ms,
              rounds, Scenario(-1).others().size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--fork-loop") {
    std::printf("%f\n", fork_loop(std::atoi(argv[2])));
    return 0;
  }
  int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  auto r = progeny::test::run_in_sandbox(
      [&](Scenario& s) {
        start_time(s, 20);
        fork_overhead(s, n, 3);
        stop_latency(s);
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
