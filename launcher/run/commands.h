// The subcommands that start or stop processes, dispatched by launcher/main.cc. Each returns
// the exit status.
#pragma once

namespace progeny {

int run_main(int argc, char** argv);    // progeny run
int kill_main(int argc, char** argv);   // progeny kill
int watch_main(int argc, char** argv);  // progeny watch (BPF tracker)

}  // namespace progeny
