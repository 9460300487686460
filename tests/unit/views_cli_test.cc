// The command lines of tree/summary/doctor, the --trace lines and the runaway report.
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/unit/call_main.h"
#include "bpf/tracker.h"
#include "launcher/contain/containment.h"
#include "launcher/contain/limits.h"
#include "launcher/doctor/commands.h"
#include "launcher/os/exit_codes.h"
#include "launcher/views/commands.h"
#include "launcher/doctor/doctor_probes.h"
#include "launcher/views/runaway_report.h"
#include "launcher/os/sys.h"
#include "launcher/views/trace_format.h"
#include "tests/unit/views_log.h"

namespace progeny {
namespace {

using progeny::test::call;
using progeny::test::Result;

class ViewsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(log_) << test::fixture_log().text();
  }
  void TearDown() override { unlink(log_.c_str()); }
  std::string log_ = "/tmp/progeny-views-cli-" + std::to_string(getpid()) + ".log";
};

TEST_F(ViewsCli, TreeFormatsAndBadLinesOnStderr) {
  Result r = call(tree_main, {"tree", log_});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("[runaway]"), std::string::npos);
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "stdout is not a terminal here";
  EXPECT_NE(r.err.find(log_ + ":14: not valid JSON"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(log_ + ":18: not valid JSON"), std::string::npos) << r.err;
  EXPECT_NE(call(tree_main, {"tree", "--color=always", log_}).out.find('\x1b'), std::string::npos);
  for (const char* f : {"json", "perfetto"}) {
    Result j = call(tree_main, {"tree", "--format", f, log_});
    EXPECT_EQ(j.status, 0);
    EXPECT_TRUE(nlohmann::json::accept(j.out)) << f;
  }
  EXPECT_EQ(call(tree_main, {"tree", "-f", "dot", log_}).out.rfind("digraph", 0), 0u);
  EXPECT_NE(call(tree_main, {"tree", "--format=svg", log_}).out.find("</svg>"), std::string::npos);
}

TEST_F(ViewsCli, SummaryTextAndJson) {
  Result r = call(summary_main, {"summary", log_});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("Runaways (alive after COMMAND exited): 3"), std::string::npos) << r.out;
  Result j = call(summary_main, {"summary", "--format", "json", log_});
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["runaways"].size(), 3u);
  EXPECT_EQ(doc["max_depth"], 3);
}

TEST_F(ViewsCli, UsageErrorsExit125WithOneLine) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"tree"}, {"tree", "--format", "png", log_}, {"tree", "--bogus", log_},
           {"tree", log_, log_}, {"tree", "--color", "sometimes", log_}, {"tree", "--format"},
           {"tree", "/nonexistent/progeny.log"}, {"tree", "/"}, {"summary", "--color", "always", log_}}) {
    Result r = call(args[0] == "tree" ? tree_main : summary_main, args);
    EXPECT_EQ(r.status, kExitProgenyError) << args.back();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("progeny ", 0), 0u) << r.err;
  }
}

TEST_F(ViewsCli, HelpExitsZero) {
  for (auto fn : {tree_main, summary_main, doctor_main}) {
    Result r = call(fn, {"x", "--help"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out.rfind("Usage: progeny ", 0), 0u);
  }
}

TEST(ViewsTrace, OneShortLinePerRecord) {
  TraceFormatter tf;
  test::LogWriter w;
  w.start(100, {"progeny", "run", "--", "sh"});
  w.fork("launcher", 101, 100, 1, "fork");
  w.exec("shim", 101, 2, "/bin/sh", {"sh", "-c", "x"});
  w.fork("shim", 102, 101, 3, "vfork");
  w.add("setsid", "shim", 102, 4)["sid"] = 102;
  w.signal(100, 102, 5, "TERM", "stop");
  w.exit_signal("bpf", 102, 6, 15);
  std::vector<std::string> lines;
  std::istringstream in(w.text());
  for (std::string l; std::getline(in, l);) {
    std::string why;
    auto r = parse_record(l, &why);
    ASSERT_TRUE(r) << why;
    lines.push_back(tf.format(*r));
  }
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0], "progeny: +0.000s progeny 100 started: progeny run -- sh [subreaper shim]");
  EXPECT_EQ(lines[2], "progeny: +0.002s 101 exec sh -c x");
  EXPECT_EQ(lines[3], "progeny: +0.003s 102 fork from 101 (sh) via vfork");
  EXPECT_EQ(lines[4], "progeny: +0.004s 102 (sh) setsid (new session 102)");
  EXPECT_EQ(lines[5], "progeny: +0.005s progeny sends TERM to 102 (sh) (stop)");
  EXPECT_EQ(lines[6], "progeny: +0.006s 102 (sh) exit signal TERM [bpf]");
  for (const auto& l : lines) EXPECT_EQ(l.find('\n'), std::string::npos);
  // A field from a hostile program never reaches the terminal raw.
  Record odd = make_record("fo\x1b[2J", "shim", 103, 7);
  std::string bad = tf.format(odd);
  EXPECT_EQ(bad.find('\x1b'), std::string::npos) << bad;
}

