#include "launcher/views/runaway_report.h"

#include <unordered_map>

#include "launcher/views/view_util.h"

namespace progeny {

namespace {

std::string how_escaped(const RunawayProcess& p, const RunawayContext& ctx) {
  if (ctx.command_sid >= 0 && p.sid && p.sid != ctx.command_sid)
    return p.sid == p.pid ? "called setsid" : "in session " + std::to_string(p.sid) +
                                                  " (its leader called setsid)";
  if (ctx.command_pgid >= 0 && p.pgid && p.pgid != ctx.command_pgid)
    return p.pgid == p.pid ? "called setpgid" : "in process group " + std::to_string(p.pgid) +
                                                    " (its leader called setpgid)";
  return "still in COMMAND's process group";
}

}  // namespace

std::string format_runaway_report(const std::vector<RunawayProcess>& procs,
                                  const RunawayContext& ctx, size_t max_lines) {
  if (procs.empty()) return "";
  std::unordered_map<pid_t, std::string> names;
  for (const auto& p : procs)
    if (!p.argv.empty()) names[p.pid] = printable(base_name(p.argv[0]));
  auto named = [&](pid_t pid) {
    auto it = names.find(pid);
    return std::to_string(pid) + (it == names.end() ? "" : " (" + it->second + ")");
  };

  std::string out = "progeny: " + std::to_string(procs.size()) +
                    (procs.size() == 1 ? " process" : " processes") + " outlived COMMAND (pid " +
                    std::to_string(ctx.command_pid) + "); stopping:\n";
  for (size_t i = 0; i < procs.size() && i < max_lines; ++i) {
    const RunawayProcess& p = procs[i];
    std::string origin;
    if (p.ppid == ctx.launcher_pid) {
      origin = "orphaned, adopted by progeny";
      if (p.creator) origin += "; created by " + named(p.creator);
    } else if (p.ppid == ctx.command_pid) {
      origin = "child of COMMAND";
    } else {
      origin = "child of " + named(p.ppid);
    }
    out += "progeny:   " + std::to_string(p.pid) + " " +
           (p.argv.empty() ? std::string("[no command line]") : command_text(p.argv, 60)) +
           ": " + how_escaped(p, ctx) + "; " + origin +
           (p.holds_output ? "; holds progeny's stdout/stderr open" : "") + "\n";
  }
  if (procs.size() > max_lines)
    out += "progeny:   ... and " + std::to_string(procs.size() - max_lines) + " more\n";
  return out;
}

}  // namespace progeny
