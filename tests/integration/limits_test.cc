// `progeny run --limit`: a fork bomb held at its pids cap and its forker named, a memory hog
// OOM-killed and named while its sibling runs on, a busy loop held to half a CPU and the
// throttling reported, and the limits a host cannot enforce refused with exit 125. Each run
// is nested in the sandbox's own pids cgroup (and its memory and cpu cgroups), so the limit
// groups progeny makes must work there and be gone afterwards (the sandbox reports leaks).
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <cstring>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "schema/record.h"
#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace {

using progeny::test::exited_with;
using progeny::test::expect_nothing_left;
using progeny::test::fixture;
using progeny::test::progeny_bin;
using progeny::test::read_file;
using progeny::test::run_command;
using progeny::test::run_in_sandbox;
using progeny::test::Scenario;
using progeny::test::status_text;

const std::string kSchema = std::string(PROGENY_SOURCE_DIR) + "/docs/report.schema.json";

// Where the host lacks a v1 controller the limit cannot be enforced: the tests that need it
// skip with that reason (this project's CI host has all three).
std::string missing_controller(const char* name) {
  if (::geteuid() != 0) return "the sandbox and cgroup limits need root";
  std::string dir = std::string("/sys/fs/cgroup/") + name;
  if (::access((dir + "/cgroup.procs").c_str(), W_OK) != 0)
    return "no writable cgroup v1 " + std::string(name) + " hierarchy at " + dir;
  return "";
}
#define REQUIRE_CONTROLLER(name)                              \
  do {                                                        \
    std::string why = missing_controller(name);               \
    if (!why.empty()) GTEST_SKIP() << why;                    \
  } while (0)

std::string tmp(const std::string& what) {
  return "/tmp/progeny-limits-test." + std::to_string(::getpid()) + "." + what;
}

std::string schema_errors(const std::string& file) {
  std::string out = file + ".check";
  int st = run_command({"/usr/bin/python3", "-c",
                        "import json, sys, jsonschema\n"
                        "jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))\n",
                        file, kSchema}, out);
  std::string said = exited_with(st, 0) ? "" : "invalid (" + status_text(st) + "): " + read_file(out);
  ::unlink(out.c_str());
  return said;
}

// The report's entry for limit `name`, null when absent.
nlohmann::json limit_of(const std::string& report, const std::string& name) {
  auto doc = nlohmann::json::parse(read_file(report), nullptr, false);
  if (doc.is_discarded() || !doc["limits"].is_array()) return nullptr;
  for (const auto& l : doc["limits"])
    if (l["name"] == name) return l;
  return nullptr;
}

uint64_t count(const nlohmann::json& l, const char* key) {
  return l.is_object() && l["counts"].contains(key) ? l["counts"][key].get<uint64_t>() : 0;
}

std::vector<progeny::Record> records(const std::string& log) {
  std::vector<progeny::Record> out;
  std::istringstream in(read_file(log));
  std::string why;
  for (std::string line; std::getline(in, line);)
    if (auto r = progeny::parse_record(line, &why)) out.push_back(*r);
  return out;
}

class Limits : public ::testing::Test {};

