// The process-creation primitive of the containment modes: clone3 (raw syscall; glibc 2.36
// has no wrapper) with CLONE_PIDFD and, when given a cgroup, CLONE_INTO_CGROUP, so the child
// is inside its cgroup from its first instruction and nothing it forks can start outside.
#pragma once
#include <sys/types.h>

#include <cstdint>

#include "launcher/os/fd.h"

namespace progeny {

struct CloneSpec {
  int cgroup_fd = -1;       // >= 0: start the child in this cgroup v2 directory
  uint64_t ns_flags = 0;    // CLONE_NEWPID, CLONE_NEWNS, CLONE_NEWUSER ...
};

// Starts a child like fork(): returns 0 in the child, the child's pid in the parent (and a
// pidfd in *pidfd), -1 with errno set on failure.
//
// Fallback: a kernel without clone3 or CLONE_INTO_CGROUP (before 5.7) gets fork() plus, in
// the child, a write of "0" to the cgroup's cgroup.procs through cgroup_fd before returning,
// so the child still moves itself in before it can run or fork anything of COMMAND; if that
// write fails the child exits 125. The pidfd then comes from pidfd_open (race-free: the child
// is ours and unreaped).
//
// The clone3 child skips glibc's fork handlers (atfork, malloc and stdio lock resets): in a
// multithreaded caller it must only make async-signal-safe calls before exec. raise() works
// in it (glibc asks the kernel for the thread id).
pid_t clone_contained(const CloneSpec& spec, Fd* pidfd);

}  // namespace progeny
