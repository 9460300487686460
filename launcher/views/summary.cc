#include "launcher/views/summary.h"

#include <algorithm>
#include <unordered_map>

namespace progeny {

Summary summarize(const Lineage& lin) {
  Summary s;
  s.events = lin.events;
  s.unreadable_lines = lin.unreadable_lines;
  s.lost_shim = lin.lost_shim;
  s.lost_bpf = lin.lost_bpf;

  std::unordered_map<std::string, ExecutableStats> by_exe;
  auto exe = [&](const std::string& path) -> ExecutableStats& {
    auto& e = by_exe[path];
    e.path = path;
    return e;
  };
  // Alive-count sweep: +1 at birth, -1 at the end (or the last record, when unknown).
  std::vector<std::pair<uint64_t, int>> edges;
  for (size_t i = 0; i < lin.procs.size(); ++i) {
    const ProcessNode& p = lin.procs[i];
    if (p.is_launcher || p.is_progeny_helper()) continue;
    ++s.processes;
    uint64_t from = p.born_ns.value_or(p.first_seen_ns);
    edges.push_back({from, +1});
    edges.push_back({std::max(from, p.ended_ns.value_or(p.last_seen_ns)), -1});
    if (p.runaway) s.runaways.push_back(i);
    if (p.end == EndKind::kUnknown && !p.stopped_by_progeny()) ++s.unknown_exits;
    if (p.called_setsid) {
      ++s.setsid;
      ++exe(image_at(lin, i, *p.setsid_ns)).setsid;
    }
    if (p.called_setpgid) {
      ++s.setpgid;
      ++exe(image_at(lin, i, *p.setpgid_ns)).setpgid;
    }
    if (!p.parent) {
      ++s.no_creation_record;
      continue;
    }
    ExecutableStats& e = exe(image_at(lin, *p.parent, from));
    ++e.created;
    ++e.via[p.via.empty() ? "?" : p.via];
    if (p.via == "daemon") ++e.daemon, ++s.daemon;
    if (p.thread_fork) ++e.thread_forks, ++s.thread_forks;
  }
  // Ends sort before births at the same instant: a process replaced at once was not alive
  // together with its successor.
  std::sort(edges.begin(), edges.end());
  // Signed: at one instant an end can come before the birth it belongs to (a process whose
  // only record is its birth), which must not wrap the count around.
  int64_t alive = 0;
  for (const auto& [t, d] : edges) {
    alive += d;
    if (alive > 0) s.max_alive = std::max(s.max_alive, static_cast<size_t>(alive));
  }
  // Depths count from COMMAND (1), not from progeny or its helpers; without a COMMAND, from
  // the roots.
  auto order = lin.preorder();
  int base = -1;
  for (const auto& [i, depth] : order)
    if (lin.command && i == *lin.command) base = depth - 1;
  for (const auto& [i, depth] : order) {
    const ProcessNode& p = lin.procs[i];
    if (p.is_launcher || p.is_progeny_helper()) continue;
    int d = base >= 0 ? depth - base : depth + 1 - (lin.launcher ? 1 : 0);
    if (d > 0) s.max_depth = std::max(s.max_depth, static_cast<size_t>(d));
  }
  for (auto& [path, e] : by_exe) s.executables.push_back(std::move(e));
  std::sort(s.executables.begin(), s.executables.end(), [](const auto& a, const auto& b) {
    return a.created != b.created ? a.created > b.created : a.path < b.path;
  });
  return s;
}

}  // namespace progeny
