// `progeny tree --format svg`: a self-contained timeline (no scripts, no external fonts or
// styles) that any browser shows: one row per group of folded siblings (launcher/views/fold.h)
// in tree order, indented under its creator's, with a bar per process coloured by how it
// ended and a fork link from the creator's row. Folding keeps a 2000-process build a few
// dozen rows tall, within what rsvg-convert and browsers draw.
#include <cstdint>
#include <cstdio>
#include <string>

#include "launcher/views/group_text.h"
#include "launcher/views/tree_views.h"
#include "launcher/views/view_util.h"

namespace progeny {

namespace {

constexpr double kLabelW = 380, kChartW = 900, kRowH = 16, kTop = 64, kIndent = 10;
constexpr int kMaxIndent = 24;

const char* fill_for(const ProcessNode& p) {
  if (p.is_launcher) return "#9e9e9e";
  if (p.stopped_by_progeny()) return "#8e24aa";
  if (p.end == EndKind::kExited) return p.exit_code == 0 ? "#43a047" : "#fb8c00";
  if (p.end == EndKind::kSignaled) return "#e53935";
  return "#90a4ae";
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

void render_svg(const Lineage& lin, const FoldedTree& tree, std::ostream& out,
                const TreeLook& look) {
  auto order = tree.preorder();
  std::vector<size_t> row(tree.groups.size(), 0);
  for (size_t k = 0; k < order.size(); ++k) row[order[k]] = k;
  double span = static_cast<double>(std::max<uint64_t>(lin.t1_ns - lin.t0_ns, 1));
  auto x_of = [&](uint64_t t) {
    return kLabelW + static_cast<double>(t - std::min(t, lin.t0_ns)) / span * kChartW;
  };
  auto y_of = [&](size_t r) { return kTop + static_cast<double>(r) * kRowH; };
  double width = kLabelW + kChartW + 20, height = y_of(order.size()) + 10;

  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(width) << "\" height=\""
      << num(height) << "\" font-family=\"monospace\" font-size=\"11\">\n"
      << "<title>progeny process timeline</title>\n"
      << "<defs><clipPath id=\"labels\"><rect x=\"0\" y=\"0\" width=\"" << num(kLabelW - 6)
      << "\" height=\"" << num(height) << "\"/></clipPath></defs>\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";

  // Legend and time axis.
  const std::pair<const char*, const char*> legend[] = {
      {"#43a047", "exit 0"}, {"#fb8c00", "exit ≠ 0"}, {"#e53935", "signal"},
      {"#8e24aa", "stopped by progeny"}, {"#90a4ae", "exit unknown"}};
  double lx = 8;
  for (const auto& [color, text] : legend) {
    out << "<rect x=\"" << num(lx) << "\" y=\"6\" width=\"12\" height=\"10\" fill=\"" << color
        << "\"/><text x=\"" << num(lx + 16) << "\" y=\"15\">" << text << "</text>\n";
    lx += 40 + 7.0 * static_cast<double>(std::string_view(text).size());
  }
  out << "<rect x=\"" << num(lx) << "\" y=\"6\" width=\"12\" height=\"10\" fill=\"none\" "
         "stroke=\"#d32f2f\" stroke-width=\"2\"/><text x=\""
      << num(lx + 16) << "\" y=\"15\">runaway</text>\n";
  for (int k = 0; k <= 5; ++k) {
    double x = kLabelW + kChartW * k / 5;
    auto t = static_cast<uint64_t>(span * k / 5);
    out << "<line x1=\"" << num(x) << "\" y1=\"" << num(kTop - 22) << "\" x2=\"" << num(x)
        << "\" y2=\"" << num(height) << "\" stroke=\"#eeeeee\"/><text x=\"" << num(x)
        << "\" y=\"" << num(kTop - 26) << "\" text-anchor=\"middle\">+"
        << xml_escape(format_duration(t)) << "</text>\n";
  }
  if (lin.command_exit_ns) {
    double x = x_of(*lin.command_exit_ns);
    // Near the right edge the label goes left of the line, or the picture would clip it.
    bool near_end = x > kLabelW + kChartW - 110;
    out << "<line x1=\"" << num(x) << "\" y1=\"" << num(kTop - 18) << "\" x2=\"" << num(x)
        << "\" y2=\"" << num(height) << "\" stroke=\"#d32f2f\" stroke-dasharray=\"4 3\"/>"
        << "<text x=\"" << num(near_end ? x - 3 : x + 3) << "\" y=\"" << num(kTop - 8)
        << "\" fill=\"#d32f2f\" text-anchor=\"" << (near_end ? "end" : "start")
        << "\">COMMAND exited</text>\n";
  }

  for (size_t gid : order) {
    const Group& g = tree.groups[gid];
    const ProcessNode& rep = lin.procs[g.members.front()];
    double y = y_of(row[gid]);
    std::string label = (g.members.size() == 1 ? std::to_string(rep.pid) + " " : "") +
                        group_command(lin, g, look.full_argv ? 160 : 56);
    std::string tip = (g.members.size() == 1 ? std::to_string(rep.pid) + " " : "") +
                      group_command(lin, g, look.full_argv ? SIZE_MAX : 200) + "\n" +
                      (rep.is_launcher ? "progeny" : group_lifetime(lin, g) + ", " + end_text(rep));
    for (const auto& m : marks_of(rep)) tip += "\n" + m;
    if (g.members.size() > 1) tip += "\n" + group_pids(lin, g);
    if (g.cut_below) tip += "\n+" + std::to_string(g.cut_below) + " below --max-depth";
    auto from_of = [](const ProcessNode& p) { return p.born_ns.value_or(p.first_seen_ns); };
    if (g.parent) {
      double px = x_of(from_of(rep)), py = y_of(row[*g.parent]) + kRowH / 2;
      out << "<line x1=\"" << num(px) << "\" y1=\"" << num(py) << "\" x2=\"" << num(px)
          << "\" y2=\"" << num(y + kRowH / 2) << "\" stroke=\"#bdbdbd\"/>\n";
    }
    out << "<g><title>" << xml_escape(tip) << "</title>";
    out << "<text x=\"" << num(6 + kIndent * std::min(g.depth, kMaxIndent)) << "\" y=\""
        << num(y + 12) << "\" clip-path=\"url(#labels)\"" << (g.context ? " fill=\"#9e9e9e\"" : "")
        << ">" << xml_escape(label) << "</text>";
    // Every member's bar in the group's row: folded siblings overlap where they ran at once.
    for (size_t i : g.members) {
      const ProcessNode& p = lin.procs[i];
      uint64_t from = from_of(p);
      uint64_t to = std::max(from, p.ended_ns.value_or(p.last_seen_ns));
      double x0 = x_of(from), w = std::max(1.5, x_of(to) - x0);
      out << "<rect x=\"" << num(x0) << "\" y=\"" << num(y + 2) << "\" width=\"" << num(w)
          << "\" height=\"" << num(kRowH - 4) << "\" fill=\"" << fill_for(p) << "\"";
      if (!p.ended_ns) out << " fill-opacity=\"0.5\"";
      if (p.runaway) out << " stroke=\"#d32f2f\" stroke-width=\"2\"";
      else if (p.escaped()) out << " stroke=\"#f9a825\" stroke-width=\"1.5\"";
      out << "/>";
      for (const auto& e : p.execs)
        out << "<line x1=\"" << num(x_of(e.time_ns)) << "\" y1=\"" << num(y + 1) << "\" x2=\""
            << num(x_of(e.time_ns)) << "\" y2=\"" << num(y + kRowH - 1)
            << "\" stroke=\"#212121\"/>";
      for (auto t : {p.setsid_ns, p.setpgid_ns})
        if (t)
          out << "<circle cx=\"" << num(x_of(*t)) << "\" cy=\"" << num(y + kRowH / 2)
              << "\" r=\"3.5\" fill=\"#fdd835\" stroke=\"#212121\"/>";
    }
    out << "</g>\n";
  }
  out << "</svg>\n";
}

}  // namespace progeny
