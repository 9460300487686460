#include "launcher/views/runaway_report.h"

#include <string_view>
#include <unordered_map>

#include "launcher/views/view_util.h"

namespace progeny {

Escape how_escaped(const RunawayProcess& p, const RunawayContext& ctx) {
  if (!p.described) return {"unknown", "not looked at"};
  if (ctx.command_sid >= 0 && p.sid && p.sid != ctx.command_sid)
    return p.sid == p.pid ? Escape{"setsid", "called setsid"}
                          : Escape{"session_of_setsid", "in session " + std::to_string(p.sid) +
                                                            " (its leader called setsid)"};
  if (ctx.command_pgid >= 0 && p.pgid && p.pgid != ctx.command_pgid)
    return p.pgid == p.pid ? Escape{"setpgid", "called setpgid"}
                           : Escape{"group_of_setpgid", "in process group " + std::to_string(p.pgid) +
                                                            " (its leader called setpgid)"};
  return {"none", "still in COMMAND's process group"};
}

const char* origin_kind(const RunawayProcess& p, const RunawayContext& ctx) {
  if (p.pid == ctx.command_pid) return "command";
  if (p.ppid == ctx.launcher_pid || (ctx.init_pid && p.ppid == ctx.init_pid)) return "adopted";
  if (p.ppid == ctx.command_pid) return "child_of_command";
  return "descendant";
}

std::string format_runaway_report(const std::vector<RunawayProcess>& procs,
                                  const RunawayContext& ctx, size_t max_lines) {
  if (procs.empty()) return "";
  std::unordered_map<pid_t, std::string> names;
  for (const auto& p : procs) {
    if (!p.name.empty()) names[p.pid] = printable(p.name);
    else if (!p.argv.empty()) names[p.pid] = printable(base_name(p.argv[0]));
    if (p.creator && !p.creator_name.empty()) names.try_emplace(p.creator, printable(p.creator_name));
  }
  auto named = [&](pid_t pid) {
    auto it = names.find(pid);
    return std::to_string(pid) + (it == names.end() ? "" : " (" + it->second + ")");
  };

  std::string count = std::to_string(procs.size()) + (procs.size() == 1 ? " process" : " processes");
  std::string out;
  switch (ctx.why) {
    case RunawayContext::Why::kOutlived:
      out = "progeny: " + count + " outlived COMMAND (pid " + std::to_string(ctx.command_pid) +
            "); stopping:\n";
      break;
    case RunawayContext::Why::kTimeout:
      out = "progeny: timeout after " + format_duration(static_cast<uint64_t>(ctx.timeout_ms) * 1000000) +
            "; stopping " + count + ":\n";
      break;
    case RunawayContext::Why::kRequested:
      out = "progeny: stopping " + count + " on request:\n";
      break;
  }
  for (size_t i = 0; i < procs.size() && i < max_lines; ++i) {
    const RunawayProcess& p = procs[i];
    std::string origin;
    std::string_view kind = origin_kind(p, ctx);
    if (kind == "command") {
      origin = "COMMAND itself";
    } else if (kind == "adopted") {
      origin = p.ppid == ctx.launcher_pid ? "orphaned, adopted by progeny"
                                          : "orphaned, adopted by progeny's PID-namespace init";
      origin += p.creator ? "; created by " + named(p.creator) : "; creator unknown";
    } else if (kind == "child_of_command") {
      origin = "child of COMMAND";
    } else {
      origin = "child of " + named(p.ppid);
      if (p.creator && p.creator != p.ppid) origin += "; created by " + named(p.creator);
    }
    out += "progeny:   " + std::to_string(p.pid) + " " +
           (p.argv.empty() ? std::string("[no command line]") : command_text(p.argv, 60)) +
           ": " + how_escaped(p, ctx).text + "; " + origin +
           (p.holds_output ? "; holds progeny's stdout/stderr open" : "") + "\n";
  }
  if (procs.size() > max_lines)
    out += "progeny:   ... and " + std::to_string(procs.size() - max_lines) + " more\n";
  return out;
}

}  // namespace progeny
