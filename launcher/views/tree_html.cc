// `progeny tree --format html`: one self-contained interactive page (no network, no external
// script, style or font). The C++ side writes the data as JSON inside
// <script type="application/json">; the page's script (html_report_script.h) folds, filters,
// searches and draws it. Everything argv-derived is computed here by the same functions as the
// other views (exec_chain_text, end_text, marks_of, how_escaped), so the page cannot disagree.
#include <string>
#include <string_view>

#include "launcher/views/html_report_markup.h"
#include "launcher/views/html_report_script.h"
#include "launcher/views/html_report_style.h"
#include "launcher/views/runaway_report.h"
#include "launcher/views/tree_views.h"
#include "launcher/views/view_util.h"
#include "schema/json_string.h"

namespace progeny {

namespace {

// A JSON string literal that is also inert inside an HTML <script> element: the log's JSON
// escaping (control bytes, invalid UTF-8, U+2028/U+2029) plus '<', '>' and '&' as \u escapes,
// so neither "</script>" nor "<!--" can end or alter the element, whatever the argv.
void put_string(std::ostream& out, std::string_view s) {
  std::string lit(6 * s.size() + 2, '\0');
  size_t used = 0;
  progeny_json_string(lit.data(), &used, lit.size(), s.data(), s.size());
  std::string safe;  // written at once: a stream insertion per byte was most of the page's time
  safe.reserve(used);
  for (size_t i = 0; i < used; ++i) {
    char c = lit[i];
    if (c == '<') safe += "\\u003c";
    else if (c == '>') safe += "\\u003e";
    else if (c == '&') safe += "\\u0026";
    else safe += c;
  }
  out.write(safe.data(), static_cast<std::streamsize>(safe.size()));
}

// Argv as the other views show it: control bytes and invalid UTF-8 made visible (\xNN).
void put_strings(std::ostream& out, const std::vector<std::string>& v) {
  out << '[';
  for (size_t k = 0; k < v.size(); ++k) {
    if (k) out << ',';
    put_string(out, printable(v[k]));
  }
  out << ']';
}

template <typename T>
void put_opt(std::ostream& out, const std::optional<T>& v) {
  if (v) out << *v;
  else out << "null";
}

// How the page colours a process: by how it ended.
const char* end_class(const ProcessNode& p) {
  if (p.is_launcher || p.is_progeny_helper()) return "progeny";
  if (p.stopped_by_progeny()) return "stopped";
  if (p.end == EndKind::kExited) return p.exit_code == 0 ? "ok" : "fail";
  if (p.end == EndKind::kSignaled) return "signal";
  return "unknown";
}

// What identical siblings share to be folded into one row: the programs they ran (not their
// arguments: 175 compiles of different files are one row), their title, and how they ended.
std::string fold_key(const Lineage& lin, size_t i) {
  const ProcessNode& p = lin.procs[i];
  if (p.execs.empty()) return exec_chain_text(lin, i);
  std::string key = p.title.empty() ? "" : title_text(p) + " ";
  for (size_t k = 0; k < p.execs.size(); ++k)
    key += (k ? " → " : "") + printable(base_name(p.execs[k].path));
  return key;
}

// The runaway report's judgement of a runaway, from what the log recorded of it and of
// COMMAND (how_escaped and origin_kind, as `progeny run` reports leftovers on stderr).
struct RunawayJudge {
  RunawayContext ctx;
  explicit RunawayJudge(const Lineage& lin) {
    if (lin.launcher) ctx.launcher_pid = lin.procs[*lin.launcher].pid;
    for (const auto& p : lin.procs)
      if (p.role == "pidns_init") ctx.init_pid = p.pid;
    if (lin.command) {
      const ProcessNode& c = lin.procs[*lin.command];
      ctx.command_pid = c.pid;
      ctx.command_pgid = c.pgid.value_or(-1);
      ctx.command_sid = c.sid.value_or(-1);
    }
  }
  void put(std::ostream& out, const Lineage& lin, const ProcessNode& p) const {
    RunawayProcess r;
    r.pid = p.pid;
    r.ppid = p.ppid;
    r.described = p.pgid && p.sid;
    r.pgid = p.pgid.value_or(0);
    r.sid = p.sid.value_or(0);
    if (p.parent && p.parent_is_creator) r.creator = lin.procs[*p.parent].pid;
    Escape e = how_escaped(r, ctx);
    out << "{\"kind\":";
    put_string(out, e.kind);
    out << ",\"text\":";
    put_string(out, e.text);
    out << ",\"origin\":";
    put_string(out, origin_kind(r, ctx));
    out << '}';
  }
};

void put_process(std::ostream& out, const Lineage& lin, size_t i, const RunawayJudge& judge) {
  const ProcessNode& p = lin.procs[i];
  auto rel = [&](uint64_t t) { return t - std::min(t, lin.t0_ns); };
  uint64_t from = p.born_ns.value_or(p.first_seen_ns);
  uint64_t to = std::max(from, p.ended_ns.value_or(p.last_seen_ns));
  out << "{\"pid\":" << p.pid << ",\"parent\":";
  put_opt(out, p.parent);
  out << ",\"kids\":[";
  for (size_t k = 0; k < p.children.size(); ++k) out << (k ? "," : "") << p.children[k];
  out << "],\"ppid\":" << p.ppid << ",\"pgid\":";
  put_opt(out, p.pgid);
  out << ",\"sid\":";
  put_opt(out, p.sid);
  out << ",\"via\":";
  put_string(out, p.via);
  out << ",\"start\":" << rel(from) << ",\"end\":" << rel(to)
      << ",\"ended\":" << (p.ended_ns ? "true" : "false") << ",\"line\":";
  put_string(out, exec_chain_text(lin, i, SIZE_MAX / 8));
  out << ",\"key\":";
  put_string(out, fold_key(lin, i));
  out << ",\"execs\":[";
  for (size_t k = 0; k < p.execs.size(); ++k) {
    const ExecStep& e = p.execs[k];
    out << (k ? "," : "") << "{\"path\":";
    put_string(out, printable(e.path));
    out << ",\"argv\":";
    put_strings(out, e.argv);
    out << ",\"cut\":" << (e.argv_truncated ? "true" : "false") << '}';
  }
  out << "],\"life\":";
  put_string(out, p.is_launcher ? "" : lifetime_text(p));
  out << ",\"exit\":";
  put_string(out, end_text(p));
  out << ",\"class\":\"" << end_class(p) << "\",\"command\":" << (p.is_command ? "true" : "false")
      << ",\"marks\":";
  put_strings(out, marks_of(p));
  out << ",\"signals\":[";
  for (size_t k = 0; k < p.signals.size(); ++k) {
    out << (k ? "," : "");
    put_string(out, p.signals[k].signal + " (" + p.signals[k].reason + ")");
  }
  out << "],\"escape\":";
  if (p.runaway) judge.put(out, lin, p);
  else out << "null";
  // Every figure of the exit records, named as in the log: the page picks unit and folding by
  // the name (an inclusive one is never added up); "unknown" where no record had it. The
  // lifetime is the tracker's, else birth to exit as the records show them.
  std::optional<uint64_t> lifetime = p.cost.lifetime_ns;
  if (!lifetime && p.ended_ns && p.born_ns) lifetime = *p.ended_ns - std::min(from, *p.ended_ns);
  const std::pair<const char*, std::optional<uint64_t>> figures[] = {
      {"cpu_user_ns", p.cost.self.cpu_user_ns},
      {"cpu_system_ns", p.cost.self.cpu_system_ns},
      {"peak_rss_kb", p.cost.self.peak_rss_kb},
      {"lifetime_ns", lifetime},
      {"inclusive_cpu_user_ns", p.cost.inclusive.cpu_user_ns},
      {"inclusive_cpu_system_ns", p.cost.inclusive.cpu_system_ns},
      {"inclusive_peak_rss_kb", p.cost.inclusive.peak_rss_kb},
  };
  out << ",\"cost\":{";
  for (size_t k = 0; k < std::size(figures); ++k) {
    out << (k ? ",\"" : "\"") << figures[k].first << "\":";
    if (figures[k].second) out << *figures[k].second;
    else out << "\"unknown\"";
  }
  // What `--sort` ranks it by (fold.h's sort_value), so the page orders siblings as the
  // other views do.
  out << "},\"rank\":{";
  for (size_t k = 0; k < std::size(kSortNames); ++k) {
    out << (k ? ",\"" : "\"") << kSortNames[k].name << "\":";
    put_opt(out, sort_value(p, kSortNames[k].key));
  }
  out << "}}";
}

// The fragment the page opens with: the command line's filters and order.
void put_start(std::ostream& out, const FilterSpec& filter, const FoldSpec& fold) {
  std::vector<std::pair<const char*, std::string>> start;
  if (filter.runaways) start.emplace_back("filter", "runaways");
  else if (filter.failures) start.emplace_back("filter", "failures");
  if (!filter.match.empty()) start.emplace_back("argv", filter.match);
  if (filter.subtree) start.emplace_back("pid", std::to_string(filter.subtree));
  if (filter.max_depth) start.emplace_back("depth", std::to_string(*filter.max_depth));
  if (fold.expand) start.emplace_back("expand", "all");
  for (const auto& s : kSortNames)
    if (s.key == fold.sort && s.key != SortKey::kStart) start.emplace_back("sort", s.name);
  out << '{';
  for (size_t k = 0; k < start.size(); ++k) {
    out << (k ? ",\"" : "\"") << start[k].first << "\":";
    put_string(out, start[k].second);
  }
  out << '}';
}

void put_data(std::ostream& out, const Lineage& lin, const FilterSpec& filter,
              const FoldSpec& fold) {
  auto rel = [&](std::optional<uint64_t> t) {
    return t ? std::to_string(*t - std::min(*t, lin.t0_ns)) : std::string("null");
  };
  out << "{\"schema\":\"progeny-html/1\",\"span_ns\":" << lin.t1_ns - lin.t0_ns
      << ",\"events\":" << lin.events << ",\"unreadable_lines\":" << lin.unreadable_lines
      << ",\"lost\":{\"shim\":" << lin.lost_shim << ",\"bpf\":" << lin.lost_bpf
      << ",\"log\":" << lin.lost_log << "},\"command_exit_ns\":" << rel(lin.command_exit_ns)
      << ",\"stop_ns\":" << rel(lin.stop_begin_ns) << ",\"start\":";
  put_start(out, filter, fold);
  out << ",\"roots\":[";
  for (size_t k = 0; k < lin.roots.size(); ++k) out << (k ? "," : "") << lin.roots[k];
  out << "],\"procs\":[";
  RunawayJudge judge(lin);
  for (size_t i = 0; i < lin.procs.size(); ++i) {
    if (i) out << ",\n";
    put_process(out, lin, i, judge);
  }
  out << "]}";
}

}  // namespace

void render_html(const Lineage& lin, std::ostream& out, const FilterSpec& filter,
                 const FoldSpec& fold) {
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>progeny report</title>\n<style>"
      << kHtmlReportStyle << "</style>\n</head>\n<body>\n"
      << kHtmlReportMarkup << "<script type=\"application/json\" id=\"progeny-data\">";
  put_data(out, lin, filter, fold);
  out << "</script>\n<script>" << kHtmlReportScript << "</script>\n</body>\n</html>\n";
}

}  // namespace progeny
