// Every subcommand's option table: the usage generated from it shows every entry, and each
// subcommand keeps the options and meanings it had before the parsers became one.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <set>

#include "tests/unit/call_main.h"
#include "launcher/cli/run_options.h"
#include "launcher/doctor/commands.h"
#include "launcher/os/exit_codes.h"
#include "launcher/run/commands.h"
#include "launcher/views/commands.h"
#include "tests/unit/cli_tables.h"

namespace progeny {
namespace {

using test::AllOptions;
using test::every_command_line;

TEST(CliCommands, UsageListsEveryTableEntry) {
  AllOptions o;
  for (const auto& cmd : every_command_line(&o)) {
    std::string u = cli::usage(cmd);
    SCOPED_TRACE(u);
    EXPECT_EQ(u.rfind("Usage: progeny " + std::string(cmd.name) + " ", 0), 0u);
    EXPECT_NE(u.find(cmd.header), std::string::npos);
    EXPECT_TRUE(u.ends_with(cmd.footer));
    EXPECT_NE(u.find("\n  -h, --help "), std::string::npos);
    std::string usage_line = u.substr(0, u.find('\n'));
    for (const auto& opt : cmd.options) {
      SCOPED_TRACE(std::string(opt.long_name));
      std::string row = (opt.short_name ? std::string("  -") + opt.short_name + ", " : "      ") +
                        "--" + std::string(opt.long_name);
      if (!opt.value_name.empty()) row += " " + std::string(opt.value_name);
      size_t at = u.find("\n" + row + " ");
      if (at == std::string::npos) at = u.find("\n" + row + "\n");
      ASSERT_NE(at, std::string::npos);
      // Its help follows, every line of it, in the same column as the others.
      std::string_view help = opt.help;
      for (size_t from = 0;;) {
        size_t nl = help.find('\n', from);
        std::string line(help.substr(from, nl - from));
        size_t seen = u.find(line, at);
        ASSERT_NE(seen, std::string::npos) << line;
        size_t col = seen - u.rfind('\n', seen) - 1;
        size_t help_col = u.find("this help") - u.rfind('\n', u.find("this help")) - 1;
        EXPECT_EQ(col, help_col) << line;
        if (nl == std::string_view::npos) break;
        from = nl + 1;
        at = seen;
      }
      if (!cmd.brief_synopsis) {
        std::string shown = opt.short_name ? std::string("[-") + opt.short_name
                                           : "[--" + std::string(opt.long_name);
        EXPECT_NE(usage_line.find(shown), std::string::npos) << usage_line;
      }
    }
  }
}

TEST(CliCommands, TablesAreWellFormed) {
  AllOptions o;
  for (const auto& cmd : every_command_line(&o)) {
    SCOPED_TRACE(std::string(cmd.name));
    std::set<std::string_view> longs;
    std::set<char> shorts;
    for (const auto& opt : cmd.options) {
      EXPECT_TRUE(longs.insert(opt.long_name).second) << opt.long_name;
      if (opt.short_name) {
        EXPECT_TRUE(shorts.insert(opt.short_name).second) << opt.short_name;
      }
      EXPECT_NE(opt.long_name, "help") << "-h/--help is every command's own";
      EXPECT_NE(opt.short_name, 'h');
      EXPECT_FALSE(opt.help.empty()) << opt.long_name;
      EXPECT_TRUE(opt.set) << opt.long_name;
    }
    EXPECT_TRUE(cmd.max_operands == 0 || cmd.operand) << "operands need a setter";
    EXPECT_FALSE(cmd.header.empty());
    EXPECT_FALSE(cmd.footer.empty());
  }
}

template <typename T>
cli::Parsed parse(cli::CommandLine (*table)(T*), T* out, std::vector<std::string> args,
                  std::string* error = nullptr) {
  std::string ignored;
  return cli::parse(table(out), args, error ? error : &ignored);
}

TEST(CliCommands, RunStopsAtCommandAndTakesEveryValueForm) {
  RunOptions o;
  ASSERT_EQ(parse(run_command_line, &o,
                  {"-t5s", "-sKILL", "--kill-after=1s", "--pdeathsig", "0", "--bpf=off",
                   "--contain", "pidns", "--no-preload", "--no-reenv", "--trace",
                   "--fail-on-runaway", "-vv", "-q", "-l", "log", "ls", "-l", "-v"}),
            cli::Parsed::kOk);
  EXPECT_EQ(o.timeout_ms, 5000);
  EXPECT_EQ(o.stop_signal, SIGKILL);
  EXPECT_EQ(o.kill_after_ms, 1000);
  EXPECT_EQ(o.pdeathsig, 0);
  EXPECT_EQ(o.bpf, Tristate::kOff);
  EXPECT_EQ(o.contain, "pidns");
  EXPECT_FALSE(o.preload);
  EXPECT_FALSE(o.reenv);
  EXPECT_TRUE(o.trace);
  EXPECT_TRUE(o.fail_on_runaway);
  EXPECT_EQ(o.verbose, 2);
  EXPECT_TRUE(o.quiet);
  EXPECT_EQ(o.log_path, "log");
  EXPECT_EQ(o.command, (std::vector<std::string>{"ls", "-l", "-v"}));
  RunOptions e;
  std::string error;
  EXPECT_EQ(parse(run_command_line, &e, {"--log=", "x"}, &error), cli::Parsed::kError);
  EXPECT_EQ(error, "--log: empty value");
  EXPECT_EQ(parse(run_command_line, &e, {"--contain", "jail", "x"}, &error), cli::Parsed::kError);
  EXPECT_EQ(error, "--contain: 'jail' is not one of auto, cgroup, pidns, none");
}

TEST(CliCommands, KillTakesTheSameFormsAsRun) {
  KillOptions o;
  EXPECT_EQ(o.signal, SIGTERM);
  EXPECT_EQ(o.grace_ms, 5000);
  EXPECT_EQ(o.bpf, Tristate::kAuto);
  ASSERT_EQ(parse(kill_command_line, &o, {"--bpf=off", "12", "--signal=INT", "-k300ms", "34", "-v"}),
            cli::Parsed::kOk);
  EXPECT_EQ(o.bpf, Tristate::kOff);
  EXPECT_EQ(o.signal, SIGINT);
  EXPECT_EQ(o.grace_ms, 300);
  EXPECT_TRUE(o.verbose);
  EXPECT_EQ(o.targets, (std::vector<pid_t>{12, 34}));
  KillOptions k;
  ASSERT_EQ(parse(kill_command_line, &k, {"-k", "2s", "-s", "HUP", "--bpf", "on", "--", "5"}),
            cli::Parsed::kOk);
  EXPECT_EQ(k.grace_ms, 2000);
  EXPECT_EQ(k.signal, SIGHUP);
  EXPECT_EQ(k.bpf, Tristate::kOn);
  EXPECT_EQ(k.targets, std::vector<pid_t>{5});
  std::string error;
  KillOptions e;
  EXPECT_EQ(parse(kill_command_line, &e, {"-v"}, &error), cli::Parsed::kError);
  EXPECT_EQ(error.rfind("no PID given (usage: progeny kill [-s SIG] [-k DURATION] "
                        "[--bpf auto|on|off] [-v] PID...)", 0), 0u) << error;
  EXPECT_EQ(parse(kill_command_line, &e, {"--", "-1"}, &error), cli::Parsed::kError);
  EXPECT_EQ(error, "PID: '-1' is not a process id (a number above 0)");
  EXPECT_EQ(parse(kill_command_line, &e, {"-1"}, &error), cli::Parsed::kError);
  EXPECT_NE(error.find("unknown option '-1'"), std::string::npos);
  EXPECT_EQ(parse(kill_command_line, &e, {"--bpf", "maybe", "1"}, &error), cli::Parsed::kError);
  EXPECT_EQ(error, "--bpf: 'maybe' is not one of auto, on, off");
}

TEST(CliCommands, WatchTakesOnePidAndLogEitherWay) {
  WatchOptions o;
  ASSERT_EQ(parse(watch_command_line, &o, {"--log=out.jsonl", "42"}), cli::Parsed::kOk);
  EXPECT_EQ(o.log_path, "out.jsonl");
  EXPECT_EQ(o.pid, 42);
  WatchOptions w;
  ASSERT_EQ(parse(watch_command_line, &w, {"42", "--log", "x"}), cli::Parsed::kOk);
  EXPECT_EQ(w.log_path, "x");
  EXPECT_EQ(parse(watch_command_line, &w, {"-h"}), cli::Parsed::kHelp);
  std::string error;
  EXPECT_EQ(parse(watch_command_line, &w, {"1", "2"}, &error), cli::Parsed::kError);
  EXPECT_EQ(error, "more than one PID given (usage: progeny watch [--log FILE] PID)");
  EXPECT_EQ(parse(watch_command_line, &w, {"--log"}, &error), cli::Parsed::kError);
  EXPECT_EQ(error, "option --log needs a value (FILE)");
  EXPECT_EQ(parse(watch_command_line, &w, {"self"}, &error), cli::Parsed::kError);
  EXPECT_EQ(error, "PID: 'self' is not a process id (a number above 0)");
  WatchOptions none;
  EXPECT_EQ(parse(watch_command_line, &none, {}, &error), cli::Parsed::kError);
  EXPECT_EQ(error.rfind("no PID given", 0), 0u);
}

TEST(CliCommands, TreeAndSummaryTakeOneLogAnywhere) {
  ViewArgs t;
  ASSERT_EQ(parse(tree_command_line, &t, {"-"}), cli::Parsed::kOk);
  EXPECT_EQ(t.format, "text");
  EXPECT_EQ(t.color, "auto");
  EXPECT_EQ(t.log, "-");
  ViewArgs u;
  ASSERT_EQ(parse(tree_command_line, &u, {"log", "-fdot", "--color=never"}), cli::Parsed::kOk);
  EXPECT_EQ(u.format, "dot");
  EXPECT_EQ(u.color, "never");
  EXPECT_EQ(u.log, "log");
  std::string error;
  EXPECT_EQ(parse(tree_command_line, &u, {"--format", "png", "log"}, &error), cli::Parsed::kError);
  EXPECT_EQ(error, "--format: 'png' is not one of text, json, dot, perfetto, svg, html");
  ViewArgs s;
  ASSERT_EQ(parse(summary_command_line, &s, {"--format=json", "log"}), cli::Parsed::kOk);
  EXPECT_EQ(s.format, "json");
  EXPECT_EQ(parse(summary_command_line, &s, {"-f", "dot", "log"}, &error), cli::Parsed::kError);
  EXPECT_EQ(error, "--format: 'dot' is not one of text, json");
  EXPECT_EQ(parse(summary_command_line, &s, {"--color", "always", "log"}, &error),
            cli::Parsed::kError);
  EXPECT_NE(error.find("unknown option '--color'"), std::string::npos);
}

TEST(CliCommands, DoctorRequireRepeatsAndSplitsOnCommas) {
  DoctorOptions o;
  ASSERT_EQ(parse(doctor_command_line, &o, {"--require", "pidfd,subreaper", "--require=bpf"}),
            cli::Parsed::kOk);
  EXPECT_EQ(o.required, (std::vector<std::string>{"pidfd", "subreaper", "bpf"}));
  std::string error;
  EXPECT_EQ(parse(doctor_command_line, &o, {"--require", "nonsense"}, &error), cli::Parsed::kError);
  EXPECT_EQ(error.rfind("--require: 'nonsense' is not one of subreaper, pidfd, ", 0), 0u) << error;
  EXPECT_EQ(parse(doctor_command_line, &o, {"extra"}, &error), cli::Parsed::kError);
  EXPECT_EQ(error, "unexpected argument 'extra' (see progeny doctor --help)");
  EXPECT_EQ(parse(doctor_command_line, &o, {"--require"}, &error), cli::Parsed::kError);
  EXPECT_EQ(error, "option --require needs a value (CHECK)");
}

using progeny::test::call;
using progeny::test::Result;

// Through each subcommand's main: --help is the generated usage, a usage error one line and
// 125. Only paths that end before any process work.
TEST(CliCommands, EverySubcommandHelpsAndRefusesTheSameWay) {
  AllOptions o;
  std::vector<cli::CommandLine> tables = every_command_line(&o);
  int (*mains[])(int, char**) = {run_main, kill_main, watch_main, tree_main, summary_main,
                                 doctor_main};
  for (size_t i = 0; i < tables.size(); ++i) {
    std::string name(tables[i].name);
    SCOPED_TRACE(name);
    for (const char* h : {"-h", "--help"}) {
      Result help = call(mains[i], {name, h});
      EXPECT_EQ(help.status, 0);
      EXPECT_EQ(help.out, cli::usage(tables[i]));
      EXPECT_EQ(help.err, "");
    }
    for (auto args : std::vector<std::vector<std::string>>{{name, "--bogus"}, {name, "-Z", "1"}}) {
      Result bad = call(mains[i], args);
      EXPECT_EQ(bad.status, kExitProgenyError);
      EXPECT_EQ(bad.out, "");
      EXPECT_EQ(bad.err, "progeny " + name + ": unknown option '" + args[1] +
                             "' (see progeny " + name + " --help)\n");
    }
  }
}

}  // namespace
}  // namespace progeny
