#include "launcher/views/view_args.h"

#include <string.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "launcher/cli/option_kinds.h"
#include "launcher/views/logread.h"

namespace progeny {

namespace {

// What both take: one LOG, options before or after it.
cli::CommandLine view_command_line(const char* name, ViewArgs* o) {
  cli::CommandLine cmd;
  cmd.name = name;
  cmd.operand_name = "LOG";
  cmd.operand_synopsis = "LOG";
  cmd.operand_required = true;
  cmd.max_operands = 1;
  cmd.operand = cli::text(&o->log);
  return cmd;
}

}  // namespace

cli::CommandLine tree_command_line(ViewArgs* o) {
  cli::CommandLine cmd = view_command_line("tree", o);
  cmd.header =
      "\n"
      "Shows the process tree recorded in a lineage log (progeny run --log LOG), with who created\n"
      "whom, what each process ran, how it ended, and what escaped.\n";
  cmd.footer =
      "LOG may be - for standard input. Marks in the text tree:\n"
      "  [setsid] [setpgid]   the process left its session / process group\n"
      "  [reparented]         its parent changed (orphaned, adopted by a reaper)\n"
      "  [outlived parent]    it was alive after its creator exited\n"
      "  [runaway]            it was alive after COMMAND exited\n"
      "  [bpf only]           only the BPF tracker saw it (static or setuid binary, raw clone)\n"
      "Unreadable log lines are reported on stderr with their line number and skipped.\n"
      "\n"
      "Exit status: 0 shown, 125 usage error or unreadable LOG.\n";
  cmd.options = {
      {"format", 'f', "FORMAT",
       "text (default): one process a line, pstree-like;\n"
       "json: the reconstructed tree as one document (see progeny(1));\n"
       "dot: Graphviz, e.g. progeny tree --format dot LOG | dot -Tsvg;\n"
       "perfetto: trace-event JSON for ui.perfetto.dev;\n"
       "svg: a self-contained timeline picture for a browser;\n"
       "html: one self-contained interactive page (folded tree, timeline,\n"
       "search and filters, settable in its URL: run.html#q=gcc&filter=runaways)",
       cli::one_of(&o->format, {"text", "json", "dot", "perfetto", "svg", "html"})},
      {"color", 0, "WHEN",
       "auto (default: colour when stdout is a terminal and NO_COLOR is\n"
       "unset), always, never; text format only",
       cli::one_of(&o->color, {"auto", "always", "never"})},
  };
  return cmd;
}

cli::CommandLine summary_command_line(ViewArgs* o) {
  cli::CommandLine cmd = view_command_line("summary", o);
  cmd.header =
      "\n"
      "The audit of a lineage log (progeny run --log LOG): per executable, how many processes it\n"
      "created and through which call (fork, vfork, posix_spawn, system, popen, clone, daemon, or\n"
      "bpf when only the tracker saw it), how many of its processes called setsid or setpgid, forks\n"
      "from non-main threads; over the whole run the maximum depth (COMMAND = 1), the maximum number\n"
      "of processes alive at once, the runaways (alive after COMMAND exited), and what the log lost\n"
      "(events the shim or the tracker could not deliver, unreadable lines, exits nobody observed,\n"
      "processes whose creation no record shows).\n";
  cmd.footer =
      "LOG may be - for standard input. Exit status: 0 shown, 125 usage error or unreadable "
      "LOG.\n";
  cmd.options = {
      {"format", 'f', "FORMAT", "text (default) or json (see progeny(1))",
       cli::one_of(&o->format, {"text", "json"})},
  };
  return cmd;
}

std::optional<Lineage> load_lineage(const std::string& path, const char* cmd) {
  LogContents contents;
  if (path == "-") {
    contents = read_log(std::cin);
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "progeny %s: cannot read %s: %s\n", cmd, path.c_str(),
                   strerror(errno));
      return std::nullopt;
    }
    contents = read_log(in);
    if (in.bad()) {  // e.g. a directory: opening works, reading does not
      std::fprintf(stderr, "progeny %s: cannot read %s\n", cmd, path.c_str());
      return std::nullopt;
    }
  }
  report_problems(contents.problems, path == "-" ? "<stdin>" : path, stderr);
  return build_lineage(contents.events, contents.problems.size());
}

}  // namespace progeny
