// The shim in real process trees, each scenario in the sandbox: every interposed entry point
// on its own, a connected lineage for a mixed workload, the three parent-death requirements,
// silence without a launcher, and bursts.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "schema/protocol.h"
#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

using progeny::test::build_path;
using progeny::test::fixture;
using progeny::test::read_file;
using progeny::test::run_command;
using progeny::test::run_in_sandbox;
using progeny::test::Scenario;

namespace {

void skip_unless_root() {
  if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root";
}

std::string shim() { return build_path("lib/progeny/libprogeny.so"); }

// Runs argv under `progeny run` with the shim and nothing else (no containment, no tracker,
// so what is recorded is the shim's work) and waits for the whole tree.
int hosted(const std::vector<std::string>& cmd, const std::string& log,
           std::vector<std::string> opts = {}) {
  std::vector<std::string> argv = {build_path("bin/progeny"), "run", "-q", "--contain", "none",
                                   "--bpf", "off", "--wait", "--log", log};
  argv.insert(argv.end(), opts.begin(), opts.end());
  argv.push_back("--");
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  return run_command(argv, log + ".out");
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool has(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

int count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (const auto& l : lines_of(text)) n += has(l, needle);
  return n;
}

int64_t field(const std::string& line, const std::string& key) {
  auto at = line.find("\"" + key + "\":");
  if (at == std::string::npos) return -1;
  return std::stoll(line.substr(at + key.size() + 3));
}

struct Entry {
  const char* name;
  const char* via;    // expected fork record's via
  const char* event;  // another event the entry must produce, or ""
};

class ShimEntry : public ::testing::TestWithParam<Entry> {};

TEST_P(ShimEntry, IsRecorded) {
  skip_unless_root();
  Entry e = GetParam();
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string log = "/tmp/shim-entry.jsonl";
    int st = hosted({fixture("shim_entry"), e.name}, log);
    std::string text = read_file(log);
    s.expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fixture failed: " + read_file(log + ".out"));
    // The marker as an argv element of its own: the exec of /bin/true itself.
    std::string marker = std::string(",\"shim-marker-") + e.name + "\"]";
    s.expect(count(text, "\"event\":\"exec\"") >= 2 && count(text, marker) == 1,
             "no exec record of the marker:\n" + text);
    s.expect(has(text, std::string("\"via\":\"") + e.via + "\""), "no fork via " +
             std::string(e.via) + ":\n" + text);
    if (*e.event) s.expect(has(text, e.event), std::string("no ") + e.event + ":\n" + text);
    s.expect(!has(text, "\"event\":\"lost\""), "records lost:\n" + text);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(r.survivors.empty()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(
    Entries, ShimEntry,
    ::testing::Values(Entry{"fork", "fork", ""}, Entry{"vfork", "vfork", ""},
                      Entry{"_Fork", "fork", ""}, Entry{"clone", "clone", ""},
                      Entry{"clone_vfork", "clone", ""},
                      Entry{"posix_spawn", "posix_spawn", ""},
                      Entry{"posix_spawn_old", "posix_spawn", ""},
                      Entry{"posix_spawnp", "posix_spawn", ""},
                      Entry{"posix_spawnp_old", "posix_spawn", ""},
                      Entry{"system", "system", ""}, Entry{"popen", "popen", ""},
                      Entry{"daemon", "daemon", "\"event\":\"setsid\""},
                      Entry{"setsid", "fork", "\"event\":\"setsid\""},
                      Entry{"setpgid", "fork", "\"event\":\"setpgid\""},
                      Entry{"setpgrp", "fork", "\"event\":\"setpgid\""},
                      Entry{"execve", "fork", ""}, Entry{"execv", "fork", ""},
                      Entry{"execvp", "fork", ""}, Entry{"execvpe", "fork", ""},
                      Entry{"execl", "fork", ""}, Entry{"execlp", "fork", ""},
                      Entry{"execle", "fork", ""}, Entry{"fexecve", "fork", ""},
                      Entry{"execveat", "fork", ""}, Entry{"env_i", "fork", ""},
                      Entry{"setuid", "fork", ""}, Entry{"close_range", "fork", ""},
                      Entry{"own_pdeathsig", "fork", ""}),
    [](const auto& info) { return std::string(info.param.name[0] == '_' ? "U" : "") +
                                  info.param.name; });

// Every fork and exec of a mixed workload is in the log, and the records form one tree.
TEST(Shim, MixedWorkloadFormsOneConnectedTree) {
  skip_unless_root();
  auto r = run_in_sandbox([](Scenario& s) {
    std::string log = "/tmp/mixed.jsonl";
    std::string script =
        "echo a | tr a b | cat >/dev/null; (true); " + fixture("shim_entry") + " system; " +
        fixture("shim_entry") + " popen; " + fixture("shim_entry") + " posix_spawn; " +
        fixture("shim_entry") + " vfork; "
        "/usr/bin/python3 -c 'import subprocess; subprocess.run([\"/bin/true\", \"py\"])'";
    int st = hosted({"/bin/sh", "-c", script}, log);
    s.expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "workload failed");
    std::string text = read_file(log);
    std::map<int64_t, int64_t> parent;
    int64_t root = -1;
    for (const auto& l : lines_of(text)) {
      if (!has(l, "\"source\":\"shim\"")) continue;
      int64_t pid = field(l, "pid"), ppid = field(l, "ppid");
      if (has(l, "\"event\":\"exec\"") && root < 0) root = pid;
      if ((has(l, "\"event\":\"fork\"") || has(l, "\"event\":\"exec\"")) && pid != root)
        parent.emplace(pid, ppid);
    }
    s.expect(root > 0, "no root exec:\n" + text);
    for (auto [pid, ppid] : parent) {
      int64_t p = ppid;
      for (int depth = 0; p != root && parent.count(p) && depth < 100; ++depth) p = parent[p];
      s.expect(p == root, "pid " + std::to_string(pid) + " is not connected to the root:\n" + text);
    }
    // pipeline (tr, cat), subshell, 4 fixtures and their markers, python and its child
    s.expect(parent.size() >= 12, "too few processes recorded:\n" + text);
    s.expect(has(text, "\"argv\":[\"/bin/true\",\"py\"]"), "python's child missing:\n" + text);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// Requirement 1, with --parent-death KILL: a parent killed by a signal takes its children
// with it (here the shell's background jobs; the host waits for the whole tree, so survivors
// would hang until the sandbox's timeout and fail the test).
TEST(ShimPdeath, SignalKilledParentTakesItsChildren) {
  skip_unless_root();
  auto r = run_in_sandbox(
      [](Scenario& s) {
        std::string log = "/tmp/req1.jsonl";
        hosted({"/bin/sh", "-c", "sleep 300 & sleep 300 & sleep 0.2; kill -9 $$"}, log,
               {"--parent-death", "KILL"});
        std::string text = read_file(log);
        s.expect(count(text, "\"cause\":\"parent_killed\"") == 2, "children not killed:\n" + text);
        s.expect(s.others().empty(), "survivors");
        return 0;
      },
      {.timeout_s = 30});
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(r.survivors.empty()) << r.describe();
}

// The default policy is none: the children of a SIGKILLed parent live on and finish their
// work, as without progeny (CPython's forkserver children and resource tracker rely on it).
TEST(ShimPdeath, ByDefaultASignalKilledParentsChildrenFinish) {
  skip_unless_root();
  auto r = run_in_sandbox(
      [](Scenario& s) {
        std::string log = "/tmp/req1-none.jsonl", out = "/tmp/req1-none.done";
        hosted({"/bin/sh", "-c", "(sleep 0.5; echo alive > " + out + ") & sleep 0.1; kill -9 $$"},
               log);
        s.expect(read_file(out) == "alive\n", "the child did not finish: " + read_file(out));
        s.expect(!has(read_file(log), "parent_killed"), "the child was signalled:\n" + read_file(log));
        return 0;
      },
      {.timeout_s = 30});
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(r.survivors.empty()) << r.describe();
}

// Requirement 1 for a multiprocessing pool whose parent is SIGKILLed (--parent-death KILL).
TEST(ShimPdeath, KilledMultiprocessingParentTakesItsWorkers) {
  skip_unless_root();
  auto r = run_in_sandbox(
      [](Scenario& s) {
        std::string log = "/tmp/pool.jsonl";
        hosted({"/usr/bin/python3", "-c",
                "import multiprocessing as mp, os\n"
                "p = mp.Pool(3)\n"
                "assert p.map(abs, [-1, -2, -3]) == [1, 2, 3]\n"
                "os.kill(os.getpid(), 9)\n"},
               log, {"--parent-death", "KILL"});
        // The workers end either by the policy or on their own (their task pipe reaches EOF
        // as the parent dies, often first): none may outlive it, and each has its exit.
        std::string text = read_file(log);
        std::set<int64_t> workers, ended;
        for (const auto& l : lines_of(text)) {
          if (has(l, "\"event\":\"fork\"") && has(l, "\"source\":\"shim\"")) workers.insert(field(l, "pid"));
          if (has(l, "\"event\":\"exit\"") && !has(l, "\"unknown\"")) ended.insert(field(l, "pid"));
        }
        s.expect(workers.size() >= 3, "no fork record of the workers:\n" + text);
        for (int64_t w : workers)
          s.expect(ended.count(w) == 1, "no exit of worker " + std::to_string(w) + ":\n" + text);
        s.expect(s.others().empty(), "survivors");
        return 0;
      },
      {.timeout_s = 60});
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(r.survivors.empty()) << r.describe();
}

// Requirement 2: a parent that exits normally leaves its children running (a double-fork
// daemon keeps working and finishes its job).
TEST(ShimPdeath, NormallyExitingParentLeavesDaemonRunning) {
  skip_unless_root();
  auto r = run_in_sandbox([](Scenario& s) {
    std::string log = "/tmp/req2.jsonl", out = "/tmp/req2.done";
    int st = hosted({"/bin/sh", "-c",
                     "(setsid /bin/sh -c 'sleep 0.5; echo alive > " + out + "' &) ; exit 0"},
                    log);
    s.expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "host failed");
    s.expect(read_file(out) == "alive\n", "daemon did not finish: " + read_file(out));
    s.expect(!has(read_file(log), "parent_killed"), "daemon was signalled");
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// Requirement 3: a SIGKILLed launcher takes the whole shimmed tree down, including setsid'd
// and double-forked members; with PROGENY_PDEATHSIG=0 nothing is killed.
void launcher_killed(bool off) {
  auto r = run_in_sandbox([&](Scenario& s) {
    pid_t host = ::fork();
    if (host == 0) {
      std::vector<std::string> a = {build_path("bin/progeny"), "run", "-q", "--contain", "none",
                                    "--bpf", "off", "--pdeathsig", off ? "none" : "KILL", "--",
                                    "/bin/sh", "-c",
                                    "sleep 300 & (setsid sh -c 'sleep 301 & sleep 302' &) ; "
                                    "/usr/bin/python3 -c 'import os,time; os.fork(); time.sleep(303)' "
                                    "& wait"};
      std::vector<char*> av;
      for (auto& x : a) av.push_back(x.data());
      av.push_back(nullptr);
      ::execv(av[0], av.data());
      ::_exit(127);
    }
    // Wait (bounded, generously: a loaded 2-core machine took over 10 s) until the tree is
    // up: 6 processes besides the host.
    for (int i = 0; i < 1200 && s.others().size() < 7; ++i) ::usleep(50000);
    s.expect(s.others().size() >= 7, "tree did not start");
    ::kill(host, SIGKILL);
    ::waitpid(host, nullptr, 0);
    if (off) {
      ::usleep(300000);
      s.expect(s.others().size() >= 6, "PROGENY_PDEATHSIG=0 still killed members");
    } else {
      for (int i = 0; i < 1200 && !s.others().empty(); ++i) ::usleep(50000);
      std::string left;
      for (auto& o : s.others()) left += o + "\n";
      s.expect(s.others().empty(), "survivors of the launcher:\n" + left);
    }
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}
TEST(ShimPdeath, KilledLauncherTakesTheTreeDown) {
  skip_unless_root();
  launcher_killed(false);
}
TEST(ShimPdeath, ZeroTurnsItOff) {
  skip_unless_root();
  launcher_killed(true);
}

// Without a launcher the shim is silent and the program unharmed.
TEST(Shim, SilentWithoutLauncher) {
  skip_unless_root();
  auto r = run_in_sandbox([](Scenario& s) {
    std::string out = "/tmp/silent.out";
    int st = run_command({"/bin/sh", "-c", fixture("shim_entry") + " fork && echo ok"}, out,
                         {"LD_PRELOAD=" + shim(), "PROGENY_SOCK=progeny.gone", "PROGENY_PDEATHSIG=9",
                          "PROGENY_SHIM=" + shim()});
    s.expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "program harmed");
    s.expect(read_file(out) == "ok\n", "unexpected output: " + read_file(out));
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// noreenv honours a scrubbed environment: the shell started with env -i is not shimmed.
TEST(Shim, NoreenvHonoursScrubbedEnvironment) {
  skip_unless_root();
  auto r = run_in_sandbox([](Scenario& s) {
    std::string log = "/tmp/noreenv.jsonl";
    hosted({fixture("shim_entry"), "env_i"}, log, {"--no-reenv"});
    s.expect(!has(read_file(log), "shim-marker-env_i"), "environment was repaired anyway");
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// A burst of forks never blocks the program; every record arrives or is counted as lost.
TEST(Shim, BurstIsRecordedOrCounted) {
  skip_unless_root();
  auto r = run_in_sandbox([](Scenario& s) {
    std::string log = "/tmp/burst.jsonl";
    int st = hosted({"/bin/sh", "-c", "for i in $(seq 400); do /bin/true burst & done; wait"},
                    log);
    s.expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "burst failed");
    std::string text = read_file(log);
    int execs = count(text, "\"argv\":[\"/bin/true\",\"burst\"]");
    int64_t lost = 0;
    for (const auto& l : lines_of(text))
      if (has(l, "\"event\":\"lost\"")) lost = field(l, "count");
    s.expect(execs + lost >= 400, "records vanished: " + std::to_string(execs) + " execs, " +
                                      std::to_string(lost) + " lost");
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// With the tracker on, the shim leaves an exec to it (no connection, no record) unless the
// tracker would cut it: an argv block longer than it copies is recorded by the shim too, and
// the log keeps it whole. Both execs are in the log, each once per source.
TEST(ShimTracked, LeavesAWholeExecToTheTrackerAndReportsALongerOne) {
  REQUIRE_TRACKER();
  auto r = run_in_sandbox([](Scenario& s) {
    std::string log = "/tmp/tracked.jsonl";
    std::string long_arg(PROGENY_TRACKER_ARGV_BYTES, 'x');
    std::vector<std::string> argv = {build_path("bin/progeny"), "run", "-q", "--bpf", "on",
                                     "--wait", "--log", log, "--", "/bin/sh", "-c",
                                     "/bin/echo short >/dev/null; /bin/echo \"$0\" >/dev/null",
                                     long_arg};
    int st = run_command(argv, log + ".out");
    s.expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "run failed: " + read_file(log + ".out"));
    std::string text = read_file(log);
    auto execs_of = [&](const std::string& source, const std::string& argv_json) {
      int n = 0;
      for (const auto& l : lines_of(text))
        n += has(l, "\"event\":\"exec\"") && has(l, "\"source\":\"" + source + "\"") &&
             has(l, "\"argv\":" + argv_json);
      return n;
    };
    const std::string short_argv = "[\"/bin/echo\",\"short\"]";
    const std::string long_argv = "[\"/bin/echo\",\"" + long_arg + "\"]";
    s.expect(execs_of("bpf", short_argv) == 1, "the tracker's exec of echo short:\n" + text);
    s.expect(execs_of("shim", short_argv) == 0, "the shim reported a whole exec:\n" + text);
    s.expect(execs_of("shim", long_argv) == 1, "the shim's exec of the long argv:\n" + text);
    // The tracker's copy of it is cut, and says so.
    for (const auto& l : lines_of(text))
      if (has(l, "\"source\":\"bpf\"") && has(l, "\"event\":\"exec\"") && has(l, long_arg.substr(0, 900)))
        s.expect(has(l, "\"argv_truncated\":true"), "the tracker's long exec is not marked cut: " + l);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
