// `progeny summary`: the fork audit of a lineage log, as text or JSON.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "launcher/os/exit_codes.h"
#include "launcher/views/commands.h"
#include "launcher/views/summary.h"
#include "launcher/views/view_args.h"
#include "launcher/views/view_util.h"

namespace progeny {

namespace {

// Creating calls in a fixed order, so columns line up across runs.
const char* const kVias[] = {"fork", "vfork", "clone", "posix_spawn", "system",
                             "popen", "daemon", "bpf", "?"};

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
      << " processes without a creation record\n\n";

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
}

void render_json(const Lineage& lin, const Summary& s, std::ostream& out) {
  using ojson = nlohmann::ordered_json;
  ojson doc;
  doc["schema"] = "progeny-summary/1";
  doc["events"] = s.events;
  doc["unreadable_lines"] = s.unreadable_lines;
  doc["processes"] = s.processes;
  doc["command"] = nullptr;
  if (lin.command) {
    const ProcessNode& c = lin.procs[*lin.command];
    doc["command"] = {{"pid", c.pid}, {"end", end_text(c)}};
  }
  doc["max_depth"] = s.max_depth;
  doc["max_alive"] = s.max_alive;
  doc["setsid"] = s.setsid;
  doc["setpgid"] = s.setpgid;
  doc["daemon"] = s.daemon;
  doc["thread_forks"] = s.thread_forks;
  ojson runaways = ojson::array();
  for (size_t i : s.runaways) {
    const ProcessNode& p = lin.procs[i];
    ojson r = {{"pid", p.pid}, {"start_time", p.start_time ? ojson(*p.start_time) : ojson()},
               {"command", exec_chain_text(lin, i, 200)}, {"marks", marks_of(p)}};
    r["created_by"] = p.parent ? ojson(lin.procs[*p.parent].pid) : ojson();
    runaways.push_back(std::move(r));
  }
  doc["runaways"] = std::move(runaways);
  doc["lost"] = {{"shim", s.lost_shim}, {"bpf", s.lost_bpf}};
  doc["unknown_exits"] = s.unknown_exits;
  doc["no_creation_record"] = s.no_creation_record;
  ojson exes = ojson::array();
  for (const auto& e : s.executables)
    exes.push_back({{"path", e.path}, {"created", e.created}, {"via", e.via},
                    {"setsid", e.setsid}, {"setpgid", e.setpgid}, {"daemon", e.daemon},
                    {"thread_forks", e.thread_forks}});
  doc["executables"] = std::move(exes);
  out << doc.dump(1, ' ', false, ojson::error_handler_t::replace) << '\n';
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
