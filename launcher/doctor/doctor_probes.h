// The host checks of `progeny doctor`, one per mechanism a run can use. Each verdict comes
// from the very function `progeny run` calls to decide whether it can use that mechanism (the
// shim's lookup, bpf::Tracker::start, Containment::make, the subreaper prctl, the pidfd
// check), so the doctor says "missing" exactly when the run would refuse (exit 125) or, under
// its defaults, go on without it.
#pragma once
#include <string>
#include <vector>

namespace progeny {

struct Probe {
  std::string name;         // what --require takes: "pidfd", "bpf", ...
  bool ok = false;
  std::string detail;       // what was found, or why it is missing
  std::string consequence;  // what progeny does with it, or without it
  std::string with_defaults;  // what `progeny run` with defaults makes of it; empty: unused
};

// The checks' names, in the order of the doctor table.
const std::vector<std::string>& probe_names();
// Runs every check, in that order.
std::vector<Probe> run_probes();
// "progeny run with defaults will use: ..." from the checks' with_defaults, in their order.
std::string defaults_line(const std::vector<Probe>& probes);

}  // namespace progeny
