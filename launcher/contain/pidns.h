// pidns mode: COMMAND runs inside a new PID namespace (and a user namespace when not root)
// under a tiny init. The init is the launcher's child and dies with it (PR_SET_PDEATHSIG
// SIGKILL, with a pidfd race check); when a namespace's init dies the kernel kills every
// process in it, so nothing outlives the launcher. Layout inside the namespace:
//   PID 1  init          reaps orphans, forwards signals to PID 2, exits when nothing is left
//   PID 2  intermediate  waits for COMMAND, reports its status, forwards signals to it
//   PID 3  COMMAND       never a child of PID 1 (daemon(1) and others behave differently then)
// Mounts are made private before a fresh /proc is mounted, so `ps` inside sees the namespace
// and the host's /proc is untouched.
#pragma once
#include <sys/types.h>

#include <string>
#include <string_view>

#include <cstdint>

#include "launcher/os/fd.h"

namespace progeny {

// Whether this process can create the namespaces (root, or unprivileged user namespaces),
// found by creating them for real: a throw-away child cloned the way pidns_spawn clones.
bool pidns_available(std::string* why);

struct PidnsChild {
  pid_t init = -1;       // host pid of the namespace's init (the launcher's direct child)
  Fd init_pidfd;
  Fd status_fd;          // the intermediate's reports: see read_pidns_report
  Fd named_fd;           // written (then closed) once COMMAND is named: see pidns_named
  pid_t parent_in_child = 0;  // in COMMAND: what getppid() returns there (the intermediate)
};

// Starts the namespace like fork(): returns 0 in COMMAND's process, with the signal mask and
// the dispositions the caller had (the caller's child code then runs as after a fork), and
// the init's host pid in the launcher; -1 with errno (and *why) on failure. The init is the
// leader of a new process group that COMMAND shares, so the launcher gives the terminal to
// the init's group and COMMAND must not call setpgid itself.
pid_t pidns_spawn(PidnsChild* child, std::string* why);

// What the intermediate reports on status_fd, in order: COMMAND started (its pidfs inode and
// the intermediate's own, so the launcher can name both exactly from outside the namespace),
// then COMMAND's wait(2) status.
struct PidnsReport {
  enum Kind : int32_t { kStarted = 1, kEnded = 2 } kind;
  int32_t status;             // kEnded
  uint64_t command_ino;       // kStarted (0 without pidfs)
  uint64_t intermediate_ino;  // kStarted
};
// Reads the next report from status_fd; false when the intermediate died without it (the
// namespace was killed: then the init's own status is all there is).
bool read_pidns_report(int status_fd, PidnsReport* report);
// After kStarted: the launcher has named COMMAND (opened it by its pidfs inode). Until then, or
// for at most 5 s, the intermediate leaves an exited COMMAND unreaped: a zombie can be opened
// by its inode, a reaped process cannot, and a short COMMAND was often reaped before a busy
// launcher read the report (the log then did not say which process was COMMAND).
void pidns_named(PidnsChild* child);

}  // namespace progeny
