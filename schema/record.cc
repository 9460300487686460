#include "schema/record.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <limits>
#include <unordered_map>
#include <variant>

#include "launcher/os/parse.h"
#include "schema/json_cursor.h"
#include "schema/json_string.h"
#include "schema/protocol.h"

namespace progeny {

static uint64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}
uint64_t monotonic_ns() { return clock_ns(CLOCK_MONOTONIC); }
uint64_t realtime_ns() { return clock_ns(CLOCK_REALTIME); }

namespace {

using I64 = std::optional<int64_t> Record::*;
using U64 = std::optional<uint64_t> Record::*;
using Str = std::optional<std::string> Record::*;
using Strs = std::vector<std::string> Record::*;
using Flag = bool Record::*;  // written only when true
struct Field {
  const char* name;
  std::variant<I64, U64, Str, Strs, Flag> member;
};

// Every optional field, in the order the writer puts them (after v, event, source, pid,
// time_ns). The reader takes them in any order.
const Field kFields[] = {
    {PROGENY_F_INO, &Record::ino},
    {PROGENY_F_START_TIME, &Record::start_time},
    {PROGENY_F_NS_PID, &Record::ns_pid},
    {PROGENY_F_PPID, &Record::ppid},
    {PROGENY_F_PARENT_INO, &Record::parent_ino},
    {PROGENY_F_PARENT_START_TIME, &Record::parent_start_time},
    {PROGENY_F_TID, &Record::tid},
    {PROGENY_F_VIA, &Record::via},
    {PROGENY_F_ROLE, &Record::role},
    {PROGENY_F_PGID, &Record::pgid},
    {PROGENY_F_SID, &Record::sid},
    {PROGENY_F_PATH, &Record::path},
    {PROGENY_F_COMM, &Record::comm},
    {PROGENY_F_ARGV, &Record::argv},
    {PROGENY_F_ARGV_TRUNCATED, &Record::argv_truncated},
    {PROGENY_F_ARGV_BYTES, &Record::argv_bytes},
    {PROGENY_F_ERRNO, &Record::error},
    {"code", &Record::code},
    {"signal", &Record::signal},
    {"core", &Record::core},
    {"unknown", &Record::unknown},
    {PROGENY_F_TITLE, &Record::title},
    {PROGENY_F_CPU_USER_NS, &Record::cpu_user_ns},
    {PROGENY_F_CPU_SYSTEM_NS, &Record::cpu_system_ns},
    {PROGENY_F_PEAK_RSS_KB, &Record::peak_rss_kb},
    {PROGENY_F_LIFETIME_NS, &Record::lifetime_ns},
    {PROGENY_F_INCLUSIVE_CPU_USER_NS, &Record::inclusive_cpu_user_ns},
    {PROGENY_F_INCLUSIVE_CPU_SYSTEM_NS, &Record::inclusive_cpu_system_ns},
    {PROGENY_F_INCLUSIVE_PEAK_RSS_KB, &Record::inclusive_peak_rss_kb},
    {"target_pid", &Record::target_pid},
    {"target_ino", &Record::target_ino},
    {"target_start_time", &Record::target_start_time},
    {"reason", &Record::reason},
    {"cause", &Record::cause},
    {"parent", &Record::parent},
    {"wall_ns", &Record::wall_ns},
    {"version", &Record::version},
    {"mechanisms", &Record::mechanisms},
    {"after_ms", &Record::after_ms},
    {"phase", &Record::phase},
    {"members", &Record::members},
    {"survivors", &Record::survivors},
    {"count", &Record::count},
    {"what", &Record::what},
    {"refused", &Record::refused},
    {"untracked", &Record::untracked},
    {PROGENY_F_LOST, &Record::lost},
    {"limit", &Record::limit},
    {"backend", &Record::backend},
    {"hit", &Record::hit},
};

// --- writer ---

void put_string(std::string* out, std::string_view s) {
  size_t used = out->size();
  out->resize(used + 6 * s.size() + 2);  // the longest escape of a byte is \u00XX
  progeny_json_string(out->data(), &used, out->size(), s.data(), s.size());
  out->resize(used);
}

void put_key(std::string* out, const char* key) {
  out->push_back(',');
  put_string(out, key);
  out->push_back(':');
}

struct FieldWriter {
  const Record& r;
  const char* name;
  std::string* out;
  void operator()(I64 m) const {
    if (!(r.*m)) return;
    put_key(out, name);
    *out += std::to_string(*(r.*m));
  }
  void operator()(U64 m) const {
    if (!(r.*m)) return;
    put_key(out, name);
    *out += std::to_string(*(r.*m));
  }
  void operator()(Str m) const {
    if (!(r.*m)) return;
    put_key(out, name);
    put_string(out, *(r.*m));
  }
  void operator()(Strs m) const {
    const auto& v = r.*m;
    if (v.empty()) return;
    put_key(out, name);
    out->push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out->push_back(',');
      put_string(out, v[i]);
    }
    out->push_back(']');
  }
  void operator()(Flag m) const {
    if (!(r.*m)) return;
    put_key(out, name);
    *out += "true";
  }
};

