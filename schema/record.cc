#include "schema/record.h"

#include <sys/wait.h>
#include <time.h>

#include <cstdio>

#include "launcher/os/parse.h"
#include "schema/protocol.h"

namespace progeny {

static uint64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}
uint64_t monotonic_ns() { return clock_ns(CLOCK_MONOTONIC); }
uint64_t realtime_ns() { return clock_ns(CLOCK_REALTIME); }

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
static size_t utf8_len(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return 0;
  return n;
}

void append_json_string(std::string* out, std::string_view s) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '\t') {
      out->append("\\t");
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out->append(buf);
    } else if (c >= 0x80) {
      size_t n = utf8_len(s, i);
      if (n == 0) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out->append(buf);
        ++i;
        continue;
      }
      out->append(s.substr(i, n));
      i += n;
      continue;
    } else {
      out->push_back(static_cast<char>(c));
    }
    ++i;
  }
  out->push_back('"');
}

Record::Record(std::string_view event, std::string_view source, pid_t pid, uint64_t time_ns) {
  text_ = "{\"v\":" + std::to_string(PROGENY_SCHEMA_VERSION);
  add("event", event);
  add("source", source);
  add("pid", static_cast<int64_t>(pid));
  add("time_ns", time_ns ? time_ns : monotonic_ns());
}

void Record::key(std::string_view k) {
  text_.push_back(',');
  append_json_string(&text_, k);
  text_.push_back(':');
}
Record& Record::add(std::string_view k, std::string_view value) {
  key(k);
  append_json_string(&text_, value);
  return *this;
}
Record& Record::add(std::string_view k, int64_t value) {
  key(k);
  text_ += std::to_string(value);
  return *this;
}
Record& Record::add(std::string_view k, uint64_t value) {
  key(k);
  text_ += std::to_string(value);
  return *this;
}
Record& Record::add_bool(std::string_view k, bool value) {
  key(k);
  text_ += value ? "true" : "false";
  return *this;
}
Record& Record::add(std::string_view k, const std::vector<std::string>& values) {
  key(k);
  text_.push_back('[');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) text_.push_back(',');
    append_json_string(&text_, values[i]);
  }
  text_.push_back(']');
  return *this;
}

Record exit_record(std::string_view source, pid_t pid, uint64_t start_time, const int* status,
                   uint64_t time_ns) {
  Record r("exit", source, pid, time_ns);
  if (start_time) r.add("start_time", start_time);
  if (!status) {
    r.add_bool("unknown", true);
  } else if (WIFSIGNALED(*status)) {
    r.add("signal", signal_name(WTERMSIG(*status)));
    r.add_bool("core", WCOREDUMP(*status));
  } else {
    r.add("code", WEXITSTATUS(*status));
  }
  return r;
}

}  // namespace progeny
