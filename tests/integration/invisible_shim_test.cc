// Issue 12: the shim leaves no descriptor of progeny's in the program (after exec, in a fork
// child, in a daemon() child, under RLIMIT_NOFILE 16), and in shim-only mode the lifelines
// the keeper holds still take the tree down with a SIGKILLed launcher, also where the old
// in-program lifeline could not: as nobody, after a uid change, in a daemon that closed every
// descriptor, and in a PID-namespace init. Each scenario in the sandbox.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace {

using progeny::test::fixture;
using progeny::test::progeny_bin;
using progeny::test::read_file;
using progeny::test::run_command;
using progeny::test::run_in_sandbox;
using progeny::test::Scenario;

void skip_unless_root() {
  if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root";
}

constexpr const char* kStages[] = {"exec", "fork", "daemon", "low"};

struct Seen {
  std::string pid;
  std::string fds;
};

// Runs fd_probe under `wrap` (empty: bare) and collects what every stage saw; a stage that
// never wrote its file (bounded wait: the daemon finishes after its parent) is left empty.
std::map<std::string, Seen> probe(std::vector<std::string> wrap, const std::string& dir) {
  ::mkdir(dir.c_str(), 0777);
  wrap.push_back(fixture("fd_probe"));
  wrap.push_back(dir);
  run_command(wrap, dir + ".out");
  std::map<std::string, Seen> out;
  for (const char* stage : kStages) {
    std::string path = dir + "/" + stage;
    for (int i = 0; i < 500 && ::access(path.c_str(), F_OK) != 0; ++i) ::usleep(10000);
    std::istringstream in(read_file(path));
    std::getline(in, out[stage].pid);
    std::getline(in, out[stage].fds);
  }
  return out;
}

// A shim record of this event about the process with this pid (in pidns mode the process's
// own pid is the record's ns_pid).
bool shim_record_of(const std::string& log, const std::string& event, const std::string& pid) {
  std::istringstream in(log);
  for (std::string l; std::getline(in, l);) {
    if (l.find("\"event\":\"" + event + "\"") == std::string::npos ||
        l.find("\"source\":\"shim\"") == std::string::npos)
      continue;
    for (const char* key : {"\"pid\":", "\"ns_pid\":"})
      for (const char* end : {",", "}"})
        if (l.find(key + pid + end) != std::string::npos) return true;
  }
  return false;
}

class InvisibleShim : public ::testing::TestWithParam<const char*> {};

