#include "launcher/views/filter.h"

namespace progeny {

namespace {

bool command_contains(const ProcessNode& p, const std::string& needle) {
  for (const auto& e : p.execs) {
    if (e.path.find(needle) != std::string::npos) return true;
    std::string joined;
    for (const auto& a : e.argv) joined += (joined.empty() ? "" : " ") + a;
    if (joined.find(needle) != std::string::npos) return true;
  }
  return false;
}

bool matches(const ProcessNode& p, const FilterSpec& spec) {
  if (spec.runaways && !p.runaway) return false;
  if (spec.failures && !is_failure(p)) return false;
  return spec.match.empty() || command_contains(p, spec.match);
}

}  // namespace

bool is_failure(const ProcessNode& p) {
  return (p.end == EndKind::kExited && p.exit_code != 0) || p.end == EndKind::kSignaled;
}

std::vector<Shown> apply_filter(const Lineage& lin, const FilterSpec& spec) {
  const size_t n = lin.procs.size();
  auto order = lin.preorder();  // parents before children
  std::vector<char> in_scope(n, spec.subtree == 0);
  if (spec.subtree)
    for (const auto& [i, depth] : order) {
      const ProcessNode& p = lin.procs[i];
      in_scope[i] = p.pid == spec.subtree || (p.parent && in_scope[*p.parent]);
    }
  std::vector<Shown> out(n, Shown::kHidden);
  // Children before parents: a match lights up the path to the top of the scope.
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    size_t i = it->first;
    if (!in_scope[i]) continue;
    // A child's match may have made it context already; its own match outranks that.
    if (!spec.selects() || matches(lin.procs[i], spec)) out[i] = Shown::kMatch;
    auto par = lin.procs[i].parent;
    if (out[i] != Shown::kHidden && par && in_scope[*par] && out[*par] == Shown::kHidden)
      out[*par] = Shown::kContext;
  }
  return out;
}

}  // namespace progeny
