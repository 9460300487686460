#include "launcher/collect/shim_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "launcher/members/signal_gate.h"
#include "launcher/os/pidfs.h"
#include "launcher/os/proc.h"
#include "launcher/os/sys.h"
#include "schema/protocol.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  // Linux 6.5; Debian 12's headers predate it
#endif

namespace progeny {
namespace {

// epoll data: which kind of fd fired.
constexpr uint64_t kListen = 1ULL << 32;
constexpr uint64_t kConn = 2ULL << 32;
constexpr uint64_t kLifeline = 3ULL << 32;  // our end of a lifeline: EPOLLERR once the keeper's goes

bool alive(const Fd& pidfd) {
  pollfd p{pidfd.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

bool about_a_process(const Record& r) { return r.event == "fork" || r.event == "exec"; }

// A passed descriptor nobody takes: if it is a lifeline's end, disarmed before it closes.
void disarm_if_lifeline(const Fd& fd) {
  struct stat st {};
  if (fd && ::fstat(fd.get(), &st) == 0 && S_ISFIFO(st.st_mode))
    signal_gate::disarm_lifeline(fd.get());
}

}  // namespace

std::unique_ptr<ShimSocket> ShimSocket::open(Options opts, std::string* error) {
  std::unique_ptr<ShimSocket> s(new ShimSocket());
  s->opts_ = std::move(opts);
  if (!s->opts_.launcher) s->opts_.launcher = ::getpid();
  s->epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  s->listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s->epoll_ || !s->listen_) {
    *error = std::string("cannot create the shim socket: ") + std::strerror(errno);
    return nullptr;
  }
  uint64_t nonce = 0;
  if (::getrandom(&nonce, sizeof nonce, 0) != sizeof nonce) nonce = monotonic_ns();
  char name[64];
  std::snprintf(name, sizeof name, "progeny.%d.%016llx", static_cast<int>(s->opts_.launcher),
                static_cast<unsigned long long>(nonce));
  s->name_ = name;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path + 1, s->name_.data(), s->name_.size());
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + s->name_.size());
  if (::bind(s->listen_.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0 ||
      ::listen(s->listen_.get(), SOMAXCONN) != 0) {
    *error = std::string("cannot listen on the shim socket: ") + std::strerror(errno);
    return nullptr;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListen;
  ::epoll_ctl(s->epoll_.get(), EPOLL_CTL_ADD, s->listen_.get(), &ev);
  return s;
}

void ShimSocket::vouch(uint64_t ino) { remember(ino); }

void ShimSocket::disarm(uint64_t ino) {
  auto a = armed_.find(ino);
  if (a == armed_.end()) return;
  signal_gate::disarm_lifeline(a->second);
  armed_.erase(a);
}

void ShimSocket::disarm_lifelines() {
  for (auto& [fd, l] : lifelines_) signal_gate::disarm_lifeline(fd);
  armed_.clear();
}

void ShimSocket::exited(uint64_t ino) {
  auto a = armed_.find(ino);
  if (a == armed_.end()) return;
  // Closing it releases the pipe's last writer (unless a copy lives in a child forked during a
  // hand-in): the keeper's end then signals its owner, this very member, which is dead (a
  // zombie ignores it; once reaped the owner, a struct pid, is nobody).
  forget_lifeline(a->second);
}

void ShimSocket::forget_lifeline(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  if (auto it = lifelines_.find(fd); it != lifelines_.end()) {
    if (auto a = armed_.find(it->second.ino); a != armed_.end() && a->second == fd) armed_.erase(a);
    lifelines_.erase(it);
  }
}

void ShimSocket::close_conn(std::unordered_map<int, Conn>::iterator it) {
  conns_.erase(it);  // closing the fd also removes it from the epoll set
}

void ShimSocket::drop_lifeline(int fd) {
  auto it = lifelines_.find(fd);
  if (it == lifelines_.end()) return;
  // No reader left, asked of the fd itself (not of a stale event), and out of the epoll set
  // before it closes: a copy elsewhere (a member's thread or child) would keep the
  // registration alive, and the fd number may come back as another member's armed end.
  pollfd p{fd, 0, 0};
  if (::poll(&p, 1, 0) != 1 || !(p.revents & POLLERR)) return;
  forget_lifeline(fd);
}


void ShimSocket::remember(uint64_t ino) {
  if (!ino) return;
  if (known_.size() >= kMaxKnown) known_.clear();  // bounded: only late records need it
  known_.insert(ino);
}

void ShimSocket::accept_all() {
  for (;;) {
    int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    Conn c;
    c.fd.reset(fd);
    ucred cred{};
    socklen_t cl = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 || cred.pid <= 0) {
      ++refused_;
      continue;
    }
    c.peer = cred.pid;
    // The pidfd of the process that connected, even if its pid was reused since (before
    // Linux 6.5 there is none: the peer is then only vouched for by its records).
    int pidfd = -1;
    socklen_t pl = sizeof pidfd;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &pl) != 0) pidfd = -1;
    Fd pf(pidfd);
    c.peer_ino = pf ? pidfd_ino(pf.get()) : 0;
    if (c.peer_ino) host_by_ino_[c.peer_ino] = cred.pid;
    if (c.peer_ino && known_.count(c.peer_ino)) {
      // A process of the run already proven or accepted (a pidfs inode is never reused):
      // each shim call opens its own connection, so this is the common case, and walking
      // /proc again would be most of the cost of a record.
      c.verified = true;
      c.peer_pidfd = std::move(pf);
    } else if (pf && alive(pf)) {
      auto proof = Proof::descendant(cred.pid, pf, opts_.launcher, opts_.member);
      if (proof) {
        c.verified = true;
        remember(proof->ino());
        c.peer_pidfd.reset(::fcntl(proof->pidfd().get(), F_DUPFD_CLOEXEC, 0));
        if (opts_.on_member) opts_.on_member(std::move(*proof), 0, 0, 0);
      } else if (alive(pf)) {
        ++refused_;  // alive and not ours: drop it
        continue;
      } else {
        c.verified = c.peer_ino && known_.count(c.peer_ino);  // ended during the proof
      }
    } else {
      c.verified = c.peer_ino && known_.count(c.peer_ino);
    }
    conns_.emplace(fd, std::move(c));
    // Most peers have sent their one record and closed by now: such a connection is done
    // without ever entering the epoll set.
    if (!read_conn(fd)) continue;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = kConn | static_cast<uint32_t>(fd);
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
  }
}

