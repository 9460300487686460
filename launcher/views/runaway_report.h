// The processes progeny must stop when COMMAND has exited (or the run timed out): which,
// started by whom, and how they escaped COMMAND's group. One model, two readers: the stderr
// report here and the verdict of --report (launcher/views/verdict.h) judge each process by the
// same functions, so the text and the JSON cannot disagree.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace progeny {

struct RunawayProcess {
  pid_t pid = 0;
  uint64_t ino = 0;  // pidfs inode (0 without pidfs)
  uint64_t start_time = 0;
  // argv, groups and descriptors were read from /proc (only the first few are, so a fork
  // bomb's leftovers are listed without reading ten thousand /proc directories).
  bool described = false;
  std::vector<std::string> argv;  // from /proc/PID/cmdline; may be empty (zombie, kernel)
  pid_t ppid = 0;                 // parent when discovered
  pid_t pgid = 0;
  pid_t sid = 0;
  // Base name of its image, when the lineage knows: a retitled argv[0] ("nginx: master
  // process /etc/...") has no usable base name.
  std::string name;
  pid_t creator = 0;  // who created it, when the lineage knows (0 = unknown)
  std::string creator_name;  // base name of the creator's image, when known
  // Holds progeny's stdout or stderr (a pipe or socket): what makes a reader of progeny's
  // output wait for this process, not for COMMAND.
  bool holds_output = false;
};

struct RunawayContext {
  // Why they are being stopped: COMMAND ended and left them; the timeout; a request (a
  // signal to a --wait run).
  enum class Why { kOutlived, kTimeout, kRequested } why = Why::kOutlived;
  int64_t timeout_ms = 0;
  pid_t launcher_pid = 0;
  pid_t command_pid = 0;
  // --contain pidns: progeny's init of COMMAND's namespace, which adopts its orphans.
  pid_t init_pid = 0;
  // -1 = unknown: escapes are then not judged. 0 is a real value: a session or group whose
  // leader lives outside this PID namespace (as /proc reports it).
  pid_t command_pgid = -1;
  pid_t command_sid = -1;
};

// How a leftover left COMMAND's process group and session, with the sentence that says so.
struct Escape {
  // setsid | session_of_setsid (its session's leader called setsid) | setpgid |
  // group_of_setpgid | none (still in COMMAND's group) | unknown (not described)
  std::string kind;
  std::string text;
};
Escape how_escaped(const RunawayProcess& p, const RunawayContext& ctx);

// Where a leftover hangs in the tree: command (COMMAND itself, on a timeout), adopted
// (orphaned, now progeny's child), child_of_command, descendant (of another leftover or
// member).
const char* origin_kind(const RunawayProcess& p, const RunawayContext& ctx);

// Lines "progeny: ..." each ending in '\n'; empty when `procs` is empty. At most `max_lines`
// processes are listed, then a count of the rest, so a leaked fork bomb stays readable.
std::string format_runaway_report(const std::vector<RunawayProcess>& procs,
                                  const RunawayContext& ctx, size_t max_lines = 20);

}  // namespace progeny
