// The cgroup v2 limit group (`--limit-cgroup DIR`) against a fake delegated subtree: a plain
// directory with the control files a kernel would show. This host's v2 hierarchy has none of
// the pids, memory and cpu controllers (they are bound to v1), so this is where the backend's
// own logic runs: the checks of the subtree, the files it writes and what it writes, the
// counters it reads back, the removal. Every access goes through the same directory
// descriptors as on a real cgroup2 mount; only open_delegated_subtree's cgroup2 check (a
// statfs) is not exercised here (tests/integration/limits_test.cc runs it on the real mount).
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "launcher/contain/cgroup_v2_limits.h"

namespace progeny {
namespace {

class FakeSubtree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/progeny-v2-fake.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    put("cgroup.procs", "");
    put("cgroup.subtree_control", "cpu memory pids\n");
  }
  void TearDown() override { ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0); }

  void put(const std::string& file, const std::string& text) { std::ofstream(dir_ + "/" + file) << text; }
  static std::string get(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  LeafParent subtree() { return LeafParent{dir_, Fd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY))}; }
  // What the kernel would show in a new group: the control files, empty.
  static void kernel_files(const std::string& group) {
    for (const char* f : {"cgroup.procs", "pids.max", "memory.max", "memory.swap.max", "cpu.max"})
      std::ofstream(group + "/" + f) << "";
  }
  static void clear(const std::string& group) { ASSERT_EQ(std::system(("rm -f " + group + "/*").c_str()), 0); }

  std::string dir_;
};

LimitSpec all_three() {
  LimitSpec s;
  s.pids = 64;
  s.memory = int64_t{64} << 20;
  s.cpu = 0.5;
  return s;
}

TEST_F(FakeSubtree, WritesEveryLimitIntoItsOwnNewGroupAndReadsTheCountersBack) {
  std::string why;
  auto g = CgroupV2LimitGroup::create(subtree(), all_three(), &why);
  ASSERT_TRUE(g) << why;
  EXPECT_EQ(g->path().substr(0, dir_.size() + 9), dir_ + "/progeny-");
  kernel_files(g->path());
  ASSERT_TRUE(g->configure(all_three(), &why)) << why;
  EXPECT_GE(g->enter_fd(), 0);
  EXPECT_EQ(get(g->path() + "/pids.max"), "64");
  EXPECT_EQ(get(g->path() + "/memory.max"), "67108864");
  EXPECT_EQ(get(g->path() + "/memory.swap.max"), "0");
  EXPECT_EQ(get(g->path() + "/cpu.max"), "50000 100000");
  // Nothing was written to the subtree itself: it is not progeny's.
  EXPECT_EQ(get(dir_ + "/cgroup.subtree_control"), "cpu memory pids\n");

  std::ofstream(g->path() + "/pids.events") << "max 7\n";
  std::ofstream(g->path() + "/pids.peak") << "64\n";
  std::ofstream(g->path() + "/memory.events") << "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n";
  std::ofstream(g->path() + "/cpu.stat") << "usage_usec 9\nnr_periods 20\nnr_throttled 18\nthrottled_usec 900000\n";
  auto use = g->usage(all_three());
  ASSERT_EQ(use.size(), 3u);
  EXPECT_EQ(use[0].name, "pids");
  EXPECT_TRUE(use[0].hit);
  EXPECT_EQ(count_of(use[0], "max"), 7u);
  EXPECT_EQ(count_of(use[0], "peak"), 64u);
  EXPECT_EQ(use[1].name, "memory");
  EXPECT_EQ(use[1].backend, "cgroup v2");
  EXPECT_EQ(count_of(use[1], "oom_kill"), 1u);
  EXPECT_EQ(count_of(use[1], "max"), 12u);
  EXPECT_EQ(use[2].value, "0.5");
  EXPECT_EQ(count_of(use[2], "throttled_usec"), 900000u);
  EXPECT_TRUE(use[2].hit);

  std::string path = g->path();
  clear(path);  // a real cgroup's files go with its rmdir
  EXPECT_TRUE(g->remove());
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST_F(FakeSubtree, WithoutSwapAccountingOnlyMemoryMaxIsWritten) {
  LimitSpec s;
  s.memory = int64_t{1} << 30;
  std::string why;
  auto g = CgroupV2LimitGroup::create(subtree(), s, &why);
  ASSERT_TRUE(g) << why;
  std::ofstream(g->path() + "/cgroup.procs") << "";
  std::ofstream(g->path() + "/memory.max") << "";
  ASSERT_TRUE(g->configure(s, &why)) << why;
  EXPECT_EQ(get(g->path() + "/memory.max"), "1073741824");
  EXPECT_NE(::access((g->path() + "/memory.swap.max").c_str(), F_OK), 0);
  clear(g->path());
}

TEST_F(FakeSubtree, AControllerTheSubtreeDoesNotEnableIsRefusedByName) {
  put("cgroup.subtree_control", "memory\n");
  std::string why;
  EXPECT_FALSE(CgroupV2LimitGroup::create(subtree(), all_three(), &why));
  EXPECT_EQ(why, "pids=64: " + dir_ + "/cgroup.subtree_control does not enable pids (it enables: memory)");
  put("cgroup.subtree_control", "");
  LimitSpec cpu;
  cpu.cpu = 0.25;
  EXPECT_FALSE(CgroupV2LimitGroup::create(subtree(), cpu, &why));
  EXPECT_EQ(why, "cpu=0.25: " + dir_ + "/cgroup.subtree_control does not enable cpu (it enables: none)");
  // "cpuset" is not "cpu".
  put("cgroup.subtree_control", "cpuset\n");
  EXPECT_FALSE(CgroupV2LimitGroup::create(subtree(), cpu, &why));
  EXPECT_EQ(std::system(("test -z \"$(ls -A " + dir_ + " | grep progeny)\"").c_str()), 0)
      << "a refused subtree got a group";
}

TEST_F(FakeSubtree, ASubtreeWithProcessesIsRefused) {
  put("cgroup.procs", "4242\n");
  std::string why;
  EXPECT_FALSE(CgroupV2LimitGroup::create(subtree(), all_three(), &why));
  EXPECT_EQ(why, dir_ + " holds processes: a delegated subtree for limits must be empty");
}

TEST_F(FakeSubtree, AFileTheKernelRefusesNamesTheLimit) {
  std::string why;
  auto g = CgroupV2LimitGroup::create(subtree(), all_three(), &why);
  ASSERT_TRUE(g) << why;
  std::ofstream(g->path() + "/cgroup.procs") << "";
  std::ofstream(g->path() + "/pids.max") << "";  // no memory.max: as without the controller
  EXPECT_FALSE(g->configure(all_three(), &why));
  EXPECT_EQ(why, "memory: cannot write memory.max = 67108864 in a group under " + dir_ +
                     ": No such file or directory");
  clear(g->path());
}

TEST(CgroupV2Limits, ADirectoryThatIsNotCgroup2IsRefused) {
  std::string why;
  EXPECT_FALSE(open_delegated_subtree("/tmp", &why));
  EXPECT_EQ(why, "/tmp is not a cgroup v2 directory");
  EXPECT_FALSE(open_delegated_subtree("/nonexistent-progeny", &why));
  EXPECT_EQ(why, "cannot open /nonexistent-progeny: No such file or directory");
}

}  // namespace
}  // namespace progeny
