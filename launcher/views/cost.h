// What one process cost, as its exit records tell (README "Lineage log"). Two kinds, never
// mixed: `self`, the process alone (the tracker's figures at its last thread's exit), and
// `inclusive`, wait4's account where the launcher reaped it (itself plus every descendant it
// waited for, so summing or ranking them would count a subtree many times). A figure no
// record gave stays unknown (nullopt).
#pragma once
#include <cstdint>
#include <optional>

#include "schema/record.h"

namespace progeny {

struct CpuAndPeak {
  std::optional<uint64_t> cpu_user_ns, cpu_system_ns;
  std::optional<uint64_t> peak_rss_kb;
  // User plus system, when both are known.
  std::optional<uint64_t> cpu_ns() const {
    if (!cpu_user_ns || !cpu_system_ns) return std::nullopt;
    return *cpu_user_ns + *cpu_system_ns;
  }
};

struct Cost {
  CpuAndPeak self;
  std::optional<uint64_t> lifetime_ns;  // self: birth to exit, as the tracker measured it
  CpuAndPeak inclusive;

  // Takes the figures of one exit record; the first record that gives a figure keeps it.
  void add(const Record& r) {
    auto take = [](std::optional<uint64_t>* into, const std::optional<uint64_t>& v) {
      if (!*into) *into = v;
    };
    take(&self.cpu_user_ns, r.cpu_user_ns);
    take(&self.cpu_system_ns, r.cpu_system_ns);
    take(&self.peak_rss_kb, r.peak_rss_kb);
    take(&lifetime_ns, r.lifetime_ns);
    take(&inclusive.cpu_user_ns, r.inclusive_cpu_user_ns);
    take(&inclusive.cpu_system_ns, r.inclusive_cpu_system_ns);
    take(&inclusive.peak_rss_kb, r.inclusive_peak_rss_kb);
  }
};

}  // namespace progeny
