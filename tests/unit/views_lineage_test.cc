// Reading logs and reconstructing the tree: tolerance, identity, and the marks of each
// fixture shape.
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <sstream>

#include "launcher/views/lineage.h"
#include "launcher/views/log_text.h"
#include "launcher/views/logread.h"
#include "tests/unit/views_log.h"

namespace progeny {
namespace {

using test::fixture_log;
using test::LogWriter;

const ProcessNode& node(const Lineage& lin, pid_t pid) {
  for (const auto& p : lin.procs)
    if (p.pid == pid) return p;
  ADD_FAILURE() << "no process " << pid;
  static ProcessNode none;
  return none;
}

// A log with every kind of bad line, a blank one and a CRLF ending.
const char kMixedLog[] =
    "{\"v\":1,\"event\":\"fork\",\"source\":\"shim\",\"pid\":5,\"time_ns\":1,\"ppid\":4}\n"
    "{\"v\":1,\"event\":\"exec\",\"source\":\"sh\n"     // truncated
    "\x01\x02garbage\xff\n"                              // not JSON
    "[1,2]\n"                                            // not an object
    "{\"v\":2,\"event\":\"x\",\"pid\":1,\"time_ns\":1}\n"  // future schema
    "{\"v\":1,\"event\":\"exit\",\"pid\":\"5\",\"time_ns\":1}\n"  // pid of the wrong type
    " \t\r\n"
    "{\"v\":1,\"event\":\"exit\",\"source\":\"launcher\",\"pid\":5,\"time_ns\":9,\"code\":0}\r\n";

TEST(ViewsLogRead, BadLinesAreReportedWithLineNumbersAndSkipped) {
  std::istringstream in(kMixedLog);
  LogContents c = read_log(in);
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_EQ(c.events[1].line, 8u);
  EXPECT_EQ(c.events[1].event, "exit");
  ASSERT_EQ(c.problems.size(), 5u);
  EXPECT_EQ(c.problems[0].line, 2u);
  EXPECT_EQ(c.problems[1].line, 3u);
  EXPECT_EQ(c.problems[3].line, 5u);
  EXPECT_NE(c.problems[3].what.find("version"), std::string::npos);
  EXPECT_EQ(c.problems[4].line, 6u);
}

// The views read a log through LogText, not an istream: the same lines are records and the
// same ones are problems (one line rule, record_text).
TEST(ViewsLogRead, TheViewsReaderAgreesWithReadLog) {
  std::istringstream in(kMixedLog);
  LogContents c = read_log(in);
  int fd = ::memfd_create("mixed.log", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, kMixedLog, sizeof kMixedLog - 1), static_cast<ssize_t>(sizeof kMixedLog - 1));
  ASSERT_EQ(::lseek(fd, 0, SEEK_SET), 0);
  std::string why;
  auto text = LogText::read(fd, &why);
  ::close(fd);
  ASSERT_TRUE(text) << why;
  std::vector<LogProblem> problems;
  Lineage lin = read_lineage(std::move(*text), &problems);
  EXPECT_EQ(lin.events, c.events.size());
  ASSERT_EQ(problems.size(), c.problems.size());
  for (size_t i = 0; i < problems.size(); ++i) EXPECT_EQ(problems[i].line, c.problems[i].line);
  EXPECT_TRUE(node(lin, 5).ended_ns.has_value()) << "the CRLF exit record was not read";
}

TEST(ViewsLogRead, ReportLimitsTheNumberOfLines) {
  std::vector<LogProblem> problems(30, {7, "bad"});
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  report_problems(problems, "x.log", f, 20);
  fclose(f);
  std::string text(buf, len);
  free(buf);
  EXPECT_NE(text.find("x.log:7: bad, skipped"), std::string::npos);
  EXPECT_NE(text.find("10 more unreadable lines"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 21);
}

TEST(ViewsIdentity, ReusedPidWithAnotherStartTimeIsAnotherProcess) {
  LogWriter w;
  w.fork("shim", 50, 1, 1, "fork");
  w.exit_code("launcher", 50, 2, 0);
  w.add("fork", "shim", 50, 3, 777)["ppid"] = 1;  // same pid, new start time: reused
  w.exit_code("launcher", 50, 4, 1);
  w.add("exit", "launcher", 50, 4, 777)["code"] = 2;
  Lineage lin = w.lineage();
  int fifties = 0;
  for (const auto& p : lin.procs) fifties += p.pid == 50;
  EXPECT_EQ(fifties, 2);
  // The second process's exit is the one with its start time: code 2, not code 1.
  const ProcessNode& second = lin.procs.back().pid == 50 ? lin.procs.back() : lin.procs[2];
  EXPECT_EQ(second.start_time, 777u);
  EXPECT_EQ(second.exit_code, 2);
}

TEST(ViewsIdentity, RecordWithoutStartTimeJoinsTheLatestLiveProcess) {
  LogWriter w;
  w.fork("shim", 60, 1, 1, "fork");
  w.exit_code("launcher", 60, 2, 0);
  w.add("fork", "shim", 60, 3, 999)["ppid"] = 1;
  w.add("setsid", "shim", 60, 5, 0)["sid"] = 60;  // no start_time: the live one, 999
  Lineage lin = w.lineage();
  int checked = 0;
  for (const auto& p : lin.procs) {
    if (p.pid != 60) continue;
    EXPECT_EQ(p.called_setsid, p.start_time == 999u) << *p.start_time;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST(ViewsIdentity, ShimAndBpfReportsOfOneProcessMerge) {
  LogWriter w;
  w.fork("bpf", 70, 1, 1.0, "bpf");
  w.fork("shim", 70, 1, 1.1, "posix_spawn");
  w.exec("bpf", 70, 2.0, "/bin/ls", {"ls"});
  w.exec("shim", 70, 2.1, "/bin/ls", {"ls", "-l"}, 1);
  w.exit_code("bpf", 70, 3, 0);
  Lineage lin = w.lineage();
  const ProcessNode& p = node(lin, 70);
  EXPECT_EQ(std::count_if(lin.procs.begin(), lin.procs.end(),
                          [](const ProcessNode& n) { return n.pid == 70; }), 1);
  EXPECT_EQ(p.via, "posix_spawn");  // the shim knows the call, the tracker only "bpf"
  ASSERT_EQ(p.execs.size(), 1u);
  EXPECT_EQ(p.execs[0].argv, (std::vector<std::string>{"ls", "-l"}));
  EXPECT_FALSE(p.bpf_only);
}

// The same exec reported by two sources far apart (a loaded machine) is one step; an exec
// chain of one image (sh -c 'exec sh -c ...') stays two, whatever the order of arrival.
TEST(ViewsIdentity, OneExecFromTwoSourcesIsOneStepHoweverLate) {
  LogWriter w;
  w.fork("shim", 71, 1, 1.0, "fork");
  w.exec("bpf", 71, 2.0, "/usr/bin/setsid", {"setsid", "sleep", "5"});
  w.exec("bpf", 71, 2.5, "/usr/bin/sleep", {"sleep", "5"});
  w.exec("shim", 71, 300, "/usr/bin/setsid", {"setsid", "sleep", "5"}, 1);
  w.exec("shim", 71, 301, "/usr/bin/sleep", {"sleep", "5"}, 1);
  w.fork("shim", 72, 1, 1.0, "fork");
  w.exec("shim", 72, 2.0, "/bin/sh", {"sh", "-c", "exec sh -c true"}, 1);
  w.exec("shim", 72, 2.1, "/bin/sh", {"sh", "-c", "true"}, 1);
  w.exec("bpf", 72, 2.2, "/bin/sh", {"sh", "-c", "exec sh -c true"});
  w.exec("bpf", 72, 2.3, "/bin/sh", {"sh", "-c", "true"});
  Lineage lin = w.lineage();
  ASSERT_EQ(node(lin, 71).execs.size(), 2u);
  EXPECT_EQ(node(lin, 71).execs[1].path, "/usr/bin/sleep");
  ASSERT_EQ(node(lin, 72).execs.size(), 2u);
  EXPECT_EQ(node(lin, 72).execs[1].argv, (std::vector<std::string>{"sh", "-c", "true"}));
}

// A run's runaways are what still ran when progeny's stop began; a process that outlived
// COMMAND but ended on its own before (within --fail-on-runaway's settle) is not one.
TEST(ViewsRunaways, AreWhatStillRanWhenTheStopBegan) {
  LogWriter w;
  w.start(100, {"progeny", "run", "--", "sh"});
  w.add("fork", "launcher", 101, 0.1).update({{"ppid", 100}, {"via", "spawn"}, {"role", "command"}});
  w.fork("shim", 102, 101, 1, "fork");
  w.fork("shim", 103, 101, 1, "fork");
  w.exit_code("launcher", 101, 10, 0);
  w.exit_code("bpf", 102, 500, 0);  // a resource tracker finishing within the settle
  w.add("stop", "launcher", 100, 2010).update({{"phase", "begin"}, {"members", 1}});
  w.signal(100, 103, 2011, "TERM", "stop");
  w.exit_signal("launcher", 103, 2012, 15);
  Lineage lin = w.lineage();
  EXPECT_FALSE(node(lin, 102).runaway);
  EXPECT_TRUE(node(lin, 103).runaway);
}

// Under strace on a busy machine the shim's constructor ran 87 ms after the kernel's exec
// (measured by bench/lineage_bench): the sources' reports are still one exec.
TEST(ViewsIdentity, ReportsOfOneExecMergeHoweverFarApart) {
  LogWriter w;
  w.fork("bpf", 71, 1, 1.0, "bpf");
  w.exec("bpf", 71, 2.0, "/usr/bin/make", {"make"});
  w.exec("launcher", 71, 40, "/usr/bin/make", {"make", "-j4"});
  w.exec("shim", 71, 180, "/usr/bin/make", {"make", "-j4"}, 1);
  Lineage lin = w.lineage();
  const ProcessNode& p = node(lin, 71);
  ASSERT_EQ(p.execs.size(), 1u);
  EXPECT_EQ(p.execs[0].argv, (std::vector<std::string>{"make", "-j4"}));
}

// The same program exec'd twice is two execs, each reported by every source that sees it;
// an exec only the tracker sees (a static image) is a step of its own.
TEST(ViewsIdentity, EachSourceReportsEveryExecOnce) {
  LogWriter w;
  w.fork("bpf", 72, 1, 1.0, "bpf");
  w.exec("bpf", 72, 2, "/bin/busybox", {"busybox"});
  w.exec("bpf", 72, 3, "/bin/sh", {"sh"});
  w.exec("shim", 72, 4, "/bin/sh", {"sh", "-c", "exec sh"});
  w.exec("bpf", 72, 5, "/bin/sh", {"sh"});
  w.exec("shim", 72, 6, "/bin/sh", {"sh"});
  Lineage lin = w.lineage();
  const ProcessNode& p = node(lin, 72);
  ASSERT_EQ(p.execs.size(), 3u);
  EXPECT_EQ(p.execs[0].path, "/bin/busybox");
  EXPECT_EQ(p.execs[1].argv, (std::vector<std::string>{"sh", "-c", "exec sh"}));
  EXPECT_EQ(p.execs[2].path, "/bin/sh");
}

TEST(ViewsIdentity, ParentLoopsInAHostileLogAreCut) {
  LogWriter w;
  w.fork("shim", 80, 81, 1, "fork");
  w.fork("shim", 81, 80, 2, "fork");
  Lineage lin = w.lineage();
  EXPECT_FALSE(lin.roots.empty());
  EXPECT_EQ(lin.preorder().size(), lin.procs.size());
}

class ViewsFixture : public ::testing::Test {
 protected:
  Lineage lin = fixture_log().lineage();
};

TEST_F(ViewsFixture, CommandAndLauncherAreFound) {
  ASSERT_TRUE(lin.launcher && lin.command);
  EXPECT_EQ(lin.procs[*lin.launcher].pid, 100);
  EXPECT_EQ(lin.procs[*lin.command].pid, 101);
  EXPECT_EQ(lin.unreadable_lines, 2u);
  EXPECT_EQ(lin.roots.size(), 1u);
}

TEST_F(ViewsFixture, DoubleForkDaemon) {
  const ProcessNode& mid = node(lin, 102);
  const ProcessNode& d = node(lin, 103);
  EXPECT_FALSE(mid.runaway);
  EXPECT_EQ(lin.procs[*d.parent].pid, 102);  // shown under its creator, not its adopter
  EXPECT_TRUE(d.called_setsid);
  EXPECT_TRUE(d.reparented);
  EXPECT_EQ(d.adopted_by, 100);
  EXPECT_TRUE(d.outlived_parent);
  EXPECT_TRUE(d.runaway);
  EXPECT_EQ(d.stopped_by_progeny(), "TERM");
}

TEST_F(ViewsFixture, SetsidEscapeeKilledAfterIgnoringTerm) {
  const ProcessNode& p = node(lin, 104);
  EXPECT_TRUE(p.called_setsid);
  EXPECT_FALSE(p.called_setpgid);
  EXPECT_TRUE(p.runaway);
  EXPECT_EQ(p.stopped_by_progeny(), "KILL");
}

TEST_F(ViewsFixture, SetpgidEscapeeThatExitedOnTerm) {
  const ProcessNode& p = node(lin, 105);
  EXPECT_TRUE(p.called_setpgid);
  EXPECT_EQ(p.pgid, 105);
  EXPECT_TRUE(p.runaway);
  EXPECT_EQ(p.stopped_by_progeny(), "TERM");
  EXPECT_EQ(p.end, EndKind::kExited);
}

TEST_F(ViewsFixture, ZombieReapedLateIsNotARunaway) {
  const ProcessNode& z = node(lin, 106);
  EXPECT_EQ(z.end, EndKind::kExited);
  EXPECT_FALSE(z.runaway);
  EXPECT_FALSE(z.outlived_parent);
}

TEST_F(ViewsFixture, ExecChainAndBpfOnlyStatic) {
  const ProcessNode& c = node(lin, 107);
  ASSERT_EQ(c.execs.size(), 3u);
  EXPECT_EQ(c.execs[2].path, "/usr/bin/sleep");
  EXPECT_FALSE(c.runaway);
  const ProcessNode& s = node(lin, 108);
  EXPECT_TRUE(s.bpf_only);
  EXPECT_EQ(lin.procs[*s.parent].pid, 107);
  EXPECT_EQ(s.exit_code, 3);
  EXPECT_EQ(image_at(lin, *s.parent, 4.25 * test::kMs + test::kBase), "/usr/bin/env");
}

TEST_F(ViewsFixture, CommandItselfIsNeverARunaway) {
  EXPECT_FALSE(node(lin, 101).runaway);
  EXPECT_FALSE(node(lin, 100).runaway);
}

}  // namespace
}  // namespace progeny