std::string serialize(const Record& r) {
  std::string out = "{\"v\":" + std::to_string(PROGENY_SCHEMA_VERSION);
  put_key(&out, PROGENY_F_EVENT);
  put_string(&out, r.event);
  put_key(&out, PROGENY_F_SOURCE);
  put_string(&out, r.source);
  put_key(&out, PROGENY_F_PID);
  out += std::to_string(r.pid);
  put_key(&out, PROGENY_F_TIME_NS);
  out += std::to_string(r.time_ns);
  for (const Field& f : kFields) std::visit(FieldWriter{r, f.name, &out}, f.member);
  out.push_back('}');
  return out;
}

constexpr size_t kMax = PROGENY_MAX_RECORD - 1;  // the newline is the last byte
constexpr size_t kLongString = PROGENY_MAX_RECORD / 4;

// s cut to at most max bytes, at a UTF-8 character boundary.
void cut_string(std::string* s, size_t max) {
  if (s->size() <= max) return;
  size_t at = max;
  while (at > 0 && (static_cast<unsigned char>((*s)[at]) & 0xC0) == 0x80) --at;
  s->resize(at);
}

}  // namespace

Record make_record(std::string_view event, std::string_view source, pid_t pid, uint64_t time_ns) {
  Record r;
  r.event = event;
  r.source = source;
  r.pid = pid;
  r.time_ns = time_ns ? time_ns : monotonic_ns();
  return r;
}

Record exit_record(std::string_view source, pid_t pid, uint64_t ino, uint64_t start_time,
                   const int* status, uint64_t time_ns) {
  Record r = make_record("exit", source, pid, time_ns);
  if (ino) r.ino = ino;
  if (start_time) r.start_time = start_time;
  if (!status) {
    r.unknown = true;
  } else if (WIFSIGNALED(*status)) {
    r.signal = signal_name(WTERMSIG(*status));
    r.core = WCOREDUMP(*status);
  } else {
    r.code = WEXITSTATUS(*status);
  }
  return r;
}

static uint64_t timeval_ns(const timeval& tv) {
  return static_cast<uint64_t>(tv.tv_sec) * 1000000000ULL + static_cast<uint64_t>(tv.tv_usec) * 1000ULL;
}

void set_inclusive_cost(Record* r, const struct rusage& ru) {
  r->inclusive_cpu_user_ns = timeval_ns(ru.ru_utime);
  r->inclusive_cpu_system_ns = timeval_ns(ru.ru_stime);
  r->inclusive_peak_rss_kb = static_cast<uint64_t>(ru.ru_maxrss);  // KiB on Linux
}

std::string to_line(const Record& r) {
  std::string line = serialize(r);
  if (line.size() <= kMax) return line + "\n";
  Record cut = r;
  uint64_t argv_bytes = 0;
  for (const auto& a : r.argv) argv_bytes += a.size() + 1;
  // Long strings first (a 3000-byte path must not take the whole record), then as many
  // arguments as fit, found by bisection (100,000 arguments must not cost 100,000 tries).
  for (const Field& f : kFields) {
    if (auto* m = std::get_if<Str>(&f.member); m && (cut.*(*m)))
      cut_string(&*(cut.*(*m)), kLongString);
  }
  for (auto& a : cut.argv) {
    if (a.size() > kLongString) {
      cut_string(&a, kLongString);
      cut.argv_truncated = true;
    }
  }
  if (!cut.argv.empty()) {
    cut.argv_truncated = true;
    cut.argv_bytes = r.argv_bytes.value_or(argv_bytes);
    size_t lo = 0, hi = cut.argv.size();
    std::vector<std::string> all = std::move(cut.argv);
    while (lo < hi) {  // the largest count that fits
      size_t mid = (lo + hi + 1) / 2;
      cut.argv.assign(all.begin(), all.begin() + static_cast<long>(mid));
      if (serialize(cut).size() <= kMax) lo = mid;
      else hi = mid - 1;
    }
    cut.argv.assign(all.begin(), all.begin() + static_cast<long>(lo));
  }
  line = serialize(cut);
  return line + "\n";
}

