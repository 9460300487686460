// `progeny tree --format perfetto`: Chrome trace-event JSON that ui.perfetto.dev (and
// chrome://tracing) open. Each process is its own track: one slice for its lifetime, instant
// events for exec/setsid/setpgid/signals, and a flow arrow from creator to created.
#include <cinttypes>
#include <cstdio>
#include <unordered_map>

#include "launcher/views/tree_views.h"
#include "launcher/views/view_util.h"
#include "schema/json_string.h"

namespace progeny {

namespace {

// Track ids must be unique while pids are reused: a reused pid gets a synthetic id above any
// possible pid (pid_max is at most 2^22).
constexpr int64_t kSyntheticTrackBase = 10'000'000;

// Trace events written straight to the stream, one a line: a 1,000,000-event log makes
// about 2,300,000 of them, and a JSON document per event was most of the view's time. Strings
// go through the log's own rule (schema/json_string.h): valid JSON whatever the bytes.
class EventWriter {
 public:
  explicit EventWriter(std::ostream& out) : out_(out) {}
  EventWriter& begin() {
    out_ << (first_ ? "\n{" : ",\n{");
    first_ = false;
    comma_ = false;
    return *this;
  }
  EventWriter& str(const char* k, std::string_view v) {
    key(k);
    buf_.resize(v.size() * 6 + 2);
    size_t used = 0;
    progeny_json_string(buf_.data(), &used, buf_.size(), v.data(), v.size());
    out_.write(buf_.data(), static_cast<std::streamsize>(used));
    return *this;
  }
  EventWriter& num(const char* k, int64_t v) {
    key(k);
    out_ << v;
    return *this;
  }
  EventWriter& us(const char* k, double v) {
    key(k);
    char b[32];
    std::snprintf(b, sizeof b, "%.3f", v);
    out_ << b;
    return *this;
  }
  EventWriter& strs(const char* k, const std::vector<std::string>& v) {
    key(k);
    out_ << '[';
    for (size_t i = 0; i < v.size(); ++i) {
      comma_ = i > 0;
      str(nullptr, v[i]);
    }
    out_ << ']';
    comma_ = true;
    return *this;
  }
  EventWriter& open(const char* k) {
    key(k);
    out_ << '{';
    comma_ = false;
    return *this;
  }
  EventWriter& close() {
    out_ << '}';
    comma_ = true;
    return *this;
  }

 private:
  void key(const char* k) {
    if (comma_) out_ << ',';
    comma_ = true;
    if (k) out_ << '"' << k << "\":";  // keys are this file's literals
  }
  std::ostream& out_;
  std::string buf_;
  bool first_ = true, comma_ = false;
};

}  // namespace

void render_perfetto(const Lineage& lin, std::ostream& out) {
  std::unordered_map<pid_t, int> uses;
  for (const auto& p : lin.procs) ++uses[p.pid];
  auto track = [&](size_t i) -> int64_t {
    return uses[lin.procs[i].pid] == 1 ? lin.procs[i].pid
                                       : kSyntheticTrackBase + static_cast<int64_t>(i);
  };
  auto us = [&](uint64_t t) { return static_cast<double>(t - std::min(t, lin.t0_ns)) / 1000.0; };

  EventWriter w(out);
  out << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[";
  auto instant = [&](size_t i, uint64_t t, const std::string& name) {
    w.begin().str("ph", "i").str("s", "t").str("name", printable(name)).num("pid", track(i))
        .num("tid", track(i)).us("ts", us(t)).close();
  };
  auto order = lin.preorder();
  for (size_t k = 0; k < order.size(); ++k) {
    size_t i = order[k].first;
    const ProcessNode& p = lin.procs[i];
    int64_t tr = track(i);
    std::string title = exec_chain_text(lin, i, 60);
    w.begin().str("ph", "M").str("name", "process_name").num("pid", tr).open("args")
        .str("name", std::to_string(p.pid) + " " + title).close().close();
    w.begin().str("ph", "M").str("name", "process_sort_index").num("pid", tr).open("args")
        .num("sort_index", static_cast<int64_t>(k)).close().close();
    uint64_t from = p.born_ns.value_or(p.first_seen_ns);
    uint64_t to = std::max(from, p.ended_ns.value_or(p.last_seen_ns));
    w.begin().str("ph", "X").str("name", title).str("cat", "process").num("pid", tr)
        .num("tid", tr).us("ts", us(from)).us("dur", us(to) - us(from)).open("args")
        .num("pid", p.pid).str("end", end_text(p)).str("lifetime", lifetime_text(p))
        .strs("marks", marks_of(p));
    if (p.start_time) w.num("start_time", static_cast<int64_t>(*p.start_time));
    if (p.parent) w.num("parent_pid", lin.procs[*p.parent].pid);
    if (!p.via.empty()) w.str("via", p.via);
    w.close().close();
    for (const auto& e : p.execs) instant(i, e.time_ns, "exec " + e.path);
    if (p.setsid_ns) instant(i, *p.setsid_ns, "setsid");
    if (p.setpgid_ns) instant(i, *p.setpgid_ns, "setpgid");
    for (const auto& s : p.signals)
      instant(i, s.time_ns, "progeny sends " + s.signal + " (" + s.reason + ")");
    if (p.ended_ns) instant(i, *p.ended_ns, end_text(p));
    if (p.parent) {
      // The flow starts inside the creator's lifetime slice and ends at the child's birth.
      auto id = static_cast<int64_t>(i);
      w.begin().str("ph", "s").str("name", "fork").str("cat", "lineage").num("id", id)
          .num("pid", track(*p.parent)).num("tid", track(*p.parent)).us("ts", us(from)).close();
      w.begin().str("ph", "f").str("bp", "e").str("name", "fork").str("cat", "lineage")
          .num("id", id).num("pid", tr).num("tid", tr).us("ts", us(from)).close();
    }
  }
  out << "\n]}\n";
}

}  // namespace progeny