bool ShimSocket::read_conn(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return false;
  Conn& c = it->second;
  char buf[16384];
  alignas(cmsghdr) char control[CMSG_SPACE(16 * sizeof(int))];
  bool eof = false;
  for (;;) {
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof = n == 0 || errno != EAGAIN;
      break;
    }
    // Descriptors (a lifeline, a pidfd of the record's process, or both) ride with exactly one
    // record: the kernel never joins a message that carries descriptors with another, and a
    // record is one send of at most 4 KiB.
    std::vector<Fd> fds;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
      if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t k = 0; k < count; ++k) {
        int passed;
        std::memcpy(&passed, CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
        fds.emplace_back(passed);
      }
    }
    size_t from = c.buf.size();
    c.buf.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    std::vector<std::pair<size_t, size_t>> lines;
    for (size_t nl; (nl = c.buf.find('\n', std::max(start, from))) != std::string::npos;
         start = nl + 1)
      lines.emplace_back(start, nl - start);
    // Descriptors the kernel could not install (no room here) are gone: counted.
    if (msg.msg_flags & MSG_CTRUNC) ++refused_;
    for (size_t k = 0; k < lines.size(); ++k) {
      std::vector<Fd> with;
      if (k + 1 == lines.size() && fds.size() <= 3) with.swap(fds);
      handle_line(c, std::string_view(c.buf).substr(lines[k].first, lines[k].second),
                  std::move(with));
    }
    // Descriptors no line took: a lifeline's armed end among them is disarmed before it
    // closes, or it would fire its other end at a live member.
    for (const Fd& left : fds) disarm_if_lifeline(left);
    c.buf.erase(0, start);
    // A shim sends one message per connection: once it is read whole, nothing else comes,
    // and waiting for the EOF behind it would cost a wake-up of its own.
    if (!lines.empty() && c.buf.empty()) {
      eof = true;
      break;
    }
    if (c.buf.size() >= PROGENY_MAX_RECORD) {  // a line longer than any record: not a shim
      ++refused_;
      eof = true;
      break;
    }
  }
  if (eof) close_conn(it);
  return !eof;
}

