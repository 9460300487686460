#include "launcher/contain/spawn_contained.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "launcher/os/exit_codes.h"
#include "launcher/os/sys.h"

namespace progeny {
namespace {


// Child side of the fallback: move into the cgroup before anything else runs.
void move_self_or_die(int cgroup_fd) {
  int fd = ::openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
  if (fd >= 0 && ::write(fd, "0", 1) == 1) {
    ::close(fd);
    return;
  }
  static const char msg[] = "progeny: cannot move COMMAND into its cgroup\n";
  (void)!::write(2, msg, sizeof msg - 1);
  ::_exit(kExitProgenyError);
}

}  // namespace

pid_t clone_contained(const CloneSpec& spec, Fd* pidfd) {
  clone_args args;
  std::memset(&args, 0, sizeof args);
  int raw_pidfd = -1;
  args.flags = CLONE_PIDFD | spec.ns_flags;
  args.pidfd = reinterpret_cast<uint64_t>(&raw_pidfd);
  args.exit_signal = SIGCHLD;
  if (spec.cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(spec.cgroup_fd);
  }
  long r = ::syscall(SYS_clone3, &args, sizeof args);
  if (r >= 0) {
    if (r > 0) pidfd->reset(raw_pidfd);
    return static_cast<pid_t>(r);
  }
  // ENOSYS: no clone3 (< 5.3). E2BIG/EINVAL with a cgroup: struct too large or flag unknown
  // (< 5.7). Anything else (EBUSY, EACCES, ENOSPC, EAGAIN...) is a real refusal to report.
  bool old_kernel = errno == ENOSYS || (spec.cgroup_fd >= 0 && (errno == E2BIG || errno == EINVAL));
  if (!old_kernel) return -1;
  pid_t pid;
  if (spec.ns_flags != 0) {
    // No CLONE_PIDFD through the old clone(2) path here; namespaces need unshare + fork,
    // which is unsafe to do in the caller. Refuse instead of half-working.
    errno = ENOSYS;
    return -1;
  }
  pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (spec.cgroup_fd >= 0) move_self_or_die(spec.cgroup_fd);
    return 0;
  }
  pidfd->reset(sys_pidfd_open(pid));
  return pid;
}


}  // namespace progeny
