// `progeny tree`: show the process tree a lineage log records, in one of six formats.
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
  auto lin = load_lineage(args.log, "tree");
  if (!lin) return kExitProgenyError;
  // Rendered into memory and written at once: stdout is synchronised with stdio, and
  // per-piece writes to it cost more than the whole tree.
  std::ostringstream out;
  const std::string& f = args.format;
  if (f == "text") render_text(*lin, out, want_color(args.color));
  else if (f == "json") render_json(*lin, out);
  else if (f == "dot") render_dot(*lin, out);
  else if (f == "perfetto") render_perfetto(*lin, out);
  else if (f == "html") render_html(*lin, out);
  else render_svg(*lin, out);
  std::string text = std::move(out).str();
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout)) {
    std::fprintf(stderr, "progeny tree: writing the output failed\n");
    return kExitProgenyError;
  }
  return 0;
}

}  // namespace progeny
