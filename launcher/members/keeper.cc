#include "launcher/members/keeper.h"

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "launcher/members/signal_gate.h"
#include "launcher/os/batch_window.h"
#include "launcher/os/keep_descriptors.h"
#include "launcher/os/sys.h"
#include "launcher/os/reap.h"

namespace progeny {
namespace {

constexpr char kDismiss = 'd';
constexpr const char* kKeeperComm = "progeny-keeper";

struct Held {
  uint64_t ino;
  Fd lifeline;  // empty for a member held by pidfd alone
  Fd pidfd;
};

enum class Got { kEmpty, kMessage, kDismissed, kLauncherGone };

// One message of the launcher: a hand-over (the member's identity as payload, [pidfd] or
// [pidfd, lifeline] as SCM_RIGHTS), the dismissal byte, or EOF once the launcher is gone.
Got receive(int channel, std::vector<Held>* held) {
  char payload[sizeof(uint64_t)];
  iovec iov{payload, sizeof payload};
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(channel, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0) return errno == EINTR || errno == EAGAIN ? Got::kEmpty : Got::kLauncherGone;
  if (n == 0) return Got::kLauncherGone;
  std::vector<Fd> fds;
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t k = 0; k < count; ++k) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int), sizeof fd);
      fds.emplace_back(fd);
    }
  }
  if (n == 1 && payload[0] == kDismiss) return Got::kDismissed;
  if (n != sizeof(uint64_t) || fds.empty() || fds.size() > 2) return Got::kMessage;
  uint64_t ino;
  std::memcpy(&ino, payload, sizeof ino);
  Fd lifeline = fds.size() == 2 ? std::move(fds[1]) : Fd();
  // The same process again: a fresh end (after an exec or a credential change) replaces the
  // old one, whose launcher end then sees EPOLLERR; a hand-over without one (its fork record,
  // which may come before or after its own lifeline) keeps what is held.
  for (auto& h : *held) {
    if (ino && h.ino == ino) {
      if (lifeline) h.lifeline = std::move(lifeline);
      return Got::kMessage;
    }
  }
  held->push_back({ino, std::move(lifeline), std::move(fds[0])});
  return Got::kMessage;
}

// Every message queued on the channel; a new member's pidfd joins the epoll set.
Got receive_all(int channel, int epoll, std::vector<Held>* held) {
  for (;;) {
    size_t before = held->size();
    Got g = receive(channel, held);
    if (g != Got::kMessage) return g;
    if (held->size() > before) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = held->back().pidfd.get();
      ::epoll_ctl(epoll, EPOLL_CTL_ADD, ev.data.fd, &ev);
    }
  }
}

// A member that exited: its entry and end go (nothing is signalled by closing an end). Taken
// out of the epoll set first: the launcher's copy keeps the pidfd's file open.
void drop(int pidfd, int epoll, std::vector<Held>* held) {
  for (size_t i = 0; i < held->size(); ++i) {
    if ((*held)[i].pidfd.get() != pidfd) continue;
    ::epoll_ctl(epoll, EPOLL_CTL_DEL, pidfd, nullptr);
    (*held)[i] = std::move(held->back());
    held->pop_back();
    return;
  }
}

[[noreturn]] void keeper_main(int launcher_pidfd, int channel, int sig) {
  // Its own session: neither the job's terminal signals nor a kill of its process group
  // reach it, and it is no descendant the tree's stop would walk into.
  ::setsid();
  ::prctl(PR_SET_NAME, kKeeperComm);
  struct sigaction ign{};
  ign.sa_handler = SIG_IGN;
  for (int s : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1,
                SIGUSR2, SIGALRM, SIGWINCH})
    ::sigaction(s, &ign, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int fds[2] = {launcher_pidfd, channel};
  if (!keep_only_descriptors(fds, 2)) ::_exit(1);
  launcher_pidfd = fds[0];
  channel = fds[1];

  // Held pidfds in an epoll set, so a wake-up costs what became ready, not one poll entry per
  // member; a wake-up that brought anything is followed by a batch window in which only the
  // launcher's death is watched (os/batch_window.h).
  Fd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) ::_exit(1);
  for (int fd : {channel, launcher_pidfd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev) != 0) ::_exit(1);
  }
  std::vector<Held> held;
  for (bool gone = false, busy = false; !gone;) {
    if (busy) {
      pollfd launcher{launcher_pidfd, POLLIN, 0};
      wait_for_urgent(&launcher, 1);
    }
    epoll_event ev[64];
    int r = ::epoll_wait(epoll.get(), ev, 64, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    busy = false;
    for (int i = 0; i < r; ++i) {
      int fd = ev[i].data.fd;
      if (fd == launcher_pidfd) {
        gone = true;
      } else if (fd == channel) {
        Got g = receive_all(channel, epoll.get(), &held);
        if (g == Got::kDismissed) ::_exit(0);
        gone = gone || g == Got::kLauncherGone;
        busy = true;
      } else {
        drop(fd, epoll.get(), &held);
        busy = true;
      }
    }
  }
  // Hand-overs still queued belong to members too.
  if (receive_all(channel, epoll.get(), &held) == Got::kDismissed) ::_exit(0);
  for (const auto& h : held) signal_gate::send_to_held(h.pidfd.get(), h.ino, sig);
  ::_exit(0);
}

}  // namespace

std::unique_ptr<Keeper> Keeper::start(int sig, std::string* why) {
  Fd self_pidfd = open_pidfd(::getpid());
  int sv[2];
  if (!self_pidfd || ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    *why = std::string("cannot set up the keeper: ") + std::strerror(errno);
    return nullptr;
  }
  Fd ours(sv[0]), theirs(sv[1]);
  // Room for a burst of hand-overs while the keeper is busy: the launcher blocks on a full
  // channel (a lost lifeline would be a member that outlives a killed launcher).
  int want = 4 << 20;
  if (::setsockopt(ours.get(), SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) != 0)
    ::setsockopt(ours.get(), SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
  pid_t pid = ::fork();
  if (pid < 0) {
    *why = std::string("cannot fork the keeper: ") + std::strerror(errno);
    return nullptr;
  }
  if (pid == 0) keeper_main(self_pidfd.get(), theirs.get(), sig);
  Fd pidfd = open_pidfd(pid);
  return std::unique_ptr<Keeper>(new Keeper(pid, std::move(pidfd), std::move(ours)));
}

bool Keeper::hold(const Fd& lifeline, const Fd& member_pidfd, uint64_t ino) {
  if (!channel_) return false;
  iovec iov{&ino, sizeof ino};
  int fds[2] = {member_pidfd.get(), lifeline.get()};
  size_t count = lifeline ? 2 : 1;
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(count * sizeof(int));
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(count * sizeof(int));
  std::memcpy(CMSG_DATA(cm), fds, count * sizeof(int));
  ssize_t n;
  do n = ::sendmsg(channel_.get(), &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof ino)) return true;
  channel_.reset();  // the keeper is gone
  return false;
}

bool Keeper::gone() const {
  pollfd p{pidfd_.get(), POLLIN, 0};
  return pidfd_ && ::poll(&p, 1, 0) == 1;
}

void Keeper::dismiss(bool quiet) {
  if (!channel_) return;
  if (quiet) (void)!::send(channel_.get(), &kDismiss, 1, MSG_NOSIGNAL);
  channel_.reset();
  if (!quiet || !pidfd_) return;
  reap_within(pidfd_.get(), 1000);
  pidfd_.reset();
}

}  // namespace progeny
