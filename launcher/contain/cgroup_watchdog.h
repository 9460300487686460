// The cgroup watchdog: a tiny process forked before COMMAND starts that outlives a SIGKILLed
// launcher just long enough to kill the launcher's leaf cgroup (through the directory
// descriptor it inherited from the leaf's mkdir) and remove it, and then to remove the
// `--limit` groups (v1 groups, the v2 limit group) once their tasks are gone. It stays outside the leaf,
// in its own process group (so terminal signals meant for the job miss it), ignores the
// usual termination and job-control signals, and exits quietly when the launcher dismisses
// it. The launcher must not count it as a member of the tree it stops: see pid().
#pragma once
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "launcher/contain/cgroup.h"
#include "launcher/os/fd.h"

namespace progeny {

// A cgroup progeny made, as the watchdog removes it: the descriptor of its parent directory
// (kept from the mkdir) and its name there. Both stay valid in the forked watchdog.
struct CgroupRef {
  int parent_fd;
  const char* name;
};
// The most --limit groups one watchdog removes (three v1 groups, or one v2 group).
constexpr size_t kMaxWatchedGroups = 3;

class CgroupWatchdog {
 public:
  // Forks the watchdog for `leaf` (nullptr: none, only `groups`) and the limit groups, at
  // most kMaxWatchedGroups, removed after the leaf. nullptr with a one-line *why on failure.
  static std::unique_ptr<CgroupWatchdog> start(const CgroupLeaf* leaf,
                                               const std::vector<CgroupRef>& groups,
                                               std::string* why);
  CgroupWatchdog(const CgroupWatchdog&) = delete;
  CgroupWatchdog& operator=(const CgroupWatchdog&) = delete;
  // An undismissed watchdog is let go as if the launcher had died: it cleans the leaf up.
  ~CgroupWatchdog() { dismiss(false); }

  // The watchdog's pid: exclude it from membership and from every stop signal.
  pid_t pid() const { return pid_; }
  // leaf_gone: tells the watchdog the run is over (the leaf is removed) and reaps it, bounded
  // (if the launcher's own reaper collected it already, nothing is lost). !leaf_gone: hands
  // the leaf over instead: the watchdog kills and removes it as if the launcher had died
  // (for a leaf the launcher could not remove in time), and the launcher does not wait.
  void dismiss(bool leaf_gone);

 private:
  CgroupWatchdog(pid_t pid, Fd pidfd, Fd pipe_w)
      : pid_(pid), pidfd_(std::move(pidfd)), pipe_w_(std::move(pipe_w)) {}
  pid_t pid_;
  Fd pidfd_;
  Fd pipe_w_;
};

// Whether pid is the cgroup watchdog of a progeny run nested in ours (its name, and it runs
// progeny's own executable). An outer stop lets it finish, bounded: killed together with its
// launcher it would leave the nested run's cgroup behind.
bool is_progeny_watchdog(pid_t pid);

// What the watchdog does once the launcher is gone, exposed for tests: SIGKILL the cgroup
// behind dirfd, wait (bounded) until it is empty, remove `name` under parentfd. Async-signal-
// safe. Returns 0 when the cgroup is gone, else an errno.
int watchdog_reap_leaf(int dirfd, int parentfd, const char* name);
// What it does with each limit group after the leaf: rmdir, retried while the group is busy
// (its tasks still exiting; v1 has no cgroup.kill, and nothing unverified is signalled),
// bounded to ~5 s. Async-signal-safe. 0 when the group is gone, else an errno.
int watchdog_remove_group(int parentfd, const char* name);

}  // namespace progeny
