// The stderr lines of the limits that bit: what the kernel did, and to whom.
#include <string>

#include "launcher/views/verdict.h"
#include "launcher/views/view_util.h"

namespace progeny {
namespace {

uint64_t count_of(const Verdict::Limit& l, const std::string& key) {
  for (const auto& [k, v] : l.counts)
    if (k == key) return v;
  return 0;
}

std::string process_text(const Verdict::Limit::Process& p) {
  std::string s = std::to_string(p.pid);
  if (!p.name.empty()) s += " (" + printable(p.name) + ")";
  return s;
}

}  // namespace

std::string format_limit_report(const std::vector<Verdict::Limit>& limits) {
  std::string out;
  for (const Verdict::Limit& l : limits) {
    if (!l.hit) continue;
    std::string line = "progeny: limit " + l.name + "=" + l.value + " hit (" + l.backend + "): ";
    bool tracker = l.backend == "tracker";
    if (l.name == "pids" && tracker) {
      line += std::to_string(count_of(l, "killed")) + " child(ren) killed at birth";
    } else if (l.name == "pids") {
      line += std::to_string(count_of(l, "max")) + " process creation(s) refused";
    } else if (l.name == "memory") {
      // v1 counts the times at the limit as failcnt, v2 as memory.events' max.
      line += std::to_string(count_of(l, "oom_kill")) + " OOM kill(s), " +
              std::to_string(count_of(l, "failcnt") + count_of(l, "max")) + " time(s) at the limit";
    } else {
      // v1's throttled_time is in ns, v2's throttled_usec in µs.
      uint64_t ms = count_of(l, "throttled_time") / 1000000 + count_of(l, "throttled_usec") / 1000;
      line += "throttled in " + std::to_string(count_of(l, "nr_throttled")) + " of " +
              std::to_string(count_of(l, "nr_periods")) + " periods, " + std::to_string(ms) +
              " ms in all";
    }
    if (!l.role.empty()) {
      line += l.role == "forker" ? "; forker: " : "; killed: ";
      if (l.named.empty()) line += "unknown";
      for (size_t i = 0; i < l.named.size(); ++i) {
        if (i) line += ", ";
        line += process_text(l.named[i]);
        if (l.role == "forker")
          line += (tracker ? " capped " : " refused ") + std::to_string(l.named[i].count) + "x";
      }
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace progeny
