// `make bench`: time `progeny tree` on a generated lineage log of 100,000 events (25,000
// processes: fork, exec, exit, and a setsid escapee with a progeny stop signal every tenth
// process). Aim: well under a second. Usage: tree_bench PROGENY [EVENTS]; with KEEP=1 the
// log is kept (its path printed) for profiling.
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/bench_util.h"

namespace {

using bench::now_ms;

// Writes the log; returns the number of events written.
size_t write_log(const std::string& path, size_t target_events) {
  std::ofstream out(path);
  size_t n = 0;
  uint64_t t = 1'000'000'000;
  auto emit = [&](nlohmann::json r) {
    r["v"] = 1;
    r["time_ns"] = t += 1000;
    out << r.dump() << '\n';
    ++n;
  };
  emit({{"event", "start"}, {"source", "launcher"}, {"pid", 100}, {"start_time", 1},
        {"wall_ns", 1'700'000'000'000'000'000ULL}, {"argv", {"progeny", "run", "--", "make"}}});
  int next = 101;
  std::vector<int> parents{100};
  std::vector<int> escapees;
  while (n + 4 < target_events) {
    int pid = next++;
    int ppid = parents[static_cast<size_t>(pid * 7919) % parents.size()];
    emit({{"event", "fork"}, {"source", "shim"}, {"pid", pid}, {"start_time", pid}, {"ppid", ppid},
          {"tid", ppid}, {"via", pid % 3 ? "vfork" : "fork"}, {"pgid", 101}, {"sid", 100}});
    emit({{"event", "exec"}, {"source", "shim"}, {"pid", pid}, {"start_time", pid},
          {"path", "/usr/bin/cc1"}, {"argv", {"cc1", "-O2", "file" + std::to_string(pid) + ".c"}},
          {"ppid", ppid}});
    if (pid % 10 == 0) {
      emit({{"event", "setsid"}, {"source", "shim"}, {"pid", pid}, {"start_time", pid}, {"sid", pid}});
      escapees.push_back(pid);
    } else {
      emit({{"event", "exit"}, {"source", "launcher"}, {"pid", pid}, {"start_time", pid}, {"code", 0}});
    }
    if (parents.size() < 2000) parents.push_back(pid);
  }
  emit({{"event", "exit"}, {"source", "launcher"}, {"pid", 101}, {"start_time", 101}, {"code", 0}});
  for (int pid : escapees) {
    if (n >= target_events) break;
    emit({{"event", "signal"}, {"source", "launcher"}, {"pid", 100}, {"signal", "TERM"},
          {"target_pid", pid}, {"reason", "stop"}});
  }
  return n;
}

// Runs `progeny tree --format F LOG` with stdout to /dev/null; milliseconds, or -1 on failure.
double time_tree(const char* progeny, const std::string& format, const std::string& log) {
  double start = now_ms();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    execl(progeny, progeny, "tree", "--format", format.c_str(), log.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  double ms = now_ms() - start;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? ms : -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: tree_bench PROGENY [EVENTS]\n");
    return 125;
  }
  size_t events = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 100'000;
  char dir[] = "/tmp/progeny-tree-bench-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  std::string log = std::string(dir) + "/lineage.log";
  size_t written = write_log(log, events);
  int status = 0;
  std::printf("\n## progeny tree on a %zu-event log\n\nBest and median of 5 runs, wall time "
              "(aim: text well under 1000 ms).\n\n",
              written);
  for (const char* format : {"text", "json", "svg", "perfetto"}) {
    std::vector<double> runs;
    for (int i = 0; i < 5; ++i) runs.push_back(time_tree(argv[1], format, log));
    std::sort(runs.begin(), runs.end());
    if (runs.front() < 0) {
      std::printf("- %-9s FAILED (progeny tree exited non-zero)\n", format);
      status = 1;
      continue;
    }
    std::printf("- %-9s %7.1f ms best, %7.1f ms median\n", format, runs[0], runs[2]);
  }
  if (!getenv("KEEP")) unlink(log.c_str()); else std::printf("%s\n", log.c_str());
  rmdir(dir);
  return status;
}
