#include "launcher/views/logread.h"

#include <signal.h>
#include <string.h>

#include <limits>
#include <nlohmann/json.hpp>

namespace progeny {

using nlohmann::json;

namespace {

// Records are at most 4 KiB by contract; anything far longer is not a record, and refusing it
// keeps a corrupt multi-gigabyte "line" from being handed to the parser.
constexpr size_t kMaxLine = 1 << 20;

// Fills a FlatRecord from SAX events: top-level scalars, and the string elements of
// top-level arrays; anything nested deeper only marks its field as kOther.
class FlatSax : public json::json_sax_t {
 public:
  FlatSax(FlatRecord* rec, std::string* why) : rec_(rec), why_(why) {}
  bool null() override { return scalar({}); }
  bool boolean(bool v) override {
    FlatRecord::Value x;
    x.kind = FlatRecord::Value::kBool;
    x.b = v;
    return scalar(std::move(x));
  }
  bool number_integer(number_integer_t v) override {
    FlatRecord::Value x;
    x.kind = FlatRecord::Value::kInt;
    x.i = v;
    return scalar(std::move(x));
  }
  bool number_unsigned(number_unsigned_t v) override {
    FlatRecord::Value x;
    x.kind = FlatRecord::Value::kUint;
    x.u = v;
    return scalar(std::move(x));
  }
  bool number_float(number_float_t, const string_t&) override { return scalar({}); }
  bool string(string_t& v) override {
    if (depth_ == 2 && in_array_) {
      current().list.push_back(std::move(v));
      return true;
    }
    FlatRecord::Value x;
    x.kind = FlatRecord::Value::kString;
    x.s = std::move(v);
    return scalar(std::move(x));
  }
  bool binary(binary_t&) override { return scalar({}); }
  bool start_object(std::size_t) override {
    if (depth_ == 0) object_ = true;
    else if (in_record()) current() = {};
    ++depth_;
    return true;
  }
  bool key(string_t& k) override {
    if (!object_ || depth_ != 1) return true;
    for (size_t i = 0; i < rec_->fields.size(); ++i)
      if (rec_->fields[i].first == k) {
        at_ = i;
        return true;
      }
    rec_->fields.emplace_back(std::move(k), FlatRecord::Value{});
    at_ = rec_->fields.size() - 1;
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (in_record()) {
      current() = {};
      current().kind = FlatRecord::Value::kStrings;
      in_array_ = true;
    }
    ++depth_;
    return true;
  }
  bool end_array() override {
    if (--depth_ == 1) in_array_ = false;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    *why_ = "not valid JSON (truncated or garbled)";
    return false;
  }
  bool object() const { return object_; }

 private:
  // At the top level of the record object, where values belong to the last key. (A value
  // before any key only happens at depth 1 of a top-level array, which is not a record.)
  bool in_record() const { return object_ && depth_ == 1 && !rec_->fields.empty(); }
  FlatRecord::Value& current() { return rec_->fields[at_].second; }
  bool scalar(FlatRecord::Value v) {
    if (in_record()) current() = std::move(v);
    return true;
  }
  FlatRecord* rec_;
  std::string* why_;
  size_t at_ = 0;
  int depth_ = 0;
  bool in_array_ = false;
  bool object_ = false;
};

}  // namespace

bool FlatRecord::parse(std::string_view line, std::string* why) {
  fields.clear();
  FlatSax sax(this, why);
  if (!json::sax_parse(line, &sax)) return false;
  if (!sax.object()) {
    *why = "not a JSON object";
    return false;
  }
  return true;
}

const FlatRecord::Value* FlatRecord::find(std::string_view key) const {
  for (const auto& [k, v] : fields)
    if (k == key) return &v;
  return nullptr;
}

std::optional<int64_t> FlatRecord::integer(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->kind == Value::kInt) return v->i;
  if (v->kind == Value::kUint && v->u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return static_cast<int64_t>(v->u);
  return std::nullopt;
}

std::optional<std::string> FlatRecord::str(std::string_view key) const {
  const Value* v = find(key);
  if (!v || v->kind != Value::kString) return std::nullopt;
  return v->s;
}

bool FlatRecord::flag(std::string_view key) const {
  const Value* v = find(key);
  return v && v->kind == Value::kBool && v->b;
}

std::vector<std::string> FlatRecord::strings(std::string_view key) const {
  const Value* v = find(key);
  if (!v || v->kind != Value::kStrings) return {};
  return v->list;
}

std::optional<std::string> FlatRecord::signal(std::string_view key) const {
  if (auto name = str(key)) {
    std::string s = *name;
    if (s.rfind("SIG", 0) == 0) s.erase(0, 3);
    return s;
  }
  auto num = integer(key);
  if (!num || *num <= 0 || *num > 64) return std::nullopt;
  if (const char* abbrev = sigabbrev_np(static_cast<int>(*num))) return std::string(abbrev);
  return "SIG" + std::to_string(*num);
}

std::optional<LogEvent> parse_log_line(std::string_view line, std::string* why) {
  if (line.size() > kMaxLine) {
    *why = "line too long (" + std::to_string(line.size()) + " bytes)";
    return std::nullopt;
  }
  FlatRecord rec;
  if (!rec.parse(line, why)) return std::nullopt;
  return event_from_record(rec, why);
}

std::optional<LogEvent> event_from_record(const FlatRecord& rec, std::string* why) {
  if (rec.has("v") && rec.integer("v") != 1) {
    *why = "unsupported schema version";
    return std::nullopt;
  }
  LogEvent ev;
  auto event = rec.str("event");
  auto pid = rec.integer("pid");
  auto time = rec.integer("time_ns");
  if (!event || !pid || !time) {
    *why = "record lacks event, pid or time_ns";
    return std::nullopt;
  }
  if (*pid <= 0 || *pid > std::numeric_limits<pid_t>::max() || *time < 0) {
    *why = "pid or time_ns out of range";
    return std::nullopt;
  }
  ev.event = *event;
  ev.source = rec.str("source").value_or("?");
  ev.pid = static_cast<pid_t>(*pid);
  ev.time_ns = static_cast<uint64_t>(*time);
  if (auto st = rec.integer("start_time"); st && *st >= 0)
    ev.start_time = static_cast<uint64_t>(*st);
  ev.ppid = rec.integer("ppid");
  ev.tid = rec.integer("tid");
  ev.pgid = rec.integer("pgid");
  ev.sid = rec.integer("sid");
  ev.target_pid = rec.integer("target_pid");
  ev.target_start_time = rec.integer("target_start_time");
  ev.code = rec.integer("code");
  ev.count = rec.integer("count");
  ev.wall_ns = rec.integer("wall_ns");
  ev.via = rec.str("via");
  ev.path = rec.str("path");
  ev.signal = rec.signal("signal");
  ev.reason = rec.str("reason");
  ev.what = rec.str("what");
  ev.argv = rec.strings("argv");
  ev.argv_truncated = rec.flag("argv_truncated");
  ev.core = rec.flag("core");
  ev.unknown = rec.flag("unknown");
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
