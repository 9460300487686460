#include "launcher/cli/watch_options.h"

#include "launcher/cli/option_kinds.h"

namespace progeny {

cli::CommandLine watch_command_line(WatchOptions* o) {
  using namespace cli;
  CommandLine cmd;
  cmd.name = "watch";
  cmd.operand_name = "PID";
  cmd.operand_synopsis = "PID";
  cmd.operand_required = true;
  cmd.max_operands = 1;
  cmd.operand = process_id(&o->pid);
  cmd.header =
      "Records the lineage (fork, exec, exit) of process PID and of every process it creates\n"
      "from now on, until PID exits. Descendants that already exist are found through /proc;\n"
      "orphans that left the tree before the watch began cannot be found. Needs the BPF tracker\n"
      "(root). Never signals anything.\n";
  cmd.footer =
      "Exit status: 0 when PID exited (or the watch was interrupted) and nothing was lost,\n"
      "1 when events were lost or processes could not be tracked, 125 on usage errors or when\n"
      "the tracker cannot load.\n";
  cmd.options = {
      {"log", 0, "FILE", "append the JSON Lines log to FILE (default: standard output)",
       text(&o->log_path)},
  };
  return cmd;
}

}  // namespace progeny
