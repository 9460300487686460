// Issue 12's must-show "20 fork rushes while the launcher is SIGKILLed (0 survivors in each)":
// each round runs a fork rush (tests/fixtures/fork_rush, capped by its sandbox's pids cgroup)
// under `progeny run`, SIGKILLs the launcher while the rush is growing, and requires that
// nothing of the round is left, naming whatever is. Forks are in flight at the kill, so every
// window of docs/shim.md ("Windows and how they are closed") is crossed many times per round.
// Long: 20 rounds per mode; the three modes took 125 s beside `stress-ng --cpu 2` on 2 cores.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "launcher/os/proc.h"
#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace {

using progeny::test::fixture;
using progeny::test::held_by_keeper;
using progeny::test::left_after;
using progeny::test::pid_of;
using progeny::test::progeny_bin;
using progeny::test::read_file;
using progeny::test::run_in_sandbox;
using progeny::test::SandboxOptions;
using progeny::test::Scenario;
using progeny::test::wait_until;

struct RushMode {
  const char* name;
  uid_t uid;
  std::vector<std::string> flags;  // between `progeny run -q` and `--`
};

constexpr int kRounds = 20;
// Each round's sandbox caps its processes (threads included) at this; the rush fills it.
constexpr int kCap = 160;
// Each process of the rush but the first exits after forking this many: the rush churns under
// the cap, so forks are in flight whenever the launcher dies.
constexpr const char* kChildren = "2";
// The kill comes once the sandbox holds this many tasks (the rush growing towards the cap).
constexpr long kGrowing = 80;
// Bound on the tree's death after the kill: generous for a loaded machine (~1 ms expected).
constexpr int kGoneWithinMs = 20000;

// The processes of the sandbox that carry the round's tag as argv[1] (the rush's own).
std::set<pid_t> tagged(const Scenario& s, const std::string& tag) {
  std::set<pid_t> out;
  for (const auto& p : s.others()) {
    pid_t pid = pid_of(p);
    auto argv = progeny::read_cmdline(pid, 256);
    if (argv.size() >= 2 && argv[1] == tag) out.insert(pid);
  }
  return out;
}

// Tasks in this sandbox now: its v1 pids cgroup's count (one read, where a /proc scan of a
// few hundred processes would take long enough for the rush to reach its cap); -1 unknown.
long tasks_in_sandbox() {
  std::string cg = read_file("/proc/self/cgroup");
  size_t at = cg.find(":pids:");
  if (at == std::string::npos) return -1;
  std::string dir = cg.substr(at + 6, cg.find('\n', at) - at - 6);
  std::string n = read_file("/sys/fs/cgroup/pids" + dir + "/pids.current");
  return n.empty() ? -1 : std::atol(n.c_str());
}

// The line of /proc/PID/status that starts with `key` (e.g. "Uid:"), without it, or "".
std::string status_field(pid_t pid, const std::string& key) {
  std::string st = "\n" + read_file("/proc/" + std::to_string(pid) + "/status");
  size_t at = st.find("\n" + key);
  if (at == std::string::npos) return "";
  at += key.size() + 1;
  std::string v = st.substr(at, st.find('\n', at) - at);
  for (char& c : v)
    if (c == '\t') c = ' ';
  return v;
}

// Whether SIGKILL is pending for PID, for the thread or the whole process.
bool sigkill_pending(pid_t pid) {
  for (const char* key : {"SigPnd:", "ShdPnd:"})
    if (std::strtoull(status_field(pid, key).c_str(), nullptr, 16) & (1ULL << (SIGKILL - 1)))
      return true;
  return false;
}

// A survivor, with what tells a window from another: its parent, uids, state and where it
// sleeps, whether a SIGKILL is pending (sent but not yet acted on: a process in D state), its
// argv, whether it was already there at the kill and whether the keeper held a pidfd of it.
std::string describe_survivor(pid_t pid, const std::set<pid_t>& at_kill,
                              const std::set<pid_t>& held) {
  auto st = progeny::read_proc_stat(pid);
  std::string argv;
  for (const auto& a : progeny::read_cmdline(pid, 256)) argv += " " + a;
  return "\n  pid " + std::to_string(pid) + " ppid " + (st ? std::to_string(st->ppid) : "?") +
         " uid" + status_field(pid, "Uid:") + " state " + (st ? std::string(1, st->state) : "?") +
         " wchan " + read_file("/proc/" + std::to_string(pid) + "/wchan") +
         (sigkill_pending(pid) ? ", SIGKILL pending" : ", no SIGKILL pending") + ", argv" + argv +
         (at_kill.count(pid) ? ", there at the kill" : ", born after the kill") +
         (held.count(pid) ? ", held by the keeper" : ", not held by the keeper");
}

