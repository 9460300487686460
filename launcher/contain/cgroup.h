// cgroup v2 containment: finding the v2 hierarchy and the launcher's place in it, and a leaf
// cgroup progeny creates, owns and removes. cgroup.kill/cgroup.freeze bypass pidfds and PID
// namespaces, so every write goes through a directory descriptor kept from the mkdir of our
// own uniquely named leaf; nothing is ever written to the launcher's own cgroup or an ancestor
// (docs/containment.md).
#pragma once
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "launcher/os/fd.h"

namespace progeny {

// The cgroup2 mount this process can use: where it is mounted and which cgroup path of the
// hierarchy (relative to the cgroup namespace root) that mount point shows.
struct Cgroup2Mount {
  std::string mount_point;
  std::string root;
};

// Every cgroup2 mount in the text of /proc/self/mountinfo (octal escapes such as \040
// decoded), in order. Empty on a v1-only host.
std::vector<Cgroup2Mount> parse_cgroup2_mounts(std::string_view mountinfo);
// The v2 cgroup path in the text of /proc/self/cgroup (the "0::" line), nullopt if none.
std::optional<std::string> parse_own_cgroup_v2(std::string_view proc_cgroup);
// The directory of cgroup `path` through one of `mounts` (the first whose root contains it).
std::optional<std::string> cgroup_dir_for(const std::vector<Cgroup2Mount>& mounts,
                                          std::string_view path);

// Where this process may create leaves: the directory of its own v2 cgroup, opened. As root
// any cgroup works (see docs/containment.md for the "no internal processes" rule); otherwise
// the directory and its cgroup.procs must be writable by us (a delegated subtree).
struct LeafParent {
  std::string path;  // absolute directory path, for messages
  Fd fd;             // O_DIRECTORY descriptor of it
};
// nullopt with a one-line *why when there is no usable place.
std::optional<LeafParent> find_leaf_parent(std::string* why);

class CgroupLeaf {
 public:
  // mkdir of a new uniquely named leaf under `parent`. nullptr with a one-line *why on error.
  static std::unique_ptr<CgroupLeaf> create(LeafParent parent, std::string* why);
  // find_leaf_parent + create.
  static std::unique_ptr<CgroupLeaf> create(std::string* why);
  CgroupLeaf(const CgroupLeaf&) = delete;
  CgroupLeaf& operator=(const CgroupLeaf&) = delete;
  // Kills whatever is left (bounded wait) and removes the leaf and any cgroup below it.
  ~CgroupLeaf();

  int dirfd() const { return dir_.get(); }        // for clone3 CLONE_INTO_CGROUP
  int parent_fd() const { return parent_.get(); }  // for the watchdog's rmdir
  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }

  // Processes in the leaf and in any cgroup below it (nested runs), as this process's PID
  // namespace sees them (processes it cannot see are not listed).
  std::vector<pid_t> procs() const;
  // True while a process is in the leaf or below (cgroup.events "populated").
  bool populated() const;
  // SIGKILL to every process in the leaf and below, atomic against concurrent forks.
  bool kill_all();
  // Freezes (true) or thaws (false) the leaf and waits, bounded, until the kernel says done.
  bool freeze(bool frozen);
  // Waits until the leaf is empty; false on timeout. Uses cgroup.events notifications.
  bool wait_empty(std::chrono::milliseconds timeout);
  // Removes the leaf (and empty cgroups below it) now; false if it is still populated.
  bool remove();
  // Gives the leaf up without touching it (it was handed to the watchdog): the destructor
  // then leaves it alone.
  void release() { removed_ = true; }

 private:
  CgroupLeaf(Fd parent, Fd dir, std::string name, std::string path);
  Fd parent_;
  Fd dir_;
  std::string name_;
  std::string path_;
  bool removed_ = false;
};

// The control-file access every cgroup progeny made shares (v2 leaf, v1 limit groups): always
// relative to the directory descriptor of such a cgroup. write: 0 or an errno,
// async-signal-safe. read: false when the file cannot be read.
int cgroup_write_at(int dirfd, const char* file, const char* text);
bool cgroup_read_at(int dirfd, const char* file, std::string* out);
// "progeny-PID-RANDOM": the name of a cgroup of this run, unique among runs.
std::string new_cgroup_name();

// Removes the cgroup `name` under parentfd and every cgroup below it, deepest first, using
// only openat/unlinkat (async-signal-safe, no allocation: the watchdog uses it after fork).
// Returns 0 or an errno.
int remove_cgroup_tree(int parentfd, const char* name);
// True while cgroup.events under dirfd says "populated 1"; async-signal-safe.
bool cgroup_populated_at(int dirfd);

}  // namespace progeny
