// The words every tree view uses for a group of folded processes (launcher/views/fold.h):
// its command with the count in front, its lifetimes, its pids.
#pragma once
#include <cstddef>
#include <string>

#include "launcher/views/fold.h"
#include "launcher/views/lineage.h"

namespace progeny {

// "175 × g++ … -c x.cc -o x.o", or the one process's exec chain (view_util.h's cut rules).
std::string group_command(const Lineage& lin, const Group& g, size_t max_chars);
// The one process's lifetime_text(), or the shortest and longest: "12ms–1.52s".
std::string group_lifetime(const Lineage& lin, const Group& g);
// "pid 1201", or "pids 1201, 1202, … 1580" (the first few and the last), and when the members
// did not all run the same command lines, how many different ones: "; 175 different command
// lines" (the group shows only its first member's).
std::string group_pids(const Lineage& lin, const Group& g);

}  // namespace progeny
