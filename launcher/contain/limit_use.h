// What one limit did in a run, as the kernel counted it: the shape every limit backend
// reports in (launcher/contain/limits.h), and how its counters are read.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace progeny {

struct LimitUse {
  std::string name;     // "pids", "memory", "cpu"
  std::string backend;  // "cgroup v1", "cgroup v2"
  std::string group;    // the group's directory
  std::string value;    // the limit as written: "64", "67108864", "0.5"
  bool hit = false;     // the kernel refused, reclaimed, killed or throttled at least once
  // The kernel's own counters. v1: pids: max (forks refused, pids.events), peak; memory:
  // failcnt, max_usage_in_bytes, oom_kill (memory.oom_control); cpu: nr_periods,
  // nr_throttled, throttled_time (ns, cpu.stat). v2: pids: max, peak; memory: max (times
  // at the limit, memory.events), oom_kill, peak; cpu: nr_periods, nr_throttled,
  // throttled_usec (cpu.stat).
  std::vector<std::pair<std::string, uint64_t>> counts;
};

// The counter `key` of `use`, 0 when absent.
uint64_t count_of(const LimitUse& use, std::string_view key);
// Adds `as` = the number in `text` (a flat keyed file's line `key`, or with key == nullptr
// the whole file, e.g. pids.peak) to use->counts; nothing when absent or not a number.
void add_count(std::string_view text, const char* key, const char* as, LimitUse* use);

}  // namespace progeny
