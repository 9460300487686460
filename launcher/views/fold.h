// What a tree view draws: groups of processes, not processes. Siblings (children of the
// processes of one group) that ran the same programs, ended the same way and carry the same
// marks fold into one group ("175 × g++ … exit 0"), so a build of thousands of processes
// fits a screen or a picture; their children fold the same way, across the whole group.
// With `expand` every group is one process. Linear in the processes (plus sorting siblings).
#pragma once
#include <cstddef>
#include <optional>
#include <vector>

#include "launcher/views/filter.h"
#include "launcher/views/lineage.h"

namespace progeny {

// The order of siblings: by start, or the largest first by lifetime, by self CPU time (user
// plus system) or by self peak RSS, unknown figures last. A folded group sorts by its members'
// longest lifetime, total self CPU or largest self RSS. Never by the inclusive figures (wait4's,
// a subtree's): a parent would always come before the children it waited for.
enum class SortKey { kStart, kLifetime, kCpu, kRss };
// Their names, as `--sort` and the HTML report's fragment spell them.
struct SortName {
  const char* name;
  SortKey key;
};
inline constexpr SortName kSortNames[] = {{"start", SortKey::kStart},
                                          {"lifetime", SortKey::kLifetime},
                                          {"cpu", SortKey::kCpu},
                                          {"rss", SortKey::kRss}};

// The figure a key ranks a process by (kStart: none); nullopt when no record gave it. The
// HTML report ranks by the same figures, folding a group's as group_value does here.
std::optional<uint64_t> sort_value(const ProcessNode& p, SortKey key);

struct FoldSpec {
  bool expand = false;
  SortKey sort = SortKey::kStart;
};

struct Group {
  std::vector<size_t> members;   // processes, in sibling order; members.front() stands for all
  std::vector<size_t> children;  // groups, in sibling order
  std::optional<size_t> parent;  // group
  int depth = 0;                 // roots: 0
  bool context = false;          // shown only because a process under it matched the filter
  size_t cut_below = 0;          // processes under its members that max_depth leaves out
};

struct FoldedTree {
  std::vector<Group> groups;
  std::vector<size_t> roots;  // groups
  size_t shown = 0;           // processes in the groups
  size_t cut_by_depth = 0;    // processes the filter kept that max_depth leaves out
  // Depth-first (parents before children), iterative: chains can be 200,000 deep.
  std::vector<size_t> preorder() const;
};

FoldedTree fold_lineage(const Lineage& lin, const FilterSpec& filter, const FoldSpec& spec);

}  // namespace progeny
