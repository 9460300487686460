#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "shim/shim.h"
#include "shim/sys.h"

namespace progeny::shim {

State g;
thread_local bool t_vfork_child __attribute__((tls_model("initial-exec"))) = false;

namespace {

// A new nonblocking CLOEXEC socket connected to the launcher, or -errno.
int connect_launcher() {
  int s = sys::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return s;
  sockaddr_un sa;
  sa.sun_family = AF_UNIX;
  for (unsigned i = 0; i < g.addr_len; ++i) sa.sun_path[i] = g.addr[i];
  auto len = static_cast<unsigned>(offsetof(sockaddr_un, sun_path) + g.addr_len);
  int r = sys::connect(s, reinterpret_cast<sockaddr*>(&sa), len);
  if (r != 0) {
    sys::close(s);
    return r;
  }
  return s;
}

// One sendmsg of data[0..len) with pass[0..n_pass) as SCM_RIGHTS: 0 or -errno.
int send_bytes(int fd, const char* data, size_t len, const int* pass, size_t n_pass) {
  constexpr size_t kMaxPass = 3;
  iovec iov{const_cast<char*>(data), len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxPass * sizeof(int))];
  if (n_pass > kMaxPass) return -EINVAL;
  if (n_pass) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(n_pass * sizeof(int));
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(n_pass * sizeof(int));
    int* slots = reinterpret_cast<int*>(CMSG_DATA(cm));
    for (size_t i = 0; i < n_pass; ++i) slots[i] = pass[i];
  }
  long n = sys::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n == static_cast<long>(len)) return 0;
  return n < 0 ? static_cast<int>(n) : -EAGAIN;
}

// Arms one end of a lifeline pipe to send kill_sig to this process when the kernel reports
// I/O on it, as it does to both ends when the last reader or writer goes: 0 or -errno.
int arm_for_self(int end, pid_t self) {
  f_owner_ex owner{F_OWNER_PID, self};
  int r = sys::fcntl(end, F_SETOWN_EX, sys::ptr(&owner));
  if (r == 0) r = sys::fcntl(end, F_SETSIG, g.kill_sig);
  if (r == 0) r = sys::fcntl(end, F_SETFL, O_ASYNC);
  return r;
}

// The launcher's end is gone: nobody listens (ECONNREFUSED), or it closed between our
// connect and our send.
bool launcher_gone(int err) { return err == -ECONNREFUSED || err == -EPIPE || err == -ECONNRESET; }

void count(bool sent, uint64_t lost) {
  if (sent)
    g.lost.fetch_sub(lost, std::memory_order_relaxed);
  else
    g.lost.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

int send_record(const Json& j, int pass_fd) {
  // One connection per record, closed before we return: the program never holds a
  // descriptor of ours between calls, threads and fork children share nothing, and a fresh
  // connection's buffer always has room for one record. It keeps the low number the kernel
  // gave it: it is gone before the program runs again.
  int fd = connect_launcher();
  if (fd < 0) return fd;
  int r = send_bytes(fd, j.data(), j.size(), &pass_fd, pass_fd >= 0 ? 1 : 0);
  sys::close(fd);
  return r;
}

void send_event(Json& j, int pass_fd) {
  if (!g.active) return;
  // A vfork child shares our memory: it may send (its descriptor table is its own), but not
  // touch the counter.
  bool shared = t_vfork_child;
  uint64_t lost = shared ? 0 : g.lost.load(std::memory_order_relaxed);
  bool sent = j.finish(lost) && send_record(j, pass_fd) == 0;
  if (!shared) count(sent, lost);
}

int hand_in_lifeline(const char* data, size_t len, int pass_fd) {
  int fd = connect_launcher();
  if (fd < 0) return fd;
  // A pipe, not a socket: a socket in flight (SCM_RIGHTS) makes every AF_UNIX close in the
  // system schedule the kernel's garbage collector (3 runs per process of an exec loop).
  // Both ends are armed, so whichever is released first, the other signals us: the keeper's
  // (the read end), the launcher's (the write end), or either while both are still queued.
  int ends[2];
  int r = sys::pipe2(ends, O_CLOEXEC);
  if (r != 0) {
    sys::close(fd);
    return r;
  }
  pid_t self = sys::getpid();
  r = arm_for_self(ends[0], self);
  if (r == 0) r = arm_for_self(ends[1], self);
  int pass[3] = {ends[0], ends[1], pass_fd};
  if (r == 0) r = send_bytes(fd, data, len, pass, pass_fd >= 0 ? 3 : 2);
  // Sent, both live on in the launcher's queue after our close. Not sent, they are disarmed
  // first: our own close would release one and fire the other.
  if (r != 0) {
    sys::fcntl(ends[0], F_SETFL, 0);
    sys::fcntl(ends[1], F_SETFL, 0);
  }
  // The write end first: our read end keeps a reader until we hold nothing, so the
  // launcher's end never sees "no reader" while a copy of ours is still here.
  sys::close(ends[1]);
  sys::close(ends[0]);
  sys::close(fd);
  return r;
}

void die() {
  // The shim's one signal, to itself (no kill wrapper in sys.h: nothing else may signal).
  if (g.kill_sig > 0) sys::call(SYS_kill, sys::getpid(), g.kill_sig);
}

void take_lifeline() {
  if (!g.lifeline) return;
  int r = hand_in_lifeline("\n", 1);
  // Failed, the one held may be armed with credentials that no longer reach us.
  g.lifeline_held = r == 0;
  if (launcher_gone(r)) die();
  if (r < 0) g.lost.fetch_add(1, std::memory_order_relaxed);
}

void lifeline_before_unshimmed_exec() {
  if (launcher_gone(hand_in_lifeline("\n", 1))) die();
}

void send_event_with_lifeline(Json& j, int pass_fd) {
  if (!g.active) return;
  if (!g.lifeline) return send_event(j, pass_fd);
  uint64_t lost = g.lost.load(std::memory_order_relaxed);
  bool fits = j.finish(lost);
  int r = fits ? hand_in_lifeline(j.data(), j.size(), pass_fd) : hand_in_lifeline("\n", 1);
  g.lifeline_held = r == 0;
  if (launcher_gone(r)) die();
  count(fits && r == 0, lost);
}

}  // namespace progeny::shim
