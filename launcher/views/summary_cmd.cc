// `progeny summary`: the fork audit of a lineage log, as text or JSON.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "launcher/os/exit_codes.h"
#include "launcher/views/commands.h"
#include "launcher/views/summary.h"
#include "launcher/views/view_args.h"
#include "launcher/views/view_util.h"

namespace progeny {

namespace {

// Creating calls in a fixed order, so columns line up across runs.
const char* const kVias[] = {"fork", "vfork", "clone", "posix_spawn", "system",
                             "popen", "daemon", "spawn", "bpf", "proc", "?"};

// A process's command line cut in the middle to max_chars characters: the start names the
// program, the end what it worked on (every compile starts alike; its file is at the end).
std::string named(const Lineage& lin, size_t proc, size_t max_chars = 72) {
  std::string text = exec_chain_text(lin, proc, 4096);
  std::vector<size_t> starts;  // byte offset of each character (the text is valid UTF-8)
  for (size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  if (starts.size() <= max_chars) return text;
  size_t head = (max_chars - 1) / 2, tail = max_chars - 1 - head;
  return text.substr(0, starts[head]) + "…" + text.substr(starts[starts.size() - tail]);
}

std::string format_kib(uint64_t kib) {
  char buf[32];
  if (kib < 1024) std::snprintf(buf, sizeof buf, "%lu KiB", static_cast<unsigned long>(kib));
  else if (kib < 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(kib) / 1024);
  else std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(kib) / (1024 * 1024));
  return buf;
}

std::string unranked(size_t n) {
  return n ? "; " + std::to_string(n) + " ended without it, not ranked" : "";
}

void render_top(const Lineage& lin, const TopLists& t, std::ostream& out) {
  char buf[64];
  auto list = [&](const std::string& title, const std::vector<Ranked>& items, auto value_text) {
    out << title << ":\n";
    if (items.empty()) out << "  (none)\n";
    for (const Ranked& r : items) {
      std::snprintf(buf, sizeof buf, "  %7d %10s  ", lin.procs[r.proc].pid, value_text(r).c_str());
      out << buf << named(lin, r.proc) << '\n';
    }
  };
  out << "\nTop " << TopLists::kLength
      << " (each process's own figures, never wait4's inclusive ones, which hold its subtree):\n";
  list("Longest-lived (birth to exit" + unranked(t.no_lifetime) + ")", t.longest_lived,
       [](const Ranked& r) { return format_duration(r.value); });
  list("Most CPU (user + system" + unranked(t.no_cpu) + ")", t.most_cpu,
       [](const Ranked& r) { return format_duration(r.value); });
  list("Largest peak RSS (resident set, highest over all its images" + unranked(t.no_rss) + ")",
       t.largest_rss, [](const Ranked& r) { return format_kib(r.value); });
  list("Most children (processes it created itself)", t.most_children,
       [](const Ranked& r) { return std::to_string(r.value); });
  out << "Failures (non-zero exit, or a signal progeny did not send): " << t.failure_count;
  if (t.failure_count > t.failures.size()) out << ", the first " << t.failures.size() << " shown";
  out << '\n';
  for (size_t i : t.failures) {
    std::snprintf(buf, sizeof buf, "  %7d ", lin.procs[i].pid);
    out << buf << end_text(lin.procs[i]) << "  " << named(lin, i) << '\n';
  }
}

// What each column of the executables table counts: the legend under the table.
void explain_columns(const std::vector<std::string>& cols, std::ostream& out) {
  static const std::pair<const char*, const char*> kMeaning[] = {
      {"fork", "fork()"}, {"vfork", "vfork()"}, {"clone", "clone()"},
      {"posix_spawn", "posix_spawn()"}, {"system", "system()"}, {"popen", "popen()"},
      {"daemon", "daemon()"}, {"spawn", "started by progeny's launcher (COMMAND)"},
      {"bpf", "seen only by the tracker, which cannot tell the call (a static or setuid "
              "program, raw clone3)"},
      {"proc", "found by a /proc walk, not seen being born"},
      {"?", "no record says which call (only an exec named its parent)"}};
  out << "\nEXECUTABLE: the creator's program when it forked. CREATED: processes it created, "
         "by call:\n";
  for (const auto& c : cols)
    for (const auto& [via, meaning] : kMeaning)
      if (c == via) out << "  " << via << ": " << meaning << '\n';
  out << "SETSID, SETPGID: processes running it that called setsid()/setpgid() (escaped their "
         "session or group). THREAD: created from a thread other than the main one.\n";
}

void render_text(const Lineage& lin, const Summary& s, std::ostream& out) {
  out << "Log: " << s.events << " events";
  if (s.unreadable_lines) out << ", " << s.unreadable_lines << " unreadable lines skipped";
  out << "\nProcesses: " << s.processes;
  if (lin.command) {
    const ProcessNode& c = lin.procs[*lin.command];
    out << " (COMMAND " << c.pid << " " << exec_chain_text(lin, *lin.command, 60) << ", "
        << end_text(c) << ")";
  }
  out << "\nMax depth: " << s.max_depth << "    Max alive at once: " << s.max_alive
      << (s.max_alive_at_most ? " at most (exits timed when progeny saw them, not by the tracker)"
                              : "")
      << "\nEscapes: " << s.setsid << " called setsid, " << s.setpgid << " called setpgid, "
      << s.daemon << " created by daemon()\nForks from non-main threads: " << s.thread_forks
      << (lin.stop_begin_ns ? "\nRunaways (still running when progeny's stop began): "
                            : "\nRunaways (alive after COMMAND exited): ")
      << s.runaways.size() << '\n';
  for (size_t i : s.runaways) {
    const ProcessNode& p = lin.procs[i];
    out << "  " << p.pid << " " << exec_chain_text(lin, i, 60);
    if (p.parent && p.parent_is_creator) {
      out << "  (created by " << lin.procs[*p.parent].pid << ")";
    } else if (p.parent) {
      const ProcessNode& par = lin.procs[*p.parent];
      out << "  (creator unknown; "
          << (par.is_launcher ? std::string("adopted by progeny")
                              : "parent when found: " + std::to_string(par.pid))
          << ")";
    }
    for (const auto& m : marks_of(p))
      if (m != "runaway") out << " [" << m << "]";
    out << '\n';
  }
  out << "Lost: shim " << s.lost_shim << ", bpf " << s.lost_bpf << " events; "
      << s.unknown_exits << " exits unobserved; " << s.no_creation_record
      << " processes without a creation record\n";
  render_top(lin, s.top, out);
  out << '\n';

  std::vector<std::string> cols;
  for (const char* v : kVias)
    for (const auto& e : s.executables)
      if (e.via.count(v)) {
        cols.push_back(v);
        break;
      }
  size_t w = 10;
  for (const auto& e : s.executables) w = std::max(w, std::min<size_t>(printable(e.path).size(), 48));
  char buf[128];
  std::snprintf(buf, sizeof buf, "%-*s %7s", static_cast<int>(w), "EXECUTABLE", "CREATED");
  out << buf;
  for (const auto& c : cols) {
    std::snprintf(buf, sizeof buf, " %*s", static_cast<int>(std::max<size_t>(c.size(), 4)),
                  c.c_str());
    out << buf;
  }
  out << "  SETSID SETPGID THREAD\n";
  for (const auto& e : s.executables) {
    std::string name = printable(e.path);
    if (name.size() > w) name = "…" + name.substr(name.size() - w + 1);
    std::snprintf(buf, sizeof buf, "%-*s %7zu", static_cast<int>(w), name.c_str(), e.created);
    out << buf;
    for (const auto& c : cols) {
      auto it = e.via.find(c);
      std::snprintf(buf, sizeof buf, " %*zu", static_cast<int>(std::max<size_t>(c.size(), 4)),
                    it == e.via.end() ? 0 : it->second);
      out << buf;
    }
    std::snprintf(buf, sizeof buf, "  %6zu %7zu %6zu\n", e.setsid, e.setpgid, e.thread_forks);
    out << buf;
  }
  explain_columns(cols, out);
}

using ojson = nlohmann::ordered_json;

// Each list's entries name the process and the figure it was ranked by (self figures only).
ojson top_json(const Lineage& lin, const TopLists& t) {
  auto who = [&](size_t i) {
    const ProcessNode& p = lin.procs[i];
    return ojson{{"pid", p.pid}, {"start_time", p.start_time ? ojson(*p.start_time) : ojson()},
                 {"command", exec_chain_text(lin, i, 200)}};
  };
  auto list = [&](const std::vector<Ranked>& items, const char* unit) {
    ojson a = ojson::array();
    for (const Ranked& r : items) {
      ojson e = who(r.proc);
      e[unit] = r.value;
      a.push_back(std::move(e));
    }
    return a;
  };
  ojson failures = ojson::array();
  for (size_t i : t.failures) {
    ojson e = who(i);
    e["end"] = end_text(lin.procs[i]);
    failures.push_back(std::move(e));
  }
  return {{"length", TopLists::kLength},
          {"longest_lived", list(t.longest_lived, "lifetime_ns")},
          {"most_cpu", list(t.most_cpu, "cpu_ns")},
          {"largest_rss", list(t.largest_rss, "peak_rss_kb")},
          {"most_children", list(t.most_children, "children")},
          {"failures", std::move(failures)},
          {"failure_count", t.failure_count},
          {"unranked", {{"lifetime", t.no_lifetime}, {"cpu", t.no_cpu}, {"rss", t.no_rss}}}};
}

// One field a line, and the runaways one a line as they are made: at 1,000,000 events a
// log can have 300,000 runaways, whose document would be most of the view's memory.
void render_json(const Lineage& lin, const Summary& s, std::ostream& out) {
  auto dump = [](const ojson& v) { return v.dump(-1, ' ', false, ojson::error_handler_t::replace); };
  bool first = true;
  auto field = [&](const char* key, const ojson& v) {
    out << (first ? "{\n " : ",\n ") << dump(key) << ": " << dump(v);
    first = false;
  };
  field("schema", "progeny-summary/1");
  field("events", s.events);
  field("unreadable_lines", s.unreadable_lines);
  field("processes", s.processes);
  ojson command;
  if (lin.command) {
    const ProcessNode& c = lin.procs[*lin.command];
    command = {{"pid", c.pid}, {"end", end_text(c)}};
  }
  field("command", command);
  field("max_depth", s.max_depth);
  field("max_alive", s.max_alive);
  field("max_alive_at_most", s.max_alive_at_most);
  field("setsid", s.setsid);
  field("setpgid", s.setpgid);
  field("daemon", s.daemon);
  field("thread_forks", s.thread_forks);
  out << ",\n \"runaways\": [";
  for (size_t k = 0; k < s.runaways.size(); ++k) {
    const ProcessNode& p = lin.procs[s.runaways[k]];
    ojson r = {{"pid", p.pid}, {"start_time", p.start_time ? ojson(*p.start_time) : ojson()},
               {"command", exec_chain_text(lin, s.runaways[k], 200)}, {"marks", marks_of(p)}};
    r["created_by"] = p.parent ? ojson(lin.procs[*p.parent].pid) : ojson();
    out << (k ? ",\n  " : "\n  ") << dump(r);
  }
  out << (s.runaways.empty() ? "]" : "\n ]");
  field("lost", {{"shim", s.lost_shim}, {"bpf", s.lost_bpf}});
  field("unknown_exits", s.unknown_exits);
  field("no_creation_record", s.no_creation_record);
  ojson exes = ojson::array();
  for (const auto& e : s.executables)
    exes.push_back({{"path", e.path}, {"created", e.created}, {"via", e.via},
                    {"setsid", e.setsid}, {"setpgid", e.setpgid}, {"daemon", e.daemon},
                    {"thread_forks", e.thread_forks}});
  field("executables", exes);
  field("top", top_json(lin, s.top));
  out << "\n}\n";
}

}  // namespace

int summary_main(int argc, char** argv) {
  ViewArgs args;
  if (auto status = cli::parse_main_args(summary_command_line(&args), argc, argv)) return *status;
  auto lin = load_lineage(args, "summary");
  if (!lin) return kExitProgenyError;
  Summary s = summarize(*lin);
  std::ostringstream out;
  if (args.format == "json") render_json(*lin, s, out);
  else render_text(*lin, s, out);
  std::string text = std::move(out).str();
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout)) {
    std::fprintf(stderr, "progeny summary: writing the output failed\n");
    return kExitProgenyError;
  }
  return 0;
}

}  // namespace progeny
