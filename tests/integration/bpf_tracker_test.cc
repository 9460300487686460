// The BPF tracker for real (root, tp_btf): membership of static busybox trees with setsid
// escapees, the fork rush, the owner's SIGKILL, separate and nested sessions, event loss,
// and `progeny watch`. Every scenario runs in the test sandbox (PID namespace, pids cap).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bpf/tracker.h"
#include "launcher/os/exit_codes.h"
#include "launcher/run/commands.h"
#include "launcher/os/fd.h"
#include "launcher/os/proc.h"
#include "launcher/os/sys.h"
#include "launcher/members/signal_gate.h"
#include "tests/sandbox/sandbox.h"

namespace {

using progeny::Fd;
using progeny::bpf::Member;
using progeny::bpf::Tracker;
using progeny::test::Scenario;
using nlohmann::json;

constexpr const char* kBusybox = "/bin/busybox";

bool must_work() {
  const char* v = std::getenv("PROGENY_BPF_MUST_WORK");
  return v && std::string(v) == "1";
}

// Whether the tracker loads here at all; the reason when not.
bool bpf_usable(std::string* why) {
  if (::geteuid() != 0) {
    *why = "BPF tests need root";
    return false;
  }
  if (::access(kBusybox, X_OK) != 0) {
    *why = "busybox-static is not installed";
    return false;
  }
  auto t = Tracker::start(::getpid(), why);
  return t != nullptr;
}

// Skips, or fails under PROGENY_BPF_MUST_WORK=1 (CI), when the tracker cannot run.
#define REQUIRE_BPF()                                        \
  do {                                                       \
    std::string why_;                                        \
    if (!bpf_usable(&why_)) {                                \
      if (must_work()) FAIL() << "BPF must work: " << why_;  \
      GTEST_SKIP() << why_;                                  \
    }                                                        \
  } while (0)

#define EXPECT_SANDBOX_OK(res) EXPECT_TRUE((res).ok()) << (res).describe()

// Polls cond every 2 ms, at most `rounds` times. Bounded by count, not by a clock.
template <typename F>
bool wait_until(F cond, int rounds = 5000) {
  for (int i = 0; i < rounds; ++i) {
    if (cond()) return true;
    ::usleep(2000);
  }
  return cond();
}

void reap_children() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

pid_t spawn(const std::vector<std::string>& argv, int stdin_fd = -1) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (stdin_fd >= 0) ::dup2(stdin_fd, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

int wait_status(pid_t pid) {
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return st;
}

std::string comm_of(pid_t pid) {
  auto st = progeny::read_proc_stat(pid);
  return st ? st->comm : std::string();
}

bool alive(pid_t pid, uint64_t start_time) {
  auto st = progeny::read_proc_stat(pid);
  return st && st->start_time == start_time && st->state != 'Z';
}

std::vector<Member> members_with_comm(const Tracker& t, const std::string& comm) {
  std::vector<Member> out;
  for (const auto& m : t.members())
    if (alive(m.pid, m.start_time) && comm_of(m.pid) == comm) out.push_back(m);
  return out;
}

// The stop the launcher performs: new forks die at birth, every member is SIGKILLed through
// a pidfd opened by its identity, until no entry of the map opens as a live process (an
// entry the kernel could not delete under the rush never opens). False if that never comes.
bool stop_members(Tracker& t, int rounds = 20000) {
  t.begin_stop();
  for (int i = 0; i < rounds; ++i) {
    reap_children();
    bool any = false;
    for (const auto& m : t.members())
      if (auto k = progeny::Proof::kernel_member(m.pid, m.start_time, m.ino)) {
        progeny::signal_gate::send(*k, SIGKILL);
        any = true;
      }
    if (!any) return true;
    ::usleep(1000);
  }
  return false;
}

// Processes in the sandbox besides init and the scenario itself, once init has reaped.
bool sandbox_empty(Scenario& sc) {
  return wait_until([&] {
    reap_children();
    return sc.others().empty();
  });
}

// Busybox (static: the shim never sees it) script: 5 setsid escapees with a background
// sleep each, and one double-forked sleep. 11 sleeps in all, none of them a child of ours.
const std::string kEscapeeScript =
    "for i in 1 2 3 4 5; do setsid sh -c 'sleep 1000 & exec sleep 1000' & done; "
    "sh -c 'sleep 1000 &' & exit 0";
constexpr size_t kEscapeeSleeps = 11;

// One line per member "pid start_time", for passing lists between processes.
std::string serialize(const std::vector<Member>& ms) {
  std::string out;
  for (const auto& m : ms) out += std::to_string(m.pid) + " " + std::to_string(m.start_time) + "\n";
  return out;
}
std::vector<Member> deserialize(const std::string& text) {
  std::vector<Member> out;
  std::istringstream in(text);
  long pid = 0;
  unsigned long long start = 0;
  while (in >> pid >> start) out.push_back({static_cast<pid_t>(pid), start});
  return out;
}
std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// An owner process: starts its own tracker, builds the escapee tree, writes the tracked
// sleeps to `report_fd`, then waits to be killed. Its tracker is only ever torn down by its
// death, as when a launcher is SIGKILLed.
[[noreturn]] void owner_main(int report_fd) {
  std::string why;
  auto t = Tracker::start(::getpid(), &why);
  if (!t) ::_exit(3);
  int st = wait_status(spawn({kBusybox, "sh", "-c", kEscapeeScript}));
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) ::_exit(4);
  if (!wait_until([&] { return members_with_comm(*t, "sleep").size() >= kEscapeeSleeps; }))
    ::_exit(5);
  std::string list = serialize(members_with_comm(*t, "sleep"));
  if (::write(report_fd, list.data(), list.size()) != static_cast<ssize_t>(list.size())) ::_exit(6);
  ::close(report_fd);
  for (;;) ::pause();
}

struct Owner {
  pid_t pid = -1;
  Fd pidfd;
  std::vector<Member> sleeps;
};

// Forks an owner and collects its tracked sleeps (empty when it failed).
Owner start_owner() {
  Owner o;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return o;
  o.pid = ::fork();
  if (o.pid == 0) {
    ::close(p[0]);
    owner_main(p[1]);
  }
  ::close(p[1]);
  o.pidfd = progeny::open_pidfd(o.pid);
  o.sleeps = deserialize(read_all(p[0]));
  ::close(p[0]);
  return o;
}

// Pidfds of processes, each opened and then checked against its start time.
std::vector<Fd> pidfds_of(const std::vector<Member>& ms) {
  std::vector<Fd> fds;
  for (const auto& m : ms) {
    Fd fd = progeny::open_pidfd(m.pid);
    if (fd && alive(m.pid, m.start_time)) fds.push_back(std::move(fd));
  }
  return fds;
}

bool exited(const Fd& pidfd) {
  pollfd p{pidfd.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

bool all_exit(const std::vector<Fd>& fds) {
  return wait_until([&] {
    reap_children();
    return std::all_of(fds.begin(), fds.end(), exited);
  });
}

bool contains(const std::vector<Member>& ms, const Member& m) {
  return std::any_of(ms.begin(), ms.end(), [&](const Member& x) {
    return x.pid == m.pid && x.start_time == m.start_time;
  });
}

TEST(BpfTracker, BusyboxTreeWithSetsidEscapeesIsTrackedAndStopped) {
  REQUIRE_BPF();
  auto res = progeny::test::run_in_sandbox([](Scenario& sc) {
    std::string why;
    auto t = Tracker::start(::getpid(), &why);
    if (!sc.expect(t != nullptr, "tracker: " + why)) return 1;
    pid_t sh = spawn({kBusybox, "sh", "-c", kEscapeeScript});
    sc.expect(wait_status(sh) == 0, "script failed");
    sc.expect(wait_until([&] { return members_with_comm(*t, "sleep").size() == kEscapeeSleeps; }),
              "not every sleep became a member");

    // Every process in the sandbox (but init and us) is a member, by pid and start time.
    auto members = t->members();
    for (const auto& line : sc.others()) {
      pid_t pid = static_cast<pid_t>(std::atoi(line.c_str()));
      auto st = progeny::read_proc_stat(pid);
      if (st && st->state != 'Z')
        sc.expect(contains(members, {pid, st->start_time}), "not a member: " + line);
    }
    // The escapees really left our session.
    auto self = progeny::read_proc_stat(::getpid());
    int escaped = 0;
    for (const auto& m : members_with_comm(*t, "sleep"))
      if (progeny::read_proc_stat(m.pid)->session != self->session) ++escaped;
    sc.expect(escaped == 10, "setsid'd sleeps: " + std::to_string(escaped));

    // The lineage: a bpf fork and exec record for every sleep.
    std::set<pid_t> forked, exec_sleep, exec_setsid;
    t->consume([&](const progeny::Record& r) {
      json j = json::parse(progeny::to_line(r));
      sc.expect(j["source"] == "bpf", "source: " + progeny::to_line(r));
      pid_t pid = j["pid"].get<pid_t>();
      if (j["event"] == "fork") forked.insert(pid);
      if (j["event"] == "exec" && !j["argv"].empty() && j["argv"][0] == "sleep")
        exec_sleep.insert(pid);
      if (j["event"] == "exec" && !j["argv"].empty() && j["argv"][0] == "setsid")
        exec_setsid.insert(pid);
    });
    for (const auto& m : members_with_comm(*t, "sleep")) {
      sc.expect(forked.count(m.pid) == 1, "no fork record for " + std::to_string(m.pid));
      sc.expect(exec_sleep.count(m.pid) == 1, "no exec record for " + std::to_string(m.pid));
    }
    sc.expect(exec_setsid.size() == 5, "setsid execs: " + std::to_string(exec_setsid.size()));
    sc.expect(t->lost() == 0, "lost events: " + std::to_string(t->lost()));

    sc.expect(stop_members(*t), "members left after the stop");
    sc.expect(sandbox_empty(sc), "survivors after the stop");
    return 0;
  });
  EXPECT_SANDBOX_OK(res);
  EXPECT_TRUE(res.survivors.empty()) << res.describe();
}

TEST(BpfTracker, ForkRushOf3000EndsWithZeroSurvivors) {
  REQUIRE_BPF();
  progeny::test::SandboxOptions opts;
  opts.pids_max = 4096;
  opts.timeout_s = 180;
  auto res = progeny::test::run_in_sandbox(
      [](Scenario& sc) {
        std::string why;
        auto t = Tracker::start(::getpid(), &why);
        if (!sc.expect(t != nullptr, "tracker: " + why)) return 1;
        spawn({progeny::test::fixture("fork_rush")});
        // Stop while the rush is still growing towards the cap.
        size_t seen = 0;
        bool big = wait_until([&] { return (seen = t->members().size()) >= 3000; }, 30000);
        sc.expect(big, "the rush reached only " + std::to_string(seen) + " processes");
        sc.note("members at stop: " + std::to_string(seen));
        sc.expect(stop_members(*t), "members left after the stop");
        sc.expect(sandbox_empty(sc), "survivors after the stop");
        sc.expect(t->untracked() == 0, "untracked: " + std::to_string(t->untracked()));
        return 0;
      },
      opts);
  EXPECT_SANDBOX_OK(res);
  EXPECT_TRUE(res.survivors.empty()) << res.describe();
}

TEST(BpfTracker, OwnersSigkillKillsEveryEscapee) {
  REQUIRE_BPF();
  auto res = progeny::test::run_in_sandbox([](Scenario& sc) {
    Owner o = start_owner();
    if (!sc.expect(o.sleeps.size() == kEscapeeSleeps,
                   "owner tracked " + std::to_string(o.sleeps.size()) + " sleeps"))
      return 1;
    auto fds = pidfds_of(o.sleeps);
    sc.expect(fds.size() == kEscapeeSleeps, "sleeps gone before the kill");
    progeny::test::signal_pidfd(o.pidfd.get(), SIGKILL);
    int st = wait_status(o.pid);
    sc.expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "owner status " + std::to_string(st));
    sc.expect(all_exit(fds), "an escapee outlived its owner");
    sc.expect(sandbox_empty(sc), "survivors after the owner died");
    return 0;
  });
  EXPECT_SANDBOX_OK(res);
  EXPECT_TRUE(res.survivors.empty()) << res.describe();
}

TEST(BpfTracker, ConcurrentSessionsStayApart) {
  REQUIRE_BPF();
  auto res = progeny::test::run_in_sandbox([](Scenario& sc) {
    Owner a = start_owner();
    Owner b = start_owner();
    if (!sc.expect(a.sleeps.size() == kEscapeeSleeps && b.sleeps.size() == kEscapeeSleeps,
                   "owners tracked " + std::to_string(a.sleeps.size()) + " and " +
                       std::to_string(b.sleeps.size())))
      return 1;
    for (const auto& m : a.sleeps)
      sc.expect(!contains(b.sleeps, m), "in both sessions: " + std::to_string(m.pid));
    auto fa = pidfds_of(a.sleeps);
    auto fb = pidfds_of(b.sleeps);
    progeny::test::signal_pidfd(a.pidfd.get(), SIGKILL);
    wait_status(a.pid);
    sc.expect(all_exit(fa), "A's escapees outlived A");
    // A's whole tree is gone and B's kernel program ran for each of those exits: B's tree
    // must be untouched.
    for (size_t i = 0; i < fb.size(); ++i)
      sc.expect(!exited(fb[i]), "B's member died with A: " + std::to_string(b.sleeps[i].pid));
    progeny::test::signal_pidfd(b.pidfd.get(), SIGKILL);
    wait_status(b.pid);
    sc.expect(all_exit(fb), "B's escapees outlived B");
    sc.expect(sandbox_empty(sc), "survivors");
    return 0;
  });
  EXPECT_SANDBOX_OK(res);
}

TEST(BpfTracker, NestedSessionBelongsToTheOuterOne) {
  REQUIRE_BPF();
  auto res = progeny::test::run_in_sandbox([](Scenario& sc) {
    std::string why;
    auto outer = Tracker::start(::getpid(), &why);
    if (!sc.expect(outer != nullptr, "tracker: " + why)) return 1;
    Owner inner = start_owner();
    if (!sc.expect(inner.sleeps.size() == kEscapeeSleeps, "inner owner failed")) return 1;
    auto ms = outer->members();
    auto inner_stat = progeny::read_proc_stat(inner.pid);
    sc.expect(inner_stat && contains(ms, {inner.pid, inner_stat->start_time}),
              "the inner owner is not an outer member");
    for (const auto& m : inner.sleeps)
      sc.expect(contains(ms, m), "inner member missing from the outer session: " +
                                     std::to_string(m.pid));
    sc.expect(stop_members(*outer), "members left after the outer stop");
    sc.expect(sandbox_empty(sc), "survivors after the outer stop");
    return 0;
  });
  EXPECT_SANDBOX_OK(res);
}

TEST(BpfTracker, OverflowingATinyRingBufferCountsEveryLostEvent) {
  REQUIRE_BPF();
  auto res = progeny::test::run_in_sandbox([](Scenario& sc) {
    progeny::bpf::Options opts;
    opts.ring_bytes = 4096;  // the smallest ring: a few dozen events
    std::string why;
    auto t = Tracker::start(::getpid(), &why, opts);
    if (!sc.expect(t != nullptr, "tracker: " + why)) return 1;
    constexpr int kChildren = 2000;  // one fork and one exit event each, none consumed yet
    for (int i = 0; i < kChildren; ++i) {
      pid_t p = ::fork();
      if (p == 0) ::_exit(0);
      wait_status(p);
    }
    uint64_t forks = 0, exits = 0;
    t->consume([&](const progeny::Record& r) {
      json j = json::parse(progeny::to_line(r));
      if (j["event"] == "fork") ++forks;
      if (j["event"] == "exit") ++exits;
    });
    uint64_t lost = t->lost();
    sc.note("consumed " + std::to_string(forks + exits) + ", lost " + std::to_string(lost));
    sc.expect(lost > 0, "nothing was lost");
    sc.expect(forks + exits + lost == 2 * kChildren,
              "forks " + std::to_string(forks) + " + exits " + std::to_string(exits) +
                  " + lost " + std::to_string(lost) + " != " + std::to_string(2 * kChildren));
    return 0;
  });
  EXPECT_SANDBOX_OK(res);
}

TEST(BpfTracker, StartExplainsAMissingRoot) {
  REQUIRE_BPF();
  pid_t p = ::fork();
  if (p == 0) ::_exit(0);
  wait_status(p);  // a pid that no longer exists
  std::string why;
  EXPECT_EQ(Tracker::start(p, &why), nullptr);
  EXPECT_NE(why.find("not found"), std::string::npos) << why;
}

TEST(BpfWatch, RecordsExistingAndNewDescendantsUntilTheProcessExits) {
  REQUIRE_BPF();
  auto res = progeny::test::run_in_sandbox([](Scenario& sc) {
    std::string log = "/tmp/progeny-bpf-watch." + std::to_string(::getppid()) + ".jsonl";
    ::unlink(log.c_str());
    int go[2];
    if (!sc.expect(::pipe2(go, O_CLOEXEC) == 0, "pipe")) return 1;
    // One descendant exists before the watch; the rest come after "go".
    pid_t target = spawn({kBusybox, "sh", "-c",
                          "sleep 1000 & read x; setsid sleep 1000 & e=$!; "
                          // watch ends with the target: let the escapee's exec land first.
                          "until [ \"$(cat /proc/$e/comm)\" = sleep ]; do :; done; "
                          "sh -c 'exit 7'; exit 3"},
                         go[0]);
    ::close(go[0]);
    sc.expect(wait_until([&] {
      auto kids = progeny::read_children(target);
      return kids.size() == 1 && comm_of(kids[0]) == "sleep";
    }), "the first sleep never started");
    pid_t early = progeny::read_children(target).at(0);

    pid_t watcher = ::fork();
    if (watcher == 0) {
      std::string pid = std::to_string(target);
      const char* argv[] = {"watch", "--log", log.c_str(), pid.c_str(), nullptr};
      ::_exit(progeny::watch_main(4, const_cast<char**>(argv)));
    }
    sc.expect(wait_until([&] { return !progeny::test::read_file(log).empty(); }),
              "watch never started");
    sc.expect(::write(go[1], "go\n", 3) == 3, "write go");
    ::close(go[1]);
    int st = wait_status(target);
    sc.expect(WIFEXITED(st) && WEXITSTATUS(st) == 3, "target status " + std::to_string(st));
    st = wait_status(watcher);
    sc.expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "watch status " + std::to_string(st));

    bool saw_start = false, saw_command = false, saw_early = false, saw_setsid_sleep = false, saw_exit7 = false,
         saw_root_exit = false;
    std::vector<Member> sleeps;
    std::istringstream lines(progeny::test::read_file(log));
    std::string line;
    while (std::getline(lines, line)) {
      json j = json::parse(line);
      pid_t pid = j["pid"].get<pid_t>();
      // The log's launcher is the watcher; the watched process is its COMMAND.
      if (j["event"] == "start") saw_start = j.value("role", "") == "watch" && pid == watcher;
      if (j["event"] == "fork" && pid == target && j.value("role", "") == "command") saw_command = true;
      if (j["event"] == "fork" && pid == early) saw_early = true;
      if (j["event"] == "exec" && j["source"] == "bpf" && j["argv"] == json::array({"sleep", "1000"})) {
        saw_setsid_sleep = true;
        sleeps.push_back({pid, j["start_time"].get<uint64_t>()});
      }
      if (j["event"] == "exit" && j.value("code", -1) == 7) saw_exit7 = true;
      if (j["event"] == "exit" && pid == target && j.value("code", -1) == 3) saw_root_exit = true;
    }
    sc.expect(saw_start, "no start record of the watch");
    sc.expect(saw_command, "the watched process is not named COMMAND");
    sc.expect(saw_early, "the existing descendant is not recorded");
    sc.expect(saw_setsid_sleep, "the new escapee's exec is not recorded");
    sc.expect(saw_exit7, "the child's exit code is not recorded");
    sc.expect(saw_root_exit, "the target's own exit is not recorded");
    // Watching never kills: the escapee still runs after the target exited.
    for (const auto& m : sleeps) sc.expect(alive(m.pid, m.start_time), "watch killed a sleep");
    auto early_stat = progeny::read_proc_stat(early);
    if (early_stat) sleeps.push_back({early, early_stat->start_time});
    for (auto& fd : pidfds_of(sleeps)) progeny::test::signal_pidfd(fd.get(), SIGKILL);
    sc.expect(sandbox_empty(sc), "survivors");
    ::unlink(log.c_str());
    return 0;
  });
  EXPECT_SANDBOX_OK(res);
}

}  // namespace