pid_t ShimSocket::host_pid_of(uint64_t ino) {
  // By identity only (pidfs): a namespace pid names different processes in the two
  // namespaces, and guessing by number is what killed strangers. Without pidfs (Linux < 6.9)
  // pidns records cannot be placed and are refused; the tracker still records the tree.
  if (!ino) return 0;
  auto it = host_by_ino_.find(ino);
  if (it != host_by_ino_.end()) return it->second;
  Fd fd = open_pidfd_by_ino(ino);
  auto pids = fd ? pidfd_pids(fd.get()) : std::nullopt;
  if (!pids || pids->pid <= 0) return 0;
  host_by_ino_[ino] = pids->pid;
  return pids->pid;
}

bool ShimSocket::place(Record* r) {
  if (!opts_.translate_ns_pids || r->ns_pid) return true;
  pid_t ns = r->pid;
  pid_t host = host_pid_of(r->ino.value_or(0));
  if (!host) return false;
  r->pid = host;
  r->ns_pid = ns;
  if (r->ppid && *r->ppid > 0) {
    // A parent we cannot place is left unnamed rather than named by its namespace pid; the
    // forking thread likewise, unless it is the parent's main thread.
    pid_t ns_ppid = static_cast<pid_t>(*r->ppid);
    pid_t hp = host_pid_of(r->parent_ino.value_or(0));
    if (r->tid) {
      if (hp && *r->tid == ns_ppid) r->tid = hp;
      else r->tid.reset();
    }
    if (hp) r->ppid = hp;
    else r->ppid.reset();
  } else {
    r->tid.reset();
  }
  // pgid and sid stay as the namespace sees them (README).
  return true;
}

bool ShimSocket::take_lifeline(const Conn& c, const Fd& keeper_end, Fd& our_end) {
  // Only a proven peer's, and only with a pidfd that names it: whoever holds an end signals
  // the process that armed both, the one that connected.
  if (!c.verified || !c.peer_pidfd || !opts_.on_hold) return false;
  // Ours is kept, armed as the member armed it, until the keeper's end is gone (EPOLLERR):
  // closed before, it would fire the keeper's.
  epoll_event ev{};
  ev.events = 0;  // EPOLLERR is reported anyway
  ev.data.u64 = kLifeline | static_cast<uint32_t>(our_end.get());
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, our_end.get(), &ev) != 0) return false;
  // A fresh pair replaces the old one, whose keeper end the keeper then closes: that release
  // must not reach the member through our end of the old one. (Without an identity, Linux
  // < 6.9, nothing is replaced: the keeper adds rather than replaces too.)
  if (c.peer_ino) disarm(c.peer_ino);
  int fd = our_end.get();
  lifelines_.emplace(fd, Lifeline{c.peer_ino, std::move(our_end)});
  if (c.peer_ino) armed_[c.peer_ino] = fd;
  if (opts_.on_hold(keeper_end, c.peer_pidfd, c.peer_ino)) return true;
  // Nobody can hold it outside the tree (the keeper was killed): the tree fails closed, as
  // for the members the keeper held. Our end, released while the keeper's (ours too, for
  // now) is open, fires it: the member's own arming kills it. (A hand-in we had not read yet
  // when the keeper died would otherwise outlive a launcher killed next.)
  forget_lifeline(fd);
  return true;
}

