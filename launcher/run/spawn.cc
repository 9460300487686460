#include "launcher/run/spawn.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "launcher/contain/containment.h"
#include "launcher/contain/limits.h"
#include "launcher/run/exit_status.h"
#include "launcher/members/signal_gate.h"
#include "launcher/os/sys.h"

namespace progeny {
namespace {

// After fork in the (single-threaded) launcher: only what must happen in the child.
[[noreturn]] void child(const SpawnRequest& req, pid_t parent, char* const* argv,
                        char* const* envp, int exec_report) {
  if (!enter_limit_groups(req.limit_fds.data(), req.limit_fds.size())) {
    static const char msg[] = "progeny: cannot move COMMAND into its --limit cgroups\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::_exit(kExitProgenyError);
  }
  // In a PID namespace the init leads the group (and owns the terminal) already.
  if (!req.contain || req.contain->child_sets_own_group()) {
    ::setpgid(0, 0);
    if (req.tty_fd >= 0) ::tcsetpgrp(req.tty_fd, ::getpid());
  }
  if (req.pdeathsig != 0) {
    ::prctl(PR_SET_PDEATHSIG, req.pdeathsig);
    // The parent may have died before the prctl: then nobody would send the signal.
    if (::getppid() != parent) signal_gate::raise_on_self(req.pdeathsig);
  }
  if (req.dispositions) req.dispositions->restore();
  if (req.nofile) ::setrlimit(RLIMIT_NOFILE, req.nofile);
  ::sigprocmask(SIG_SETMASK, &req.mask, nullptr);
  ::execvpe(argv[0], argv, envp);
  int err = errno;
  if (exec_report >= 0) (void)!::write(exec_report, &err, sizeof err);
  std::fprintf(stderr, "progeny: cannot run '%s': %s\n", argv[0], std::strerror(err));
  ::_exit(err == ENOENT || err == ENOTDIR ? kExitNotFound : kExitCannotExecute);
}

}  // namespace

void InheritedDispositions::save_and_take_over() {
  for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], nullptr, &action[i]);
  // An inherited "ignore SIGCHLD" would make the kernel reap our children for us.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGCHLD, &dfl, nullptr);
  // A reader that went away (`progeny run ... | head`), a full disk or a file size limit
  // turn into write errors progeny reports, never into its death in the middle of a stop.
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, nullptr);
  ::sigaction(SIGXFSZ, &ign, nullptr);
}

void InheritedDispositions::restore() const {
  for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &action[i], nullptr);
}

Spawned spawn_command(const SpawnRequest& req, std::string* why) {
  std::vector<char*> argv, envp;
  for (const auto& a : req.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : req.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t launcher = ::getpid();
  std::fflush(nullptr);
  // Close-on-exec: the exec itself closes it (EOF), a failed exec writes its errno.
  int report[2] = {-1, -1};
  bool direct = !req.contain || req.contain->child_sets_own_group();
  if (direct && ::pipe2(report, O_CLOEXEC) != 0) report[0] = report[1] = -1;
  Fd report_r(report[0]), report_w(report[1]);
  Spawned s;
  if (req.contain) {
    s.pid = req.contain->spawn(&s.pidfd, why);
    if (s.pid == 0)
      child(req, req.contain->expected_parent(), argv.data(), envp.data(), report_w.get());
  } else {
    s.pid = ::fork();
    if (s.pid < 0) *why = std::string("fork failed: ") + std::strerror(errno);
    if (s.pid == 0) child(req, launcher, argv.data(), envp.data(), report_w.get());
    if (s.pid > 0) s.pidfd = open_pidfd(s.pid);  // our unreaped child: no pid reuse yet
  }
  if (s.pid < 0) return s;
  report_w.reset();
  if (report_r) ::fcntl(report_r.get(), F_SETFL, O_NONBLOCK);
  s.exec_report = std::move(report_r);
  // Both sides set the group (and the terminal), so neither order of running races.
  ::setpgid(s.pid, s.pid);
  if (req.tty_fd >= 0) ::tcsetpgrp(req.tty_fd, s.pid);
  return s;
}

}  // namespace progeny
