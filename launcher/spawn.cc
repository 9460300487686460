#include "launcher/spawn.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "launcher/exit_status.h"
#include "launcher/sys.h"

namespace progeny {
namespace {

// After fork in the (single-threaded) launcher: only what must happen in the child.
[[noreturn]] void child(const SpawnRequest& req, pid_t launcher, char* const* argv,
                        char* const* envp) {
  ::setpgid(0, 0);
  if (req.tty_fd >= 0) ::tcsetpgrp(req.tty_fd, ::getpid());
  if (req.pdeathsig != 0) {
    ::prctl(PR_SET_PDEATHSIG, req.pdeathsig);
    // The launcher may have died before the prctl: then nobody would send the signal.
    if (::getppid() != launcher) ::raise(req.pdeathsig);
  }
  if (req.chld_ignored) ::signal(SIGCHLD, SIG_IGN);
  ::sigprocmask(SIG_SETMASK, &req.mask, nullptr);
  ::execvpe(argv[0], argv, envp);
  int err = errno;
  std::fprintf(stderr, "progeny: cannot run '%s': %s\n", argv[0], std::strerror(err));
  ::_exit(err == ENOENT || err == ENOTDIR ? kExitNotFound : kExitCannotExecute);
}

}  // namespace

Spawned spawn_command(const SpawnRequest& req) {
  std::vector<char*> argv, envp;
  for (const auto& a : req.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : req.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t launcher = ::getpid();
  std::fflush(nullptr);
  Spawned s;
  s.pid = ::fork();
  if (s.pid < 0) return s;
  if (s.pid == 0) child(req, launcher, argv.data(), envp.data());
  // Both sides set the group (and the terminal), so neither order of running races.
  ::setpgid(s.pid, s.pid);
  if (req.tty_fd >= 0) ::tcsetpgrp(req.tty_fd, s.pid);
  s.pidfd = open_pidfd(s.pid);  // our unreaped child: its pid cannot be reused yet
  return s;
}

}  // namespace progeny