void ShimSocket::handle_line(const Conn& c, std::string_view line, std::vector<Fd> with) {
  // A pipe's two ends are the peer's lifeline; anything else may be a pidfd of the record's
  // process.
  Fd passed, read_end, write_end;
  uint64_t passed_ino = 0;  // the same fstat says a pidfd's pidfs inode
  ino_t read_pipe = 0, write_pipe = 0;  // the two ends must be of one pipe
  for (Fd& fd : with) {
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) continue;
    if (S_ISFIFO(st.st_mode)) {
      int mode = ::fcntl(fd.get(), F_GETFL) & O_ACCMODE;
      if (mode == O_RDONLY && !read_end) {
        read_end = std::move(fd);
        read_pipe = st.st_ino;
      } else if (mode == O_WRONLY && !write_end) {
        write_end = std::move(fd);
        write_pipe = st.st_ino;
      } else {
        signal_gate::disarm_lifeline(fd.get());
      }
    } else if (!passed) {
      passed = std::move(fd);
      passed_ino = pidfs_available() ? static_cast<uint64_t>(st.st_ino) : 0;
    }
  }
  bool lifeline_held = read_end && write_end && read_pipe == write_pipe &&
                       take_lifeline(c, read_end, write_end);
  // Half a pair, or a pair nobody took: disarmed before it closes here, so it signals nobody.
  // (A held pair's keeper end is the keeper's now, armed: our copy just closes.)
  if (!lifeline_held)
    for (const Fd* end : {&read_end, &write_end})
      if (*end) signal_gate::disarm_lifeline(end->get());
  if (line.empty()) return;  // a lifeline alone (a fresh one after setuid)
  std::string why;
  auto r = line.size() + 1 <= PROGENY_MAX_RECORD ? parse_record(line, &why) : std::nullopt;
  if (!r || r->source != "shim" || !(r->ino || r->start_time)) {
    ++refused_;  // not a shim record, or about nobody it can name
    return;
  }
  if (passed && r->ino && passed_ino != *r->ino) passed.reset();  // not its own
  // A record about the peer itself (its exec, its own birth as a fork child) is held by the
  // pidfd its connection gave: it opens the process even once it is reaped, which opening
  // by identity no longer does.
  if (!passed && r->ino && *r->ino == c.peer_ino && c.peer_pidfd)
    passed.reset(::fcntl(c.peer_pidfd.get(), F_DUPFD_CLOEXEC, 0));
  if (opts_.translate_ns_pids && passed && !r->ns_pid) {
    // The passed pidfd says where the process is in our namespace, if it still exists.
    if (auto pids = pidfd_pids(passed.get()); pids && pids->pid > 0 && r->ino)
      host_by_ino_[*r->ino] = pids->pid;
  }
  if (place(&*r) && (c.verified || vouched(*r))) {
    // A fork child's own birth record that came with its lifeline: the keeper holds it already.
    bool held = lifeline_held && r->ino && *r->ino == c.peer_ino;
    accept(std::move(*r), std::move(passed), held);
  } else if (pending_.size() < kMaxPending) {
    // From a peer that exited before we could place it, or (pidns) about a process whose
    // pid in our namespace is not known yet: what makes it known (its parent's record, its
    // own connection) may still be on its way.
    pending_.push_back({std::move(*r), std::move(passed)});
  } else {
    ++refused_;
  }
}

bool ShimSocket::vouched(const Record& r) const {
  return (r.ino && known_.count(*r.ino)) || (r.parent_ino && known_.count(*r.parent_ino));
}

void ShimSocket::retry_pending(bool final) {
  std::vector<Pending> keep;
  for (auto& p : pending_) {
    if (place(&p.rec) && vouched(p.rec))
      accept(std::move(p.rec), std::move(p.passed));
    else if (final)
      ++refused_;
    else
      keep.push_back(std::move(p));
  }
  pending_ = std::move(keep);
}