RunawayProcess leftover(pid_t pid, std::vector<std::string> argv, pid_t ppid, pid_t pgid,
                        pid_t sid, pid_t creator, std::string creator_name = "") {
  RunawayProcess p;
  p.pid = pid;
  p.start_time = 1;
  p.described = true;
  p.argv = std::move(argv);
  p.ppid = ppid;
  p.pgid = pgid;
  p.sid = sid;
  p.creator = creator;
  p.creator_name = std::move(creator_name);
  return p;
}

// The launcher 100; COMMAND 101, leading its group, in session 90.
RunawayContext outlived_context() {
  RunawayContext ctx;
  ctx.launcher_pid = 100;
  ctx.command_pid = 101;
  ctx.command_pgid = 101;
  ctx.command_sid = 90;
  return ctx;
}

TEST(ViewsRunawayReport, SaysWhoCreatedThemAndHowTheyEscaped) {
  RunawayContext ctx = outlived_context();
  std::vector<RunawayProcess> procs = {
      leftover(103, {"sleep", "100"}, 100, 103, 103, 102, "sh"),  // double fork + setsid
      leftover(104, {"nginx: worker"}, 103, 103, 103, 0),        // inside 103's session
      leftover(105, {"sleep", "5"}, 101, 105, 90, 0),            // setpgid, COMMAND's child
      leftover(106, {}, 100, 101, 90, 0),                        // an orphan nobody named
  };
  std::string r = format_runaway_report(procs, ctx);
  EXPECT_NE(r.find("4 processes outlived COMMAND (pid 101)"), std::string::npos) << r;
  EXPECT_NE(r.find("103 sleep 100: called setsid; orphaned, adopted by progeny; created by 102 (sh)"),
            std::string::npos) << r;
  EXPECT_NE(r.find("104 'nginx: worker': in session 103 (its leader called setsid); child of 103 (sleep)"),
            std::string::npos) << r;
  EXPECT_NE(r.find("105 sleep 5: called setpgid; child of COMMAND"), std::string::npos) << r;
  EXPECT_NE(r.find("106 [no command line]: still in COMMAND's process group; orphaned, adopted by "
                   "progeny; creator unknown"), std::string::npos) << r;
  EXPECT_EQ(format_runaway_report({}, ctx), "");
  std::vector<RunawayProcess> many(25, procs[0]);
  std::string capped = format_runaway_report(many, ctx, 20);
  EXPECT_NE(capped.find("... and 5 more"), std::string::npos);
  EXPECT_EQ(std::count(capped.begin(), capped.end(), '\n'), 22);
  // On a timeout the report says so, and still names every leftover.
  ctx.why = RunawayContext::Why::kTimeout;
  ctx.timeout_ms = 1000;
  r = format_runaway_report(procs, ctx);
  EXPECT_EQ(r.rfind("progeny: timeout after 1.00s; stopping 4 processes:", 0), 0U) << r;
  EXPECT_NE(r.find("created by 102 (sh)"), std::string::npos) << r;
}

// A retitled process (nginx, postgres) has its whole title in argv[0], slashes included: its
// children's lines name it by its image's base name from the lineage, not by the title's tail.
TEST(ViewsRunawayReport, NamesARetitledCreatorByItsImage) {
  RunawayContext ctx = outlived_context();
  RunawayProcess master = leftover(103, {"nginx: master process nginx -c /tmp/ng/nginx.conf"}, 100,
                                   103, 103, 101, "nginx");
  master.name = "nginx";
  RunawayProcess worker = leftover(104, {"nginx: worker process"}, 103, 103, 103, 103);
  std::string r = format_runaway_report({master, worker}, ctx);
  EXPECT_NE(r.find("104 'nginx: worker process': in session 103 (its leader called setsid); "
                   "child of 103 (nginx)"),
            std::string::npos)
      << r;
}

