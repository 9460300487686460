// `progeny tree --format dot`: a Graphviz digraph, creator → created, for `dot -Tsvg`: one
// node per group of folded siblings (launcher/views/fold.h), so a build's fan of hundreds of
// compiles is one node with its count.
#include <cstdint>
#include <string>
#include <vector>

#include "launcher/views/group_text.h"
#include "launcher/views/tree_views.h"
#include "launcher/views/view_util.h"

namespace progeny {

namespace {

// A double-quoted DOT string of printable lines, with " and \ escaped and lines joined by
// DOT's own \n (a raw newline byte would be escaped away by printable()).
std::string dot_quote(const std::vector<std::string>& lines) {
  std::string out = "\"";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += "\\n";
    for (char c : printable(lines[i])) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
  }
  return out + "\"";
}

const char* fill_for(const ProcessNode& p) {
  if (p.is_launcher) return "#eeeeee";
  if (p.stopped_by_progeny()) return "#e1bee7";
  if (p.end == EndKind::kExited) return p.exit_code == 0 ? "#c8e6c9" : "#ffe0b2";
  if (p.end == EndKind::kSignaled) return "#ffcdd2";
  return "#f5f5f5";
}

}  // namespace

void render_dot(const Lineage& lin, const FoldedTree& tree, std::ostream& out,
                const TreeLook& look) {
  out << "digraph progeny {\n  rankdir=LR;\n"
         "  node [shape=box, style=\"rounded,filled\", fontname=\"monospace\", fontsize=10];\n";
  for (size_t gid = 0; gid < tree.groups.size(); ++gid) {
    const Group& g = tree.groups[gid];
    const ProcessNode& p = lin.procs[g.members.front()];
    std::vector<std::string> label{(g.members.size() == 1 ? std::to_string(p.pid) + " " : "") +
                                   group_command(lin, g, look.full_argv ? SIZE_MAX : 48)};
    if (!p.is_launcher) label.push_back(group_lifetime(lin, g) + "  " + end_text(p));
    std::string marks;
    for (const auto& m : marks_of(p)) marks += (marks.empty() ? "" : ", ") + m;
    if (!marks.empty()) label.push_back("[" + marks + "]");
    if (g.members.size() > 1) label.push_back(group_pids(lin, g));
    if (g.cut_below) label.push_back("+" + std::to_string(g.cut_below) + " below --max-depth");
    out << "  g" << gid << " [label=" << dot_quote(label) << ", fillcolor=\"" << fill_for(p)
        << "\"";
    if (p.runaway) out << ", color=\"#d32f2f\", penwidth=2.5";
    else if (p.escaped()) out << ", color=\"#f9a825\", penwidth=2";
    if (p.bpf_only) out << ", style=\"rounded,filled,dashed\"";
    else if (g.context) out << ", style=\"rounded,filled,dotted\"";
    out << "];\n";
  }
  for (size_t gid = 0; gid < tree.groups.size(); ++gid) {
    const Group& g = tree.groups[gid];
    if (!g.parent) continue;
    const ProcessNode& p = lin.procs[g.members.front()];
    out << "  g" << *g.parent << " -> g" << gid;
    if (!p.via.empty()) out << " [label=" << dot_quote({p.via}) << "]";
    out << ";\n";
  }
  out << "}\n";
}

}  // namespace progeny
