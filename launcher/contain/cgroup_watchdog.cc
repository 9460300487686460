#include "launcher/contain/cgroup_watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "launcher/members/signal_gate.h"
#include "launcher/os/keep_descriptors.h"
#include "launcher/os/sys.h"
#include "launcher/os/reap.h"

namespace progeny {
namespace {

constexpr char kDismiss = 'd';
constexpr const char* kWatchdogComm = "progeny-wd";
// PR_SET_PDEATHSIG only wakes the watchdog up (a no-op handler interrupts poll); whether the
// launcher is really gone is decided by its pidfd, since the signal also fires when merely
// the forking thread exits.
constexpr int kWakeSignal = SIGUSR2;

void on_wake(int) {}

[[noreturn]] void watchdog_main(pid_t launcher, int launcher_pidfd, int pipe_r, int dirfd,
                                int parentfd, const char* name, CgroupRef* groups,
                                size_t ngroups) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_NAME, kWatchdogComm);  // how an outer progeny tells it apart (below)
  struct sigaction ign{};
  ign.sa_handler = SIG_IGN;
  for (int s : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1,
                SIGALRM, SIGWINCH})
    ::sigaction(s, &ign, nullptr);
  struct sigaction wake{};
  wake.sa_handler = on_wake;
  ::sigaction(kWakeSignal, &wake, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // The leaf's two descriptors only with a leaf (dirfd -1: limit groups alone).
  int fds[4 + kMaxWatchedGroups];
  int n = 0;
  fds[n++] = launcher_pidfd;
  fds[n++] = pipe_r;
  if (dirfd >= 0) {
    fds[n++] = dirfd;
    fds[n++] = parentfd;
  }
  for (size_t i = 0; i < ngroups; ++i) fds[n++] = groups[i].parent_fd;
  if (!keep_only_descriptors(fds, n)) ::_exit(1);
  n = 0;
  launcher_pidfd = fds[n++];
  pipe_r = fds[n++];
  if (dirfd >= 0) {
    dirfd = fds[n++];
    parentfd = fds[n++];
  }
  for (size_t i = 0; i < ngroups; ++i) groups[i].parent_fd = fds[n++];

  ::prctl(PR_SET_PDEATHSIG, kWakeSignal);
  // The launcher may have died before the prctl: then the signal never comes, and the
  // pidfd below still reports it.
  for (;;) {
    if (::getppid() != launcher) break;
    pollfd p[2] = {{pipe_r, POLLIN, 0}, {launcher_pidfd, POLLIN, 0}};
    int r = ::poll(p, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    if (p[1].revents) break;  // the launcher exited
    if (p[0].revents) {
      char c = 0;
      ssize_t n = ::read(pipe_r, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n == 1 && c == kDismiss) ::_exit(0);
      break;  // EOF without a word: the launcher is gone
    }
  }
  // The leaf first: killing it ends the tasks the limit groups hold too (in cgroup mode
  // they are the same processes).
  int failed = dirfd >= 0 && watchdog_reap_leaf(dirfd, parentfd, name) != 0;
  for (size_t i = 0; i < ngroups; ++i)
    failed |= watchdog_remove_group(groups[i].parent_fd, groups[i].name) != 0;
  ::_exit(failed);
}

}  // namespace

bool is_progeny_watchdog(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/comm", static_cast<int>(pid));
  char comm[32] = {};
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::read(fd, comm, sizeof comm - 1);
  ::close(fd);
  if (n <= 0 || std::strncmp(comm, kWatchdogComm, std::strlen(kWatchdogComm)) != 0) return false;
  // And it runs this very program: a name alone is anybody's to take.
  struct stat theirs {}, ours {};
  std::snprintf(path, sizeof path, "/proc/%d/exe", static_cast<int>(pid));
  return ::stat(path, &theirs) == 0 && ::stat("/proc/self/exe", &ours) == 0 &&
         theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino;
}

int watchdog_reap_leaf(int dirfd, int parentfd, const char* name) {
  // The kill is repeated: a process stuck in an uninterruptible sleep keeps the leaf
  // populated for a while, and rmdir only works on an empty cgroup. Bounded to ~5 s.
  int err = 0;
  for (int attempt = 0; attempt < 50; ++attempt) {
    signal_gate::kill_cgroup(dirfd);
    if (!cgroup_populated_at(dirfd)) {
      err = remove_cgroup_tree(parentfd, name);
      if (err == 0 || err == ENOENT) return 0;
    }
    int ev = ::openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
    if (ev >= 0) {
      char buf[64];
      (void)!::read(ev, buf, sizeof buf);  // arm POLLPRI from the current state
      pollfd p{ev, POLLPRI, 0};
      ::poll(&p, 1, 100);
      ::close(ev);
    } else {
      ::usleep(100000);
    }
  }
  return err ? err : EBUSY;
}

int watchdog_remove_group(int parentfd, const char* name) {
  int err = 0;
  for (int attempt = 0; attempt < 50; ++attempt) {
    err = remove_cgroup_tree(parentfd, name);
    if (err == 0 || err == ENOENT) return 0;
    if (err != EBUSY) return err;
    ::usleep(100000);
  }
  return err;
}

std::unique_ptr<CgroupWatchdog> CgroupWatchdog::start(const CgroupLeaf* leaf,
                                                      const std::vector<CgroupRef>& groups,
                                                      std::string* why) {
  if (groups.size() > kMaxWatchedGroups) {
    *why = "cannot set up the cgroup watchdog: too many limit groups";
    return nullptr;
  }
  CgroupRef refs[kMaxWatchedGroups + 1] = {};
  std::copy(groups.begin(), groups.end(), refs);
  pid_t self = ::getpid();
  Fd self_pidfd = open_pidfd(self);
  int p[2];
  if (!self_pidfd || ::pipe2(p, O_CLOEXEC) != 0) {
    *why = std::string("cannot set up the cgroup watchdog: ") + std::strerror(errno);
    return nullptr;
  }
  Fd pipe_r(p[0]), pipe_w(p[1]);
  pid_t pid = ::fork();
  if (pid < 0) {
    *why = std::string("cannot fork the cgroup watchdog: ") + std::strerror(errno);
    return nullptr;
  }
  if (pid == 0)
    watchdog_main(self, self_pidfd.get(), pipe_r.get(), leaf ? leaf->dirfd() : -1,
                  leaf ? leaf->parent_fd() : -1, leaf ? leaf->name().c_str() : "", refs,
                  groups.size());
  Fd pidfd = open_pidfd(pid);
  return std::unique_ptr<CgroupWatchdog>(new CgroupWatchdog(pid, std::move(pidfd), std::move(pipe_w)));
}

void CgroupWatchdog::dismiss(bool leaf_gone) {
  if (!pipe_w_) return;
  if (leaf_gone) (void)!::write(pipe_w_.get(), &kDismiss, 1);
  pipe_w_.reset();
  if (!leaf_gone || !pidfd_) return;
  reap_within(pidfd_.get(), 1000);
  pidfd_.reset();
}

}  // namespace progeny
