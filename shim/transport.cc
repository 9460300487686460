#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim/shim.h"

namespace progeny::shim {

State g;
thread_local bool t_vfork_child __attribute__((tls_model("initial-exec"))) = false;

namespace {
// Only one thread at a time re-opens a lifeline; the others do not wait (a lock that a fork
// could copy while held would deadlock the child).
std::atomic<bool> g_connecting{false};

// A new nonblocking CLOEXEC socket connected to the launcher, or -errno.
int connect_socket() {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return -errno;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  for (unsigned i = 0; i < g.addr_len; ++i) sa.sun_path[i] = g.addr[i];
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + g.addr_len);
  if (connect(s, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    int e = errno;
    close(s);
    return -e;
  }
  return s;
}

}  // namespace

bool conn_valid(const Conn& c) {
  int fd = c.fd.load(std::memory_order_acquire);
  if (fd < 0) return false;
  struct stat st;
  if (fstat(fd, &st) != 0) return false;
  return st.st_dev == c.dev.load(std::memory_order_relaxed) &&
         st.st_ino == c.ino.load(std::memory_order_relaxed);
}

void adopt(Conn* c, int fd) {
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    c->fd.store(-1, std::memory_order_release);
    return;
  }
  c->dev.store(st.st_dev, std::memory_order_relaxed);
  c->ino.store(st.st_ino, std::memory_order_relaxed);
  c->fd.store(fd, std::memory_order_release);
}

int connect_launcher() {
  int s = connect_socket();
  if (s < 0) return s;
  // Out of the way of the descriptors a program expects to get from open() and friends.
  int high = fcntl(s, F_DUPFD_CLOEXEC, g.fd_floor);
  if (high >= 0) {
    close(s);
    s = high;
  }
  return s;
}

bool send_on(int fd, const Json& j, int pass_fd) {
  iovec iov{const_cast<char*>(j.data()), j.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (pass_fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    __builtin_memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
  }
  ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  return n == static_cast<ssize_t>(j.size());
}

void send_event(Json& j, int pass_fd) {
  if (!g.active) return;
  int saved = errno;
  // A vfork child shares our memory: it may send (its descriptor table is its own), but not
  // touch the counter.
  bool shared = t_vfork_child;
  uint64_t lost = shared ? 0 : g.lost.load(std::memory_order_relaxed);
  bool sent = false;
  if (j.finish(lost)) {
    // One connection per record, closed before we return: the program never holds a
    // descriptor of ours between calls, threads and fork children share nothing, and a
    // fresh connection's buffer always has room for one record. It stays at the low number
    // the kernel gave it (the program cannot see it: it is gone before we return).
    int fd = connect_socket();
    if (fd >= 0) {
      sent = send_on(fd, j, pass_fd);
      close(fd);
    }
  }
  if (!shared) {
    if (sent)
      g.lost.fetch_sub(lost, std::memory_order_relaxed);
    else
      g.lost.fetch_add(1, std::memory_order_relaxed);
  }
  errno = saved;
}

void arm_lifeline(int fd) {
  if (g.kill_sig <= 0) return;
  f_owner_ex owner{F_OWNER_PID, static_cast<pid_t>(syscall(SYS_getpid))};
  fcntl(fd, F_SETOWN_EX, &owner);
  fcntl(fd, F_SETSIG, g.kill_sig);
  fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK | O_ASYNC);
}

int open_lifeline() {
  int fd = connect_launcher();
  if (fd >= 0) arm_lifeline(fd);
  return fd;
}

void die() {
  if (g.kill_sig > 0) syscall(SYS_kill, syscall(SYS_getpid), g.kill_sig);
}

void after_fork_child() {
  g.lost.store(0, std::memory_order_relaxed);
  g_connecting.store(false);
  if (!g.active) return;
  g.self = identity_of(static_cast<pid_t>(syscall(SYS_getpid)));
  // The inherited lifeline is shared with the parent and signals the parent only.
  if (conn_valid(g.lifeline)) close(g.lifeline.fd.load());
  int fd = open_lifeline();
  if (fd == -ECONNREFUSED) die();
  adopt(&g.lifeline, fd);
  if (fd < 0) g.lost.fetch_add(1, std::memory_order_relaxed);
}

void refresh() {
  if (!g.active || t_vfork_child || conn_valid(g.lifeline)) return;
  if (g_connecting.exchange(true)) return;
  int fd = open_lifeline();
  if (fd == -ECONNREFUSED) die();
  adopt(&g.lifeline, fd);
  g_connecting.store(false);
}

}  // namespace progeny::shim
