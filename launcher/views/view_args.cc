#include "launcher/views/view_args.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>

#include "launcher/cli/option_kinds.h"
#include "launcher/os/fd.h"
#include "launcher/os/huge_heap.h"
#include "launcher/views/log_text.h"
#include "launcher/views/logread.h"
#include "launcher/views/redact.h"

namespace progeny {

namespace {

std::vector<std::pair<std::string, SortKey>> sort_choices() {
  std::vector<std::pair<std::string, SortKey>> out;
  for (const SortName& s : kSortNames) out.emplace_back(s.name, s.key);
  return out;
}

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

cli::Option redact_option(ViewArgs* o) {
  return {"redact", 0, "TEXT",
          "hide every argument containing TEXT (a plain substring), from\n"
          "the match on, as [redacted], in every format; repeatable",
          cli::append(&o->redact), true};
}

// --max-depth N: 0 and up.
cli::Setter depth(std::optional<int>* target) {
  return [target](std::string_view v, std::string* error) {
    int n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < 0) {
      *error = "'" + std::string(v) + "' is not a depth (0, 1, 2, ...)";
      return false;
    }
    *target = n;
    return true;
  };
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
      {"expand", 0, "",
       "show every process on its own line; by default siblings that ran\n"
       "the same programs and ended the same way fold into one (N ×)",
       cli::flag(&o->fold.expand)},
      {"full-argv", 'w', "",
       "whole command lines, wrapped; by default a long one keeps the\n"
       "program and the last arguments, with … for the middle",
       cli::flag(&o->full_argv)},
      {"runaways", 0, "", "only runaways (and the processes on the way to them)",
       cli::flag(&o->filter.runaways)},
      {"failures", 0, "", "only processes that exited non-zero or died of a signal",
       cli::flag(&o->filter.failures)},
      {"match", 0, "TEXT",
       "only processes whose exec path or argv (joined by spaces)\n"
       "contains TEXT, a plain substring",
       cli::text(&o->filter.match)},
      {"pid", 0, "PID", "only the subtree of the process(es) with this pid",
       cli::process_id(&o->filter.subtree)},
      {"max-depth", 0, "N", "at most N levels below the top shown (the rest is counted)",
       depth(&o->filter.max_depth)},
      {"sort", 0, "KEY",
       "order of siblings: start (default), or the largest first: lifetime,\n"
       "cpu (own CPU time, user + system), rss (own peak RSS); unknown\n"
       "figures last; a folded group by its members' total CPU, max RSS",
       cli::choice(&o->fold.sort, sort_choices())},
      redact_option(o),
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
      redact_option(o),
  };
  return cmd;
}

// Below this a log's working set is a few MB: 4 KB pages do.
constexpr off_t kHugeHeapFrom = off_t{4} << 20;

std::optional<Lineage> load_lineage(const ViewArgs& args, const char* cmd) {
  const std::string& path = args.log;
  Fd file;
  if (path != "-") {
    file.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!file) {
      std::fprintf(stderr, "progeny %s: cannot read %s: %s\n", cmd, path.c_str(), strerror(errno));
      return std::nullopt;
    }
  }
  // A big log's tree and text take about three times its size (344 MB for a 136 MB log).
  struct stat st {};
  if (fstat(file ? file.get() : STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
      st.st_size > kHugeHeapFrom)
    grow_heap_with_huge_pages(3 * static_cast<size_t>(st.st_size));
  std::string why;
  std::optional<LogText> text = LogText::read(file ? file.get() : STDIN_FILENO, &why);
  if (!text) {  // e.g. a directory: opening works, reading does not
    std::fprintf(stderr, "progeny %s: cannot read %s: %s\n", cmd,
                 path == "-" ? "standard input" : path.c_str(), why.c_str());
    return std::nullopt;
  }
  std::vector<LogProblem> problems;
  std::optional<Lineage> lin = read_lineage(std::move(*text), &problems);
  report_problems(problems, path == "-" ? "<stdin>" : path, stderr);
  redact_argv(&*lin, args.redact);
  return lin;
}

}  // namespace progeny
