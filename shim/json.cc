#include <time.h>

#include "shim/shim.h"

namespace progeny::shim {

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: async-signal-safe
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

namespace {

// Room kept free for the closing of the record (argv_truncated flag, "lost", "}\n").
constexpr size_t kTail = 64;

size_t utf8_len(const unsigned char* s, size_t avail) {
  unsigned c = s[0];
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || n > avail) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((s[k] >> 6) != 0x2) return 0;
  return n;
}

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
  raw("{\"v\":1");
  str("event", event);
  str("source", "shim");
  num("pid", pid);
  num("time_ns", static_cast<int64_t>(now_ns()));
}

void Json::raw(const char* s, size_t n) {
  if (overflow_ || len_ + n > sizeof buf_ - kTail) {
    overflow_ = true;
    return;
  }
  for (size_t i = 0; i < n; ++i) buf_[len_ + i] = s[i];
  len_ += n;
}

void Json::raw(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  raw(s, n);
}

// Escapes like schema/record.cc: invalid UTF-8 bytes become \u00XX so the log stays JSON.
void Json::quoted(const char* s, size_t limit) {
  static const char hex[] = "0123456789abcdef";
  raw("\"", 1);
  size_t n = 0;
  while (s[n]) ++n;
  const auto* u = reinterpret_cast<const unsigned char*>(s);
  for (size_t i = 0; i < n && !overflow_;) {
    if (len_ + 8 > limit) {
      overflow_ = true;
      break;
    }
    unsigned c = u[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', static_cast<char>(c)};
      raw(e, 2);
    } else if (c == '\n') {
      raw("\\n", 2);
    } else if (c == '\t') {
      raw("\\t", 2);
    } else if (c < 0x20 || c == 0x7F) {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      raw(e, 6);
    } else if (c >= 0x80) {
      size_t k = utf8_len(u + i, n - i);
      if (k == 0) {
        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        raw(e, 6);
      } else {
        raw(s + i, k);
        i += k;
        continue;
      }
    } else {
      raw(s + i, 1);
    }
    ++i;
  }
  raw("\"", 1);
}

void Json::key(const char* k) {
  raw(",\"");
  raw(k);
  raw("\":");
}

void Json::str(const char* k, const char* v) {
  key(k);
  quoted(v, sizeof buf_ - kTail);
}

void Json::num(const char* k, int64_t v) {
  key(k);
  char digits[24];
  if (v < 0) {
    raw("-", 1);
    raw(digits, format_u64(static_cast<uint64_t>(-(v + 1)) + 1, digits));
  } else {
    raw(digits, format_u64(static_cast<uint64_t>(v), digits));
  }
}

void Json::boolean(const char* k, bool v) {
  key(k);
  raw(v ? "true" : "false");
}

void Json::argv(char* const* argv, int argc) {
  key("argv");
  raw("[", 1);
  bool truncated = false;
  for (int i = 0; i < argc && argv[i]; ++i) {
    size_t before = len_;
    if (i) raw(",", 1);
    quoted(argv[i], sizeof buf_ - kTail - 1);
    if (overflow_) {  // drop the element that did not fit, keep the record
      overflow_ = false;
      len_ = before;
      truncated = true;
      break;
    }
  }
  raw("]", 1);
  if (truncated) boolean("argv_truncated", true);
}

bool Json::finish(uint64_t lost) {
  if (overflow_) return false;
  // kTail was reserved for this.
  if (lost) {
    for (const char* p = ",\"lost\":"; *p; ++p) buf_[len_++] = *p;
    len_ += format_u64(lost, buf_ + len_);
  }
  buf_[len_++] = '}';
  buf_[len_++] = '\n';
  return true;
}

}  // namespace progeny::shim
