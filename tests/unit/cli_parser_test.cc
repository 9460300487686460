// The shared option parser (launcher/cli/options.h) on a table of its own: every accepted
// form, every error path, the generated usage.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

#include "launcher/cli/option_kinds.h"
#include "launcher/cli/options.h"
#include "launcher/os/exit_codes.h"

namespace progeny::cli {
namespace {

struct Values {
  int verbose = 0;
  bool quiet = false;
  bool color = true;
  int64_t timeout_ms = -1;
  int signal = 0;
  int pdeathsig = -1;
  std::string mode = "auto";
  bool group = false;
  std::string log;
  std::vector<std::string> checks;
  std::vector<std::string> operands;
};

CommandLine table(Values* v, Operands mode = Operands::kMixed) {
  CommandLine cmd;
  cmd.name = "test";
  cmd.mode = mode;
  cmd.operand_name = "ARG";
  cmd.operand_synopsis = "ARG...";
  cmd.max_operands = SIZE_MAX;
  cmd.operand = append(&v->operands);
  cmd.header = "HEADER\n";
  cmd.footer = "FOOTER\n";
  cmd.options = {
      {"verbose", 'v', "", "more", counter(&v->verbose)},
      {"quiet", 'q', "", "less", flag(&v->quiet)},
      {"no-color", 0, "", "plain", flag(&v->color, false)},
      {"timeout", 't', "DURATION", "how long", duration_ms(&v->timeout_ms)},
      {"signal", 's', "SIG", "which signal", signal_number(&v->signal)},
      {"pdeathsig", 0, "SIG|none", "parent death", signal_number(&v->pdeathsig, true)},
      {"mode", 'm', "auto|on|off", "a choice", one_of(&v->mode, {"auto", "on", "off"})},
      {"forward", 0, "child|group", "mapped\nsecond line", choice(&v->group, {{"child", false}, {"group", true}})},
      {"log", 'l', "FILE", "a file", text(&v->log)},
      {"require", 0, "CHECK[,CHECK...]", "a list", each_of(&v->checks, {"a", "b", "c"}), true},
  };
  return cmd;
}

struct Result {
  Parsed parsed;
  Values v;
  std::string error;
};

Result parse_with(std::vector<std::string> args, Operands mode = Operands::kMixed,
                  size_t max_operands = SIZE_MAX, bool required = false) {
  Result r{};
  CommandLine cmd = table(&r.v, mode);
  cmd.max_operands = max_operands;
  cmd.operand_required = required;
  r.parsed = parse(cmd, args, &r.error);
  return r;
}

// An error is one line, and parsing said so.
void expect_error(const Result& r, const std::string& part) {
  EXPECT_EQ(r.parsed, Parsed::kError);
  EXPECT_NE(r.error.find(part), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;
}

TEST(CliParser, BothLongValueForms) {
  auto r = parse_with({"--timeout=1.5s", "--log", "out.jsonl", "--signal=INT", "--mode", "on"});
  ASSERT_EQ(r.parsed, Parsed::kOk) << r.error;
  EXPECT_EQ(r.v.timeout_ms, 1500);
  EXPECT_EQ(r.v.log, "out.jsonl");
  EXPECT_EQ(r.v.signal, SIGINT);
  EXPECT_EQ(r.v.mode, "on");
  // After '=' everything is the value, '=' and a leading dash included.
  r = parse_with({"--log=a=b", "--log", "-x"});
  ASSERT_EQ(r.parsed, Parsed::kOk) << r.error;
  EXPECT_EQ(r.v.log, "-x");
  EXPECT_EQ(parse_with({"--log=a=b"}).v.log, "a=b");
}

TEST(CliParser, ShortForms) {
  auto r = parse_with({"-t", "2s", "-sKILL", "-mOFF"});
  EXPECT_EQ(r.parsed, Parsed::kError) << "choices are exact";
  r = parse_with({"-t", "2s", "-sKILL", "-moff", "-lfile"});
  ASSERT_EQ(r.parsed, Parsed::kOk) << r.error;
  EXPECT_EQ(r.v.timeout_ms, 2000);
  EXPECT_EQ(r.v.signal, SIGKILL);
  EXPECT_EQ(r.v.mode, "off");
  EXPECT_EQ(r.v.log, "file");
  // Flags cluster; an option with a value takes the rest of its word.
  r = parse_with({"-vvq", "-vt500ms"});
  ASSERT_EQ(r.parsed, Parsed::kOk) << r.error;
  EXPECT_EQ(r.v.verbose, 3);
  EXPECT_TRUE(r.v.quiet);
  EXPECT_EQ(r.v.timeout_ms, 500);
}

TEST(CliParser, CountersFlagsAndRepeatableLists) {
  auto r = parse_with({"-v", "--verbose", "-v", "--no-color", "--require", "a,b", "--require=c",
                       "--pdeathsig", "none", "--forward=group"});
  ASSERT_EQ(r.parsed, Parsed::kOk) << r.error;
  EXPECT_EQ(r.v.verbose, 3);
  EXPECT_FALSE(r.v.color);
  EXPECT_EQ(r.v.checks, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r.v.pdeathsig, 0);
  EXPECT_TRUE(r.v.group);
  EXPECT_EQ(parse_with({"--pdeathsig=0"}).v.pdeathsig, 0);
  EXPECT_EQ(parse_with({"--pdeathsig=HUP"}).v.pdeathsig, SIGHUP);
  // The last of a repeated single-value option wins.
  EXPECT_EQ(parse_with({"-t1s", "--timeout=2s"}).v.timeout_ms, 2000);
}

TEST(CliParser, MixedOperandsUntilDoubleDash) {
  auto r = parse_with({"one", "-v", "-", "", "--", "-q", "--", "--timeout"});
  ASSERT_EQ(r.parsed, Parsed::kOk) << r.error;
  EXPECT_EQ(r.v.verbose, 1);
  EXPECT_FALSE(r.v.quiet);
  EXPECT_EQ(r.v.operands, (std::vector<std::string>{"one", "-", "", "-q", "--", "--timeout"}));
}

TEST(CliParser, StopAtFirstOperand) {
  auto r = parse_with({"-v", "ls", "-l", "--timeout", "x", "--"}, Operands::kStopAtFirst);
  ASSERT_EQ(r.parsed, Parsed::kOk) << r.error;
  EXPECT_EQ(r.v.verbose, 1);
  EXPECT_EQ(r.v.timeout_ms, -1);
  EXPECT_EQ(r.v.operands, (std::vector<std::string>{"ls", "-l", "--timeout", "x", "--"}));
  r = parse_with({"-q", "--", "-v", "--help"}, Operands::kStopAtFirst);
  ASSERT_EQ(r.parsed, Parsed::kOk) << r.error;
  EXPECT_EQ(r.v.verbose, 0);
  EXPECT_EQ(r.v.operands, (std::vector<std::string>{"-v", "--help"}));
  // "-" is an operand, so it ends the options too.
  EXPECT_EQ(parse_with({"-", "-v"}, Operands::kStopAtFirst).v.operands,
            (std::vector<std::string>{"-", "-v"}));
  EXPECT_EQ(parse_with({"ls", "--help"}, Operands::kStopAtFirst).parsed, Parsed::kOk);
}

TEST(CliParser, Help) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"-h"}, {"--help"}, {"-vh"}, {"x", "--help"}, {"-v", "-h", "--bogus"}})
    EXPECT_EQ(parse_with(args).parsed, Parsed::kHelp) << args[0];
  // An error before it still counts; help takes no value.
  expect_error(parse_with({"--bogus", "--help"}), "'--bogus'");
  expect_error(parse_with({"--help=yes"}), "--help takes no value");
}

