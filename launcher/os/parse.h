// Parsing of the user's durations and signal names.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace progeny {

// "500ms", "2s", "1.5m", "1h", "3d", bare number = seconds. Milliseconds, nullopt if invalid.
std::optional<int64_t> parse_duration_ms(std::string_view text);
// "TERM", "SIGTERM", "term", "15", "RTMIN+2". Signal number, nullopt if invalid.
std::optional<int> parse_signal(std::string_view text);
// "TERM" for 15, "RTMIN+2", or the number as text.
std::string signal_name(int sig);

}  // namespace progeny
