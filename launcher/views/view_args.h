// Command-line handling shared by `progeny tree` and `progeny summary`: their option tables,
// and loading the log with its unreadable lines reported on stderr.
#pragma once
#include <optional>
#include <string>

#include <vector>

#include "launcher/cli/options.h"
#include "launcher/views/filter.h"
#include "launcher/views/fold.h"
#include "launcher/views/lineage.h"

namespace progeny {

struct ViewArgs {
  std::string format = "text";
  std::string color = "auto";  // tree only
  std::string log;             // path, "-" for stdin
  FilterSpec filter;           // tree only
  FoldSpec fold;               // tree only
  bool full_argv = false;      // tree only
  std::vector<std::string> redact;
};

// The command lines of `progeny tree` and `progeny summary`, filling *out.
cli::CommandLine tree_command_line(ViewArgs* out);
cli::CommandLine summary_command_line(ViewArgs* out);

// Reads and reconstructs the log, with the --redact patterns applied; unreadable lines are
// reported on stderr and skipped. nullopt (after a one-line error) when the file cannot be
// read at all.
std::optional<Lineage> load_lineage(const ViewArgs& args, const char* cmd);

}  // namespace progeny
