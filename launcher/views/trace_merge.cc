#include "launcher/views/trace_merge.h"

#include <algorithm>

#include "launcher/views/lineage.h"

namespace progeny {

TraceMerger::Key TraceMerger::key_of(const Record& r) const {
  // Only these are reported by more than one source.
  bool shared = r.event == "fork" || r.event == "exit" || r.event == "exec";
  if (!shared) return {r.event, 0, 0, std::to_string(seq_)};
  std::string what = r.event == "exec" ? base_name(r.path.value_or("")) : std::string();
  return {r.event, r.ino.value_or(0), r.ino ? 0 : r.pid, what};
}

void TraceMerger::add(const Record& r) {
  Key key = key_of(r);
  ++seq_;
  if (printed_.count(key)) return;  // its line is out already
  auto [it, fresh] = waiting_.try_emplace(key, Waiting{r, r.source != "bpf"});
  if (fresh) return;
  Waiting& w = it->second;
  // The shim's and the launcher's account is the richer one (the creating call, the full
  // argv); the earliest time is when it happened.
  uint64_t earliest = std::min(w.best.time_ns, r.time_ns);
  if (!w.other_than_bpf && r.source != "bpf") {
    w.best = r;
    w.other_than_bpf = true;
  }
  w.best.time_ns = earliest;
}

std::vector<std::string> TraceMerger::take(uint64_t now_ns, bool final) {
  std::vector<const std::pair<const Key, Waiting>*> ready;
  for (const auto& entry : waiting_)
    if (final || entry.second.best.time_ns + kWindowNs <= now_ns) ready.push_back(&entry);
  std::stable_sort(ready.begin(), ready.end(), [](const auto* a, const auto* b) {
    return a->second.best.time_ns < b->second.best.time_ns;
  });
  std::vector<std::string> lines;
  std::vector<Key> done;
  for (const auto* entry : ready) {
    lines.push_back(format_.format(entry->second.best));
    printed_[entry->first] = entry->second.best.time_ns;
    done.push_back(entry->first);
  }
  for (const Key& k : done) waiting_.erase(k);
  // A repeat arrives within a window or two of its event; older memory is dropped.
  for (auto it = printed_.begin(); it != printed_.end();)
    it = it->second + 4 * kWindowNs < now_ns ? printed_.erase(it) : std::next(it);
  return lines;
}

}  // namespace progeny
