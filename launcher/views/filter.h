// Which processes a view shows: the ones that match what was asked (runaways, failures, a
// command-line substring), within the subtree of a pid, with their ancestors kept as context
// so a match is always seen where it sits in the tree. Shared by every tree view.
#pragma once
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "launcher/views/lineage.h"

namespace progeny {

struct FilterSpec {
  bool runaways = false;          // alive after COMMAND exited
  bool failures = false;          // a non-zero exit, or ended by a signal
  std::string match;              // a substring of a path or of the argv joined by spaces
  pid_t subtree = 0;              // only under (and including) the processes with this pid; 0: all
  std::optional<int> max_depth;   // levels below the shown roots (0: the roots alone)
  bool selects() const { return runaways || failures || !match.empty(); }
};

enum class Shown : char { kHidden, kContext, kMatch };

// Per process (index of lin.procs): hidden, shown as the ancestor of a match, or a match.
// Without a selecting predicate every process in scope is a match. max_depth is the fold's
// business (it counts groups, not processes).
std::vector<Shown> apply_filter(const Lineage& lin, const FilterSpec& spec);

// A non-zero exit or a death by signal (progeny's stop signals included).
bool is_failure(const ProcessNode& p);

}  // namespace progeny
