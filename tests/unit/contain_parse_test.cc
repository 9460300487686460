// Parsing behind the containment modes: where cgroup v2 is mounted, which cgroup we are in,
// and how a host pid maps to its PID-namespace pid.
#include <gtest/gtest.h>

#include "launcher/contain/cgroup.h"
#include "launcher/contain/containment.h"

namespace progeny {
namespace {

// This machine: hybrid, v1 controllers plus v2 at /sys/fs/cgroup/unified.
constexpr char kHybrid[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
// A systemd host in unified mode; optional fields (shared:N) before the separator.
constexpr char kPureV2[] =
    "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
    "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";
constexpr char kV1Only[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n";

TEST(ContainMountinfo, Hybrid) {
  auto m = parse_cgroup2_mounts(kHybrid);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].mount_point, "/sys/fs/cgroup/unified");
  EXPECT_EQ(m[0].root, "/");
}

TEST(ContainMountinfo, PureV2WithOptionalFields) {
  auto m = parse_cgroup2_mounts(kPureV2);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].mount_point, "/sys/fs/cgroup");
}

TEST(ContainMountinfo, V1OnlyHasNone) { EXPECT_TRUE(parse_cgroup2_mounts(kV1Only).empty()); }

TEST(ContainMountinfo, EscapedMountPointAndBindRoot) {
  auto m = parse_cgroup2_mounts("50 1 0:40 /ci/job\\0401 /mnt/cg\\040v2 rw - cgroup2 none rw\n");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].mount_point, "/mnt/cg v2");
  EXPECT_EQ(m[0].root, "/ci/job 1");
}

TEST(ContainMountinfo, FstypeIsReadAfterTheSeparatorOnly) {
  // "cgroup2" as a source or in options must not count.
  EXPECT_TRUE(parse_cgroup2_mounts("60 1 0:41 / /x rw - tmpfs cgroup2 rw\n").empty());
}

TEST(ContainOwnCgroup, ReadsTheV2Line) {
  EXPECT_EQ(parse_own_cgroup_v2("8:pids:/\n0::/user.slice/session-2.scope\n").value(),
            "/user.slice/session-2.scope");
  EXPECT_EQ(parse_own_cgroup_v2("0::/\n").value(), "/");
  EXPECT_FALSE(parse_own_cgroup_v2("8:pids:/\n4:memory:/x\n").has_value());
}

TEST(ContainCgroupDir, MapsThroughTheMountRoot) {
  std::vector<Cgroup2Mount> root{{"/sys/fs/cgroup", "/"}};
  EXPECT_EQ(cgroup_dir_for(root, "/").value(), "/sys/fs/cgroup");
  EXPECT_EQ(cgroup_dir_for(root, "/a/b").value(), "/sys/fs/cgroup/a/b");
  std::vector<Cgroup2Mount> bind{{"/cg", "/ci/job"}};
  EXPECT_EQ(cgroup_dir_for(bind, "/ci/job/x").value(), "/cg/x");
  EXPECT_EQ(cgroup_dir_for(bind, "/ci/job").value(), "/cg");
  EXPECT_FALSE(cgroup_dir_for(bind, "/ci/jobs").has_value());
  EXPECT_FALSE(cgroup_dir_for(bind, "/other").has_value());
  // Outside our cgroup namespace the kernel shows "/../..": never a usable directory.
  EXPECT_FALSE(cgroup_dir_for(root, "/../sibling").has_value());
}

TEST(ContainMode, Names) {
  ContainMode m = ContainMode::none;
  for (const char* name : {"auto", "cgroup", "pidns", "none"}) {
    ASSERT_TRUE(parse_contain_mode(name, &m)) << name;
    EXPECT_STREQ(contain_mode_name(m), name);
  }
  EXPECT_FALSE(parse_contain_mode("bpf", &m));
}

}  // namespace
}  // namespace progeny
