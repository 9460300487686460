// The process tree reconstructed from a lineage log: who created whom, what each ran, how it
// ended, and the marks the audit views show (escapes, orphans, runaways, bpf-only).
//
// Everything here is evidence-based: an exit no record shows stays unknown, and a process is a
// runaway only when the log shows it alive after COMMAND's exit (a record of its own, a stop
// signal progeny aimed at it, or an exit the tracker saw happen, later than COMMAND's exit),
// never by guessing.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "launcher/views/cost.h"
#include "launcher/views/log_text.h"
#include "launcher/views/logread.h"

namespace progeny {

struct ExecStep {
  uint64_t time_ns = 0;
  std::string path;
  std::vector<std::string> argv;
  bool argv_truncated = false;
  std::optional<uint64_t> argv_bytes;  // the whole argv's size, when the record cut it
  unsigned sources = 0;  // which sources reported this exec (kSource* bits)
};

struct SignalSent {  // by progeny's launcher
  uint64_t time_ns = 0;
  std::string signal;  // short name, "TERM"
  std::string reason;  // forward, stop, kill, timeout
};

enum class EndKind { kUnknown, kExited, kSignaled };

struct ProcessNode {
  pid_t pid = 0;
  std::optional<uint64_t> start_time;
  // Index of the creator when a fork record names it; else of the parent an exec record or a
  // /proc walk found it under, which may be an adopter (parent_is_creator false).
  std::optional<size_t> parent;
  pid_t ppid = 0;                // that parent's pid as recorded (0 = unknown)
  bool parent_is_creator = false;
  std::vector<size_t> children;  // in birth order
  std::string via;               // how it was created (fork, vfork, ...), empty if unknown
  bool thread_fork = false;      // created by a thread other than its parent's main thread
  std::optional<pid_t> pgid, sid;  // as recorded at creation or by setsid/setpgid

  std::vector<ExecStep> execs;
  bool called_setsid = false;
  bool called_setpgid = false;
  std::optional<uint64_t> setsid_ns, setpgid_ns;

  std::optional<uint64_t> born_ns;  // fork record time
  uint64_t first_seen_ns = 0;
  uint64_t last_seen_ns = 0;  // latest record about it (its own, or a signal aimed at it)
  // Latest record showing it alive: any record but an exit reported by whoever reaped it (the
  // reap of a zombie can come long after its death, so it proves nothing about life).
  uint64_t alive_ns = 0;
  std::optional<uint64_t> ended_ns;
  // ended_ns is the kernel's time of the exit (the tracker's); otherwise it is when the
  // launcher saw the exit, which can be milliseconds late on a busy machine.
  bool ended_at_kernel_time = false;
  EndKind end = EndKind::kUnknown;
  int exit_code = 0;
  std::string exit_signal;  // short name when kSignaled
  bool core = false;
  Cost cost;  // from its exit records
  // Its process title (the tracker's, from its argv area at exit), kept only when it says
  // something its argv does not: a process that rewrote it ("postgres: checkpointer", "nginx:
  // worker process"). Empty when unknown, or the same as what it ran with.
  std::vector<std::string> title;

  std::vector<SignalSent> signals;  // signals progeny's launcher sent it
  std::optional<pid_t> adopted_by;  // ppid seen later that differs from the creator

  unsigned sources = 0;  // bit set of kSource*
  bool is_launcher = false;
  bool is_command = false;
  // What progeny's own records call it: "command", or a helper of progeny's ("pidns_init",
  // "pidns_intermediate") that is neither COMMAND nor part of what it started.
  std::string role;
  // The image it ran from birth until its first exec: its creator's at that moment
  // ("progeny" for the launcher, "?" when no record tells). Set once the tree is built, so
  // image_at never walks the ancestors (a 200,000-deep chain would make that quadratic).
  std::string inherited_image;
  bool is_progeny_helper() const { return role == "pidns_init" || role == "pidns_intermediate"; }

  // Derived marks.
  bool reparented = false;      // its parent changed (orphaned, adopted by a reaper)
  bool outlived_parent = false;
  bool runaway = false;         // alive after COMMAND exited
  bool bpf_only = false;        // no record but the tracker's (static, setuid, raw clone)

  // The signal of a progeny stop (stop/kill/timeout) that ended it, when known: its exit
  // signal matches one progeny sent, or its exit is unknown after progeny sent one.
  std::optional<std::string> stopped_by_progeny() const;
  bool escaped() const { return called_setsid || called_setpgid; }
};

inline constexpr unsigned kSourceLauncher = 1, kSourceShim = 2, kSourceBpf = 4, kSourceOther = 8;

struct Lineage {
  // By first appearance in time. A deque: it grows without moving the nodes it has (a
  // vector of 250,000 large nodes spent most of a big log's reading in reallocation).
  std::deque<ProcessNode> procs;
  std::vector<size_t> roots;       // processes without a known creator, by first appearance
  std::optional<size_t> launcher;
  std::optional<size_t> command;
  std::optional<uint64_t> command_exit_ns;
  // When progeny's stop began (a `stop` record, phase begin): a runaway is what still ran
  // then, as --fail-on-runaway judges; what ended on its own before (within the settle) is not.
  std::optional<uint64_t> stop_begin_ns;
  uint64_t t0_ns = 0;   // earliest record
  uint64_t t1_ns = 0;   // latest record
  std::optional<uint64_t> wall_at_t0_ns;  // from the launcher's start record
  std::vector<std::string> launcher_argv;
  bool watch = false;  // a `progeny watch` log: the launcher is the watcher, not a parent
  uint64_t lost_shim = 0, lost_bpf = 0, lost_log = 0;
  size_t unreadable_lines = 0;
  size_t events = 0;

  // Depth-first order from the roots (parents before children), with depth (roots = 0).
  std::vector<std::pair<size_t, int>> preorder() const;
};

// Builds the tree from the events of a log (in any order: they are visited by time).
Lineage build_lineage(const std::vector<LogEvent>& events, size_t unreadable_lines = 0);
// The same straight from a log's text, its unreadable lines in *problems. Only the text is
// held while the records are put in time order (by a peek at each line's time), not the
// parsed form of every record, which is ~1 KB each: a 1,000,000-event log would need a
// gigabyte. Each line is parsed once, in time order, and its text released as it goes.
Lineage read_lineage(LogText text, std::vector<LogProblem>* problems);

// The image a process ran at time t: its latest exec before t, else its creator's at its
// birth ("progeny" for the launcher); "?" when no record tells.
std::string image_at(const Lineage& lin, size_t proc, uint64_t t);
// Base name of a path ("/usr/bin/sleep" → "sleep").
std::string base_name(const std::string& path);

}  // namespace progeny
