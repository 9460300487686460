#include "launcher/members/signal_gate.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "launcher/os/pidfs.h"
#include "launcher/os/sys.h"

namespace progeny::signal_gate {
namespace {

// The pidfd still names the process that was verified: a descriptor number reused by
// another open (a bug elsewhere) must never carry a signal.
bool still_the_same(const VerifiedProcess& p) {
  return !p.ino() || pidfd_ino(p.pidfd().get()) == p.ino();
}

int result(int rc) { return rc == 0 ? 0 : errno; }

int sys_pidfd_send_signal(int pidfd, int sig, unsigned flags = 0) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, flags));
}

}  // namespace

int send(const VerifiedProcess& target, int sig) {
  if (!still_the_same(target)) return ESTALE;
  return result(sys_pidfd_send_signal(target.pidfd().get(), sig));
}

int send_to_group_of_command(const VerifiedProcess& command, int sig) {
  if (!still_the_same(command)) return ESTALE;
  return result(sys_pidfd_send_signal(command.pidfd().get(), sig, PIDFD_SIGNAL_PROCESS_GROUP));
}

void raise_on_self(int sig) { ::raise(sig); }

int send_to_own_child(int child_pidfd, int sig) {
  return result(sys_pidfd_send_signal(child_pidfd, sig));
}

int send_to_held(int pidfd, uint64_t ino, int sig) {
  if (ino && pidfd_ino(pidfd) != ino) return ESTALE;
  return result(sys_pidfd_send_signal(pidfd, sig));
}

void disarm_lifeline(int end) {
  int flags = ::fcntl(end, F_GETFL);
  if (flags >= 0 && (flags & O_ASYNC)) ::fcntl(end, F_SETFL, flags & ~O_ASYNC);
  f_owner_ex nobody{F_OWNER_PID, 0};
  ::fcntl(end, F_SETOWN_EX, &nobody);
}

int kill_cgroup(int leaf_dirfd) {
  int fd = ::openat(leaf_dirfd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n;
  do n = ::write(fd, "1", 1);
  while (n < 0 && errno == EINTR);
  int err = n == 1 ? 0 : (n < 0 ? errno : EIO);
  ::close(fd);
  return err;
}

bool available(std::string* why) {
  Fd self = open_pidfd(::getpid());
  if (!self) {
    *why = std::string("pidfd_open: ") + std::strerror(errno) + " (needs Linux 5.3+)";
    return false;
  }
  if (int e = result(sys_pidfd_send_signal(self.get(), 0))) {
    *why = std::string("pidfd_send_signal: ") + std::strerror(e) + " (needs Linux 5.1+)";
    return false;
  }
  return true;
}

}  // namespace progeny::signal_gate
