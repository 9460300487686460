#include "launcher/views/json_writer.h"

#include "schema/json_string.h"

namespace progeny {

namespace {
constexpr size_t kFlushAt = 1 << 16;
}

void JsonWriter::line_break() {
  if (newline_) buf_ += '\n';
  newline_ = false;
}

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_element_.empty()) {
    if (has_element_.back()) buf_ += ',';
    has_element_.back() = true;
  }
  line_break();
}

JsonWriter& JsonWriter::open(char c) {
  separate();
  buf_ += c;
  has_element_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::close(char c) {
  line_break();
  buf_ += c;
  has_element_.pop_back();
  if (buf_.size() >= kFlushAt) flush();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
  separate();
  buf_ += '"';
  buf_ += k;
  buf_ += "\":";
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  separate();
  buf_ += json;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  separate();
  size_t used = buf_.size();
  buf_.resize(used + s.size() * 6 + 2);  // the longest escape of a byte is \u00XX
  progeny_json_string(buf_.data(), &used, buf_.size(), s.data(), s.size());
  buf_.resize(used);
  return *this;
}

void JsonWriter::flush() {
  line_break();
  out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
  buf_.clear();
}

}  // namespace progeny