TEST(CliParser, ErrorsAreOneLineAndNameTheProblem) {
  expect_error(parse_with({"--bogus"}), "unknown option '--bogus' (see progeny test --help)");
  expect_error(parse_with({"--bogus=1"}), "unknown option '--bogus'");
  expect_error(parse_with({"-x"}), "unknown option '-x'");
  expect_error(parse_with({"-vx"}), "unknown option '-x'");
  expect_error(parse_with({"--timeout"}), "option --timeout needs a value (DURATION)");
  expect_error(parse_with({"-t"}), "option -t needs a value (DURATION)");
  expect_error(parse_with({"-vt"}), "option -t needs a value");
  expect_error(parse_with({"--verbose=2"}), "option --verbose takes no value");
  expect_error(parse_with({"--timeout", "soon"}),
               "--timeout: 'soon' is not a duration (examples: 500ms, 2s, 1.5m, 1h");
  expect_error(parse_with({"-t", ""}), "--timeout: '' is not a duration");
  expect_error(parse_with({"-s", "FOO"}), "--signal: 'FOO' is not a signal (a name such as TERM");
  expect_error(parse_with({"--signal=none"}), "'none' is not a signal");
  expect_error(parse_with({"--pdeathsig", "x"}), "or none)");
  expect_error(parse_with({"--mode", "maybe"}), "--mode: 'maybe' is not one of auto, on, off");
  expect_error(parse_with({"--forward=all"}), "--forward: 'all' is not one of child, group");
  expect_error(parse_with({"--require", "a,d"}), "--require: 'd' is not one of a, b, c");
  expect_error(parse_with({"--require="}), "'' is not one of a, b, c");
  expect_error(parse_with({"--log="}), "--log: empty value");
  // Whatever the user typed, the message stays on one line.
  expect_error(parse_with({"--mode", "a\nb"}), "'a?b'");
  expect_error(parse_with({"--bo\ngus"}), "'--bo?gus'");
}

