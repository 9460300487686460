// A strict reader of one JSON text, pulled value by value, for the record reader
// (schema/record.cc): it judges a text as nlohmann's parser does (RFC 8259: UTF-8 validated,
// escapes and surrogate pairs checked, no trailing garbage, a leading UTF-8 BOM skipped, a
// number too large for a double refused), at a fraction of the cost, since a view of a
// 1,000,000-event log is mostly parsing. Nested values are skipped without recursion, so no
// depth exhausts the stack. tests/unit/json_cursor_test.cc holds it to nlohmann's verdicts.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace progeny {

class JsonCursor {
 public:
  explicit JsonCursor(std::string_view text);

  // After whitespace: the next byte (0 at the end), not consumed.
  char peek();
  // After whitespace: consumes c if it is next.
  bool eat(char c);
  // Only whitespace is left.
  bool at_end();

  // A string (after whitespace), decoded into *out (nullptr: only checked).
  bool string(std::string* out);
  // An object's key and its colon.
  bool key(std::string* out);

  struct Number {
    enum Kind { kUnsigned, kNegative, kFloat } kind;
    uint64_t u = 0;  // kUnsigned
    int64_t i = 0;   // kNegative (-0 is kNegative 0, as nlohmann reads it)
  };
  bool number(Number* n);
  // true, false or null; *value is true only for true.
  bool literal(bool* value);
  // Any one value, checked whole.
  bool skip();

 private:
  void ws();
  bool scalar();
  bool escape(std::string* out);
  const char* p_;
  const char* end_;
  std::string scratch_;
};

}  // namespace progeny
