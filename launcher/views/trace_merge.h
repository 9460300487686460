// `progeny run --trace`: the live lines, each event once and in time order. Several sources
// report the same event (the shim and the tracker a fork, an exec; the launcher and the
// tracker an exit), each with its own delay. Records wait here for a reorder window after
// the time they happened; duplicates that arrive within it are merged into one line (the
// richer account, at the earliest time), and lines leave in time order. An event that reaches
// progeny later than the window after it happened is still printed once, out of order.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "launcher/views/trace_format.h"
#include "schema/record.h"

namespace progeny {

class TraceMerger {
 public:
  static constexpr uint64_t kWindowNs = 100'000'000;  // 100 ms

  void add(const Record& r);
  // Lines of the records that happened more than the window before now_ns (all when final).
  std::vector<std::string> take(uint64_t now_ns, bool final = false);
  bool pending() const { return !waiting_.empty(); }

 private:
  // What makes two records the same event: its kind, the process (by identity), and for an
  // exec the program (a process may exec several).
  using Key = std::tuple<std::string, uint64_t, pid_t, std::string>;
  Key key_of(const Record& r) const;
  struct Waiting {
    Record best;
    bool other_than_bpf = false;
  };
  std::map<Key, Waiting> waiting_;
  std::map<Key, uint64_t> printed_;  // recently printed events (when), to drop late repeats
  uint64_t seq_ = 0;                 // records of nobody in particular stay apart
  TraceFormatter format_;
};

}  // namespace progeny
