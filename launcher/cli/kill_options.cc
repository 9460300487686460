#include "launcher/cli/kill_options.h"

namespace progeny {

cli::CommandLine kill_command_line(KillOptions* o) {
  using namespace cli;
  CommandLine cmd;
  cmd.name = "kill";
  cmd.operand_name = "PID";
  cmd.operand_synopsis = "PID...";
  cmd.operand_required = true;
  cmd.max_operands = SIZE_MAX;
  cmd.operand = process_ids(&o->targets);
  cmd.header =
      "Stops each PID and every descendant it has: SIG (default TERM) and SIGCONT to all,\n"
      "a grace period (-k, default 5s), then SIGKILL, repeated until none is left.\n"
      "Every signal goes through a pidfd of a process verified to descend from a named PID.\n"
      "With the BPF tracker (root, used when it loads; --bpf off to skip it) the kill is\n"
      "race-free: descendants are tracked in the kernel by creator, and anything they fork\n"
      "during the kill dies at birth. Without it this is best effort: a descendant that\n"
      "double-forks during the kill reparents to init and leaves the tree.\n"
      "Refuses PID 1, progeny itself and its own ancestors.\n";
  cmd.footer =
      "Durations: 500ms, 2s, 1.5m, 1h, bare number = seconds. Signals: TERM, SIGTERM, 15.\n"
      "Exit status: 0 everything named is gone, 1 something survived, 125 usage error or "
      "refusal.\n";
  cmd.options = {
      {"signal", 's', "SIG", "first signal of the stop sequence (default TERM)",
       signal_number(&o->signal)},
      {"kill-after", 'k', "DURATION", "grace before SIGKILL in the stop sequence (default 5s)",
       duration_ms(&o->grace_ms)},
      {"bpf", 0, "auto|on|off", "in-kernel tracker (default auto: use it when it loads)",
       choice(&o->bpf, {{"auto", Tristate::kAuto}, {"on", Tristate::kOn}, {"off", Tristate::kOff}})},
      {"verbose", 'v', "", "say each signal sent, and why the tracker is not used",
       flag(&o->verbose)},
  };
  return cmd;
}

}  // namespace progeny
