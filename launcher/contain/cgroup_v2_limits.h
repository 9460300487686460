// cgroup v2 limit group (`--limit-cgroup DIR`): on a pure-v2 host the launcher's own cgroup
// holds processes, so v2's "no internal processes" rule forbids enabling controllers below it.
// The limits then live in a child progeny makes in a delegated, empty subtree DIR that the
// user names: a cgroup with no processes of its own whose cgroup.subtree_control already
// enables the controllers the limits need. progeny never writes DIR (it only mkdirs there);
// every control file it writes is the child's, through the directory descriptor kept from its
// mkdir. COMMAND is born in the child (or in the containment leaf made inside it), so the
// limits hold its whole tree. See docs/containment.md "Limits".
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "launcher/contain/cgroup.h"
#include "launcher/contain/limit_use.h"
#include "launcher/os/fd.h"
#include "launcher/os/limit_spec.h"

namespace progeny {

// DIR opened and checked to be a cgroup2 directory. nullopt with a one-line *why.
std::optional<LeafParent> open_delegated_subtree(const std::string& dir, std::string* why);

class CgroupV2LimitGroup {
 public:
  // mkdir of a new uniquely named group in `subtree` after checking it may hold one: no
  // processes in it (cgroup.procs empty) and every controller `spec` needs listed in its
  // cgroup.subtree_control. nullptr with a one-line *why naming the limit; nothing is left.
  // (configure() then writes the limits: two steps, so a unit test can stand in for the
  // kernel's control files in between.)
  static std::unique_ptr<CgroupV2LimitGroup> create(LeafParent subtree, const LimitSpec& spec,
                                                    std::string* why);
  CgroupV2LimitGroup(const CgroupV2LimitGroup&) = delete;
  CgroupV2LimitGroup& operator=(const CgroupV2LimitGroup&) = delete;
  ~CgroupV2LimitGroup() { remove(); }

  // Opens cgroup.procs (enter_fd) and writes pids.max, memory.max (+ memory.swap.max = 0
  // where the host has swap accounting: held to the limit, not swapped past it) and cpu.max.
  // False with *why naming the limit.
  bool configure(const LimitSpec& spec, std::string* why);
  // Every limit of `spec` with the kernel's counters as of now (pids.events, pids.peak,
  // memory.events, memory.peak, cpu.stat).
  std::vector<LimitUse> usage(const LimitSpec& spec) const;

  const std::string& path() const { return path_; }
  const std::string& name() const { return name_; }
  int dirfd() const { return dir_.get(); }
  int parent_fd() const { return parent_.get(); }
  // O_WRONLY descriptor of the group's cgroup.procs: a child writes "0" to it before exec.
  int enter_fd() const { return procs_.get(); }
  // The group as the place of the containment leaf: its path and a descriptor of its own.
  LeafParent as_leaf_parent() const;
  std::optional<std::string> read(const char* file) const;
  // Removes the group and any cgroup below it (bounded wait for exiting tasks).
  bool remove();

 private:
  CgroupV2LimitGroup(Fd parent, Fd dir, std::string name, std::string path)
      : parent_(std::move(parent)), dir_(std::move(dir)), name_(std::move(name)),
        path_(std::move(path)) {}
  Fd parent_, dir_, procs_;
  std::string name_, path_;
  bool removed_ = false;
};

// The controllers `spec` needs in v2 ("pids", "memory", "cpu"), in that order.
std::vector<std::string> v2_controllers_for(const LimitSpec& spec);

}  // namespace progeny
