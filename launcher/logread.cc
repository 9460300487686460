#include "launcher/logread.h"

#include <signal.h>
#include <string.h>

#include <limits>

namespace progeny {

using nlohmann::json;

namespace {

// Records are at most 4 KiB by contract; anything far longer is not a record, and refusing it
// keeps a corrupt multi-gigabyte "line" from being handed to the parser.
constexpr size_t kMaxLine = 1 << 20;

}  // namespace

std::optional<int64_t> field_int(const json& rec, const char* key) {
  auto it = rec.find(key);
  if (it == rec.end()) return std::nullopt;
  if (it->is_number_unsigned()) {
    auto v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  if (it->is_number_integer()) return it->get<int64_t>();
  return std::nullopt;
}

std::optional<std::string> field_str(const json& rec, const char* key) {
  auto it = rec.find(key);
  if (it == rec.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

bool field_bool(const json& rec, const char* key) {
  auto it = rec.find(key);
  return it != rec.end() && it->is_boolean() && it->get<bool>();
}

std::vector<std::string> field_strings(const json& rec, const char* key) {
  std::vector<std::string> out;
  auto it = rec.find(key);
  if (it == rec.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::optional<std::string> field_signal(const json& rec, const char* key) {
  if (auto name = field_str(rec, key)) {
    std::string s = *name;
    if (s.rfind("SIG", 0) == 0) s.erase(0, 3);
    return s;
  }
  auto num = field_int(rec, key);
  if (!num || *num <= 0 || *num > 64) return std::nullopt;
  if (const char* abbrev = sigabbrev_np(static_cast<int>(*num))) return std::string(abbrev);
  return "SIG" + std::to_string(*num);
}

std::optional<LogEvent> parse_log_line(const std::string& line, std::string* why) {
  if (line.size() > kMaxLine) {
    *why = "line too long (" + std::to_string(line.size()) + " bytes)";
    return std::nullopt;
  }
  json rec = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (rec.is_discarded()) {
    *why = "not valid JSON (truncated or garbled)";
    return std::nullopt;
  }
  if (!rec.is_object()) {
    *why = "not a JSON object";
    return std::nullopt;
  }
  if (auto v = rec.find("v"); v != rec.end() && !(v->is_number_integer() && *v == 1)) {
    *why = "unsupported schema version " + v->dump();
    return std::nullopt;
  }
  LogEvent ev;
  auto event = field_str(rec, "event");
  auto pid = field_int(rec, "pid");
  auto time = field_int(rec, "time_ns");
  if (!event || !pid || !time) {
    *why = "record lacks event, pid or time_ns";
    return std::nullopt;
  }
  if (*pid <= 0 || *pid > std::numeric_limits<pid_t>::max() || *time < 0) {
    *why = "pid or time_ns out of range";
    return std::nullopt;
  }
  ev.event = *event;
  ev.source = field_str(rec, "source").value_or("?");
  ev.pid = static_cast<pid_t>(*pid);
  ev.time_ns = static_cast<uint64_t>(*time);
  if (auto st = field_int(rec, "start_time"); st && *st >= 0)
    ev.start_time = static_cast<uint64_t>(*st);
  ev.rec = std::move(rec);
  return ev;
}

LogContents read_log(std::istream& in) {
  LogContents out;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::string why;
    if (auto ev = parse_log_line(line, &why)) {
      ev->line = n;
      out.events.push_back(std::move(*ev));
    } else {
      out.problems.push_back({n, why});
    }
  }
  return out;
}

void report_problems(const std::vector<LogProblem>& problems, const std::string& name,
                     std::FILE* err, size_t limit) {
  for (size_t i = 0; i < problems.size() && i < limit; ++i)
    std::fprintf(err, "progeny: %s:%zu: %s, skipped\n", name.c_str(), problems[i].line,
                 problems[i].what.c_str());
  if (problems.size() > limit)
    std::fprintf(err, "progeny: %s: %zu more unreadable lines skipped\n", name.c_str(),
                 problems.size() - limit);
}

size_t IdentityResolver::create(pid_t pid, std::optional<uint64_t> start_time, uint64_t t) {
  ids_.push_back({pid, start_time, t, std::nullopt, false, 0});
  by_pid_[pid].push_back(ids_.size() - 1);
  return ids_.size() - 1;
}

size_t IdentityResolver::resolve(pid_t pid, std::optional<uint64_t> start_time, uint64_t t,
                                 bool birth, pid_t creator) {
  auto& list = by_pid_[pid];
  size_t id = SIZE_MAX;
  if (start_time) {
    for (size_t i : list)
      if (ids_[i].start_time == start_time) id = i;
    // A process first seen through a record without start_time (or only as someone's
    // parent) learns its start time here, unless it is known to have ended before.
    if (id == SIZE_MAX && !list.empty()) {
      Identity& last = ids_[list.back()];
      bool ended_before = last.exited_ns && *last.exited_ns < t;
      if (!last.start_time && !ended_before) {
        last.start_time = start_time;
        id = list.back();
      }
    }
  } else if (!list.empty()) {
    const Identity& last = ids_[list.back()];
    // A second birth of a pid is the same process only when another source reports the same
    // birth (same creator, not yet exited); otherwise the pid was reused.
    bool reused = birth && (last.exited_ns || (last.born && last.creator != creator));
    if (!reused) id = list.back();
  }
  if (id == SIZE_MAX) id = create(pid, start_time, t);
  if (birth && !ids_[id].born) {
    ids_[id].born = true;
    ids_[id].creator = creator;
  }
  return id;
}

size_t IdentityResolver::by_pid(pid_t pid, uint64_t t) {
  auto it = by_pid_.find(pid);
  if (it != by_pid_.end() && !it->second.empty()) return it->second.back();
  return create(pid, std::nullopt, t);
}

}  // namespace progeny
