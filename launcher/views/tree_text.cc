// `progeny tree` text format: a pstree-like tree, one process (or folded group) a line.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "launcher/views/group_text.h"
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

// Whole command lines under --full-argv: broken at spaces into lines of at most `width`
// characters (a longer word is broken where it must).
std::vector<std::string> wrap(const std::string& text, size_t width) {
  std::vector<std::string> lines;
  std::string line, word;
  auto flush_word = [&] {
    while (char_count(word) > width) {  // a word longer than a line: cut it into lines
      if (!line.empty()) lines.push_back(std::move(line)), line.clear();
      size_t i = 0;  // printable() text is valid UTF-8: skip continuation bytes
      for (size_t chars = 0; i < word.size() && chars < width; ++chars)
        for (++i; i < word.size() && (static_cast<unsigned char>(word[i]) & 0xC0) == 0x80;) ++i;
      lines.push_back(word.substr(0, i));
      word.erase(0, i);
    }
    if (!line.empty() && char_count(line) + 1 + char_count(word) > width)
      lines.push_back(std::move(line)), line.clear();
    line += (line.empty() ? "" : " ") + word;
    word.clear();
  };
  for (char c : text) {
    if (c == ' ') flush_word();
    else word.push_back(c);
  }
  flush_word();
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

// What follows the command: lifetime, end, marks.
std::string status_for(const Lineage& lin, const Group& g, const Palette& pal) {
  const ProcessNode& p = lin.procs[g.members.front()];
  if (p.is_launcher || p.is_progeny_helper()) return "  " + pal.wrap("2", "[progeny]");
  std::string s = "  " + group_lifetime(lin, g);
  if (std::string end = end_text(p); !end.empty()) s += "  " + pal.wrap(end_color(p), end);
  if (p.is_command) s += "  " + pal.wrap("1", "[COMMAND]");
  for (const auto& m : marks_of(p)) s += " " + pal.wrap(mark_color(m), "[" + m + "]");
  if (g.members.size() > 1) s += "  " + pal.wrap("2", "(" + group_pids(lin, g) + ")");
  if (g.cut_below)
    s += "  " + pal.wrap("2", "(+" + std::to_string(g.cut_below) + " below --max-depth)");
  return s;
}

// The group's lines: the command (one cut line, or wrapped whole) and its status.
std::vector<std::string> lines_for(const Lineage& lin, const Group& g, const Palette& pal,
                                   const TreeLook& look, size_t width) {
  size_t rep = g.members.front();
  std::string who = g.members.size() == 1
                        ? pal.wrap("1", std::to_string(lin.procs[rep].pid))
                        : pal.wrap("1", std::to_string(g.members.size()) + " ×");
  if (g.context) who = pal.wrap("2", "·") + " " + who;
  std::vector<std::string> cmd{exec_chain_text(lin, rep, look.full_argv ? SIZE_MAX : 72)};
  if (look.full_argv) cmd = wrap(cmd.front(), width);
  cmd.front() = who + " " + cmd.front();
  cmd.back() += status_for(lin, g, pal);
  return cmd;
}

}  // namespace

void render_text(const Lineage& lin, const FoldedTree& tree, std::ostream& out,
                 const TreeLook& look) {
  Palette pal{look.color};
  // Depth-first with the connector prefix of each level, iteratively (chains can be deep).
  struct Item {
    size_t group;
    std::string prefix;  // drawn before this node's connector
    bool last;
    bool root;
  };
  std::vector<Item> stack;
  for (size_t k = tree.roots.size(); k-- > 0;)
    stack.push_back({tree.roots[k], "", k + 1 == tree.roots.size(), true});
  bool cut_seen = false;
  size_t rows = 0;
  while (!stack.empty()) {
    Item item = std::move(stack.back());
    stack.pop_back();
    const Group& g = tree.groups[item.group];
    std::string head = item.root ? "" : item.prefix + (item.last ? "└─ " : "├─ ");
    if (g.depth > kMaxIndent) head += "[depth " + std::to_string(g.depth) + "] ";
    std::string child_prefix = item.prefix;
    if (!item.root && g.depth <= kMaxIndent) child_prefix += item.last ? "   " : "│  ";
    // Continuation lines of a wrapped command hang under it, inside the subtree's rail.
    std::string more = child_prefix + (g.children.empty() ? "    " : "│   ");
    size_t width = std::max<size_t>(40, 120 - std::min<size_t>(120, char_count(more)));
    auto lines = lines_for(lin, g, pal, look, width);
    out << head << lines.front() << '\n';
    for (size_t k = 1; k < lines.size(); ++k) out << more << lines[k] << '\n';
    cut_seen = cut_seen || (!look.full_argv && lines.front().find("…") != std::string::npos);
    ++rows;
    for (size_t k = g.children.size(); k-- > 0;)
      stack.push_back({g.children[k], child_prefix, k + 1 == g.children.size(), false});
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
  if (rows < tree.shown)
    out << rows << " lines show " << tree.shown
        << " processes (progeny's own included): siblings that ran the same programs and ended "
           "the same way are folded into one (N ×); --expand shows each\n";
  if (tree.shown < lin.procs.size())
    out << lin.procs.size() - tree.shown << " of " << lin.procs.size()
        << " not shown (filters, --max-depth); a · line is only the way to what matched\n";
  if (cut_seen)
    out << "Long commands keep the program and the last arguments, … marks the cut; "
           "--full-argv shows them whole\n";
}

}  // namespace progeny
