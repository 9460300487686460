// `progeny tree --format json`: the reconstructed tree as one flat JSON document. Flat (nodes
// refer to each other by id) rather than nested, so that a 10,000-deep chain neither exhausts
// a recursive reader's stack nor needs one to find a process.
#include <nlohmann/json.hpp>

#include "launcher/views/tree_views.h"
#include "launcher/views/view_util.h"

namespace progeny {

namespace {

using ojson = nlohmann::ordered_json;

template <typename T>
ojson opt(const std::optional<T>& v) {
  return v ? ojson(*v) : ojson(nullptr);
}

// Self and inclusive apart (README "Lineage log"), null where no record had the figure.
ojson cost_json(const Cost& c) {
  auto figures = [](const CpuAndPeak& f) {
    return ojson{{"cpu_user_ns", opt(f.cpu_user_ns)}, {"cpu_system_ns", opt(f.cpu_system_ns)},
                 {"peak_rss_kb", opt(f.peak_rss_kb)}};
  };
  ojson self = figures(c.self);
  self["lifetime_ns"] = opt(c.lifetime_ns);
  return {{"self", std::move(self)}, {"inclusive", figures(c.inclusive)}};
}

ojson node_json(const Lineage& lin, size_t i) {
  const ProcessNode& p = lin.procs[i];
  ojson n;
  n["id"] = i;
  n["pid"] = p.pid;
  n["start_time"] = opt(p.start_time);
  n["parent"] = opt(p.parent);
  n["ppid"] = p.ppid ? ojson(p.ppid) : ojson(nullptr);
  n["children"] = p.children;
  n["via"] = p.via.empty() ? ojson(nullptr) : ojson(p.via);
  n["thread_fork"] = p.thread_fork;
  n["pgid"] = opt(p.pgid);
  n["sid"] = opt(p.sid);
  n["born_ns"] = opt(p.born_ns);
  n["first_seen_ns"] = p.first_seen_ns;
  n["last_seen_ns"] = p.last_seen_ns;
  n["ended_ns"] = opt(p.ended_ns);
  ojson execs = ojson::array();
  for (const auto& e : p.execs)
    execs.push_back({{"time_ns", e.time_ns}, {"path", e.path}, {"argv", e.argv},
                     {"argv_truncated", e.argv_truncated}});
  n["exec"] = std::move(execs);
  n["title"] = p.title.empty() ? ojson(nullptr) : ojson(p.title);
  n["setsid"] = p.called_setsid;
  n["setpgid"] = p.called_setpgid;
  ojson exit;
  exit["how"] = p.end == EndKind::kExited ? "exited" : p.end == EndKind::kSignaled ? "signaled"
                                                                                  : "unknown";
  if (p.end == EndKind::kExited) exit["code"] = p.exit_code;
  if (p.end == EndKind::kSignaled) {
    exit["signal"] = p.exit_signal;
    exit["core"] = p.core;
  }
  n["exit"] = std::move(exit);
  n["cost"] = cost_json(p.cost);
  n["stopped_by_progeny"] = opt(p.stopped_by_progeny());
  ojson sigs = ojson::array();
  for (const auto& s : p.signals)
    sigs.push_back({{"time_ns", s.time_ns}, {"signal", s.signal}, {"reason", s.reason}});
  n["progeny_signals"] = std::move(sigs);
  n["adopted_by"] = opt(p.adopted_by);
  n["marks"] = marks_of(p);
  ojson sources = ojson::array();
  for (auto [bit, name] : {std::pair{kSourceLauncher, "launcher"}, {kSourceShim, "shim"},
                           {kSourceBpf, "bpf"}, {kSourceOther, "other"}})
    if (p.sources & bit) sources.push_back(name);
  n["sources"] = std::move(sources);
  n["is_launcher"] = p.is_launcher;
  n["is_command"] = p.is_command;
  return n;
}

}  // namespace

void render_json(const Lineage& lin, std::ostream& out) {
  ojson doc;
  doc["schema"] = "progeny-tree/1";
  doc["time0_ns"] = lin.t0_ns;
  doc["wall0_ns"] = opt(lin.wall_at_t0_ns);
  doc["duration_ns"] = lin.t1_ns - lin.t0_ns;
  doc["events"] = lin.events;
  doc["unreadable_lines"] = lin.unreadable_lines;
  doc["lost"] = {{"shim", lin.lost_shim}, {"bpf", lin.lost_bpf}};
  doc["launcher"] = opt(lin.launcher);
  doc["command"] = opt(lin.command);
  doc["command_exit_ns"] = opt(lin.command_exit_ns);
  doc["roots"] = lin.roots;
  // Streamed: the head, then one process a line, so the whole document never sits in memory
  // (a 1,000,000-event log's is gigabytes as a JSON tree).
  std::string head = doc.dump(-1, ' ', false, ojson::error_handler_t::replace);
  head.pop_back();  // the closing brace: "processes" comes last
  out << head << ",\"processes\":[";
  for (size_t i = 0; i < lin.procs.size(); ++i)
    out << (i ? ",\n" : "\n")
        << node_json(lin, i).dump(-1, ' ', false, ojson::error_handler_t::replace);
  out << "\n]}\n";
}

}  // namespace progeny
