// cgroup v1 limit groups (hybrid hosts, where memory, pids and cpu are v1 controllers): the
// hierarchy of a controller, the launcher's own cgroup in it, and a child group progeny
// creates there, writes only through the directory descriptor kept from its mkdir, and
// removes at the end. The launcher's own cgroup is only ever the parent of the mkdir: nothing
// is written to it or to an ancestor (docs/containment.md).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "launcher/contain/cgroup.h"
#include "launcher/os/fd.h"

namespace progeny {

// Every v1 mount of /proc/self/mountinfo text whose hierarchy has `controller` (a super
// option such as "rw,cpu,cpuacct"), as mount point and the cgroup path it shows.
std::vector<Cgroup2Mount> parse_cgroup1_mounts(std::string_view mountinfo,
                                               std::string_view controller);
// The cgroup path of `controller`'s hierarchy in /proc/self/cgroup text ("4:memory:/a/b"),
// nullopt if that hierarchy is not listed.
std::optional<std::string> parse_own_cgroup_v1(std::string_view proc_cgroup,
                                                std::string_view controller);

class CgroupV1Group {
 public:
  // mkdir of a new uniquely named group of `controller`'s hierarchy under this process's own
  // cgroup there; its cgroup.procs opened for COMMAND to enter (enter_fd). nullptr with a
  // one-line *why when the host has no such hierarchy or it is not ours to write.
  static std::unique_ptr<CgroupV1Group> create(std::string_view controller, std::string* why);
  CgroupV1Group(const CgroupV1Group&) = delete;
  CgroupV1Group& operator=(const CgroupV1Group&) = delete;
  ~CgroupV1Group() { remove(); }

  const std::string& path() const { return path_; }
  const std::string& name() const { return name_; }
  int parent_fd() const { return parent_.get(); }  // for the watchdog's rmdir
  // O_WRONLY descriptor of the group's cgroup.procs: a child writes "0" to it before exec.
  int enter_fd() const { return procs_.get(); }
  bool has(const char* file) const;
  // 0 or an errno.
  int write(const char* file, const std::string& value);
  std::optional<std::string> read(const char* file) const;
  // Removes the group, waiting (bounded) for exiting tasks to leave it; true once it is gone.
  bool remove();

 private:
  CgroupV1Group(Fd parent, Fd dir, Fd procs, std::string name, std::string path)
      : parent_(std::move(parent)), dir_(std::move(dir)), procs_(std::move(procs)),
        name_(std::move(name)), path_(std::move(path)) {}
  Fd parent_, dir_, procs_;
  std::string name_, path_;
  bool removed_ = false;
};

// A "key value" line of a flat keyed file (pids.events, cpu.stat, memory.oom_control).
std::optional<uint64_t> keyed_u64(std::string_view text, std::string_view key);

}  // namespace progeny
