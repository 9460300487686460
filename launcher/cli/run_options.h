// `progeny run` options: parsed here, independent of any process work, so they unit-test.
#pragma once
#include <signal.h>

#include <cstdint>
#include <string>
#include <vector>

#include "launcher/cli/option_kinds.h"
#include "launcher/cli/options.h"

namespace progeny {

enum class ReportFormat { kJson, kJunit };  // --report-format

struct RunOptions {
  std::vector<std::string> command;   // COMMAND [ARG...]
  int64_t timeout_ms = 0;             // 0: none
  int64_t kill_after_ms = 5000;       // grace between the stop signal and SIGKILL
  int stop_signal = SIGTERM;
  // Two different deaths: progeny's own (the tree dies with it, in every mode) and a member's
  // (the parent-death policy, launcher/members/parent_death.h: off by default, because correct
  // programs such as CPython's forkserver and resource tracker expect a SIGKILLed parent's
  // children to live on and finish their work).
  int pdeathsig = SIGKILL;            // --pdeathsig: the tree's signal when progeny dies; 0: none
  int parent_death = 0;               // --parent-death: a signal-killed member's children's; 0: none
  bool forward_group = false;         // forward signals to COMMAND's process group
  bool wait_all = false;              // --wait: run until every descendant has exited
  int verbose = 0;
  bool quiet = false;
  std::string log_path;               // --log FILE: lineage log (JSON Lines)
  std::string report_path;            // --report FILE: the end-of-run verdict
  ReportFormat report_format = ReportFormat::kJson;
  bool preload = true;                // inject libprogeny.so
  bool reenv = true;                  // restore the shim's variables in scrubbed environments
  Tristate bpf = Tristate::kAuto;
  std::string contain = "auto";       // auto|cgroup|pidns|none
  LimitSpec limits;                   // --limit
  std::string limit_cgroup;           // --limit-cgroup DIR: delegated, empty cgroup v2 subtree
  bool trace = false;                 // print each event on stderr
  bool fail_on_runaway = false;
  int64_t settle_ms = 2000;           // --fail-on-runaway: time to exit on their own
  int control_fd = -1;                // --control-fd N: stop requests (launcher/run/control_channel.h)
};

// The command line of `progeny run`, filling *out. Stops at COMMAND: its options are its own.
cli::CommandLine run_command_line(RunOptions* out);

}  // namespace progeny
