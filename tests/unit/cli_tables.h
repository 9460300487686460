// Every subcommand's option table, for the tests that check all of them.
#pragma once
#include <vector>

#include "launcher/cli/kill_options.h"
#include "launcher/cli/options.h"
#include "launcher/cli/run_options.h"
#include "launcher/cli/watch_options.h"
#include "launcher/doctor/doctor_options.h"
#include "launcher/views/view_args.h"

namespace progeny::test {

// Targets for every table, alive as long as the tables that point into them.
struct AllOptions {
  RunOptions run;
  KillOptions kill;
  WatchOptions watch;
  ViewArgs tree, summary;
  DoctorOptions doctor;
};

// In the order of launcher/main.cc's subcommands.
inline std::vector<cli::CommandLine> every_command_line(AllOptions* o) {
  return {run_command_line(&o->run),         kill_command_line(&o->kill),
          watch_command_line(&o->watch),     tree_command_line(&o->tree),
          summary_command_line(&o->summary), doctor_command_line(&o->doctor)};
}

}  // namespace progeny::test