TEST_F(Limits, AForkBombIsHeldAtItsCapStoppedAndItsForkerNamed) {
  REQUIRE_CONTROLLER("pids");
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string rep = tmp("bomb.json"), log = tmp("bomb.log"), out = tmp("bomb.out");
    // 10 children per process, 3 levels: 1110 processes wanted, 64 allowed.
    int st = run_command({progeny_bin(), "run", "--limit", "pids=64", "--timeout", "3s",
                          "--report", rep, "--log", log, "--", fixture("fork_bomb"), "10", "3"},
                         out);
    s.expect(exited_with(st, 124), "the bomb must end by the timeout: " + status_text(st) +
                                       "\n" + read_file(out));
    std::string bad = schema_errors(rep);
    s.expect(bad.empty(), bad);
    auto l = limit_of(rep, "pids");
    s.expect(l.is_object() && l["hit"] == true && count(l, "max") > 0,
             "the cap must have refused forks: " + l.dump());
    s.expect(!l["counts"].contains("peak") || count(l, "peak") <= 64, "peak above 64: " + l.dump());
    s.expect(l["role"] == "forker" && !l["named"].empty() && l["named"][0]["name"] == "fork_bomb" &&
                 l["named"][0]["count"].get<uint64_t>() > 0,
             "the forker must be named: " + l.dump());
    // Nobody exits in a fork bomb: every process the log ever saw was alive at once.
    std::set<uint64_t> seen;
    bool limit_record = false;
    for (const auto& rec : records(log)) {
      if (rec.event == "fork" && rec.ino) seen.insert(*rec.ino);
      limit_record |= rec.event == "limit" && rec.what == "pids" && rec.hit && rec.target_pid;
    }
    s.expect(!seen.empty() && seen.size() <= 64, "processes seen: " + std::to_string(seen.size()));
    s.expect(limit_record, "no limit record naming the forker in the log");
    std::string said = read_file(out);
    s.expect(said.find("progeny: limit pids=64 hit") != std::string::npos &&
                 said.find("forker: ") != std::string::npos,
             "stderr must say the limit hit and name the forker:\n" + said);
    for (const auto& f : {rep, log, out}) ::unlink(f.c_str());
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(Limits, AMemoryHogIsOomKilledAndNamedWhileItsSiblingRunsOn) {
  REQUIRE_CONTROLLER("memory");
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string rep = tmp("hog.json"), out = tmp("hog.out"), said = tmp("hog.said");
    // The hog writes every byte of 512 MB (bytes * n fills them); the sibling only waits.
    std::string script =
        "sleep 60 & sib=$!\n"
        "/usr/bin/python3 -c 'import time; b = b\"x\" * (512 << 20); time.sleep(5)' & hog=$!\n"
        "wait $hog; echo hog=$? > " + out + "\n"
        "kill -0 $sib && echo sibling-alive >> " + out + "\n"
        "kill $sib\n";
    int st = run_command({progeny_bin(), "run", "--limit", "memory=64M", "--report", rep, "--",
                          "/bin/sh", "-c", script}, said);
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st) + "\n" + read_file(said));
    std::string result = read_file(out);
    s.expect(result == "hog=137\nsibling-alive\n", "hog and sibling: " + result);
    std::string bad = schema_errors(rep);
    s.expect(bad.empty(), bad);
    auto l = limit_of(rep, "memory");
    s.expect(l.is_object() && l["hit"] == true && count(l, "oom_kill") >= 1,
             "the group must have OOM-killed: " + l.dump());
    s.expect(l["role"] == "oom_victim" && !l["named"].empty() &&
                 l["named"][0]["name"].is_string() &&
                 l["named"][0]["name"].get<std::string>().starts_with("python3"),
             "the victim must be named: " + l.dump());
    // By the kernel's own word (the tracker's mark_victim program), not by inference.
    s.expect(l["named_by"] == "kernel", "the victim must be named by the kernel: " + l.dump());
    std::string text = read_file(said);
    s.expect(text.find("progeny: limit memory=67108864 hit") != std::string::npos &&
                 text.find("killed: ") != std::string::npos,
             "stderr must name the victim:\n" + text);
    for (const auto& f : {rep, out, said}) ::unlink(f.c_str());
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(Limits, ABusyLoopIsHeldToHalfACpuAndTheThrottlingReported) {
  REQUIRE_CONTROLLER("cpu");
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string rep = tmp("cpu.json"), out = tmp("cpu.out"), said = tmp("cpu.said");
    // Spins until it has had 1.5 s of CPU (at most 60 s of wall time), then says how much CPU
    // it got per second, from its own rusage. CPU time, not wall time: on a loaded machine a
    // loop that spins for a fixed wall time may never get half a CPU, and never be throttled.
    std::string loop =
        "import resource, time\n"
        "t = time.monotonic()\n"
        "while time.process_time() < 1.5 and time.monotonic() - t < 60: pass\n"
        "u = resource.getrusage(resource.RUSAGE_SELF)\n"
        "print((u.ru_utime + u.ru_stime) / (time.monotonic() - t))\n";
    int st = run_command({progeny_bin(), "run", "--limit", "cpu=0.5", "--report", rep, "--",
                          "/bin/sh", "-c", "exec /usr/bin/python3 -c \"$0\" > " + out, loop},
                         said);
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st) + "\n" + read_file(said));
    double used = std::atof(read_file(out).c_str());
    s.expect(used > 0 && used <= 0.6, "CPU used: " + read_file(out));
    std::string bad = schema_errors(rep);
    s.expect(bad.empty(), bad);
    auto l = limit_of(rep, "cpu");
    s.expect(l.is_object() && l["hit"] == true && count(l, "nr_throttled") > 0 &&
                 count(l, "throttled_time") > 0,
             "throttling must be reported: " + l.dump());
    s.expect(read_file(said).find("progeny: limit cpu=0.5 hit") != std::string::npos,
             "stderr: " + read_file(said));
    for (const auto& f : {rep, out, said}) ::unlink(f.c_str());
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// --contain pidns: the limits hold COMMAND (PID 3) and below; the init and the intermediate
// are progeny's own and stay outside, so the cap is COMMAND's tree's alone.
TEST_F(Limits, InAPidNamespaceTheCapHoldsCommandsTree) {
  REQUIRE_CONTROLLER("pids");
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string rep = tmp("pidns.json"), out = tmp("pidns.out");
    int st = run_command({progeny_bin(), "run", "--contain", "pidns", "--limit", "pids=16",
                          "--timeout", "2s", "--report", rep, "--", fixture("fork_bomb"), "4", "3"},
                         out);
    s.expect(exited_with(st, 124), status_text(st) + "\n" + read_file(out));
    auto l = limit_of(rep, "pids");
    s.expect(l.is_object() && l["hit"] == true && count(l, "max") > 0, "pids: " + l.dump());
    s.expect(!l["counts"].contains("peak") || count(l, "peak") == 16, "peak: " + l.dump());
    std::string bad = schema_errors(rep);
    s.expect(bad.empty(), bad);
    ::unlink(rep.c_str());
    ::unlink(out.c_str());
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// No cgroup backend for pids (the v1 hierarchy unmounted in the sandbox's mount namespace):
// the tracker holds the cap, killing at birth every child a member forks while 64 processes
// are tracked. The forks succeed in their parents (unlike pids.max's EAGAIN).
TEST_F(Limits, WithoutAPidsCgroupTheTrackerHoldsTheBombAtItsCapAndNamesTheForker) {
  REQUIRE_CONTROLLER("pids");  // to be made unavailable below
  auto r = run_in_sandbox([&](Scenario& s) {
    if (!s.expect(::umount2("/sys/fs/cgroup/pids", MNT_DETACH) == 0, "cannot unmount the pids hierarchy"))
      return 1;
    std::string rep = tmp("tbomb.json"), log = tmp("tbomb.log"), out = tmp("tbomb.out");
    int st = run_command({progeny_bin(), "run", "--bpf", "on", "--limit", "pids=64", "--timeout", "3s",
                          "--report", rep, "--log", log, "--", fixture("fork_bomb"), "10", "3"},
                         out);
    s.expect(exited_with(st, 124), "the bomb must end by the timeout: " + status_text(st) +
                                       "\n" + read_file(out));
    std::string bad = schema_errors(rep);
    s.expect(bad.empty(), bad);
    auto l = limit_of(rep, "pids");
    s.expect(l.is_object() && l["backend"] == "tracker" && l["hit"] == true && count(l, "killed") > 0,
             "the tracker must have killed children at the cap: " + l.dump());
    s.expect(l["role"] == "forker" && l["named_by"] == "tracker" && !l["named"].empty() &&
                 l["named"][0]["name"] == "fork_bomb" && l["named"][0]["count"].get<uint64_t>() > 0,
             "the forker must be named: " + l.dump());
    // Nobody exits in a fork bomb but the children killed at birth: every other process the
    // log saw was alive at once.
    std::set<uint64_t> born, killed;
    bool forker_named = false;
    for (const auto& rec : records(log)) {
      if (rec.event == "fork" && rec.ino) born.insert(*rec.ino);
      if (rec.event == "limit_kill" && rec.ino) killed.insert(*rec.ino);
      forker_named |= rec.event == "limit_kill" && rec.ppid && rec.parent_ino;
    }
    size_t lived = 0;
    for (uint64_t ino : born) lived += !killed.count(ino);
    s.expect(lived > 0 && lived <= 64, "processes alive at once: " + std::to_string(lived));
    s.expect(!killed.empty() && forker_named, "no limit_kill record naming the forker in the log");
    std::string said = read_file(out);
    s.expect(said.find("progeny: limit pids=64 hit (tracker)") != std::string::npos &&
                 said.find("forker: ") != std::string::npos,
             "stderr must say the limit hit and name the forker:\n" + said);
    for (const auto& f : {rep, log, out}) ::unlink(f.c_str());
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// The progeny-PID-RANDOM groups below this process's own cgroup of `controller`'s v1 hierarchy.
std::vector<std::string> limit_groups_of(const char* controller) {
  std::vector<std::string> out;
  std::istringstream own(read_file("/proc/self/cgroup"));
  for (std::string line; std::getline(own, line);) {
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (b == std::string::npos || ("," + line.substr(a + 1, b - a - 1) + ",").find(std::string(",") + controller + ",") == std::string::npos)
      continue;
    std::string dir = std::string("/sys/fs/cgroup/") + controller + line.substr(b + 1);
    std::string listing = tmp("groups.ls");
    run_command({"/bin/sh", "-c", "cd '" + dir + "' && ls -d progeny-[0-9]* 2>/dev/null"}, listing);
    std::istringstream names(read_file(listing));
    for (std::string n; std::getline(names, n);) out.push_back(dir + "/" + n);
    ::unlink(listing.c_str());
  }
  return out;
}

std::vector<std::string> all_limit_groups() {
  std::vector<std::string> out;
  for (const char* c : {"pids", "memory", "cpu"})
    for (auto& g : limit_groups_of(c)) out.push_back(std::move(g));
  return out;
}

// A launcher SIGKILLed mid-run leaves no v1 limit group behind: its watchdog removes them once
// their tasks are gone, in every mode (without a cgroup leaf the watchdog is started for the
// limit groups alone).
class LimitsLauncherDeath : public ::testing::TestWithParam<const char*> {};

TEST_P(LimitsLauncherDeath, TheWatchdogRemovesTheLimitGroups) {
  REQUIRE_CONTROLLER("pids");
  REQUIRE_CONTROLLER("memory");
  REQUIRE_CONTROLLER("cpu");
  auto r = run_in_sandbox([&](Scenario& s) {
    auto c = progeny::test::start_command({progeny_bin(), "run", "--contain", GetParam(), "--limit",
                                           "pids=200,memory=256M,cpu=1", "--",
                                           fixture("contain_tree"), "3", "3", "2", "stay"});
    std::string seen;
    if (!s.expect(progeny::test::wait_for_line(c.out_fd, "READY", 10000, &seen), "no READY: " + seen))
      return 1;
    s.expect(all_limit_groups().size() == 3, "the run's three limit groups must exist");
    ::kill(c.pid, SIGKILL);  // progeny, our own child
    progeny::test::wait_status(c.pid, 5000);
    std::vector<std::string> left = all_limit_groups();
    for (int i = 0; i < 200 && !left.empty(); ++i) {  // bounded: 10 s
      ::usleep(50000);
      left = all_limit_groups();
    }
    std::string names;
    for (const auto& g : left) names += " " + g;
    s.expect(left.empty(), "limit groups left after the launcher's death:" + names);
    progeny::test::expect_gone_within_a_second(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Modes, LimitsLauncherDeath, ::testing::Values("cgroup", "pidns", "none"),
                         [](const auto& info) { return std::string(info.param); });

// One line on stderr, exit 125, COMMAND never started.
void expect_refused(Scenario& s, const std::vector<std::string>& limit_args, const std::string& says) {
  std::string out = tmp("refused.out"), marker = tmp("refused.ran");
  std::vector<std::string> argv = {progeny_bin(), "run"};
  argv.insert(argv.end(), limit_args.begin(), limit_args.end());
  argv.insert(argv.end(), {"--", "/bin/sh", "-c", "touch " + marker});
  int st = run_command(argv, out);
  std::string text = read_file(out);
  s.expect(exited_with(st, 125), limit_args.back() + ": " + status_text(st) + "\n" + text);
  s.expect(text.find(says) != std::string::npos && text.find('\n') == text.size() - 1,
           limit_args.back() + ": one line naming \"" + says + "\" expected:\n" + text);
  s.expect(::access(marker.c_str(), F_OK) != 0, limit_args.back() + ": COMMAND ran");
  ::unlink(out.c_str());
  ::unlink(marker.c_str());
}

TEST_F(Limits, WhatCannotBeEnforcedExits125WithOneLine) {
  REQUIRE_CONTROLLER("pids");
  auto r = run_in_sandbox([&](Scenario& s) {
    expect_refused(s, {"--limit", "memory=1"}, "memory=1");
    expect_refused(s, {"--limit", "disk=1G"}, "'disk' is not one of pids, memory, cpu");
    expect_refused(s, {"--limit", "pids=0"}, "pids=0");
    // A host without the v1 pids hierarchy, as this sandbox's private mounts can show it.
    s.expect(::umount2("/sys/fs/cgroup/pids", MNT_DETACH) == 0, "cannot unmount the pids hierarchy");
    // Without the tracker either (--bpf off): nothing can enforce it.
    expect_refused(s, {"--bpf", "off", "--limit", "pids=10"}, "no cgroup v1 pids hierarchy is mounted");
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// `--limit-cgroup DIR` on this host's real cgroup2 mount. Its v2 hierarchy has only hugetlb
// (pids, memory and cpu are bound to v1, and a controller works in one hierarchy at a time),
// so the kernel refuses to enable pids in any v2 subtree: the test proves that refusal first
// (exact errno), then that progeny, given such a subtree, exits 125 with one line naming the
// controller DIR does not enable, starts nothing and leaves no group in DIR. Where the kernel
// does enable pids (a pure-v2 host), the same test runs the fork bomb through the v2 group
// instead. The writing of the limits themselves is tests/unit/cgroup_v2_limits_test.cc's.
TEST_F(Limits, V2SubtreeWithoutThePidsControllerIsRefusedOrWhereItHasPidsHoldsTheBomb) {
  if (::geteuid() != 0) GTEST_SKIP() << "the sandbox and cgroup limits need root";
  if (::access("/sys/fs/cgroup/unified/cgroup.procs", W_OK) != 0)
    GTEST_SKIP() << "no writable cgroup2 mount at /sys/fs/cgroup/unified";
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string dir = "/sys/fs/cgroup/unified/progeny-limits-test." + std::to_string(::getpid());
    if (!s.expect(::mkdir(dir.c_str(), 0755) == 0, "mkdir " + dir + ": " + std::strerror(errno)))
      return 1;
    int fd = ::open((dir + "/cgroup.subtree_control").c_str(), O_WRONLY);
    bool enabled = fd >= 0 && ::write(fd, "+pids", 5) == 5;
    int err = errno;
    if (fd >= 0) ::close(fd);
    if (!enabled) {
      s.expect(err == ENOENT, std::string("the kernel's refusal of +pids: ") + std::strerror(err));
      expect_refused(s, {"--limit-cgroup", dir, "--limit", "pids=10"},
                     "progeny run: --limit-cgroup " + dir + ": pids=10: " + dir +
                         "/cgroup.subtree_control does not enable pids (it enables: none)");
      expect_refused(s, {"--limit-cgroup", "/tmp", "--limit", "pids=10"},
                     "progeny run: --limit-cgroup /tmp: /tmp is not a cgroup v2 directory");
      std::string listing = tmp("v2.ls");
      run_command({"/bin/sh", "-c", "ls " + dir + " | grep progeny-"}, listing);
      s.expect(read_file(listing).empty(), "a group was left in " + dir + ": " + read_file(listing));
      ::unlink(listing.c_str());
    } else {
      std::string rep = tmp("v2.json"), out = tmp("v2.out");
      int st = run_command({progeny_bin(), "run", "--limit-cgroup", dir, "--limit", "pids=16",
                            "--timeout", "2s", "--report", rep, "--", fixture("fork_bomb"), "4", "3"},
                           out);
      s.expect(exited_with(st, 124), status_text(st) + "\n" + read_file(out));
      auto l = limit_of(rep, "pids");
      s.expect(l.is_object() && l["backend"] == "cgroup v2" && l["hit"] == true && count(l, "max") > 0,
               "pids: " + l.dump());
      ::unlink(rep.c_str());
      ::unlink(out.c_str());
    }
    s.expect(::rmdir(dir.c_str()) == 0, "rmdir " + dir + ": " + std::strerror(errno));
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