int64_t now_ms() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t{t.tv_sec} * 1000 + t.tv_nsec / 1000000;
}

// One round in the sandbox: start the rush, kill the launcher mid-rush, wait for the round to
// be gone. Notes one line "at kill A, held H; left L after T ms".
int one_round(Scenario& s, const RushMode& m, const std::string& tag) {
  std::vector<std::string> argv = {progeny_bin(), "run", "-q"};
  argv.insert(argv.end(), m.flags.begin(), m.flags.end());
  for (const auto& a : {std::string("--"), fixture("fork_rush"), tag, std::string(kChildren)})
    argv.push_back(a);
  const long before = tasks_in_sandbox();  // the sandbox's own: its outer process, init, us
  auto c = progeny::test::start_command(argv);
  long seen = 0;
  bool growing = wait_until([&] { return (seen = tasks_in_sandbox()) >= kGrowing; }, 30000);
  s.expect(growing, "the rush reached only " + std::to_string(seen) + " tasks");
  // What the keeper holds and what exists, just before the kill (the keeper is gone after).
  std::set<pid_t> held = held_by_keeper(s);
  std::set<pid_t> at_kill = tagged(s, tag);
  ::kill(c.pid, SIGKILL);  // progeny, our own child
  int64_t killed = now_ms();
  progeny::test::wait_status(c.pid, 10000);
  ::close(c.out_fd);
  // Counted by the cgroup (a task is uncharged once reaped, and the init reaps every orphan):
  // a /proc scan per poll would be slow while survivors fork.
  wait_until([&] { return tasks_in_sandbox() <= before; }, kGoneWithinMs);
  int64_t took = now_ms() - killed;
  auto left = left_after(s, 0);
  std::string named;
  for (size_t i = 0; i < left.size() && i < 20; ++i)
    named += describe_survivor(pid_of(left[i]), at_kill, held);
  if (left.size() > 20) named += "\n  ...";
  s.note("tasks " + std::to_string(seen) + ", rush at kill " + std::to_string(at_kill.size()) +
         ", held " + std::to_string(held.size()) + "; left " + std::to_string(left.size()) +
         " after " + std::to_string(took) + " ms");
  s.expect(left.empty(), std::to_string(left.size()) + " process(es) outlived the launcher by " +
                             std::to_string(kGoneWithinMs) + " ms:" + named);
  return 0;
}

class LauncherKilledMidRush : public ::testing::TestWithParam<RushMode> {};

TEST_P(LauncherKilledMidRush, NothingOfTheRushSurvivesInAnyRound) {
  if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root";
  const RushMode& m = GetParam();
  SandboxOptions o;
  o.uid = o.gid = m.uid;
  o.pids_max = kCap;
  // A round that fails has a fork bomb left running for the whole bound: time to name it.
  o.timeout_s = 120;
  std::string summary;
  for (int round = 0; round < kRounds; ++round) {
    // Unique per round and test process: the round's processes are those that carry it.
    std::string tag = "rush-" + std::string(m.name) + "-" + std::to_string(::getpid()) + "-" +
                      std::to_string(round);
    auto r = run_in_sandbox([&](Scenario& s) { return one_round(s, m, tag); }, o);
    // The sandbox's init killed whatever the round left, so a failure leaves nothing behind.
    EXPECT_TRUE(r.ok()) << "round " << round << ":\n" << r.describe();
    EXPECT_TRUE(r.survivors.empty()) << "round " << round << ":\n" << r.describe();
    summary += "\n  round " + std::to_string(round) + ": " +
               (r.notes.empty() ? std::string("no note") : r.notes.back());
  }
  std::printf("[%s] launcher SIGKILLed mid-rush, %d rounds:%s\n", m.name, kRounds,
              summary.c_str());
}

// Shim only, as root and as nobody (the keeper's lifelines alone take the tree down), and
// the default mode as root (cgroup containment and the tracker: no lifeline).
INSTANTIATE_TEST_SUITE_P(
    Long, LauncherKilledMidRush,
    ::testing::Values(RushMode{"shim_only_root", 0, {"--contain", "none", "--bpf", "off"}},
                      RushMode{"shim_only_nobody", 65534, {"--contain", "none", "--bpf", "off"}},
                      RushMode{"default_root", 0, {}}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
