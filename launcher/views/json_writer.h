// A JSON value streamed as it is written, for views whose documents are too big to build:
// `tree --format json` and `--format perfetto` of a 1,000,000-event log write hundreds of MB,
// and a document per node (nlohmann) was most of their time. Strings follow the log's own
// rule (schema/json_string.h): valid JSON whatever the bytes, invalid UTF-8 as \u00XX.
// Keys are this program's literals. Nesting and commas are tracked; the caller keeps the
// shape right (a key before each value in an object).
#pragma once
#include <concepts>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace progeny {

class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out) : out_(out) {}
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;
  ~JsonWriter() { flush(); }

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  JsonWriter& key(std::string_view k);
  // A line break before the next element (after its comma) or closing bracket: long arrays
  // one element a line.
  JsonWriter& newline() {
    newline_ = true;
    return *this;
  }
  // Text that is already JSON (a number formatted by the caller).
  JsonWriter& raw(std::string_view json);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(std::nullptr_t) { return raw("null"); }
  template <std::integral T>
  JsonWriter& value(T v) {
    if constexpr (std::is_same_v<T, bool>) return raw(v ? "true" : "false");
    else if constexpr (std::is_signed_v<T>) return raw(std::to_string(static_cast<long long>(v)));
    else return raw(std::to_string(static_cast<unsigned long long>(v)));
  }
  template <typename T>
  JsonWriter& value(const std::optional<T>& v) {
    return v ? value(*v) : raw("null");
  }
  template <typename T>
  JsonWriter& value(const std::vector<T>& v) {
    begin_array();
    for (const T& e : v) value(e);
    return end_array();
  }
  template <typename T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  void flush();

 private:
  JsonWriter& open(char c);
  JsonWriter& close(char c);
  void separate();  // the comma before an element, unless it is the first or follows a key
  void line_break();
  std::ostream& out_;
  std::string buf_;
  std::vector<bool> has_element_;  // per open level
  bool after_key_ = false;
  bool newline_ = false;
};

}  // namespace progeny