TEST(CliParser, OperandCountAndOperandErrors) {
  expect_error(parse_with({"-v"}, Operands::kMixed, SIZE_MAX, true), "no ARG given (usage: progeny test ");
  expect_error(parse_with({"a", "b"}, Operands::kMixed, 1), "more than one ARG given");
  expect_error(parse_with({"a"}, Operands::kMixed, 0), "unexpected argument 'a' (see progeny test --help)");
  EXPECT_EQ(parse_with({"a"}, Operands::kMixed, 1, true).parsed, Parsed::kOk);
  EXPECT_EQ(parse_with({}, Operands::kMixed, 0).parsed, Parsed::kOk);

  std::vector<pid_t> pids;
  CommandLine cmd;
  cmd.name = "pids";
  cmd.operand_name = "PID";
  cmd.max_operands = SIZE_MAX;
  cmd.operand = process_ids(&pids);
  std::string error;
  EXPECT_EQ(parse(cmd, {"12", "--", "34"}, &error), Parsed::kOk) << error;
  EXPECT_EQ(pids, (std::vector<pid_t>{12, 34}));
  for (const char* bad : {"0", "-1", "abc", "12x", ""}) {
    error.clear();
    EXPECT_EQ(parse(cmd, {"--", bad}, &error), Parsed::kError) << bad;
    EXPECT_EQ(error, std::string("PID: '") + bad + "' is not a process id (a number above 0)");
  }
}

TEST(CliParser, Usage) {
  Values v;
  std::string u = usage(table(&v));
  EXPECT_EQ(u.rfind("Usage: progeny test [-v] [-q] [--no-color] [-t DURATION] [-s SIG] "
                    "[--pdeathsig SIG|none] [-m auto|on|off] [--forward child|group] [-l FILE] "
                    "[--require CHECK[,CHECK...]]... ARG...\nHEADER\n\n",
                    0),
            0u)
      << u;
  // One column for every help text, set by the widest row that fits in 30 columns; what does
  // not fit gets its help on the next line.
  EXPECT_NE(u.find("\n  -v, --verbose              more\n"), std::string::npos) << u;
  EXPECT_NE(u.find("\n      --no-color             plain\n"), std::string::npos) << u;
  EXPECT_NE(u.find("\n  -t, --timeout DURATION     how long\n"), std::string::npos) << u;
  EXPECT_NE(u.find("\n      --forward child|group  mapped\n"
                   "                             second line\n"),
            std::string::npos)
      << u;
  EXPECT_NE(u.find("\n      --require CHECK[,CHECK...]\n"
                   "                             a list\n"),
            std::string::npos)
      << u;
  EXPECT_NE(u.find("\n  -h, --help                 this help\n\nFOOTER\n"), std::string::npos) << u;
  EXPECT_TRUE(u.ends_with("FOOTER\n"));

  CommandLine brief = table(&v);
  brief.brief_synopsis = true;
  brief.options.resize(1);
  u = usage(brief);
  EXPECT_EQ(u.rfind("Usage: progeny test [OPTIONS] ARG...\n", 0), 0u) << u;
  // A short table gets a narrow column.
  EXPECT_NE(u.find("\n  -v, --verbose  more\n  -h, --help     this help\n"), std::string::npos) << u;
}

struct Captured {
  std::optional<int> status;
  std::string out, err;
};

Captured main_args(std::vector<std::string> args) {
  Values v;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  Captured c;
  c.status = parse_main_args(table(&v), static_cast<int>(args.size()), argv.data());
  fflush(stdout);
  c.out = testing::internal::GetCapturedStdout();
  c.err = testing::internal::GetCapturedStderr();
  return c;
}

TEST(CliParser, MainArgsExitStatusAndOutput) {
  Captured ok = main_args({"test", "-v", "x"});
  EXPECT_FALSE(ok.status.has_value());
  EXPECT_EQ(ok.out + ok.err, "");

  Captured help = main_args({"test", "--help"});
  EXPECT_EQ(help.status, 0);
  Values v;
  EXPECT_EQ(help.out, usage(table(&v)));
  EXPECT_EQ(help.err, "");

  for (auto args : std::vector<std::vector<std::string>>{
           {"test", "--bogus"}, {"test", "-t"}, {"test", "--mode=x"}, {"test", "-s", "X\nY"}}) {
    Captured bad = main_args(args);
    EXPECT_EQ(bad.status, kExitProgenyError) << args[1];
    EXPECT_EQ(bad.out, "");
    EXPECT_EQ(bad.err.rfind("progeny test: ", 0), 0u) << bad.err;
    EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
    EXPECT_TRUE(bad.err.ends_with("\n"));
  }
}

}  // namespace
}  // namespace progeny::cli
