// `--limit pids=N,memory=SIZE,cpu=FRACTION`: the groups that enforce them, made before COMMAND
// starts, COMMAND entered into each before its exec, the kernel's counters read at the end,
// the groups removed. Backends: cgroup v1 (hybrid hosts: pids.max, memory.limit_in_bytes and
// memory.memsw.limit_in_bytes, cpu.cfs_quota_us over cpu.cfs_period_us), one group per limit
// in a child of the launcher's own cgroup of that hierarchy; or, with `--limit-cgroup DIR`,
// one cgroup v2 group for all of them in that delegated, empty subtree (cgroup_v2_limits.h).
// A limit without a backend is refused (exit 125) with the reason. See docs/containment.md
// "Limits".
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "launcher/contain/cgroup_v1.h"
#include "launcher/contain/cgroup_v2_limits.h"
#include "launcher/contain/cgroup_watchdog.h"
#include "launcher/contain/limit_use.h"
#include "launcher/os/limit_spec.h"

namespace progeny {

class LimitGroups {
 public:
  // Creates and configures a group for every limit of `spec`: v1 groups, or with a
  // non-empty `v2_subtree` (--limit-cgroup) one v2 group there. nullptr with one line *why
  // naming the limit the host cannot enforce, and why; nothing is left behind then.
  static std::unique_ptr<LimitGroups> make(const LimitSpec& spec, const std::string& v2_subtree,
                                           std::string* why);
  // Whether `limit` ("pids", "memory", "cpu") can be enforced here: make() of it for real,
  // undone at once (progeny doctor). *detail: the group's parent directory, or why not.
  static bool available(std::string_view limit, std::string* detail,
                        const std::string& v2_subtree = "");
  LimitGroups(const LimitGroups&) = delete;
  LimitGroups& operator=(const LimitGroups&) = delete;
  ~LimitGroups() = default;  // each group removes itself

  // The descriptors COMMAND's child writes "0" to before its exec (enter_limit_groups);
  // without the v2 group's when COMMAND is born inside it already (its containment leaf is
  // there: leaf_parent()).
  std::vector<int> enter_fds(bool born_in_v2_group) const;
  // The v2 group as the place for the containment leaf, so COMMAND's leaf is inside its
  // limits; nullopt with v1 groups (their hierarchies are not the leaf's).
  std::optional<LeafParent> leaf_parent() const;
  // Every group as the watchdog removes it if the launcher dies (valid while this lives).
  std::vector<CgroupRef> refs() const;
  // Every limit with the kernel's counters as of now.
  std::vector<LimitUse> usage() const;
  // The memory group's OOM kills so far (0 without a memory limit).
  uint64_t oom_kills() const;
  // Removes every group (bounded wait for exiting tasks). False with *why naming what stays.
  bool remove(std::string* why);

 private:
  struct Group {
    std::string name, value;
    std::unique_ptr<CgroupV1Group> cg;
  };
  LimitGroups() = default;
  std::vector<Group> groups_;
  std::unique_ptr<CgroupV2LimitGroup> v2_;
  LimitSpec v2_spec_;
};

// In COMMAND's child, before exec: joins every group behind `fds` (async-signal-safe). False
// when a write failed (the child then says so and exits 125).
bool enter_limit_groups(const int* fds, size_t count);

// Why `--limit pids` cannot be enforced here: no cgroup could (cgroup_why), and the tracker,
// the fallback, did not start (tracker_why). The run's refusal and doctor's line say it alike.
std::string no_pids_backend(const std::string& cgroup_why, const std::string& tracker_why);

}  // namespace progeny
