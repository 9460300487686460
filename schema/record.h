// Builds one lineage-log record (a JSON object on one line, schema in docs/CONTRACT.md).
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace progeny {

uint64_t monotonic_ns();
uint64_t realtime_ns();

class Record {
 public:
  // Starts {"v":1,"event":EVENT,"source":SOURCE,"pid":PID,"time_ns":T}; T is now unless the
  // event carries its own CLOCK_MONOTONIC time (the tracker's, taken in the kernel).
  Record(std::string_view event, std::string_view source, pid_t pid, uint64_t time_ns = 0);
  Record& add(std::string_view key, std::string_view value);
  Record& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  Record& add(std::string_view key, int64_t value);
  Record& add(std::string_view key, uint64_t value);
  Record& add(std::string_view key, int value) { return add(key, static_cast<int64_t>(value)); }
  Record& add_bool(std::string_view key, bool value);
  Record& add(std::string_view key, const std::vector<std::string>& values);
  // The finished line, newline included.
  std::string line() const { return text_ + "}\n"; }

 private:
  void key(std::string_view k);
  std::string text_;
};

// The `exit` record of (pid, start_time): code, or signal and core; "unknown" when status is
// null (nobody could observe it).
Record exit_record(std::string_view source, pid_t pid, uint64_t start_time, const int* status,
                   uint64_t time_ns = 0);

// Appends s to out as a JSON string literal (quotes included); invalid UTF-8 bytes become
// \u00XX escapes of the byte so the record stays valid JSON.
void append_json_string(std::string* out, std::string_view s);

}  // namespace progeny
