// `progeny tree`: show the process tree a lineage log records, in one of five formats.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "launcher/os/exit_codes.h"
#include "launcher/views/commands.h"
#include "launcher/views/tree_views.h"
#include "launcher/views/view_args.h"

namespace progeny {

namespace {

constexpr const char* kTreeHelp = R"(Usage: progeny tree [--format FORMAT] [--color WHEN] LOG

Shows the process tree recorded in a lineage log (progeny run --log LOG), with who created
whom, what each process ran, how it ended, and what escaped.

  -f, --format FORMAT  text (default): one process a line, pstree-like;
                       json: the reconstructed tree as one document (see progeny(1));
                       dot: Graphviz, e.g. progeny tree --format dot LOG | dot -Tsvg;
                       perfetto: trace-event JSON for ui.perfetto.dev;
                       svg: a self-contained timeline picture for a browser
      --color WHEN     auto (default: colour when stdout is a terminal and NO_COLOR is
                       unset), always, never; text format only
  -h, --help           this help

LOG may be - for standard input. Marks in the text tree:
  [setsid] [setpgid]   the process left its session / process group
  [reparented]         its parent changed (orphaned, adopted by a reaper)
  [outlived parent]    it was alive after its creator exited
  [runaway]            it was alive after COMMAND exited
  [bpf only]           only the BPF tracker saw it (static or setuid binary, raw clone)
Unreadable log lines are reported on stderr with their line number and skipped.

Exit status: 0 shown, 125 usage error or unreadable LOG.
)";

bool want_color(const std::string& when) {
  if (when == "always") return true;
  if (when == "never") return false;
  const char* term = std::getenv("TERM");
  return ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR") &&
         !(term && std::string(term) == "dumb");
}

}  // namespace

int tree_main(int argc, char** argv) {
  auto args = parse_view_args(argc, argv, "tree", {"text", "json", "dot", "perfetto", "svg"},
                              "text", /*has_color=*/true);
  if (!args) return kExitProgenyError;
  if (args->help) {
    std::fputs(kTreeHelp, stdout);
    return 0;
  }
  auto lin = load_lineage(args->log, "tree");
  if (!lin) return kExitProgenyError;
  // Rendered into memory and written at once: stdout is synchronised with stdio, and
  // per-piece writes to it cost more than the whole tree.
  std::ostringstream out;
  const std::string& f = args->format;
  if (f == "text") render_text(*lin, out, want_color(args->color));
  else if (f == "json") render_json(*lin, out);
  else if (f == "dot") render_dot(*lin, out);
  else if (f == "perfetto") render_perfetto(*lin, out);
  else render_svg(*lin, out);
  std::string text = std::move(out).str();
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout)) {
    std::fprintf(stderr, "progeny tree: writing the output failed\n");
    return kExitProgenyError;
  }
  return 0;
}

}  // namespace progeny
