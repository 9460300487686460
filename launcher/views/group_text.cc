#include "launcher/views/group_text.h"

#include <algorithm>
#include <cstdint>
#include <unordered_set>

#include "launcher/views/view_util.h"

namespace progeny {

std::string group_command(const Lineage& lin, const Group& g, size_t max_chars) {
  if (g.members.size() == 1) return exec_chain_text(lin, g.members.front(), max_chars);
  std::string count = std::to_string(g.members.size()) + " × ";
  size_t room = max_chars == SIZE_MAX ? max_chars : max_chars - std::min(max_chars / 2, count.size());
  return count + exec_chain_text(lin, g.members.front(), room);
}

std::string group_lifetime(const Lineage& lin, const Group& g) {
  if (g.members.size() == 1) return lifetime_text(lin.procs[g.members.front()]);
  auto life = [&](size_t i) {
    const ProcessNode& p = lin.procs[i];
    uint64_t from = p.born_ns.value_or(p.first_seen_ns);
    return p.ended_ns.value_or(p.last_seen_ns) - std::min(from, p.ended_ns.value_or(p.last_seen_ns));
  };
  auto [lo, hi] = std::minmax_element(g.members.begin(), g.members.end(),
                                      [&](size_t a, size_t b) { return life(a) < life(b); });
  return format_duration(life(*lo)) + "–" + format_duration(life(*hi));
}

namespace {

// What a member ran, whole: every exec's path and argv, and its title (or, never exec'd, the
// image it inherited). Members with the same one ran the same command lines.
std::string command_lines_of(const ProcessNode& p) {
  std::string key = p.execs.empty() ? p.inherited_image : std::string();
  for (const auto& t : p.title) key += t + '\0';
  for (const auto& e : p.execs) {
    key += '\1' + e.path;
    for (const auto& a : e.argv) key += '\0' + a;
  }
  return key;
}

}  // namespace

std::string group_pids(const Lineage& lin, const Group& g) {
  constexpr size_t kFirst = 3;
  const auto& m = g.members;
  if (m.size() == 1) return "pid " + std::to_string(lin.procs[m.front()].pid);
  std::string out = "pids ";
  for (size_t k = 0; k < m.size() && k < kFirst; ++k)
    out += (k ? ", " : "") + std::to_string(lin.procs[m[k]].pid);
  if (m.size() > kFirst) out += (m.size() > kFirst + 1 ? ", … " : ", ") + std::to_string(lin.procs[m.back()].pid);
  // The group shows its first member's command: say when the others ran other ones.
  std::unordered_set<std::string> lines;
  for (size_t i : m) lines.insert(command_lines_of(lin.procs[i]));
  if (lines.size() > 1) out += "; " + std::to_string(lines.size()) + " different command lines";
  return out;
}

}  // namespace progeny
