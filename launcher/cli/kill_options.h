// `progeny kill` options: parsed here, independent of any process work, so they unit-test.
#pragma once
#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "launcher/cli/option_kinds.h"
#include "launcher/cli/options.h"

namespace progeny {

struct KillOptions {
  std::vector<pid_t> targets;  // PID...
  int signal = SIGTERM;        // first signal of the stop sequence
  int64_t grace_ms = 5000;     // before SIGKILL
  bool verbose = false;
  Tristate bpf = Tristate::kAuto;
};

// The command line of `progeny kill`, filling *out. Options and PIDs may come in any order.
cli::CommandLine kill_command_line(KillOptions* out);

}  // namespace progeny