// --- reader ---

namespace {

// Record lines are at most 4 KiB by contract; anything far longer is not a record, and
// refusing it keeps a corrupt multi-gigabyte "line" from being handed to the parser.
constexpr size_t kMaxLine = 1 << 20;

const std::unordered_map<std::string_view, const Field*>& field_index() {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string_view, const Field*>();
    for (const Field& f : kFields) (*m)[f.name] = &f;
    return m;
  }();
  return *index;
}

// Fills a Record as the line is read: top-level scalars and the string elements of top-level
// arrays. Anything nested deeper, or of an unexpected type, is checked and ignored.
class RecordReader {
 public:
  RecordReader(std::string_view line, Record* r) : c_(line), r_(r) {}

  // false: not valid JSON. *not_object: valid JSON, but not an object.
  bool read(bool* not_object) {
    *not_object = false;
    if (!c_.eat('{')) {
      *not_object = c_.skip() && c_.at_end();
      return false;
    }
    if (!c_.eat('}')) {
      do {
        if (!c_.key(&key_) || !member()) return false;
      } while (c_.eat(','));
      if (!c_.eat('}')) return false;
    }
    return c_.at_end();
  }

  bool has_event() const { return has_event_; }
  std::optional<int64_t> v, pid, time;

 private:
  enum class Top { kOther, kV, kEvent, kSource, kPid, kTime };

  bool member() {
    const Field* field = nullptr;
    Top top = Top::kOther;
    if (key_ == PROGENY_F_V) top = Top::kV;
    else if (key_ == PROGENY_F_EVENT) top = Top::kEvent;
    else if (key_ == PROGENY_F_SOURCE) top = Top::kSource;
    else if (key_ == PROGENY_F_PID) top = Top::kPid;
    else if (key_ == PROGENY_F_TIME_NS) top = Top::kTime;
    else if (auto it = field_index().find(key_); it != field_index().end()) field = it->second;
    char c = c_.peek();
    if (c == '"') {
      if (!c_.string(&text_)) return false;
      string(top, field);
      return true;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      JsonCursor::Number n;
      if (!c_.number(&n)) return false;
      if (n.kind == JsonCursor::Number::kUnsigned) {
        bool fits = n.u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
        integer(top, field, fits ? static_cast<int64_t>(n.u) : -1, true, n.u, fits);
      } else if (n.kind == JsonCursor::Number::kNegative) {
        integer(top, field, n.i, n.i >= 0, static_cast<uint64_t>(n.i), true);
      }
      return true;
    }
    if (c == 't' || c == 'f' || c == 'n') {
      bool value;
      if (!c_.literal(&value)) return false;
      if (field && c != 'n')
        if (auto* m = std::get_if<Flag>(&field->member)) r_->*(*m) = value;
      return true;
    }
    auto* list = field ? std::get_if<Strs>(&field->member) : nullptr;
    if (c != '[' || !list) return c_.skip();
    c_.eat('[');
    auto& strings = r_->*(*list);
    strings.clear();
    if (c_.eat(']')) return true;
    do {
      if (c_.peek() == '"') {
        if (!c_.string(&text_)) return false;
        strings.push_back(std::move(text_));
      } else if (!c_.skip()) {
        return false;
      }
    } while (c_.eat(','));
    return c_.eat(']');
  }

  void string(Top top, const Field* field) {
    switch (top) {
      case Top::kEvent: r_->event = std::move(text_); has_event_ = true; return;
      case Top::kSource: r_->source = std::move(text_); return;
      default: break;
    }
    if (!field) return;
    if (auto* m = std::get_if<Str>(&field->member)) {
      if (*m == &Record::signal && text_.rfind("SIG", 0) == 0) text_.erase(0, 3);
      r_->*(*m) = std::move(text_);
    }
  }

  void integer(Top top, const Field* field, int64_t as_signed, bool non_negative,
               uint64_t as_unsigned, bool signed_fits) {
    switch (top) {
      case Top::kV: v = as_signed; return;
      case Top::kPid: if (signed_fits) pid = as_signed; return;
      case Top::kTime: if (signed_fits) time = as_signed; return;
      default: break;
    }
    if (!field) return;
    if (auto* m = std::get_if<I64>(&field->member); m && signed_fits) r_->*(*m) = as_signed;
    else if (auto* u = std::get_if<U64>(&field->member); u && non_negative) r_->*(*u) = as_unsigned;
    else if (auto* s = std::get_if<Str>(&field->member); s && *s == &Record::signal && signed_fits) {
      // An old writer's signal number.
      if (as_signed > 0 && as_signed < 65) {
        const char* abbrev = sigabbrev_np(static_cast<int>(as_signed));
        r_->signal = abbrev ? abbrev : "SIG" + std::to_string(as_signed);
      }
    }
  }

