// `progeny tree` text format: a pstree-like tree, one process a line.
#include <string>

#include "launcher/views/tree_views.h"
#include "launcher/views/view_util.h"

namespace progeny {

namespace {

// Beyond this depth the indentation stops growing (a 10,000-deep chain would otherwise print
// lines quadratic in length); such lines carry their depth instead.
constexpr int kMaxIndent = 32;

struct Palette {
  bool on;
  std::string wrap(const char* code, const std::string& s) const {
    return on ? std::string("\033[") + code + "m" + s + "\033[0m" : s;
  }
};

const char* mark_color(const std::string& m) {
  if (m == "runaway") return "1;31";
  if (m == "setsid" || m == "setpgid") return "33";
  if (m == "bpf only") return "36";
  return "35";
}

const char* end_color(const ProcessNode& p) {
  if (p.stopped_by_progeny()) return "35";
  if (p.end == EndKind::kExited) return p.exit_code == 0 ? "32" : "31";
  if (p.end == EndKind::kSignaled) return "31";
  return "2";
}

std::string line_for(const Lineage& lin, size_t i, const Palette& pal) {
  const ProcessNode& p = lin.procs[i];
  std::string s = pal.wrap("1", std::to_string(p.pid)) + " " + exec_chain_text(lin, i);
  if (p.is_launcher || p.is_progeny_helper()) return s + "  " + pal.wrap("2", "[progeny]");
  s += "  " + lifetime_text(p);
  if (std::string end = end_text(p); !end.empty()) s += "  " + pal.wrap(end_color(p), end);
  if (p.is_command) s += "  " + pal.wrap("1", "[COMMAND]");
  for (const auto& m : marks_of(p)) s += " " + pal.wrap(mark_color(m), "[" + m + "]");
  return s;
}

}  // namespace

void render_text(const Lineage& lin, std::ostream& out, bool color) {
  Palette pal{color};
  // Depth-first with the connector prefix of each level, iteratively (chains can be deep).
  struct Item {
    size_t proc;
    std::string prefix;  // drawn before this node's connector
    bool last;
    bool root;
    int depth;
  };
  std::vector<Item> stack;
  for (auto it = lin.roots.rbegin(); it != lin.roots.rend(); ++it)
    stack.push_back({*it, "", true, true, 0});
  while (!stack.empty()) {
    Item item = std::move(stack.back());
    stack.pop_back();
    std::string head = item.root ? "" : item.prefix + (item.last ? "└─ " : "├─ ");
    if (item.depth > kMaxIndent) head += "[depth " + std::to_string(item.depth) + "] ";
    out << head << line_for(lin, item.proc, pal) << '\n';
    std::string child_prefix = item.prefix;
    if (!item.root && item.depth <= kMaxIndent) child_prefix += item.last ? "   " : "│  ";
    const auto& ch = lin.procs[item.proc].children;
    for (size_t k = ch.size(); k-- > 0;)
      stack.push_back({ch[k], child_prefix, k + 1 == ch.size(), false, item.depth + 1});
  }

  size_t n = 0, runaways = 0, escaped = 0, unknown = 0;
  for (const auto& p : lin.procs) {
    if (p.is_launcher || p.is_progeny_helper()) continue;
    ++n;
    runaways += p.runaway;
    escaped += p.escaped();
    unknown += p.end == EndKind::kUnknown && !p.stopped_by_progeny();
  }
  out << '\n' << n << " processes, " << escaped << " escaped their group, " << runaways
      << " runaways, " << unknown << " with unknown exit";
  if (lin.lost_shim || lin.lost_bpf || lin.lost_log)
    out << "; " << pal.wrap("1;31", "records lost: shim " + std::to_string(lin.lost_shim) +
                                        ", bpf " + std::to_string(lin.lost_bpf) + ", log " +
                                        std::to_string(lin.lost_log));
  if (lin.unreadable_lines) out << "; " << lin.unreadable_lines << " unreadable log lines";
  out << '\n';
}

}  // namespace progeny
