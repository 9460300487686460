// A process's identity through its pidfd. On Linux 6.9+ (pidfs) the inode number of a pidfd
// is unique per process per boot, the same number BPF reads as task->thread_pid->ino, and a
// file handle made of it opens a pidfd again (open_by_handle_at, unprivileged) while the
// process exists. PIDFD_GET_INFO (6.13+) reads pid and ppid through the pidfd itself, so
// nothing about a process has to be looked up by its (reusable) number.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "launcher/os/fd.h"

namespace progeny {

// Whether this kernel has pidfs (checked once, on a pidfd of our own).
bool pidfs_available();
// The pidfs inode of the process behind pidfd; 0 without pidfs or on error.
uint64_t pidfd_ino(int pidfd);
// A pidfd of the process whose pidfs inode is `ino`, if it still exists (a zombie does;
// a reaped process does not). Invalid Fd otherwise.
Fd open_pidfd_by_ino(uint64_t ino);

// What PIDFD_GET_INFO reports of a process that has not been reaped. pid and ppid are as
// this process's PID namespace sees them (0 when not visible there).
struct PidfdPids {
  pid_t pid = 0;
  pid_t ppid = 0;
};
std::optional<PidfdPids> pidfd_pids(int pidfd);

}  // namespace progeny
