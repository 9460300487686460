// `progeny tree --format json`: the reconstructed tree as one flat JSON document. Flat (nodes
// refer to each other by id) rather than nested, so that a 10,000-deep chain neither exhausts
// a recursive reader's stack nor needs one to find a process.
#include "launcher/views/json_writer.h"
#include "launcher/views/tree_views.h"
#include "launcher/views/view_util.h"

namespace progeny {

namespace {

// Self and inclusive apart (README "Lineage log"), null where no record had the figure.
void cost_json(JsonWriter& w, const Cost& c) {
  auto figures = [&](const CpuAndPeak& f) {
    w.field("cpu_user_ns", f.cpu_user_ns).field("cpu_system_ns", f.cpu_system_ns)
        .field("peak_rss_kb", f.peak_rss_kb);
  };
  w.begin_object().key("self").begin_object();
  figures(c.self);
  w.field("lifetime_ns", c.lifetime_ns).end_object().key("inclusive").begin_object();
  figures(c.inclusive);
  w.end_object().end_object();
}

void node_json(JsonWriter& w, const Lineage& lin, size_t i) {
  const ProcessNode& p = lin.procs[i];
  w.begin_object().field("id", i).field("pid", p.pid).field("start_time", p.start_time)
      .field("parent", p.parent);
  (p.ppid ? w.field("ppid", p.ppid) : w.field("ppid", nullptr)).field("children", p.children);
  (p.via.empty() ? w.field("via", nullptr) : w.field("via", p.via))
      .field("thread_fork", p.thread_fork).field("pgid", p.pgid).field("sid", p.sid)
      .field("born_ns", p.born_ns).field("first_seen_ns", p.first_seen_ns)
      .field("last_seen_ns", p.last_seen_ns).field("ended_ns", p.ended_ns);
  w.key("exec").begin_array();
  for (const auto& e : p.execs)
    w.begin_object().field("time_ns", e.time_ns).field("path", e.path).field("argv", e.argv)
        .field("argv_truncated", e.argv_truncated).end_object();
  w.end_array();
  (p.title.empty() ? w.field("title", nullptr) : w.field("title", p.title))
      .field("setsid", p.called_setsid).field("setpgid", p.called_setpgid);
  w.key("exit").begin_object().field("how", p.end == EndKind::kExited     ? "exited"
                                            : p.end == EndKind::kSignaled ? "signaled"
                                                                          : "unknown");
  if (p.end == EndKind::kExited) w.field("code", p.exit_code);
  if (p.end == EndKind::kSignaled) w.field("signal", p.exit_signal).field("core", p.core);
  w.end_object().key("cost");
  cost_json(w, p.cost);
  w.field("stopped_by_progeny", p.stopped_by_progeny()).key("progeny_signals").begin_array();
  for (const auto& s : p.signals)
    w.begin_object().field("time_ns", s.time_ns).field("signal", s.signal)
        .field("reason", s.reason).end_object();
  w.end_array().field("adopted_by", p.adopted_by).field("marks", marks_of(p));
  w.key("sources").begin_array();
  for (auto [bit, name] : {std::pair{kSourceLauncher, "launcher"}, {kSourceShim, "shim"},
                           {kSourceBpf, "bpf"}, {kSourceOther, "other"}})
    if (p.sources & bit) w.value(name);
  w.end_array().field("is_launcher", p.is_launcher).field("is_command", p.is_command)
      .end_object();
}

}  // namespace

// Streamed: one process a line, so the whole document never sits in memory (a
// 1,000,000-event log's is gigabytes as a JSON tree).
void render_json(const Lineage& lin, std::ostream& out) {
  JsonWriter w(out);
  w.begin_object().field("schema", "progeny-tree/1").field("time0_ns", lin.t0_ns)
      .field("wall0_ns", lin.wall_at_t0_ns).field("duration_ns", lin.t1_ns - lin.t0_ns)
      .field("events", lin.events).field("unreadable_lines", lin.unreadable_lines);
  w.key("lost").begin_object().field("shim", lin.lost_shim).field("bpf", lin.lost_bpf)
      .end_object();
  w.field("launcher", lin.launcher).field("command", lin.command)
      .field("command_exit_ns", lin.command_exit_ns).field("roots", lin.roots);
  w.key("processes").begin_array();
  for (size_t i = 0; i < lin.procs.size(); ++i) node_json(w.newline(), lin, i);
  w.newline().end_array().end_object().newline();
}

}  // namespace progeny
