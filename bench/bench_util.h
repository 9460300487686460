// Shared by the benchmark programs: a monotonic clock and the median of samples.
#pragma once
#include <time.h>

#include <algorithm>
#include <vector>

namespace bench {

inline double now_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}
inline double now_ms() { return now_us() / 1e3; }

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace bench