  JsonCursor c_;
  Record* r_;
  std::string key_, text_;
  bool has_event_ = false;
};

}  // namespace

bool parse_record(std::string_view line, std::string* why, Record* out) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.size() > kMaxLine) {
    *why = "line too long (" + std::to_string(line.size()) + " bytes)";
    return false;
  }
  Record& r = *out;
  r = Record{};
  RecordReader reader(line, &r);
  bool not_object;
  if (!reader.read(&not_object)) {
    *why = not_object ? "not a JSON object" : "not valid JSON (truncated or garbled)";
    return false;
  }
  if (reader.v && *reader.v != PROGENY_SCHEMA_VERSION) {
    *why = "unsupported schema version";
    return false;
  }
  if (!reader.has_event() || !reader.pid || !reader.time) {
    *why = "record lacks event, pid or time_ns";
    return false;
  }
  if (*reader.pid <= 0 || *reader.pid > std::numeric_limits<pid_t>::max() || *reader.time < 0) {
    *why = "pid or time_ns out of range";
    return false;
  }
  r.pid = static_cast<pid_t>(*reader.pid);
  r.time_ns = static_cast<uint64_t>(*reader.time);
  if (r.source.empty()) r.source = "?";
  return true;
}

std::optional<Record> parse_record(std::string_view line, std::string* why) {
  Record r;
  if (!parse_record(line, why, &r)) return std::nullopt;
  return r;
}

namespace {

// The scanner of peek_time_ns over line[at..): each step returns false on anything it does not
// expect; parse_record gives the reason.
struct Peek {
  std::string_view s;
  size_t at = 0;

  void ws() {
    while (at < s.size() && (s[at] == ' ' || s[at] == '\t' || s[at] == '\n' || s[at] == '\r')) ++at;
  }
  bool eat(char c) {
    ws();
    if (at >= s.size() || s[at] != c) return false;
    ++at;
    return true;
  }
  // A string at `at` (its opening quote); *body is its raw text between the quotes.
  bool string(std::string_view* body) {
    if (!eat('"')) return false;
    size_t from = at;
    for (;;) {  // a loop, not find_first_of: that costs a memchr per byte
      while (at < s.size() && s[at] != '"' && s[at] != '\\') ++at;
      if (at >= s.size()) return false;
      if (s[at] == '"') {
        *body = s.substr(from, at - from);
        ++at;
        return true;
      }
      at += 2;  // an escape: the next character is never the end of the string
    }
  }
  // Any value: strings skipped whole, brackets counted (strings inside them skipped too),
  // scalars up to the next delimiter.
  bool value() {
    ws();
    if (at >= s.size()) return false;
    std::string_view ignored;
    if (s[at] == '"') return string(&ignored);
    if (s[at] == '{' || s[at] == '[') {
      for (int depth = 0; at < s.size();) {
        char c = s[at];
        if (c == '"') {
          if (!string(&ignored)) return false;
          continue;
        }
        ++at;
        if (c == '{' || c == '[') ++depth;
        else if ((c == '}' || c == ']') && --depth == 0) return true;
      }
      return false;
    }
    size_t from = at;
    auto delimiter = [](char c) {
      return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
    };
    while (at < s.size() && !delimiter(s[at])) ++at;
    return at > from;
  }
  bool integer(uint64_t* v) {
    ws();
    size_t from = at;
    uint64_t n = 0;
    for (; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at) {
      if (n > (std::numeric_limits<uint64_t>::max() - 9) / 10) return false;
      n = n * 10 + static_cast<uint64_t>(s[at] - '0');
    }
    if (at == from || at - from > 19) return false;
    *v = n;
    return true;
  }
};

}  // namespace

std::optional<uint64_t> peek_time_ns(std::string_view line) {
  Peek p{line};
  std::optional<uint64_t> time;
  if (!p.eat('{')) return std::nullopt;
  if (p.eat('}')) return std::nullopt;
  do {
    std::string_view key;
    if (!p.string(&key) || !p.eat(':')) return std::nullopt;
    if (key == PROGENY_F_TIME_NS) {
      uint64_t v;
      if (!p.integer(&v) || v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return std::nullopt;
      time = v;
    } else if (!p.value()) {
      return std::nullopt;
    }
  } while (p.eat(','));
  if (!p.eat('}')) return std::nullopt;
  return time;
}

}  // namespace progeny