TEST_P(InvisibleShim, ProgramSeesOnlyItsOwnDescriptors) {
  skip_unless_root();
  auto r = run_in_sandbox([&](Scenario& s) {
    auto bare = probe({}, "/tmp/fdprobe-bare");
    std::string log = "/tmp/fdprobe.jsonl";
    auto shimmed = probe({progeny_bin(), "run", "-q", "--contain", GetParam(), "--bpf", "off",
                          "--wait", "--log", log, "--"},
                         "/tmp/fdprobe-shim");
    std::string text = read_file(log);
    for (const char* stage : kStages) {
      const Seen& b = bare[stage];
      const Seen& m = shimmed[stage];
      s.expect(!b.pid.empty() && !m.pid.empty(), std::string(stage) + ": no report, bare " +
                                                      b.pid + ", shimmed " + m.pid);
      s.expect(m.fds == b.fds, std::string(stage) + ": descriptors with the shim [" + m.fds +
                                   "], bare [" + b.fds + "]");
      // The shim was loaded there: its record of that very process is in the log.
      bool forked = std::string(stage) == "fork" || std::string(stage) == "daemon";
      s.expect(shim_record_of(text, forked ? "fork" : "exec", m.pid),
               std::string(stage) + ": no shim record of pid " + m.pid + " in:\n" + text);
    }
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(r.survivors.empty()) << r.describe();
}

// errno after each hooked call (fork in parent and child, setsid, a refused setpgid, setuid,
// a failed execv, vfork, posix_spawn, system, popen) is what it is bare: the shim's work
// (raw syscalls, shim/sys.h) leaves the program's errno alone. With lifelines (none) the
// fork child and setuid hand one in; the log proves the shim ran in the fork child.
TEST_P(InvisibleShim, ProgramSeesItsOwnErrno) {
  skip_unless_root();
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string bare_out = "/tmp/errno-bare.out", shim_out = "/tmp/errno-shim.out";
    std::string log = "/tmp/errno.jsonl";
    run_command({fixture("errno_probe")}, bare_out);
    run_command({progeny_bin(), "run", "-q", "--contain", GetParam(), "--bpf", "off", "--wait",
                 "--log", log, "--", fixture("errno_probe")},
                shim_out);
    std::string bare = read_file(bare_out), shimmed = read_file(shim_out);
    s.expect(bare.find("fork child 4242\n") != std::string::npos &&
                 bare.find("popen") != std::string::npos,
             "the probe did not run bare: " + bare);
    s.expect(shimmed == bare, "errno with the shim:\n" + shimmed + "bare:\n" + bare);
    std::string text = read_file(log);
    s.expect(text.find("\"event\":\"setsid\",\"source\":\"shim\"") != std::string::npos &&
                 text.find("\"via\":\"popen\"") != std::string::npos,
             "the shim did not report the probe's calls:\n" + text);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(r.survivors.empty()) << r.describe();
}

// none: the lifelines are with the keeper; cgroup and pidns: no lifeline at all.
INSTANTIATE_TEST_SUITE_P(Modes, InvisibleShim, ::testing::Values("none", "cgroup", "pidns"),
                         [](const auto& info) { return std::string(info.param); });

// Shim only (no containment, no tracker): COMMAND under `progeny run`, READY on stdout once
// the tree is up, at least `procs` processes besides the scenario; then kill -9 of the
// launcher, and nothing may be left within a second (the keeper included).
void killed_launcher_leaves_nothing(Scenario& s, const std::vector<std::string>& cmd,
                                    size_t procs) {
  std::vector<std::string> argv = {progeny_bin(), "run", "-q", "--contain", "none", "--bpf",
                                   "off", "--"};
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  auto c = progeny::test::start_command(argv);
  std::string seen;
  if (!s.expect(progeny::test::wait_for_line(c.out_fd, "READY", 20000, &seen), "no READY: " + seen))
    return;
  for (int i = 0; i < 500 && s.others().size() < procs; ++i) ::usleep(10000);
  s.expect(s.others().size() >= procs, "the tree is smaller than expected: " +
                                           std::to_string(s.others().size()));
  ::kill(c.pid, SIGKILL);  // progeny, our own child
  progeny::test::wait_status(c.pid, 5000);
  ::close(c.out_fd);
  progeny::test::expect_gone_within_a_second(s);
}

const std::vector<std::string> kSetsidTree = {
    "/bin/sh", "-c",
    "sleep 300 & (setsid sh -c 'sleep 301 & exec sleep 302' &); sleep 0.3; echo READY; wait"};

TEST(KeeperLifeline, AsNobody) {
  skip_unless_root();
  progeny::test::SandboxOptions o;
  o.uid = o.gid = 65534;
  auto r = run_in_sandbox([&](Scenario& s) {
    killed_launcher_leaves_nothing(s, kSetsidTree, 5);
    return 0;
  }, o);
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(KeeperLifeline, MemberThatChangedUid) {
  skip_unless_root();
  auto r = run_in_sandbox([&](Scenario& s) {
    killed_launcher_leaves_nothing(
        s, {"/usr/bin/python3", "-c",
            "import os, time\n"
            "os.setresgid(65534, 65534, 65534); os.setresuid(65534, 65534, 65534)\n"
            "if os.fork() == 0:\n    time.sleep(300)\n"
            "time.sleep(0.3); print('READY', flush=True); time.sleep(300)\n"},
        2);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(KeeperLifeline, DaemonThatClosedEveryDescriptor) {
  skip_unless_root();
  auto r = run_in_sandbox([&](Scenario& s) {
    killed_launcher_leaves_nothing(
        s, {"/usr/bin/python3", "-c",
            "import ctypes, os, time\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            "        ctypes.CDLL(None).close_range(3, ctypes.c_uint(0xffffffff), 0)\n"
            "        print('READY', flush=True); time.sleep(300)\n"
            "    os._exit(0)\n"
            "os.wait(); time.sleep(300)\n"},
        2);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// A namespace init ignores the kernel's lifeline signal (it has no handler for it); only the
// keeper's pidfd signal, from an ancestor namespace, reaches it.
TEST(KeeperLifeline, PidNamespaceInit) {
  skip_unless_root();
  if (run_command({"/usr/bin/unshare", "-Urfp", "/bin/true"}, "/dev/null") != 0)
    GTEST_SKIP() << "unshare -Urfp does not work here (user or PID namespaces unavailable)";
  auto r = run_in_sandbox([&](Scenario& s) {
    killed_launcher_leaves_nothing(
        s, {"/bin/sh", "-c", "/usr/bin/unshare -Urfp sleep 300 & sleep 0.5; echo READY; wait"}, 3);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
