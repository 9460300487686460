#include "launcher/os/limit_spec.h"

#include <charconv>
#include <cmath>
#include <string>

namespace progeny {
namespace {

std::optional<double> parse_number(std::string_view text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

int64_t cpu_quota_us(double fraction) { return static_cast<int64_t>(std::llround(fraction * kCpuPeriodUs)); }

std::string cpu_fraction_text(double fraction) {
  std::string s = std::to_string(fraction);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::optional<int64_t> parse_size_bytes(std::string_view text) {
  double scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k': case 'K': scale = 1024.0; break;
      case 'm': case 'M': scale = 1024.0 * 1024; break;
      case 'g': case 'G': scale = 1024.0 * 1024 * 1024; break;
      case 't': case 'T': scale = 1024.0 * 1024 * 1024 * 1024; break;
      default: break;
    }
    if (scale != 1) text.remove_suffix(1);
  }
  auto v = parse_number(text);
  if (!v || *v < 0 || *v * scale > 9.0e18) return std::nullopt;
  return static_cast<int64_t>(*v * scale);
}

bool parse_limits(std::string_view text, LimitSpec* spec, std::string* error) {
  while (true) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
    if (eq == std::string_view::npos || value.empty()) {
      *error = "'" + std::string(item) + "' is not KEY=VALUE (pids=N, memory=SIZE, cpu=FRACTION)";
      return false;
    }
    if (key == "pids") {
      int64_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n < 1) {
        *error = "pids=" + std::string(value) + ": not a whole number of processes >= 1";
        return false;
      }
      spec->pids = n;
    } else if (key == "memory") {
      auto bytes = parse_size_bytes(value);
      if (!bytes) {
        *error = "memory=" + std::string(value) + ": not a size (64M, 1.5G, bytes)";
        return false;
      }
      if (*bytes < kMinMemoryLimit) {
        *error = "memory=" + std::string(value) + ": below the 1M floor (COMMAND could not even start)";
        return false;
      }
      spec->memory = bytes;
    } else if (key == "cpu") {
      auto f = parse_number(value);
      if (!f || *f < kMinCpuLimit) {
        *error = "cpu=" + std::string(value) + ": not a fraction of CPUs >= 0.01 (0.5 = half a CPU)";
        return false;
      }
      spec->cpu = f;
    } else {
      *error = "'" + std::string(key) + "' is not one of pids, memory, cpu";
      return false;
    }
    if (comma == std::string_view::npos) return true;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace progeny
