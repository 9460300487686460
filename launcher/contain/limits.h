// `--limit pids=N,memory=SIZE,cpu=FRACTION`: one group per limit, made before COMMAND starts,
// COMMAND entered into each before its exec, the kernel's counters read at the end, the
// groups removed. The backend is cgroup v1 (hybrid hosts: pids.max, memory.limit_in_bytes
// and memory.memsw.limit_in_bytes, cpu.cfs_quota_us over cpu.cfs_period_us), in a child of
// the launcher's own cgroup of that hierarchy; a limit without one is refused (exit 125)
// with the reason. See docs/containment.md "Limits".
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "launcher/contain/cgroup_v1.h"
#include "launcher/os/limit_spec.h"

namespace progeny {

// What one limit did in a run, as the kernel counted it.
struct LimitUse {
  std::string name;     // "pids", "memory", "cpu"
  std::string backend;  // "cgroup v1"
  std::string group;    // the group's directory
  std::string value;    // the limit as written: "64", "67108864", "0.5"
  bool hit = false;     // the kernel refused, reclaimed, killed or throttled at least once
  // The kernel's own counters: pids: max (forks refused, pids.events); memory: failcnt,
  // max_usage_in_bytes, oom_kill (memory.oom_control); cpu: nr_periods, nr_throttled,
  // throttled_time (ns, cpu.stat).
  std::vector<std::pair<std::string, uint64_t>> counts;
};

class LimitGroups {
 public:
  // Creates and configures a group for every limit of `spec`. nullptr with one line *why
  // naming the limit the host cannot enforce, and why; nothing is left behind then.
  static std::unique_ptr<LimitGroups> make(const LimitSpec& spec, std::string* why);
  // Whether `limit` ("pids", "memory", "cpu") can be enforced here: make() of it for real,
  // undone at once (progeny doctor). *detail: the group's parent directory, or why not.
  static bool available(std::string_view limit, std::string* detail);
  LimitGroups(const LimitGroups&) = delete;
  LimitGroups& operator=(const LimitGroups&) = delete;
  ~LimitGroups() = default;  // each group removes itself

  // The descriptors COMMAND's child writes "0" to before its exec (enter_limit_groups).
  std::vector<int> enter_fds() const;
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
};

// In COMMAND's child, before exec: joins every group behind `fds` (async-signal-safe). False
// when a write failed (the child then says so and exits 125).
bool enter_limit_groups(const int* fds, size_t count);

}  // namespace progeny
