// The audit numbers of `progeny summary`, computed from a reconstructed lineage.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "launcher/views/lineage.h"

namespace progeny {

struct ExecutableStats {
  std::string path;  // the creator's image at the time of the fork ("?" when unknown)
  size_t created = 0;
  std::map<std::string, size_t> via;  // creating call → count ("?" when unknown)
  size_t setsid = 0;   // processes running this image that called setsid
  size_t setpgid = 0;  // ... setpgid
  size_t daemon = 0;   // processes it created through daemon()
  size_t thread_forks = 0;  // created from a thread other than the main one
};

// One process of a top list and the figure it was ranked by.
struct Ranked {
  size_t proc = 0;  // index into the lineage
  uint64_t value = 0;
};

// The top lists rank by self figures only: an inclusive one (wait4's) holds a subtree, so a
// parent would outrank the child that did the work and the list would count it twice.
struct TopLists {
  static constexpr size_t kLength = 5;
  std::vector<Ranked> longest_lived;  // ns: the tracker's lifetime, else fork to exit record
  std::vector<Ranked> most_cpu;       // ns of user + system time
  std::vector<Ranked> largest_rss;    // KiB of peak resident set
  std::vector<Ranked> most_children;  // processes it created itself
  std::vector<size_t> failures;       // non-zero exit, or a signal progeny did not send; by time
  size_t failure_count = 0;           // all of them, beyond the first kLength
  // Processes that ended without the figure (no tracker exit record): not ranked.
  size_t no_lifetime = 0, no_cpu = 0, no_rss = 0;
};

struct Summary {
  size_t events = 0;
  size_t unreadable_lines = 0;
  size_t processes = 0;  // the launcher excluded
  size_t max_depth = 0;  // COMMAND = 1
  size_t max_alive = 0;  // at any one time
  // Some exit in the sweep is timed when the launcher saw it (no tracker): a process then
  // looks alive a little past its end, so max_alive can only be too high, never too low.
  bool max_alive_at_most = false;
  size_t setsid = 0, setpgid = 0, daemon = 0, thread_forks = 0;
  std::vector<size_t> runaways;  // indices into the lineage
  uint64_t lost_shim = 0, lost_bpf = 0;
  size_t unknown_exits = 0;        // neither an exit record nor a progeny stop tells
  size_t no_creation_record = 0;   // processes whose creator the log does not name
  std::vector<ExecutableStats> executables;  // most processes created first
  TopLists top;
};

Summary summarize(const Lineage& lin);

}  // namespace progeny
