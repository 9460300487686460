#include "launcher/cli/run_options.h"

#include <gtest/gtest.h>

namespace progeny {
namespace {

struct Parsed {
  bool ok;
  RunOptions opts;
  std::string error;
  bool help;
};

Parsed parse(std::vector<std::string> args) {
  Parsed p{};
  cli::Parsed r = cli::parse(run_command_line(&p.opts), args, &p.error);
  p.ok = r != cli::Parsed::kError;
  p.help = r == cli::Parsed::kHelp;
  return p;
}

TEST(RunOptions, StopsAtFirstNonOption) {
  auto p = parse({"-v", "ls", "-l", "--timeout", "x"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.opts.verbose, 1);
  EXPECT_EQ(p.opts.command, (std::vector<std::string>{"ls", "-l", "--timeout", "x"}));
}

TEST(RunOptions, DoubleDashEndsOptions) {
  auto p = parse({"--", "-v"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.opts.verbose, 0);
  EXPECT_EQ(p.opts.command, std::vector<std::string>{"-v"});
}

TEST(RunOptions, ValuesSeparateOrWithEquals) {
  auto p = parse({"--timeout=1.5s", "-k", "200ms", "--signal", "INT", "--pdeathsig=none",
                  "--forward", "group", "-w", "--log", "out.jsonl", "true"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.opts.timeout_ms, 1500);
  EXPECT_EQ(p.opts.kill_after_ms, 200);
  EXPECT_EQ(p.opts.stop_signal, SIGINT);
  EXPECT_EQ(p.opts.pdeathsig, 0);
  EXPECT_TRUE(p.opts.forward_group);
  EXPECT_TRUE(p.opts.wait_all);
  EXPECT_EQ(p.opts.log_path, "out.jsonl");
}

// Two separate deaths: progeny's own (--pdeathsig) and a member's (--parent-death).
TEST(RunOptions, ParentDeathPolicyIsItsOwnOption) {
  auto p = parse({"--parent-death", "KILL", "true"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.opts.parent_death, SIGKILL);
  EXPECT_EQ(p.opts.pdeathsig, SIGKILL);
  p = parse({"--parent-death=TERM", "--pdeathsig", "none", "true"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.opts.parent_death, SIGTERM);
  EXPECT_EQ(p.opts.pdeathsig, 0);
  EXPECT_EQ(parse({"--parent-death", "none", "true"}).opts.parent_death, 0);
  auto bad = parse({"--parent-death", "soon", "true"});
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.error.find("'soon'"), std::string::npos) << bad.error;
}

TEST(RunOptions, ControlFdAboveTheStandardStreams) {
  auto p = parse({"--control-fd", "7", "true"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.opts.control_fd, 7);
  EXPECT_EQ(parse({"true"}).opts.control_fd, -1);
  for (const char* bad : {"0", "2", "-1", "x", "3x", ""}) {
    auto b = parse({"--control-fd", bad, "true"});
    EXPECT_FALSE(b.ok) << bad;
  }
  EXPECT_NE(parse({"--control-fd", "1", "true"}).error.find("standard streams"), std::string::npos);
}

TEST(RunOptions, ReportFileAndFormat) {
  auto p = parse({"--report", "verdict.xml", "--report-format", "junit", "true"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.opts.report_path, "verdict.xml");
  EXPECT_EQ(p.opts.report_format, ReportFormat::kJunit);
  EXPECT_EQ(parse({"true"}).opts.report_format, ReportFormat::kJson);
  auto bad = parse({"--report-format", "xml", "true"});
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.error.find("json"), std::string::npos) << bad.error;
}

TEST(RunOptions, Defaults) {
  auto p = parse({"true"});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.opts.timeout_ms, 0);
  EXPECT_EQ(p.opts.kill_after_ms, 5000);
  EXPECT_EQ(p.opts.stop_signal, SIGTERM);
  EXPECT_EQ(p.opts.pdeathsig, SIGKILL);
  EXPECT_EQ(p.opts.parent_death, 0);
  EXPECT_FALSE(p.opts.forward_group);
  EXPECT_TRUE(p.opts.preload);
}

TEST(RunOptions, ErrorsNameTheProblem) {
  EXPECT_NE(parse({}).error.find("no COMMAND"), std::string::npos);
  EXPECT_NE(parse({"-v"}).error.find("no COMMAND"), std::string::npos);
  EXPECT_NE(parse({"--timeout"}).error.find("needs a value"), std::string::npos);
  EXPECT_NE(parse({"--timeout", "soon", "x"}).error.find("'soon'"), std::string::npos);
  EXPECT_NE(parse({"--signal", "FOO", "x"}).error.find("'FOO'"), std::string::npos);
  EXPECT_NE(parse({"--forward", "all", "x"}).error.find("'all'"), std::string::npos);
  EXPECT_NE(parse({"--bogus", "x"}).error.find("'--bogus'"), std::string::npos);
  EXPECT_FALSE(parse({"--bpf", "maybe", "x"}).ok);
}

TEST(RunOptions, Help) {
  auto p = parse({"--help"});
  EXPECT_TRUE(p.ok);
  EXPECT_TRUE(p.help);
}

}  // namespace
}  // namespace progeny
