#include "launcher/views/fold.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "launcher/views/view_util.h"

namespace progeny {

namespace {

uint64_t start_of(const ProcessNode& p) { return p.born_ns.value_or(p.first_seen_ns); }

uint64_t lifetime_of(const ProcessNode& p) {
  return p.ended_ns.value_or(p.last_seen_ns) - std::min(start_of(p), p.ended_ns.value_or(p.last_seen_ns));
}

// Largest first, unknown last; nullopt when the two figures do not decide.
std::optional<bool> larger_first(const std::optional<uint64_t>& a, const std::optional<uint64_t>& b) {
  if (a == b) return std::nullopt;
  if (!a || !b) return a.has_value();
  return *a > *b;
}

// Sibling order: by the key's figure (largest first, unknown last), ties by start.
bool before(const ProcessNode& a, const ProcessNode& b, SortKey key) {
  if (key != SortKey::kStart)
    if (auto decided = larger_first(sort_value(a, key), sort_value(b, key))) return *decided;
  return start_of(a) < start_of(b);
}

// A folded group's figure: its members' total self CPU (their own times add up, none counted
// twice), else the largest; unknown only when no member's is known.
std::optional<uint64_t> group_value(const Lineage& lin, const Group& g, SortKey key) {
  std::optional<uint64_t> out;
  for (size_t i : g.members) {
    auto v = sort_value(lin.procs[i], key);
    if (!v) continue;
    if (!out) out = v;
    else out = key == SortKey::kCpu ? *out + *v : std::max(*out, *v);
  }
  return out;
}

// What siblings must share to fold: the programs, how they ended, the creating call, the
// marks, and whether they are shown for themselves or as the way to a match.
std::string fold_key(const Lineage& lin, size_t i, Shown shown) {
  const ProcessNode& p = lin.procs[i];
  std::string key = program_chain(lin, i);
  key += '\0';
  key += end_text(p);
  key += '\0' + p.via;
  for (const auto& m : marks_of(p)) key += '\0' + m;
  key += p.is_command ? "\1C" : "";
  key += p.is_launcher ? "\1L" : "";
  key += shown == Shown::kContext ? "\1c" : "";
  return key;
}

class Folder {
 public:
  Folder(const Lineage& lin, const FilterSpec& filter, const FoldSpec& spec, FoldedTree* out)
      : lin_(lin), filter_(filter), spec_(spec), out_(out), shown_(apply_filter(lin, filter)) {}

  void run() {
    if (filter_.max_depth) count_below();
    std::vector<size_t> roots;
    for (size_t i = 0; i < lin_.procs.size(); ++i)
      if (shown(i) && !(lin_.procs[i].parent && shown(*lin_.procs[i].parent))) roots.push_back(i);
    out_->roots = make_groups(std::move(roots), std::nullopt, 0);
    // Breadth-first over the groups as they are made: no recursion, however deep the tree.
    for (size_t g = 0; g < out_->groups.size(); ++g) {
      std::vector<size_t> kids;
      for (size_t m : out_->groups[g].members)
        for (size_t c : lin_.procs[m].children)
          if (shown(c)) kids.push_back(c);
      int depth = out_->groups[g].depth;
      if (filter_.max_depth && depth >= *filter_.max_depth) {
        size_t cut = 0;
        for (size_t c : kids) cut += below_[c] + 1;
        out_->groups[g].cut_below = cut;
        out_->cut_by_depth += cut;
        continue;
      }
      auto children = make_groups(std::move(kids), g, depth + 1);
      out_->groups[g].children = std::move(children);
    }
  }

 private:
  bool shown(size_t i) const { return shown_[i] != Shown::kHidden; }

  // How many shown processes are under each one (children before parents).
  void count_below() {
    below_.assign(lin_.procs.size(), 0);
    auto order = lin_.preorder();
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      size_t i = it->first;
      if (auto par = lin_.procs[i].parent; par && shown(i)) below_[*par] += below_[i] + 1;
    }
  }

  std::vector<size_t> make_groups(std::vector<size_t> procs, std::optional<size_t> parent,
                                  int depth) {
    std::stable_sort(procs.begin(), procs.end(), [this](size_t a, size_t b) {
      return before(lin_.procs[a], lin_.procs[b], spec_.sort);
    });
    std::vector<size_t> ids;
    std::unordered_map<std::string, size_t> by_key;
    for (size_t i : procs) {
      size_t g = out_->groups.size();
      if (!spec_.expand) {
        auto [it, fresh] = by_key.emplace(fold_key(lin_, i, shown_[i]), g);
        if (!fresh) g = it->second;
      }
      if (g == out_->groups.size()) {
        Group grp;
        grp.parent = parent;
        grp.depth = depth;
        grp.context = shown_[i] == Shown::kContext;
        out_->groups.push_back(std::move(grp));
        ids.push_back(g);
      }
      out_->groups[g].members.push_back(i);
      ++out_->shown;
    }
    // Groups stand where their first member sorted; a cost key ranks them by what all their
    // members cost (stable: equal figures keep that order).
    if (spec_.sort != SortKey::kStart) {
      std::unordered_map<size_t, std::optional<uint64_t>> value;
      for (size_t g : ids) value[g] = group_value(lin_, out_->groups[g], spec_.sort);
      std::stable_sort(ids.begin(), ids.end(), [&value](size_t a, size_t b) {
        return larger_first(value[a], value[b]).value_or(false);
      });
    }
    return ids;
  }

  const Lineage& lin_;
  const FilterSpec& filter_;
  const FoldSpec& spec_;
  FoldedTree* out_;
  std::vector<Shown> shown_;
  std::vector<size_t> below_;
};

}  // namespace

std::optional<uint64_t> sort_value(const ProcessNode& p, SortKey key) {
  switch (key) {
    case SortKey::kStart: return std::nullopt;
    case SortKey::kLifetime: return lifetime_of(p);
    case SortKey::kCpu: return p.cost.self.cpu_ns();
    case SortKey::kRss: return p.cost.self.peak_rss_kb;
  }
  return std::nullopt;
}

std::vector<size_t> FoldedTree::preorder() const {
  std::vector<size_t> out, stack(roots.rbegin(), roots.rend());
  out.reserve(groups.size());
  while (!stack.empty()) {
    size_t g = stack.back();
    stack.pop_back();
    out.push_back(g);
    const auto& ch = groups[g].children;
    stack.insert(stack.end(), ch.rbegin(), ch.rend());
  }
  return out;
}

FoldedTree fold_lineage(const Lineage& lin, const FilterSpec& filter, const FoldSpec& spec) {
  FoldedTree out;
  Folder(lin, filter, spec, &out).run();
  return out;
}

}  // namespace progeny
