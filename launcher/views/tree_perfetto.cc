// `progeny tree --format perfetto`: Chrome trace-event JSON that ui.perfetto.dev (and
// chrome://tracing) open. Each process is its own track: one slice for its lifetime, instant
// events for exec/setsid/setpgid/signals, and a flow arrow from creator to created.
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "launcher/views/tree_views.h"
#include "launcher/views/view_util.h"

namespace progeny {

namespace {

using ojson = nlohmann::ordered_json;

// Track ids must be unique while pids are reused: a reused pid gets a synthetic id above any
// possible pid (pid_max is at most 2^22).
constexpr int64_t kSyntheticTrackBase = 10'000'000;

}  // namespace

void render_perfetto(const Lineage& lin, std::ostream& out) {
  std::unordered_map<pid_t, int> uses;
  for (const auto& p : lin.procs) ++uses[p.pid];
  auto track = [&](size_t i) -> int64_t {
    return uses[lin.procs[i].pid] == 1 ? lin.procs[i].pid
                                       : kSyntheticTrackBase + static_cast<int64_t>(i);
  };
  auto us = [&](uint64_t t) { return static_cast<double>(t - std::min(t, lin.t0_ns)) / 1000.0; };

  // Streamed, one event a line: the document of a 1,000,000-event log never sits in memory.
  bool first = true;
  auto emit = [&](const ojson& event) {
    out << (first ? "\n" : ",\n") << event.dump(-1, ' ', false, ojson::error_handler_t::replace);
    first = false;
  };
  out << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[";
  auto instant = [&](size_t i, uint64_t t, const std::string& name) {
    emit({{"ph", "i"}, {"s", "t"}, {"name", printable(name)}, {"pid", track(i)},
          {"tid", track(i)}, {"ts", us(t)}});
  };
  auto order = lin.preorder();
  for (size_t k = 0; k < order.size(); ++k) {
    size_t i = order[k].first;
    const ProcessNode& p = lin.procs[i];
    int64_t tr = track(i);
    std::string title = exec_chain_text(lin, i, 60);
    emit({{"ph", "M"}, {"name", "process_name"}, {"pid", tr},
                      {"args", {{"name", std::to_string(p.pid) + " " + title}}}});
    emit({{"ph", "M"}, {"name", "process_sort_index"}, {"pid", tr},
                      {"args", {{"sort_index", k}}}});
    uint64_t from = p.born_ns.value_or(p.first_seen_ns);
    uint64_t to = std::max(from, p.ended_ns.value_or(p.last_seen_ns));
    ojson args = {{"pid", p.pid}, {"end", end_text(p)}, {"lifetime", lifetime_text(p)},
                  {"marks", marks_of(p)}};
    if (p.start_time) args["start_time"] = *p.start_time;
    if (p.parent) args["parent_pid"] = lin.procs[*p.parent].pid;
    if (!p.via.empty()) args["via"] = p.via;
    emit({{"ph", "X"}, {"name", title}, {"cat", "process"}, {"pid", tr},
                      {"tid", tr}, {"ts", us(from)}, {"dur", us(to) - us(from)},
                      {"args", std::move(args)}});
    for (const auto& e : p.execs) instant(i, e.time_ns, "exec " + e.path);
    if (p.setsid_ns) instant(i, *p.setsid_ns, "setsid");
    if (p.setpgid_ns) instant(i, *p.setpgid_ns, "setpgid");
    for (const auto& s : p.signals)
      instant(i, s.time_ns, "progeny sends " + s.signal + " (" + s.reason + ")");
    if (p.ended_ns) instant(i, *p.ended_ns, end_text(p));
    if (p.parent) {
      // The flow starts inside the creator's lifetime slice and ends at the child's birth.
      emit({{"ph", "s"}, {"name", "fork"}, {"cat", "lineage"}, {"id", i},
                        {"pid", track(*p.parent)}, {"tid", track(*p.parent)}, {"ts", us(from)}});
      emit({{"ph", "f"}, {"bp", "e"}, {"name", "fork"}, {"cat", "lineage"},
                        {"id", i}, {"pid", tr}, {"tid", tr}, {"ts", us(from)}});
    }
  }
  out << "\n]}\n";
}

}  // namespace progeny
