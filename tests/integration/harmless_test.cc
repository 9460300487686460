// progeny harms nothing that is not its run's (issue 9), each reproduction in the sandbox:
// strangers on every low pid survive the parent-death policy in every mode, a stranger that
// takes the pid of a reaped member is never signalled, a closed stderr neither kills progeny
// nor leaves anything stopped, and a planted symlink never redirects the log.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "launcher/os/fd.h"
#include "launcher/os/proc.h"
#include "launcher/os/sys.h"
#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace progeny::test {
namespace {

constexpr int kBoundMs = 20000;  // upper bound for every wait; never a timing assertion

void skip_unless_root() {
  if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root";
}

std::string temp_dir(const char* name) {
  std::string tmpl = std::string("/tmp/progeny-") + name + "-XXXXXX";
  return ::mkdtemp(tmpl.data()) ? tmpl : "/tmp";
}

// Polls cond every 5 ms up to kBoundMs.
template <typename F>
bool wait_until(F cond) {
  for (int waited = 0; waited < kBoundMs; waited += 5) {
    if (cond()) return true;
    ::usleep(5000);
  }
  return cond();
}

// Processes of the sandbox that have nothing to do with progeny, each held by a pidfd.
struct Strangers {
  std::vector<pid_t> pids;
  std::vector<Fd> pidfds;

