#include "launcher/views/summary.h"

#include <algorithm>
#include <unordered_map>

namespace progeny {

namespace {

// Birth to exit: as the tracker measured it, else between the fork and exit records.
std::optional<uint64_t> lifetime_ns(const ProcessNode& p) {
  if (p.cost.lifetime_ns) return p.cost.lifetime_ns;
  if (p.born_ns && p.ended_ns && *p.ended_ns >= *p.born_ns) return *p.ended_ns - *p.born_ns;
  return std::nullopt;
}

bool failed(const ProcessNode& p) {
  if (p.end == EndKind::kExited) return p.exit_code != 0;
  return p.end == EndKind::kSignaled && !p.stopped_by_progeny();
}

// The kLength largest, largest first (ties: the earlier process first).
void keep_top(std::vector<Ranked>* list) {
  size_t n = std::min(list->size(), TopLists::kLength);
  std::partial_sort(list->begin(), list->begin() + static_cast<long>(n), list->end(),
                    [](const Ranked& a, const Ranked& b) {
                      return a.value != b.value ? a.value > b.value : a.proc < b.proc;
                    });
  list->resize(n);
}

TopLists top_lists(const Lineage& lin) {
  TopLists t;
  std::vector<std::pair<uint64_t, size_t>> failures;  // (exit time, process)
  for (size_t i = 0; i < lin.procs.size(); ++i) {
    const ProcessNode& p = lin.procs[i];
    if (p.is_launcher || p.is_progeny_helper()) continue;
    if (auto life = lifetime_ns(p)) t.longest_lived.push_back({i, *life});
    else if (p.ended_ns) ++t.no_lifetime;
    if (auto cpu = p.cost.self.cpu_ns()) t.most_cpu.push_back({i, *cpu});
    else if (p.ended_ns) ++t.no_cpu;
    if (auto rss = p.cost.self.peak_rss_kb) t.largest_rss.push_back({i, *rss});
    else if (p.ended_ns) ++t.no_rss;
    if (!p.children.empty()) t.most_children.push_back({i, p.children.size()});
    if (failed(p)) failures.push_back({p.ended_ns.value_or(p.last_seen_ns), i});
  }
  for (auto* list : {&t.longest_lived, &t.most_cpu, &t.largest_rss, &t.most_children})
    keep_top(list);
  t.failure_count = failures.size();
  size_t n = std::min(failures.size(), TopLists::kLength);
  std::partial_sort(failures.begin(), failures.begin() + static_cast<long>(n), failures.end());
  for (size_t k = 0; k < n; ++k) t.failures.push_back(failures[k].second);
  return t;
}

}  // namespace

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
    if (p.ended_ns && !p.ended_at_kernel_time) s.max_alive_at_most = true;
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
  s.top = top_lists(lin);
  for (auto& [path, e] : by_exe) s.executables.push_back(std::move(e));
  std::sort(s.executables.begin(), s.executables.end(), [](const auto& a, const auto& b) {
    return a.created != b.created ? a.created > b.created : a.path < b.path;
  });
  return s;
}

}  // namespace progeny
