// Thin wrappers for the process syscalls glibc 2.36 has no wrapper for, and the constants
// Debian 12's kernel headers predate (the running kernel, 6.18, has them all).
#pragma once
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>

#include "launcher/os/fd.h"

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef PIDFD_SIGNAL_PROCESS_GROUP
#define PIDFD_SIGNAL_PROCESS_GROUP (1U << 2)  // Linux 6.9
#endif

namespace progeny {

// struct pidfd_info and PIDFD_GET_INFO (Linux 6.13; PIDFD_INFO_EXIT since 6.15).
struct PidfdInfo {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code;
  uint32_t coredump_mask;
  uint32_t pad;
};
inline constexpr uint64_t kPidfdInfoPid = 1U << 0;
inline constexpr uint64_t kPidfdInfoExit = 1U << 3;
inline constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfo);

inline int sys_pidfd_open(pid_t pid, unsigned flags = 0) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
}
// Opens a pidfd (close-on-exec is implied by the kernel). Invalid Fd on failure, errno set.
inline Fd open_pidfd(pid_t pid) { return Fd(sys_pidfd_open(pid)); }

// The exit status (wait(2) encoding) of the process behind pidfd, if the kernel recorded it
// (6.15+: also for processes that are not our children, after whoever reaped them).
inline bool pidfd_exit_status(int pidfd, int* status) {
  PidfdInfo info{};
  info.mask = kPidfdInfoExit;
  if (::ioctl(pidfd, kPidfdGetInfo, &info) != 0) return false;
  if (!(info.mask & kPidfdInfoExit)) return false;
  *status = info.exit_code;
  return true;
}

}  // namespace progeny
