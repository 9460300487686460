// `progeny watch` options: parsed here, independent of any process work, so they unit-test.
#pragma once
#include <sys/types.h>

#include <string>

#include "launcher/cli/options.h"

namespace progeny {

struct WatchOptions {
  pid_t pid = 0;         // PID
  std::string log_path;  // --log FILE; empty: standard output
};

// The command line of `progeny watch`, filling *out.
cli::CommandLine watch_command_line(WatchOptions* out);

}  // namespace progeny
