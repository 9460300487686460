// `progeny tree --format perfetto`: Chrome trace-event JSON that ui.perfetto.dev (and
// chrome://tracing) open. Each process is its own track: one slice for its lifetime, instant
// events for exec/setsid/setpgid/signals, and a flow arrow from creator to created.
#include <cinttypes>
#include <cstdio>
#include <unordered_map>

#include "launcher/views/json_writer.h"
#include "launcher/views/tree_views.h"
#include "launcher/views/view_util.h"

namespace progeny {

namespace {

// Track ids must be unique while pids are reused: a reused pid gets a synthetic id above any
// possible pid (pid_max is at most 2^22).
constexpr int64_t kSyntheticTrackBase = 10'000'000;

// A microsecond figure as the trace format takes it: a number with three decimals.
std::string us_json(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", v);
  return b;
}

}  // namespace

void render_perfetto(const Lineage& lin, std::ostream& out) {
  std::unordered_map<pid_t, int> uses;
  for (const auto& p : lin.procs) ++uses[p.pid];
  auto track = [&](size_t i) -> int64_t {
    return uses[lin.procs[i].pid] == 1 ? lin.procs[i].pid
                                       : kSyntheticTrackBase + static_cast<int64_t>(i);
  };
  auto us = [&](uint64_t t) { return static_cast<double>(t - std::min(t, lin.t0_ns)) / 1000.0; };

  // Written straight to the stream, one event a line: a 1,000,000-event log makes about
  // 2,300,000 of them, and a JSON document per event was most of the view's time.
  JsonWriter w(out);
  w.begin_object().field("displayTimeUnit", "ms").key("traceEvents").begin_array();
  auto event = [&](const char* ph) -> JsonWriter& {
    return w.newline().begin_object().field("ph", ph);
  };
  auto at = [&](const char* key, double v) -> JsonWriter& { return w.key(key).raw(us_json(v)); };
  auto instant = [&](size_t i, uint64_t t, const std::string& name) {
    event("i").field("s", "t").field("name", printable(name)).field("pid", track(i))
        .field("tid", track(i));
    at("ts", us(t)).end_object();
  };
  auto order = lin.preorder();
  for (size_t k = 0; k < order.size(); ++k) {
    size_t i = order[k].first;
    const ProcessNode& p = lin.procs[i];
    int64_t tr = track(i);
    std::string title = exec_chain_text(lin, i, 60);
    event("M").field("name", "process_name").field("pid", tr).key("args").begin_object()
        .field("name", std::to_string(p.pid) + " " + title).end_object().end_object();
    event("M").field("name", "process_sort_index").field("pid", tr).key("args").begin_object()
        .field("sort_index", static_cast<int64_t>(k)).end_object().end_object();
    uint64_t from = p.born_ns.value_or(p.first_seen_ns);
    uint64_t to = std::max(from, p.ended_ns.value_or(p.last_seen_ns));
    event("X").field("name", title).field("cat", "process").field("pid", tr).field("tid", tr);
    at("ts", us(from));
    at("dur", us(to) - us(from)).key("args").begin_object().field("pid", p.pid)
        .field("end", end_text(p)).field("lifetime", lifetime_text(p)).field("marks", marks_of(p));
    if (p.start_time) w.field("start_time", static_cast<int64_t>(*p.start_time));
    if (p.parent) w.field("parent_pid", lin.procs[*p.parent].pid);
    if (!p.via.empty()) w.field("via", p.via);
    w.end_object().end_object();
    for (const auto& e : p.execs) instant(i, e.time_ns, "exec " + e.path);
    if (p.setsid_ns) instant(i, *p.setsid_ns, "setsid");
    if (p.setpgid_ns) instant(i, *p.setpgid_ns, "setpgid");
    for (const auto& s : p.signals)
      instant(i, s.time_ns, "progeny sends " + s.signal + " (" + s.reason + ")");
    if (p.ended_ns) instant(i, *p.ended_ns, end_text(p));
    if (p.parent) {
      // The flow starts inside the creator's lifetime slice and ends at the child's birth.
      auto id = static_cast<int64_t>(i);
      event("s").field("name", "fork").field("cat", "lineage").field("id", id)
          .field("pid", track(*p.parent)).field("tid", track(*p.parent));
      at("ts", us(from)).end_object();
      event("f").field("bp", "e").field("name", "fork").field("cat", "lineage").field("id", id)
          .field("pid", tr).field("tid", tr);
      at("ts", us(from)).end_object();
    }
  }
  w.newline().end_array().end_object().newline();
}

}  // namespace progeny
