// Command-line handling shared by `progeny tree` and `progeny summary`: their few options,
// and loading the log with its unreadable lines reported on stderr.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "launcher/views/lineage.h"

namespace progeny {

struct ViewArgs {
  std::string format;  // as given, or the caller's default
  std::string color = "auto";
  std::string log;     // path, "-" for stdin
  bool help = false;
};

// Parses argv[1..] (argv[0] is the subcommand). On a usage error prints one line
// "progeny CMD: ..." on stderr and returns nullopt. `allowed` lists the accepted formats.
std::optional<ViewArgs> parse_view_args(int argc, char** argv, const char* cmd,
                                        const std::vector<std::string>& allowed,
                                        const std::string& default_format, bool has_color);

// Reads and reconstructs the log; unreadable lines are reported on stderr and skipped.
// nullopt (after a one-line error) when the file cannot be read at all.
std::optional<Lineage> load_lineage(const std::string& path, const char* cmd);

}  // namespace progeny
