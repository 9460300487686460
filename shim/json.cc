// The shim's record writer: async-signal-safe (a stack buffer, no allocation), with the
// launcher's escaping (schema/json_string.h) and field names (schema/protocol.h).
#include <time.h>

#include "schema/json_string.h"
#include "shim/bytes.h"
#include "shim/shim.h"
#include "shim/sys.h"

namespace progeny::shim {

uint64_t now_ns() {
  timespec ts{};
  sys::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

namespace {

// Room kept for the end of every record: `]` of a cut argv,
// `,"argv_truncated":true,"argv_bytes":<20 digits>,"lost":<20 digits>}` and the newline.
constexpr size_t kTail = 96;
constexpr size_t kBody = PROGENY_MAX_RECORD - kTail;

size_t format_u64(uint64_t v, char* out) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

}  // namespace

Json::Json(const char* event, pid_t pid) {
  raw("{\"" PROGENY_F_V "\":1");
  str(PROGENY_F_EVENT, event);
  str(PROGENY_F_SOURCE, "shim");
  num(PROGENY_F_PID, pid);
  num(PROGENY_F_TIME_NS, static_cast<int64_t>(now_ns()));
}

void Json::raw(const char* s, size_t n, size_t limit) {
  if (overflow_ || len_ + n > limit) {
    overflow_ = true;
    return;
  }
  for (size_t i = 0; i < n; ++i) buf_[len_ + i] = s[i];
  len_ += n;
}

void Json::raw(const char* s) { raw(s, length(s), kBody); }

void Json::quoted(const char* s, size_t limit) {
  if (overflow_ || !progeny_json_string(buf_, &len_, limit, s, length(s))) overflow_ = true;
}

void Json::key(const char* k) {
  raw(",\"");
  raw(k);
  raw("\":");
}

void Json::str(const char* k, const char* v) {
  key(k);
  quoted(v, kBody);
}

void Json::num(const char* k, int64_t v) {
  key(k);
  char digits[24];
  if (v < 0) {
    raw("-", 1, kBody);
    raw(digits, format_u64(static_cast<uint64_t>(-(v + 1)) + 1, digits), kBody);
  } else {
    raw(digits, format_u64(static_cast<uint64_t>(v), digits), kBody);
  }
}

void Json::argv(char* const* argv, int argc) {
  key(PROGENY_F_ARGV);
  raw("[", 1, kBody);
  uint64_t bytes = 0;
  int kept = 0;
  for (int i = 0; i < argc && argv[i]; ++i) bytes += length(argv[i]) + 1;
  for (int i = 0; i < argc && argv[i] && !overflow_; ++i) {
    size_t before = len_;
    if (i) raw(",", 1, kBody);
    quoted(argv[i], kBody);
    if (overflow_) {  // drop the element that did not fit, keep the record
      overflow_ = false;
      len_ = before;
      break;
    }
    ++kept;
  }
  // The tail was reserved for this: a cut argv always says so, and how big it was.
  raw("]", 1, PROGENY_MAX_RECORD);
  if (kept < argc && argv[kept]) {
    const char* t = ",\"" PROGENY_F_ARGV_TRUNCATED "\":true,\"" PROGENY_F_ARGV_BYTES "\":";
    raw(t, length(t), PROGENY_MAX_RECORD);
    char digits[24];
    raw(digits, format_u64(bytes, digits), PROGENY_MAX_RECORD);
  }
}

bool Json::finish(uint64_t lost) {
  if (overflow_) return false;
  if (lost) {
    const char* k = ",\"" PROGENY_F_LOST "\":";
    raw(k, length(k), PROGENY_MAX_RECORD);
    char digits[24];
    raw(digits, format_u64(lost, digits), PROGENY_MAX_RECORD);
  }
  raw("}\n", 2, PROGENY_MAX_RECORD);
  return !overflow_;
}

}  // namespace progeny::shim
