// The end-of-run verdict of `progeny run`: how the run ended and what progeny had to do about
// it. The run fills one Verdict; the stderr report (runaway_report.h) and `--report FILE`
// (JSON, docs/report.schema.json, or a JUnit test case) are all written from it.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "launcher/views/runaway_report.h"

namespace progeny {

struct Verdict {
  // Why progeny exits with exit_status. The statuses keep their README meaning; the outcome
  // tells apart what one number cannot (progeny's 125 from COMMAND's own 125).
  enum class Outcome {
    kCommandExited,      // COMMAND's exit code
    kCommandSignaled,    // progeny dies of COMMAND's signal (a shell sees 128+N)
    kCommandNotFound,    // 127: its exec failed with ENOENT/ENOTDIR
    kNotExecutable,      // 126: its exec failed otherwise
    kTimeout,            // 124
    kRunaway,            // 3: --fail-on-runaway
    kStoppedOnRequest,   // 125: a signal ended a --wait run while COMMAND still ran
    kProgenyError,       // 125: `error` says what
  } outcome = Outcome::kProgenyError;
  int exit_status = 125;            // as a shell's $? shows it
  std::string error;                // kProgenyError: the one line progeny printed
  std::optional<int> command_code;  // COMMAND's exit code, when it exited
  int command_signal = 0;           // the signal that killed COMMAND, 0 = none
  int exec_errno = 0;               // COMMAND's failed exec, when progeny saw it fail
  std::vector<std::string> command;
  uint64_t duration_ns = 0;         // from progeny's start to the verdict
  std::string log_path;             // --log, empty: none

  // The stop: whether one was needed (anything left, a timeout, a request) and what it found.
  bool stopped = false;
  RunawayContext stop;
  std::vector<RunawayProcess> leftovers;
  std::vector<std::string> survivors;  // could not be stopped: "pid (comm) args"

  // What the run's sources could not record.
  struct Lost {
    uint64_t shim_records = 0, shim_refused = 0;  // records a shim could not send; refused
    uint64_t bpf_events = 0, bpf_untracked = 0;   // tracker's ring overflows; untracked forks
    uint64_t unknown_exits = 0;                   // processes nobody saw end
    uint64_t log_unwritten = 0;                   // records after a failed log write
  } lost;

  // The cost progeny knows of: who created the most processes during the run (the log's
  // lineage; CPU and memory per process are not measured).
  struct Creator {
    pid_t pid = 0;
    uint64_t ino = 0;
    std::string name;  // base name of its latest image, when known
    uint64_t processes = 0;
  };
  std::vector<Creator> top_creators;

  // --limit: each limit, whether the kernel acted on it, its counters, and whom it hit.
  struct Limit {
    std::string name;     // pids, memory, cpu
    std::string value;    // as enforced: "64", "67108864" (bytes), "0.5"
    std::string backend;  // "cgroup v1", "cgroup v2", "tracker" (pids only)
    std::string group;    // the group's directory (removed at the end)
    bool hit = false;
    std::vector<std::pair<std::string, uint64_t>> counts;  // the kernel's counters
    // Whom it hit: pids: the forkers refused at the cap (role "forker", once the cap refused
    // one); memory: the OOM victims ("oom_victim", once the group OOM-killed); empty role:
    // nobody to name (cpu throttles the whole group). A role with nobody named: "unknown".
    std::string role;
    struct Process {
      pid_t pid = 0;
      uint64_t ino = 0;
      std::string name;
      uint64_t count = 0;  // forker: creations refused
    };
    std::vector<Process> named;
    // Whose records named them: "shim" (fork() failed with EAGAIN), "tracker" (a child
    // killed at birth at the cap), "kernel" (the OOM killer's mark_victim), "sigkill" (a
    // SIGKILL progeny did not send: the fallback); empty when nobody is named.
    std::string named_by;
  };
  std::vector<Limit> limits;
};

// "progeny: limit pids=64 hit (cgroup v1): ..." for each limit that hit, newline-ended.
std::string format_limit_report(const std::vector<Verdict::Limit>& limits);

// "command_exited", "timeout", ...: the outcome as the JSON names it.
const char* outcome_name(Verdict::Outcome o);
// One sentence: "COMMAND exited with 2", "progeny's own error: ...".
std::string outcome_meaning(const Verdict& v);

// The JSON document of docs/report.schema.json (schema "progeny-report/1"), newline-ended.
std::string verdict_json(const Verdict& v);
// A JUnit XML document with one test case, failed when processes outlived COMMAND or could
// not be stopped, in error when progeny itself failed.
std::string verdict_junit(const Verdict& v);

}  // namespace progeny
