#include "schema/json_cursor.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "schema/json_string.h"

namespace progeny {

JsonCursor::JsonCursor(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") p_ += 3;
}

void JsonCursor::ws() {
  while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
}

char JsonCursor::peek() {
  ws();
  return p_ < end_ ? *p_ : '\0';
}

bool JsonCursor::eat(char c) {
  ws();
  if (p_ >= end_ || *p_ != c) return false;
  ++p_;
  return true;
}

bool JsonCursor::at_end() {
  ws();
  return p_ == end_;
}

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void put_utf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

// At the backslash of an escape.
bool JsonCursor::escape(std::string* out) {
  if (end_ - p_ < 2) return false;
  char c = p_[1];
  p_ += 2;
  const char* simple = "\"\\/bfnrt";
  const char* decoded = "\"\\/\b\f\n\r\t";
  if (const char* at = c ? std::strchr(simple, c) : nullptr) {
    if (out) *out += decoded[at - simple];
    return true;
  }
  if (c != 'u') return false;
  auto hex4 = [&](uint32_t* v) {
    if (end_ - p_ < 4) return false;
    *v = 0;
    for (int k = 0; k < 4; ++k) {
      int d = hex_digit(p_[k]);
      if (d < 0) return false;
      *v = *v << 4 | static_cast<uint32_t>(d);
    }
    p_ += 4;
    return true;
  };
  uint32_t cp;
  if (!hex4(&cp)) return false;
  if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate first
  if (cp >= 0xD800 && cp <= 0xDBFF) {              // must pair with a low one
    uint32_t low;
    if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
    p_ += 2;
    if (!hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }
  if (out) put_utf8(out, cp);
  return true;
}

bool JsonCursor::string(std::string* out) {
  if (!eat('"')) return false;
  if (out) out->clear();
  for (;;) {
    const char* from = p_;
    while (p_ < end_) {
      auto c = static_cast<unsigned char>(*p_);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++p_;
    }
    if (out) out->append(from, p_);
    if (p_ >= end_) return false;
    auto c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      ++p_;
      return true;
    }
    if (c == '\\') {
      if (!escape(out)) return false;
    } else if (c < 0x20) {
      return false;
    } else {
      size_t k = progeny_utf8_len(reinterpret_cast<const unsigned char*>(p_),
                                  static_cast<size_t>(end_ - p_));
      if (!k) return false;
      if (out) out->append(p_, k);
      p_ += k;
    }
  }
}

bool JsonCursor::key(std::string* out) { return string(out) && eat(':'); }

bool JsonCursor::number(Number* n) {
  ws();
  const char* from = p_;
  bool negative = p_ < end_ && *p_ == '-';
  if (negative) ++p_;
  auto digit = [&] { return p_ < end_ && *p_ >= '0' && *p_ <= '9'; };
  if (!digit()) return false;
  uint64_t mag = 0;
  bool overflow = false;
  if (*p_ == '0') {
    ++p_;
  } else {
    for (; digit(); ++p_) {
      auto d = static_cast<uint64_t>(*p_ - '0');
      if (mag > (std::numeric_limits<uint64_t>::max() - d) / 10) overflow = true;
      else mag = mag * 10 + d;
    }
  }
  bool fraction = false;
  if (p_ < end_ && *p_ == '.') {
    ++p_;
    if (!digit()) return false;
    while (digit()) ++p_;
    fraction = true;
  }
  if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
    ++p_;
    if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (!digit()) return false;
    while (digit()) ++p_;
    fraction = true;
  }
  if (!fraction && !overflow) {
    constexpr uint64_t kMinMagnitude = uint64_t{1} << 63;  // of INT64_MIN
    if (!negative) {
      n->kind = Number::kUnsigned;
      n->u = mag;
      return true;
    }
    if (mag <= kMinMagnitude) {
      n->kind = Number::kNegative;
      n->i = mag == kMinMagnitude ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(mag);
      return true;
    }
  }
  // A double, as nlohmann makes it: refused when it does not fit one.
  scratch_.assign(from, p_);
  n->kind = Number::kFloat;
  return std::isfinite(std::strtod(scratch_.c_str(), nullptr));
}

bool JsonCursor::literal(bool* value) {
  ws();
  for (std::string_view word : {"true", "false", "null"}) {
    if (static_cast<size_t>(end_ - p_) >= word.size() && std::memcmp(p_, word.data(), word.size()) == 0) {
      p_ += word.size();
      *value = word == "true";
      return true;
    }
  }
  return false;
}

bool JsonCursor::scalar() {
  char c = peek();
  if (c == '"') return string(nullptr);
  if (c == '-' || (c >= '0' && c <= '9')) {
    Number n;
    return number(&n);
  }
  bool ignored;
  return literal(&ignored);
}

bool JsonCursor::skip() {
  std::string open;  // the containers entered, innermost last
  for (;;) {
    char c = peek();
    if (c == '{' || c == '[') {
      ++p_;
      char close = c == '{' ? '}' : ']';
      if (!eat(close)) {
        open += c;
        if (c == '{' && !key(nullptr)) return false;
        continue;  // its first value
      }
    } else if (!scalar()) {
      return false;
    }
    // A value is done: close what it ends, or go on to the next value of the container.
    for (;;) {
      if (open.empty()) return true;
      if (eat(',')) {
        if (open.back() == '{' && !key(nullptr)) return false;
        break;
      }
      if (!eat(open.back() == '{' ? '}' : ']')) return false;
      open.pop_back();
    }
  }
}

}  // namespace progeny
