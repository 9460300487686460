// Process titles (issue 13, "Names that mean something"), end to end: a forked child that
// never execs and overwrites its argv area (as PostgreSQL's backends do) has its title on the
// tracker's exit record, read at exit by the BPF program, and `progeny tree` shows it.
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "schema/record.h"
#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace progeny::test {
namespace {

TEST(ProcessTitle, ARewrittenArgvAreaIsTheChildsTitleInTheLogAndTheTree) {
  REQUIRE_TRACKER();
  char tmpl[] = "/tmp/progeny-title-XXXXXX";
  ASSERT_TRUE(::mkdtemp(tmpl));
  std::string dir = tmpl, log = dir + "/run.jsonl", out = dir + "/out", tree = dir + "/tree";
  SandboxOptions opts;
  opts.timeout_s = 120;
  auto r = run_in_sandbox([&](Scenario& s) {
    int st = run_command({progeny_bin(), "run", "-q", "--log", log, "--contain", "none", "--bpf",
                          "on", "--no-preload", "--", fixture("proc_title"), "fixture: worker"},
                         out);
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st) + ": " + read_file(out));
    expect_nothing_left(s);
    std::istringstream in(read_file(log));
    std::optional<pid_t> command;
    std::vector<Record> exits;
    std::string why;
    for (std::string line; std::getline(in, line);) {
      auto rec = parse_record(line, &why);
      if (!rec) continue;
      if (rec->event == "fork" && rec->role == "command") command = rec->pid;
      if (rec->event == "exit" && rec->source == "bpf") exits.push_back(*rec);
    }
    if (!s.expect(command.has_value(), "no COMMAND in the log")) return 0;
    std::optional<Record> child, cmd;
    for (const Record& e : exits) (e.pid == *command ? cmd : child) = e;
    if (!s.expect(child.has_value(), "no tracker exit record of the child:\n" + read_file(log)))
      return 0;
    s.expect(child->title == std::vector<std::string>{"fixture: worker"},
             "the child's title is not what it wrote:\n" + read_file(log));
    // COMMAND exec'd: its argv names it, and its title is not read (docs/bpf.md: the read
    // costs ~40 µs a process here).
    s.expect(cmd && cmd->title.empty(), "COMMAND, which exec'd, has a title:\n" + read_file(log));
    st = run_command({progeny_bin(), "tree", log}, tree);
    s.expect(exited_with(st, 0), "progeny tree gave " + status_text(st));
    std::string text = read_file(tree);
    s.expect(text.find(std::to_string(child->pid) + " fixture: worker {proc_title}") !=
                 std::string::npos,
             "the tree does not show the title:\n" + text);
    return 0;
  }, opts);
  EXPECT_TRUE(r.ok()) << r.describe();
  run_command({"/bin/rm", "-rf", dir});
}

}  // namespace
}  // namespace progeny::test
