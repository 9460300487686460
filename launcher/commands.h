// Subcommand entry points, dispatched by launcher/main.cc. Each returns the exit status.
#pragma once

namespace progeny {

int run_main(int argc, char** argv);      // progeny run
int kill_main(int argc, char** argv);     // progeny kill
int tree_main(int argc, char** argv);     // progeny tree     (audit views)
int summary_main(int argc, char** argv);  // progeny summary  (audit views)
int doctor_main(int argc, char** argv);   // progeny doctor
int watch_main(int argc, char** argv);    // progeny watch    (BPF tracker)

// progeny's own failures (bad option, unavailable mode, ...), see README "Exit status".
inline constexpr int kExitProgenyError = 125;

}  // namespace progeny
