// Lineage logs for the audit-view tests, written the way the launcher, the shim and the
// tracker write them (docs/CONTRACT.md), for the fixture shapes of the launcher issue.
#pragma once
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "launcher/views/lineage.h"
#include "launcher/views/logread.h"
#include "launcher/views/tree_views.h"

namespace progeny::test {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kBase = 5'000'000'000;  // CLOCK_MONOTONIC of the launcher's start

class LogWriter {
 public:
  // A record at `ms` after the start; start_time is pid*10 unless given (0 = absent).
  nlohmann::json& add(const char* event, const char* source, int pid, double ms,
                      int64_t start_time = -1) {
    nlohmann::json r = {{"v", 1}, {"event", event}, {"source", source}, {"pid", pid},
                        {"time_ns", kBase + static_cast<uint64_t>(ms * kMs)}};
    if (start_time != 0) r["start_time"] = start_time < 0 ? pid * 10 : start_time;
    recs_.push_back(std::move(r));
    return recs_.back();
  }
  LogWriter& start(int pid, std::vector<std::string> argv) {
    add("start", "launcher", pid, 0) .update({{"wall_ns", 1'700'000'000'000'000'000ULL},
                                              {"argv", argv}, {"version", "0.1.0"},
                                              {"mechanisms", {"subreaper", "shim"}}});
    return *this;
  }
  LogWriter& fork(const char* source, int pid, int ppid, double ms, const char* via,
                  int pgid = 0, int sid = 0) {
    auto& r = add("fork", source, pid, ms);
    r.update({{"ppid", ppid}, {"tid", ppid}, {"via", via}});
    if (pgid) r["pgid"] = pgid;
    if (sid) r["sid"] = sid;
    return *this;
  }
  LogWriter& exec(const char* source, int pid, double ms, const std::string& path,
                  std::vector<std::string> argv, int ppid = 0) {
    auto& r = add("exec", source, pid, ms);
    r.update({{"path", path}, {"argv", argv}});
    if (ppid) r["ppid"] = ppid;
    return *this;
  }
  LogWriter& exit_code(const char* source, int pid, double ms, int code) {
    add("exit", source, pid, ms)["code"] = code;
    return *this;
  }
  LogWriter& exit_signal(const char* source, int pid, double ms, int sig) {
    add("exit", source, pid, ms).update({{"signal", sig}, {"core", false}});
    return *this;
  }
  LogWriter& signal(int launcher, int target, double ms, const char* sig, const char* reason) {
    add("signal", "launcher", launcher, ms)
        .update({{"signal", sig}, {"target_pid", target}, {"reason", reason}});
    return *this;
  }
  LogWriter& raw(const std::string& line) {
    raw_.emplace_back(recs_.size(), line);
    return *this;
  }
  std::string text() const {
    std::string out;
    size_t r = 0;
    for (size_t i = 0; i <= recs_.size(); ++i) {
      for (; r < raw_.size() && raw_[r].first == i; ++r) out += raw_[r].second + "\n";
      if (i < recs_.size()) out += recs_[i].dump() + "\n";
    }
    return out;
  }
  Lineage lineage() const {
    std::istringstream in(text());
    LogContents c = read_log(in);
    return build_lineage(c.events, c.problems.size());
  }

 private:
  std::vector<nlohmann::json> recs_;
  std::vector<std::pair<size_t, std::string>> raw_;  // lines inserted before record index
};

// The scenarios. Launcher 100; COMMAND 101 is `sh -c ...`, exits 0 at 10 ms.
//  - double-fork daemon: 101 forks 102, 102 forks 103 and exits; 103 setsid, execs sleep;
//    progeny stops 103 with TERM.
//  - setsid escapee: 101 forks 104 which setsids; survives TERM, killed with KILL.
//  - setpgid escapee: 101 forks 105 which setpgids; stopped with TERM, exits 0 on it.
//  - zombie: 101 posix_spawns 106 which exits at 2 ms; reaped late by the launcher.
//  - exec chain: 101 vforks 107: sh → env → sleep 1, exits 0 at 8 ms.
//  - bpf-only static: 107 forks 108 only the tracker sees (busybox), exits 3 at 7 ms.
//  - a truncated line and a garbage line in the middle.
inline LogWriter fixture_log() {
  LogWriter w;
  w.start(100, {"progeny", "run", "--log", "x.log", "--", "sh", "-c", "./fixture"});
  w.fork("launcher", 101, 100, 0.1, "fork", 101, 1);
  w.exec("shim", 101, 0.2, "/bin/sh", {"sh", "-c", "./fixture"}, 100);
  w.fork("shim", 102, 101, 1, "fork", 101, 1);
  w.fork("shim", 103, 102, 1.5, "fork", 101, 1);
  w.exit_code("launcher", 102, 2.5, 0);
  w.add("setsid", "shim", 103, 3)["sid"] = 103;
  w.exec("shim", 103, 3.5, "/usr/bin/sleep", {"sleep", "100"}, 100);
  w.fork("shim", 104, 101, 1.2, "fork", 101, 1);
  w.add("setsid", "shim", 104, 1.3)["sid"] = 104;
  w.fork("shim", 105, 101, 1.4, "fork", 101, 1);
  w.add("setpgid", "shim", 105, 1.45)["pgid"] = 105;
  w.fork("shim", 106, 101, 1.6, "posix_spawn", 101, 1);
  w.raw(R"({"v":1,"event":"exec","source":"shim","pid":106,"time_ns":50)");  // truncated
  w.exit_code("launcher", 106, 10.5, 0);  // a zombie: reaped only after its parent died
  w.fork("shim", 107, 101, 4, "vfork", 101, 1);
  w.exec("shim", 107, 4.1, "/bin/sh", {"sh", "-c", "env sleep 1"}, 101);
  w.raw("garbage \x01\xff not json");
  w.exec("shim", 107, 4.2, "/usr/bin/env", {"env", "sleep", "1"}, 101);
  w.exec("shim", 107, 4.3, "/usr/bin/sleep", {"sleep", "1"}, 101);
  w.fork("bpf", 108, 107, 4.25, "bpf");
  w.exec("bpf", 108, 4.26, "/bin/busybox", {"busybox"});
  w.exit_code("bpf", 108, 7, 3);
  w.exit_code("launcher", 107, 8, 0);
  w.exit_code("launcher", 101, 10, 0);
  w.signal(100, 103, 11, "TERM", "stop");
  w.signal(100, 104, 11, "TERM", "stop");
  w.signal(100, 105, 11, "TERM", "stop");
  w.exit_signal("launcher", 103, 12, 15);
  w.exit_code("launcher", 105, 12.5, 0);
  w.signal(100, 104, 2011, "KILL", "kill");
  w.exit_signal("launcher", 104, 2012, 9);
  return w;
}

// Every format's output of the folded tree, one after the other (text and svg/dot with whole
// argv): what must hold in all of them, e.g. that a redacted secret is nowhere.
inline std::string every_view(const Lineage& lin) {
  FoldedTree tree = fold_lineage(lin, {}, {});
  std::ostringstream all;
  render_text(lin, tree, all, {false, true});
  render_svg(lin, tree, all, {true, true});
  render_dot(lin, tree, all, {false, true});
  render_json(lin, all);
  render_perfetto(lin, all);
  render_html(lin, all);
  return all.str();
}

// The first line of a view's text that contains needle ("" when none does).
inline std::string line_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) return line;
  return "";
}

}  // namespace progeny::test