// Whether the calling process may become a child subreaper, asked apart from the doctor (in
// a child: the flag stays for life).
bool subreaper_allowed() {
  pid_t pid = fork();
  if (pid == 0) _exit(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 ? 0 : 1);
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

TEST(ViewsDoctor, EachVerdictIsWhatTheMechanismItselfSays) {
  std::vector<Probe> probes = run_probes();
  ASSERT_EQ(probes.size(), probe_names().size());
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  ASSERT_GT(n, 0);
  std::string dir(exe, static_cast<size_t>(n));
  std::string shim = dir.substr(0, dir.rfind('/')) + "/../lib/progeny/libprogeny.so";
  for (size_t i = 0; i < probes.size(); ++i) {
    const Probe& p = probes[i];
    EXPECT_EQ(p.name, probe_names()[i]);
    EXPECT_FALSE(p.detail.empty()) << p.name;
    EXPECT_FALSE(p.consequence.empty()) << p.name;
    EXPECT_EQ(p.detail.find('\n'), std::string::npos) << p.name << ": " << p.detail;
    std::string why;
    bool expected = false;
    if (p.name == "subreaper") expected = subreaper_allowed();
    if (p.name == "pidfd") expected = open_pidfd(getpid()).valid();
    if (p.name == "pidfd_exit") expected = p.ok;  // no other way to ask than the doctor's
    if (p.name == "preload") expected = access(shim.c_str(), R_OK) == 0;
    if (p.name == "bpf") expected = bpf::Tracker::start(getpid(), &why) != nullptr;
    if (p.name == "cgroup") expected = Containment::make(ContainMode::cgroup, &why) != nullptr;
    if (p.name == "pidns") expected = Containment::make(ContainMode::pidns, &why) != nullptr;
    if (p.name == "pids" || p.name == "memory" || p.name == "cpu")
      expected = LimitGroups::available(p.name, &why);
    EXPECT_EQ(p.ok, expected) << p.name << ": " << p.detail << " / " << why;
  }
}

TEST(ViewsDoctor, RequireDecidesTheExitStatus) {
  std::vector<Probe> probes = run_probes();
  std::string all;
  bool all_ok = true;
  for (const auto& p : probes) {
    all += (all.empty() ? "" : ",") + p.name;
    all_ok = all_ok && p.ok;
  }
  // Each check required gives "missing" on stderr exactly when the check finds it missing.
  Result r = call(doctor_main, {"doctor", "--require=" + all});
  EXPECT_EQ(r.status, all_ok ? 0 : 1) << r.err;
  for (const auto& p : probes) {
    EXPECT_EQ(r.err.find("'" + p.name + "' is missing") != std::string::npos, !p.ok) << r.err;
    char line[64];
    std::snprintf(line, sizeof line, "\n%-11s %-8s ", p.name.c_str(), p.ok ? "ok" : "missing");
    EXPECT_NE(r.out.find(line), std::string::npos) << line << " in\n" << r.out;
  }
  EXPECT_TRUE(r.out.ends_with("\n" + defaults_line(probes) + "\n")) << r.out;
  Result both = call(doctor_main, {"doctor", "--require", "pidfd", "--require", "subreaper"});
  EXPECT_NE(both.out.find("subreaper   ok"), std::string::npos) << both.out;
  // The checks of mechanisms progeny does not use are gone, as is the old "bpf" shorthand's
  // meaning (btf and a tracepoint type): "bpf" is now the tracker itself.
  for (const char* gone : {"nonsense", "btf", "tp_btf", "tracepoint", "bpf_lsm", "userns"})
    EXPECT_EQ(call(doctor_main, {"doctor", "--require", gone}).status, kExitProgenyError) << gone;
  EXPECT_EQ(call(doctor_main, {"doctor", "extra"}).status, kExitProgenyError);
}

TEST(ViewsDoctor, DefaultsLineFollowsEachResult) {
  auto probe = [](const char* with_defaults) {
    Probe p;
    p.with_defaults = with_defaults;
    return p;
  };
  EXPECT_EQ(defaults_line({probe("child subreaper"), probe(""), probe("--bpf auto → off")}),
            "progeny run with defaults will use: child subreaper; --bpf auto → off");
  // Each check's own line, ok and missing: what the defaults do with it.
  for (const auto& p : run_probes()) {
    if (p.name == "pidfd_exit" || p.name == "pidns" || p.name == "pids" || p.name == "memory" ||
        p.name == "cpu") {
      EXPECT_TRUE(p.with_defaults.empty()) << p.name << ": the defaults never ask for it";
    } else {
      EXPECT_FALSE(p.with_defaults.empty()) << p.name;
      // What the run refuses to go without says so; the rest are chosen or dropped silently.
      bool fatal = p.name == "subreaper" || p.name == "pidfd" || p.name == "preload";
      EXPECT_EQ(p.with_defaults.find("exits 125") != std::string::npos, fatal && !p.ok)
          << p.name << ": " << p.with_defaults;
    }
  }
}

}  // namespace
}  // namespace progeny
