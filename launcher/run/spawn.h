// Starting COMMAND: a new process group, the parent-death signal with the race check, the
// signal mask and dispositions progeny inherited, and none of progeny's descriptors.
#pragma once
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "launcher/os/fd.h"

namespace progeny {

class Containment;

// What progeny inherited for the signals whose disposition it changes for itself.
struct InheritedDispositions {
  static constexpr int kSignals[] = {SIGCHLD, SIGPIPE, SIGXFSZ};
  struct sigaction action[sizeof kSignals / sizeof kSignals[0]];
  // Saves the inherited dispositions, then sets progeny's own.
  void save_and_take_over();
  // In COMMAND's child, before exec.
  void restore() const;
};

struct SpawnRequest {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // the complete environment, NAME=VALUE
  sigset_t mask{};               // the signal mask progeny inherited
  // Dispositions progeny changed for itself (SIGCHLD back to default so it can reap; SIGPIPE
  // and SIGXFSZ ignored so its own output can never kill it), as it inherited them.
  const InheritedDispositions* dispositions = nullptr;
  int pdeathsig = SIGKILL;       // 0: none
  int tty_fd = -1;               // >= 0: make COMMAND's group the terminal's foreground group
  Containment* contain = nullptr; // starts the process (cgroup leaf, PID namespace) if set
  const rlimit* nofile = nullptr; // RLIMIT_NOFILE to restore (progeny raised its own)
  // --limit: the cgroup.procs descriptors COMMAND enters before anything else it does, so
  // nothing of it ever runs outside its limits (launcher/contain/limits.h).
  std::vector<int> limit_fds;
};

struct Spawned {
  pid_t pid = -1;
  Fd pidfd;
  // Readable when COMMAND's exec is decided: EOF once it succeeded, an int errno when it
  // failed (the child then says so on stderr and exits 127 or 126). Invalid in pidns mode,
  // where COMMAND is started further down, inside the namespace.
  Fd exec_report;
};

// fork+exec. A failed exec is reported by the child on stderr and ends it with 127 (not
// found) or 126 (not executable), which then becomes progeny's status like any exit.
// Returns pid -1 with *why set only when the process cannot be created. With a PID namespace
// the returned process is the namespace's init, COMMAND's ancestor.
Spawned spawn_command(const SpawnRequest& req, std::string* why);

}  // namespace progeny