  // Forks idle children until one gets a pid of at least `upto`: every free pid below is
  // then taken by a stranger.
  void occupy_pids_up_to(pid_t upto) {
    for (pid_t last = 0; last < upto;) {
      pid_t p = ::fork();
      if (p < 0) return;
      if (p == 0) {
        ::alarm(120);  // bounded, whatever happens to the test
        for (;;) ::pause();
      }
      pids.push_back(p);
      pidfds.push_back(open_pidfd(p));
      last = p;
    }
  }
  // Still running (a stranger that was killed is a zombie of ours: its pidfd is readable).
  size_t alive() const {
    size_t n = 0;
    for (const auto& fd : pidfds) {
      pollfd p{fd.get(), POLLIN, 0};
      n += fd && ::poll(&p, 1, 0) == 0;
    }
    return n;
  }
  void end() {
    for (const auto& fd : pidfds)
      if (fd) signal_pidfd(fd.get(), SIGKILL);
    for (pid_t p : pids) ::waitpid(p, nullptr, 0);
  }
};

// Processes of the sandbox in the stopped state (T): a freeze nobody thawed.
std::vector<pid_t> stopped_processes() {
  std::vector<pid_t> out;
  for (pid_t p = 2; p < 32768; ++p)
    if (auto st = read_proc_stat(p); st && st->state == 'T') out.push_back(p);
  return out;
}

// Pids the log's signal records aim at.
std::set<long> signal_targets(const std::string& log) {
  std::set<long> out;
  std::istringstream in(read_file(log));
  for (std::string l; std::getline(in, l);) {
    if (l.find("\"event\":\"signal\"") == std::string::npos) continue;
    auto at = l.find("\"target_pid\":");
    if (at != std::string::npos) out.insert(std::stol(l.substr(at + 13)));
  }
  return out;
}

// --- 1. Strangers on every low pid survive the parent-death policy, in every mode ---

struct Mode {
  const char* contain;
  bool bpf;
};

class Strangers1 : public ::testing::TestWithParam<Mode> {};

TEST_P(Strangers1, SurviveTheParentDeathPolicy) {
  skip_unless_root();
  if (GetParam().bpf) REQUIRE_TRACKER();
  auto r = run_in_sandbox([&](Scenario& s) {
    Strangers strangers;
    // The run's own namespace (pidns) numbers its processes from 1 up to about 30 here.
    strangers.occupy_pids_up_to(80);
    std::string log = temp_dir("strangers") + "/run.jsonl";
    // A shell killed by a signal after its children exited: the policy (asked for) kills its
    // children, and with them anything a confused pid points at.
    int st = run_command({progeny_bin(), "run", "-q", "--contain", GetParam().contain, "--bpf",
                          GetParam().bpf ? "on" : "off", "--log", log, "--parent-death", "KILL", "--", "/bin/sh", "-c",
                          "/bin/sh -c 'for i in $(seq 20); do /bin/true; done; kill -9 $$'; exit 0"},
                         "/dev/null");
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st));
    s.expect(strangers.alive() == strangers.pids.size(),
             std::to_string(strangers.pids.size() - strangers.alive()) + " of " +
                 std::to_string(strangers.pids.size()) + " strangers were killed");
    std::set<long> hit = signal_targets(log);
    for (pid_t p : strangers.pids)
      s.expect(!hit.count(p), "a signal record targets stranger " + std::to_string(p));
    strangers.end();
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Modes, Strangers1,
                         ::testing::Values(Mode{"none", false}, Mode{"cgroup", false},
                                           Mode{"pidns", false}, Mode{"none", true},
                                           Mode{"cgroup", true}, Mode{"pidns", true}),
                         [](const auto& info) {
                           return std::string(info.param.contain) +
                                  (info.param.bpf ? "_bpf" : "_nobpf");
                         });

// --- 2. A stranger that takes the pid of a reaped member is never signalled ---

class PidReuse : public ::testing::TestWithParam<Mode> {};

TEST_P(PidReuse, OfAReapedMemberIsNeverSignalled) {
  skip_unless_root();
  if (GetParam().bpf) REQUIRE_TRACKER();
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string d = temp_dir("reuse");
    std::string log = d + "/run.jsonl";
    // COMMAND: a child that it reaps at once, then (on our word) death by SIGKILL, which
    // makes the parent-death policy go after its children.
    std::string script = "echo > " + d + "/ready; while [ ! -e " + d + "/go1 ]; do :; done; " +
                         "/bin/true & c=$!; wait $c; echo $c > " + d + "/child; " +
                         "while [ ! -e " + d + "/go2 ]; do :; done; kill -9 $$";
    Started c = start_command({progeny_bin(), "run", "-q", "--contain", GetParam().contain,
                               "--bpf", GetParam().bpf ? "on" : "off", "--log", log,
                               "--parent-death", "KILL", "--",
                               "/bin/sh", "-c", script});
    Fd launcher = open_pidfd(c.pid);
    if (!s.expect(wait_until([&] { return exists(d + "/ready"); }), "COMMAND never started"))
      return 1;
    // The launcher lags behind: stopped before the child's records arrive.
    signal_pidfd(launcher.get(), SIGSTOP);
    s.expect(wait_until([&] { auto st = read_proc_stat(c.pid); return st && st->state == 'T'; }),
             "the launcher did not stop");
    ::close(::open((d + "/go1").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    std::string child;
    s.expect(wait_until([&] { child = read_file(d + "/child"); return !child.empty() && child.back() == '\n'; }),
             "COMMAND's child never ran");
    pid_t reaped = static_cast<pid_t>(std::atoi(child.c_str()));
    // A stranger takes the reaped child's pid.
    std::ofstream(std::string("/proc/sys/kernel/ns_last_pid")) << reaped - 1;
    Strangers stranger;
    stranger.occupy_pids_up_to(reaped);
    s.expect(!stranger.pids.empty() && stranger.pids.back() == reaped,
             "the stranger did not get pid " + std::to_string(reaped));
    signal_pidfd(launcher.get(), SIGCONT);
    // Let the launcher read the stale records (the child's exec record is written by then).
    wait_until([&] {
      std::string text = read_file(log);
      return text.find("\"pid\":" + std::to_string(reaped) + ",") != std::string::npos &&
             text.find("\"event\":\"exec\"") != std::string::npos;
    });
    ::close(::open((d + "/go2").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    int st = wait_status(c.pid, kBoundMs);
    s.expect(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
             "progeny gave " + status_text(st) + ", expected COMMAND's SIGKILL");
    s.expect(stranger.alive() == 1, "the stranger with the reused pid was killed");
    s.expect(!signal_targets(log).count(reaped), "a signal record targets the reused pid");
    stranger.end();
    ::close(c.out_fd);
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Modes, PidReuse,
                         ::testing::Values(Mode{"none", false}, Mode{"cgroup", false},
                                           Mode{"none", true}, Mode{"cgroup", true}),
                         [](const auto& info) {
                           return std::string(info.param.contain) +
                                  (info.param.bpf ? "_bpf" : "_nobpf");
                         });

// --- 3. A closed stderr neither kills progeny nor leaves anything stopped ---

class ClosedStderr : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(ClosedStderr, TreeStoppedWithItsGraceAndCommandsStatusKept) {
  skip_unless_root();
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string d = temp_dir("stderr");
    std::string term = d + "/term", ready = d + "/ready";
    // An escapee that records the TERM of the stop (its grace), and a COMMAND that exits 0.
    // The escapee's own output goes elsewhere: a shell writing "Terminated" to the dead pipe
    // would die of SIGPIPE itself.
    std::string script = "setsid sh -c 'trap \"echo TERM > " + term + "; exit 0\" TERM; echo > " +
                         ready + "; while :; do sleep 0.05; done' >/dev/null 2>&1 & while [ ! -e " + ready +
                         " ]; do sleep 0.01; done; exit 0";
    std::vector<std::string> argv = {progeny_bin(), "run"};
    argv.insert(argv.end(), GetParam().begin(), GetParam().end());
    argv.insert(argv.end(), {"--bpf", "off", "-k", "10s", "--", "/bin/sh", "-c", script});
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return 1;
    ::close(p[0]);  // nobody reads progeny's output: every write to it fails
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(p[1], 1);
      ::dup2(p[1], 2);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(p[1]);
    int st = wait_status(pid, kBoundMs);
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st) + ", expected COMMAND's 0");
    s.expect(read_file(term) == "TERM\n", "the escapee did not get its TERM and grace");
    for (pid_t p : stopped_processes()) s.expect(false, "left stopped: " + describe_process(p));
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(
    Modes, ClosedStderr,
    ::testing::Values(std::vector<std::string>{"--contain", "none", "--no-preload"},
                      std::vector<std::string>{"--contain", "none"},
                      std::vector<std::string>{"--contain", "cgroup"}),
    [](const auto& info) {
      std::string name;
      for (const auto& a : info.param)
        if (a[0] != '-') name += (name.empty() ? "" : "_") + a;
      return name + (info.param.size() > 2 ? "_nopreload" : "");
    });

// --- 4. A planted symlink never redirects the log ---

TEST(LogFile, PlantedSymlinkInAnyComponentIsRefused) {
  skip_unless_root();
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string shared = temp_dir("evil");
    ::chmod(shared.c_str(), 01777);  // as /tmp: world-writable and sticky
    std::string victim_dir = temp_dir("victim");
    std::string victim = victim_dir + "/run.jsonl";
    { std::ofstream(victim) << "precious\n"; }
    ::chmod(victim.c_str(), 0600);
    // nobody plants shared/dir -> root's directory.
    pid_t p = ::fork();
    if (p == 0) {
      if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) ::_exit(1);
      ::_exit(::symlink(victim_dir.c_str(), (shared + "/dir").c_str()) == 0 ? 0 : 2);
    }
    s.expect(exited_with(wait_status(p, kBoundMs), 0), "could not plant the link");
    std::string out = shared + ".out";
    int st = run_command({progeny_bin(), "run", "--log", shared + "/dir/run.jsonl", "--",
                          "/bin/true"}, out);
    s.expect(exited_with(st, 125), "progeny gave " + status_text(st) + ", expected 125");
    std::string msg = read_file(out);
    s.expect(msg.find("symbolic link " + shared + "/dir") != std::string::npos &&
                 std::count(msg.begin(), msg.end(), '\n') == 1,
             "not one line naming the link: " + msg);
    s.expect(read_file(victim) == "precious\n", "the victim file was written through the link");
    struct stat vs {};
    s.expect(::stat(victim.c_str(), &vs) == 0 && (vs.st_mode & 0777) == 0600, "victim mode changed");

    // A link of root's own in the shared directory is followed, as the kernel's rule allows.
    s.expect(::symlink(victim_dir.c_str(), (shared + "/mine").c_str()) == 0, "symlink");
    st = run_command({progeny_bin(), "run", "--log", shared + "/mine/own.jsonl", "--", "/bin/true"}, out);
    s.expect(exited_with(st, 0), "a root-owned link was refused: " + read_file(out));
    s.expect(read_file(victim_dir + "/own.jsonl").find("\"event\":\"start\"") != std::string::npos,
             "no log written through root's own link");

    // An existing log of ours is replaced and made private.
    std::string old = victim_dir + "/old.jsonl";
    { std::ofstream(old) << "old content\n"; }
    ::chmod(old.c_str(), 0644);
    st = run_command({progeny_bin(), "run", "--log", old, "--", "/bin/true"}, out);
    s.expect(exited_with(st, 0), "rewriting our own log failed: " + read_file(out));
    struct stat os {};
    s.expect(::stat(old.c_str(), &os) == 0 && (os.st_mode & 0777) == 0600,
             "the existing log is not 0600");
    s.expect(read_file(old).find("old content") == std::string::npos, "the old log was not replaced");
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// --- A log that cannot be written to the end stays valid and says so ---

TEST(LogFile, FullDiskEndsTheLogAtARecordAndIsReported) {
  skip_unless_root();
  auto r = run_in_sandbox([&](Scenario& s) {
    // The sandbox's mounts are its own: a 64 KiB tmpfs here vanishes with it.
    std::string dir = temp_dir("full");
    if (!s.expect(::mount("none", dir.c_str(), "tmpfs", 0, "size=64k") == 0, "mount tmpfs"))
      return 1;
    std::string log = dir + "/run.jsonl", err = temp_dir("fullerr") + "/stderr";
    // About 600 records of some 300 bytes: three times what fits.
    int st = run_command({progeny_bin(), "run", "--contain", "none", "--bpf", "off", "--log",
                          log, "--", "/bin/sh", "-c", "for i in $(seq 300); do /bin/true; done"},
                         err);
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st) + ", expected COMMAND's 0");
    std::string msg = read_file(err);
    s.expect(msg.find("is incomplete") != std::string::npos &&
                 msg.find("No space left on device") != std::string::npos,
             "the failure is not reported: " + msg);
    std::string text = read_file(log);
    s.expect(!text.empty() && text.back() == '\n', "the log does not end at a record");
    size_t lines = 0;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l); ++lines)
      s.expect(l.size() > 2 && l.front() == '{' && l.back() == '}', "cut record: " + l.substr(0, 80));
    s.expect(lines > 50, "only " + std::to_string(lines) + " records written");
    ::umount(dir.c_str());
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
}  // namespace progeny::test
