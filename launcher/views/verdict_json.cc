// `progeny run --report FILE`: the verdict as JSON (docs/report.schema.json). Strings a
// process chose (argv, names) are hostile: the dump escapes every control character and
// replaces invalid UTF-8, as `progeny tree --format json` does.
#include <nlohmann/json.hpp>

#include "launcher/os/parse.h"
#include "launcher/views/verdict.h"

namespace progeny {

namespace {

using ojson = nlohmann::ordered_json;

ojson id_or_null(uint64_t v) { return v ? ojson(v) : ojson(nullptr); }

const char* why_name(RunawayContext::Why why) {
  switch (why) {
    case RunawayContext::Why::kOutlived: return "outlived";
    case RunawayContext::Why::kTimeout: return "timeout";
    case RunawayContext::Why::kRequested: return "requested";
  }
  return "outlived";
}

ojson leftover_json(const RunawayProcess& p, const RunawayContext& ctx) {
  ojson l;
  l["pid"] = p.pid;
  l["ino"] = id_or_null(p.ino);
  l["start_time"] = id_or_null(p.start_time);
  l["described"] = p.described;
  l["argv"] = p.described ? ojson(p.argv) : ojson(nullptr);
  l["ppid"] = p.described ? ojson(p.ppid) : ojson(nullptr);
  l["pgid"] = p.described ? ojson(p.pgid) : ojson(nullptr);
  l["sid"] = p.described ? ojson(p.sid) : ojson(nullptr);
  ojson creator = nullptr;
  if (p.creator) {
    creator = {{"pid", p.creator},
               {"name", p.creator_name.empty() ? ojson(nullptr) : ojson(p.creator_name)}};
  }
  l["creator"] = std::move(creator);
  Escape e = how_escaped(p, ctx);
  l["escape"] = {{"kind", e.kind}, {"text", e.text}};
  l["origin"] = p.described ? ojson(origin_kind(p, ctx)) : ojson(nullptr);
  l["holds_output"] = p.holds_output;
  return l;
}

}  // namespace

std::string verdict_json(const Verdict& v) {
  ojson doc;
  doc["schema"] = "progeny-report/1";
  doc["version"] = PROGENY_VERSION;
  doc["command"] = v.command;
  ojson exit;
  exit["status"] = v.exit_status;
  exit["outcome"] = outcome_name(v.outcome);
  exit["meaning"] = outcome_meaning(v);
  exit["command_code"] = v.command_code ? ojson(*v.command_code) : ojson(nullptr);
  exit["command_signal"] = v.command_signal ? ojson(signal_name(v.command_signal)) : ojson(nullptr);
  exit["error"] = v.outcome == Verdict::Outcome::kProgenyError ? ojson(v.error) : ojson(nullptr);
  doc["exit"] = std::move(exit);
  doc["duration_ns"] = v.duration_ns;
  doc["log"] = v.log_path.empty() ? ojson(nullptr) : ojson(v.log_path);
  ojson stop;
  stop["stopped"] = v.stopped;
  stop["why"] = v.stopped ? ojson(why_name(v.stop.why)) : ojson(nullptr);
  doc["stop"] = std::move(stop);
  ojson leftovers = ojson::array();
  for (const auto& p : v.leftovers) leftovers.push_back(leftover_json(p, v.stop));
  doc["leftovers"] = std::move(leftovers);
  doc["survivors"] = v.survivors;
  ojson limits = ojson::array();
  for (const auto& l : v.limits) {
    ojson counts = ojson::object();
    for (const auto& [k, n] : l.counts) counts[k] = n;
    ojson named = ojson::array();
    for (const auto& p : l.named)
      named.push_back({{"pid", p.pid}, {"ino", id_or_null(p.ino)},
                       {"name", p.name.empty() ? ojson(nullptr) : ojson(p.name)},
                       {"count", p.count}});
    bool unknown = l.hit && !l.role.empty() && l.named.empty();
    limits.push_back({{"name", l.name}, {"value", l.value}, {"backend", l.backend},
                      {"group", l.group}, {"hit", l.hit}, {"counts", std::move(counts)},
                      {"role", l.role.empty() ? ojson(nullptr) : ojson(l.role)},
                      {"named", std::move(named)}, {"unknown", unknown},
                      {"named_by", l.named_by.empty() ? ojson(nullptr) : ojson(l.named_by)}});
  }
  doc["limits"] = std::move(limits);
  doc["lost"] = {{"shim_records", v.lost.shim_records}, {"shim_refused", v.lost.shim_refused},
                 {"bpf_events", v.lost.bpf_events},     {"bpf_untracked", v.lost.bpf_untracked},
                 {"unknown_exits", v.lost.unknown_exits}, {"log_unwritten", v.lost.log_unwritten}};
  ojson top = ojson::array();
  for (const auto& c : v.top_creators)
    top.push_back({{"pid", c.pid}, {"ino", id_or_null(c.ino)},
                   {"name", c.name.empty() ? ojson(nullptr) : ojson(c.name)},
                   {"processes", c.processes}});
  doc["cost"] = {{"measure", "processes_created"}, {"top", std::move(top)}};
  return doc.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

}  // namespace progeny
