// The host checks of `progeny doctor`: each one tries the mechanism for real (a forked child,
// a trivial BPF program, a throw-away cgroup) rather than guessing from versions, and says
// what progeny loses without it.
#pragma once
#include <string>
#include <vector>

namespace progeny {

struct Probe {
  std::string name;         // what --require takes: "pidfd", "tp_btf", ...
  bool ok = false;
  std::string detail;       // what was found, or why it is missing
  std::string consequence;  // what progeny does with it, or without it
};

// Runs every check, in the order of the doctor table.
std::vector<Probe> run_probes();
// The shim's path as the launcher finds it: <dir of /proc/self/exe>/../lib/progeny/libprogeny.so.
std::string shim_path_for_self();

}  // namespace progeny
