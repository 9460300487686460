// progeny: subcommand dispatch. Everything else lives in the subcommands.
#include <cstdio>
#include <cstring>

#include "launcher/doctor/commands.h"
#include "launcher/os/exit_codes.h"
#include "launcher/run/commands.h"
#include "launcher/views/commands.h"

namespace {

struct Command {
  const char* name;
  int (*main)(int, char**);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"run", progeny::run_main, "run COMMAND; stop every process it leaves behind"},
    {"kill", progeny::kill_main, "stop a running process and every descendant it has"},
    {"watch", progeny::watch_main, "record the lineage of a running process (BPF)"},
    {"tree", progeny::tree_main, "show a lineage log as a tree (text, json, dot, perfetto, svg)"},
    {"summary", progeny::summary_main, "audit a lineage log: who forked how, who escaped"},
    {"doctor", progeny::doctor_main, "which mechanisms this host offers and progeny uses"},
};

void usage(FILE* out) {
  std::fputs("Usage: progeny SUBCOMMAND [OPTIONS] ...\n\n", out);
  for (const auto& c : kCommands) std::fprintf(out, "  %-8s %s\n", c.name, c.summary);
  std::fputs("\n`progeny SUBCOMMAND --help` for each; exit status 125 means progeny's own error.\n",
             out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return progeny::kExitProgenyError;
  }
  if (!std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    usage(stdout);
    return 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("progeny %s\n", PROGENY_VERSION);
    return 0;
  }
  for (const auto& c : kCommands)
    if (!std::strcmp(argv[1], c.name)) return c.main(argc - 1, argv + 1);
  std::fprintf(stderr, "progeny: unknown subcommand '%s' (see progeny --help)\n", argv[1]);
  return progeny::kExitProgenyError;
}
