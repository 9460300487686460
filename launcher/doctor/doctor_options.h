// `progeny doctor` options: parsed here, independent of the probes, so they unit-test.
#pragma once
#include <string>
#include <vector>

#include "launcher/cli/options.h"

namespace progeny {

struct DoctorOptions {
  std::vector<std::string> required;  // --require CHECK,...: each a known check or "bpf"
};

// The command line of `progeny doctor`, filling *out.
cli::CommandLine doctor_command_line(DoctorOptions* out);

}  // namespace progeny
