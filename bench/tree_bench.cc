// `make bench`: `progeny tree` in every format and `progeny summary` on generated lineage logs
// of 100,000 and 1,000,000 events (a quarter as many processes: fork, exec, exit, and a setsid
// escapee with a progeny stop signal every tenth process), side by side: wall time and the
// peak RSS of the view's process (getrusage of the child), and its CPU time (user + system:
// what a loaded machine changes least). Aims: 100k events, text and summary <= 0.5 s, html,
// json and perfetto <= 1 s; 1M events, every view <= 5 s and <= 500 MB.
// Usage: tree_bench PROGENY [EVENTS...]; with KEEP=1 the logs are kept (paths printed); with
// BEFORE=OTHER_PROGENY each view also runs with that build, alternating with PROGENY's runs,
// so both see the same machine (side by side in one run).
#include <fcntl.h>
#include <sys/resource.h>
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

struct Sample {
  double ms = -1;  // -1: the view failed
  double cpu_ms = 0;
  double peak_mb = 0;
};

// Runs `progeny VIEW --format F LOG` with stdout to /dev/null: its wall time and peak RSS.
Sample time_view(const char* progeny, const char* view, const std::string& format,
                 const std::string& log) {
  double start = now_ms();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    execl(progeny, progeny, view, "--format", format.c_str(), log.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  Sample s;
  s.peak_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;
  auto ms = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3;
  };
  s.cpu_ms = ms(ru.ru_utime) + ms(ru.ru_stime);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) s.ms = now_ms() - start;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: tree_bench PROGENY [EVENTS...]\n");
    return 125;
  }
  std::vector<size_t> sizes;
  for (int i = 2; i < argc; ++i) sizes.push_back(std::strtoul(argv[i], nullptr, 10));
  if (sizes.empty()) sizes = {100'000, 1'000'000};
  char dir[] = "/tmp/progeny-tree-bench-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  const std::pair<const char*, const char*> views[] = {
      {"tree", "text"}, {"tree", "json"}, {"tree", "dot"}, {"tree", "svg"},
      {"tree", "perfetto"}, {"tree", "html"}, {"summary", "text"}, {"summary", "json"}};
  std::vector<std::string> logs;
  std::vector<size_t> written;
  for (size_t events : sizes) {
    logs.push_back(std::string(dir) + "/lineage-" + std::to_string(events) + ".log");
    written.push_back(write_log(logs.back(), events));
  }
  const char* before = getenv("BEFORE");
  std::vector<std::pair<const char*, const char*>> builds = {{"", argv[1]}};
  if (before) builds = {{"after: ", argv[1]}, {"before: ", before}};
  std::printf("\n## progeny tree and summary on generated logs\n\nMedian of 3 runs (1 run "
              "above 200,000 events): wall time (CPU time), peak RSS of the view.%s\n\n| view |",
              before ? " After and before alternate." : "");
  for (size_t w : written) std::printf(" %zu events |", w);
  std::printf("\n|---|");
  for (size_t k = 0; k < written.size(); ++k) std::printf("---|");
  std::printf("\n");
  int status = 0;
  for (const auto& [view, format] : views) {
    std::printf("| %s %s |", view, format);
    for (size_t k = 0; k < logs.size(); ++k) {
      int runs = written[k] > 200'000 ? 1 : 3;
      std::vector<std::vector<Sample>> samples(builds.size());
      for (int r = 0; r < runs; ++r)
        for (size_t b = 0; b < builds.size(); ++b)
          samples[b].push_back(time_view(builds[b].second, view, format, logs[k]));
      for (size_t b = 0; b < builds.size(); ++b) {
        auto& v = samples[b];
        std::sort(v.begin(), v.end(), [](const Sample& a, const Sample& c) { return a.ms < c.ms; });
        const Sample& m = v[v.size() / 2];
        std::printf("%s%s", b ? "; " : " ", builds[b].first);
        if (v.front().ms < 0) {
          std::printf("FAILED");
          status = 1;
        } else {
          std::printf("%.0f ms (%.0f), %.0f MB", m.ms, m.cpu_ms, m.peak_mb);
        }
      }
      std::printf(" |");
    }
    std::printf("\n");
  }
  for (const auto& log : logs) {
    if (!getenv("KEEP")) unlink(log.c_str());
    else std::printf("%s\n", log.c_str());
  }
  if (!getenv("KEEP")) rmdir(dir);
  return status;
}
