// --limit without a host: the KEY=VALUE list, the v1 hierarchy parsers, whom a limit names
// from the records, and the stderr lines of the limits that hit.
#include <errno.h>

#include <gtest/gtest.h>

#include "launcher/contain/cgroup_v1.h"
#include "launcher/os/limit_spec.h"
#include "launcher/run/limit_watch.h"
#include "launcher/views/verdict.h"

namespace progeny {
namespace {

TEST(LimitSpec, ParsesEveryKeyAndSize) {
  LimitSpec s;
  std::string err;
  ASSERT_TRUE(parse_limits("pids=64,memory=64M,cpu=0.5", &s, &err)) << err;
  EXPECT_EQ(s.pids, 64);
  EXPECT_EQ(s.memory, 64 << 20);
  EXPECT_DOUBLE_EQ(*s.cpu, 0.5);
  ASSERT_TRUE(parse_limits("memory=1.5G", &s, &err)) << err;  // a repeated key replaces
  EXPECT_EQ(s.memory, int64_t{3} << 29);
  EXPECT_EQ(parse_size_bytes("4096"), 4096);
  EXPECT_EQ(parse_size_bytes("2k"), 2048);
  EXPECT_FALSE(parse_size_bytes("M"));
  EXPECT_FALSE(parse_size_bytes("-1M"));
}

TEST(LimitSpec, RefusesWhatCannotBeALimit) {
  for (const char* bad : {"pids=0", "pids=1.5", "memory=1", "memory=lots", "cpu=0", "cpu=0.001",
                          "disk=1G", "pids", "pids=", "pids=64,", "=3"}) {
    LimitSpec s;
    std::string err;
    EXPECT_FALSE(parse_limits(bad, &s, &err)) << bad;
    EXPECT_FALSE(err.empty()) << bad;
    EXPECT_EQ(err.find('\n'), std::string::npos) << bad;
  }
}

TEST(CgroupV1, FindsTheHierarchyOfAController) {
  std::string mountinfo =
      "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
      "34 30 0:31 /outer /sys/fs/cgroup/mem\\040ory rw - cgroup cgroup rw,memory\n"
      "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  auto cpu = parse_cgroup1_mounts(mountinfo, "cpu");
  ASSERT_EQ(cpu.size(), 1u);
  EXPECT_EQ(cpu[0].mount_point, "/sys/fs/cgroup/cpu");
  EXPECT_TRUE(parse_cgroup1_mounts(mountinfo, "cpuacct").size() == 1);
  EXPECT_TRUE(parse_cgroup1_mounts(mountinfo, "pids").empty());
  auto mem = parse_cgroup1_mounts(mountinfo, "memory");
  ASSERT_EQ(mem.size(), 1u);
  EXPECT_EQ(mem[0].mount_point, "/sys/fs/cgroup/mem ory");
  EXPECT_EQ(mem[0].root, "/outer");
  std::string own = "8:pids:/progeny-test.1\n4:memory:/process_api/ab\n1:cpu,cpuacct:/\n0::/\n";
  EXPECT_EQ(parse_own_cgroup_v1(own, "memory"), "/process_api/ab");
  EXPECT_EQ(parse_own_cgroup_v1(own, "cpu"), "/");
  EXPECT_FALSE(parse_own_cgroup_v1(own, "hugetlb"));
  EXPECT_EQ(keyed_u64("nr_periods 20\nnr_throttled 12\nthrottled_time 5\n", "nr_throttled"), 12u);
  EXPECT_FALSE(keyed_u64("nr_throttled_x 3\n", "nr_throttled"));
}

Record rec(const char* event, pid_t pid, uint64_t ino) {
  Record r = make_record(event, "shim", pid);
  r.ino = ino;
  return r;
}

TEST(LimitWatch, NamesTheForkersMostRefusedFirst) {
  LimitWatch w;
  for (int i = 0; i < 3; ++i) {
    Record r = rec("fork_failed", 11, 110);
    r.error = EAGAIN;
    w.on_record(r);
  }
  Record other = rec("fork_failed", 12, 120);
  other.error = EAGAIN;
  w.on_record(other);
  Record enomem = rec("fork_failed", 13, 130);
  enomem.error = ENOMEM;  // not the pids cap
  w.on_record(enomem);
  auto f = w.forkers(5);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].pid, 11);
  EXPECT_EQ(f[0].count, 3u);
  EXPECT_EQ(f[1].pid, 12);
  EXPECT_EQ(w.forkers(1).size(), 1u);
}

