// `progeny tree`: show the process tree a lineage log records, in one of six formats.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "launcher/os/exit_codes.h"
#include "launcher/views/commands.h"
#include "launcher/views/fd_output.h"
#include "launcher/views/tree_views.h"
#include "launcher/views/view_args.h"

namespace progeny {

namespace {

bool want_color(const std::string& when) {
  if (when == "always") return true;
  if (when == "never") return false;
  const char* term = std::getenv("TERM");
  return ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR") &&
         !(term && std::string(term) == "dumb");
}

}  // namespace

int tree_main(int argc, char** argv) {
  ViewArgs args;
  if (auto status = cli::parse_main_args(tree_command_line(&args), argc, argv)) return *status;
  auto lin = load_lineage(args, "tree");
  if (!lin) return kExitProgenyError;
  // Streamed through a large buffer: a 1,000,000-event document is not built in memory.
  std::fflush(stdout);
  FdOutput buf(STDOUT_FILENO);
  std::ostream out(&buf);
  const std::string& f = args.format;
  TreeLook look{f == "text" && want_color(args.color), args.full_argv};
  // json and perfetto are for programs: every process, unfolded and unfiltered.
  if (f == "json") render_json(*lin, out);
  else if (f == "perfetto") render_perfetto(*lin, out);
  else if (f == "html") render_html(*lin, out, args.filter, args.fold);  // the page folds itself
  else {
    FoldedTree tree = fold_lineage(*lin, args.filter, args.fold);
    if (f == "text") render_text(*lin, tree, out, look);
    else if (f == "dot") render_dot(*lin, tree, out, look);
    else render_svg(*lin, tree, out, look);
  }
  if (!out.flush() || !buf.ok()) {
    std::fprintf(stderr, "progeny tree: writing the output failed\n");
    return kExitProgenyError;
  }
  return 0;
}

}  // namespace progeny