Fd ShimSocket::open_identified(const Record& r, Fd passed, bool* contradicted) const {
  *contradicted = false;
  if (passed) return passed;  // checked against the record's identity on arrival
  if (r.ino) {
    // The handle opens exactly the process the shim named, or nothing once it is reaped; a
    // live process with that identity and another pid makes the record a lie.
    Fd fd = open_pidfd_by_ino(*r.ino);
    auto pids = fd ? pidfd_pids(fd.get()) : std::nullopt;
    if (pids && pids->pid != r.pid) *contradicted = true;
    return pids && pids->pid == r.pid ? std::move(fd) : Fd();
  }
  // Without pidfs (Linux < 6.9): the process with this pid and start time, confirmed alive
  // after the read so the stat was its own.
  Fd fd = open_pidfd(r.pid);
  auto st = fd ? read_proc_stat(r.pid) : std::nullopt;
  return st && st->start_time == r.start_time && alive(fd) ? std::move(fd) : Fd();
}

void ShimSocket::accept(Record r, Fd passed, bool held) {
  if (r.lost) lost_ += *r.lost;
  r.lost.reset();  // counted here; the log's `lost` record carries the total
  if (about_a_process(r) && !admit(r, std::move(passed), held)) return;
  remember(r.ino.value_or(0));
  if (r.ino && opts_.translate_ns_pids) host_by_ino_[*r.ino] = r.pid;
  if (opts_.on_record) opts_.on_record(std::move(r));
}

bool ShimSocket::admit(Record& r, Fd passed, bool held) {
  // A fork record names a child that may never hand in a lifeline (a vfork or posix_spawn
  // child: no shim code runs there before its exec, and none after the exec of a setuid or
  // static program): it is held by the pidfd it was proven through.
  auto hold = [&](const VerifiedProcess& p) {
    if (r.event == "fork" && opts_.on_hold && !held) opts_.on_hold(Fd(), p.pidfd(), p.ino());
  };
  // A live member with the record's identity (most often proven a moment ago, as the peer
  // of this very connection) needs no second walk up its parents.
  const VerifiedProcess* member = opts_.member && r.ino ? opts_.member(r.pid) : nullptr;
  if (member && member->ino() == *r.ino && member->alive()) {
    if (!r.start_time) r.start_time = member->start_time();
    hold(*member);
    return true;
  }
  // Only the very process the shim named, and only if it is ours: a pid reused by a
  // stranger meanwhile has another identity and is never adopted. A process already dead
  // (a zombie still opens) is no member, but its record is genuine.
  bool contradicted = false;
  Fd fd = open_identified(r, std::move(passed), &contradicted);
  if (contradicted) {
    ++refused_;
    return false;
  }
  std::optional<VerifiedProcess> proof;
  if (fd && alive(fd)) {
    proof = Proof::descendant(r.pid, fd, opts_.launcher, opts_.member);
    if (!proof && alive(fd)) {
      ++refused_;  // alive and not a descendant: not a record of this run
      return false;
    }
  }
  if (proof) {
    if (!r.start_time) r.start_time = proof->start_time();
    hold(*proof);
    if (opts_.on_member)
      opts_.on_member(std::move(*proof), static_cast<pid_t>(r.ppid.value_or(0)),
                      r.parent_ino.value_or(0), r.parent_start_time.value_or(0));
  } else if (fd && opts_.on_ended) {
    opts_.on_ended(std::move(fd), r);  // gone already: only its exit is left to learn
  }
  return true;
}

void ShimSocket::on_readable() {
  epoll_event evs[128];
  int n = ::epoll_wait(epoll_.get(), evs, 128, 0);
  for (int i = 0; i < n; ++i) {
    uint64_t kind = evs[i].data.u64 & ~0xffffffffULL;
    int fd = static_cast<int>(evs[i].data.u64 & 0xffffffffULL);
    if (kind == kListen) accept_all();
    else if (kind == kConn) read_conn(fd);
    else if (kind == kLifeline) drop_lifeline(fd);
  }
  if (!pending_.empty()) retry_pending(false);
}

void ShimSocket::drain() {
  for (int round = 0; round < 1000; ++round) {
    pollfd p{epoll_.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) break;
    on_readable();
  }
  std::vector<int> fds;
  for (auto& [fd, c] : conns_) fds.push_back(fd);
  for (int fd : fds) read_conn(fd);
  retry_pending(true);
}

}  // namespace progeny