TEST(LimitWatch, AnOomVictimIsAKillProgenyDidNotSend) {
  LimitWatch w;
  Record ours = make_record("signal", "launcher", 1);
  ours.signal = "KILL";
  ours.target_pid = 20;
  ours.target_ino = 200;
  w.on_record(ours);
  for (auto [pid, ino] : {std::pair{20, 200}, std::pair{21, 210}, std::pair{21, 210}}) {
    Record e = rec("exit", pid, ino);
    e.signal = "KILL";
    w.on_record(e);  // 21's twice: two sources, one death
  }
  Record term = rec("exit", 22, 220);
  term.signal = "TERM";
  w.on_record(term);
  std::string source;
  auto v = w.oom_victims(5, &source);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].pid, 21);
  EXPECT_EQ(source, "sigkill");
  EXPECT_TRUE(w.oom_victims(0, &source).empty());
}

TEST(LimitWatch, TheKernelsOomVictimIsPreferredToAnInferredOne) {
  LimitWatch w;
  Record died = rec("exit", 21, 210);
  died.signal = "KILL";
  w.on_record(died);  // a SIGKILL progeny did not send: would be the guess
  Record oom = make_record("oom_kill", "bpf", 22);
  oom.ino = 220;
  w.on_record(oom);
  w.on_record(oom);  // once per victim
  std::string source;
  auto v = w.oom_victims(5, &source);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].pid, 22);
  EXPECT_EQ(v[0].ino, 220u);
  EXPECT_EQ(source, "kernel");
}

TEST(LimitWatch, AChildKilledAtTheCapNamesItsCreatorAndIsNoOomVictim) {
  LimitWatch w;
  EXPECT_STREQ(w.forker_source(), "shim");
  // The launcher may learn of the death before the tracker's record arrives.
  Record died = rec("exit", 31, 310);
  died.signal = "KILL";
  w.on_record(died);
  for (pid_t child : {31, 32}) {
    Record k = make_record("limit_kill", "bpf", child);
    k.ino = static_cast<uint64_t>(child) * 10;
    k.ppid = 30;
    k.parent_ino = 300;
    w.on_record(k);
  }
  auto f = w.forkers(5);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].pid, 30);
  EXPECT_EQ(f[0].ino, 300u);
  EXPECT_EQ(f[0].count, 2u);
  EXPECT_STREQ(w.forker_source(), "tracker");
  std::string source;
  EXPECT_TRUE(w.oom_victims(5, &source).empty());
}

TEST(LimitReport, SaysWhatHitAndWhom) {
  Verdict::Limit pids{"pids", "64", "cgroup v1", "/g", true, {{"max", 40}}, "forker", {{7, 70, "bomb\x1b", 9}}, "shim"};
  Verdict::Limit mem{"memory", "67108864", "cgroup v1", "/m", true, {{"oom_kill", 1}, {"failcnt", 3}}, "oom_victim", {}, ""};
  Verdict::Limit cpu{"cpu", "0.5", "cgroup v1", "/c", false, {}, "", {}, ""};
  Verdict::Limit capped{"pids", "8", "tracker", "", true, {{"killed", 5}}, "forker", {{7, 70, "bomb", 5}}, "tracker"};
  EXPECT_EQ(format_limit_report({capped}),
            "progeny: limit pids=8 hit (tracker): 5 child(ren) killed at birth; forker: 7 (bomb) capped 5x\n");
  std::string out = format_limit_report({pids, mem, cpu});
  EXPECT_EQ(out,
            "progeny: limit pids=64 hit (cgroup v1): 40 process creation(s) refused; forker: 7 "
            "(bomb\\x1b) refused 9x\n"
            "progeny: limit memory=67108864 hit (cgroup v1): 1 OOM kill(s), 3 time(s) at the "
            "limit; killed: unknown\n");
}

}  // namespace
}  // namespace progeny
