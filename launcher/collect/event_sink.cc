#include "launcher/collect/event_sink.h"

#include <algorithm>
#include <cctype>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "launcher/os/log_file.h"
#include "launcher/os/parse.h"
#include "launcher/contain/pidns.h"
#include "launcher/os/pidfs.h"
#include "launcher/os/proc.h"
#include "launcher/members/signal_gate.h"
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
constexpr uint64_t kPidfd = 3ULL << 32;

bool find_number(std::string_view line, std::string_view key, int64_t* out) {
  size_t at = line.find(key);
  if (at == std::string_view::npos) return false;
  size_t i = at + key.size();
  bool neg = i < line.size() && line[i] == '-';
  if (neg) ++i;
  if (i >= line.size() || line[i] < '0' || line[i] > '9') return false;
  int64_t v = 0;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9') v = v * 10 + (line[i++] - '0');
  *out = neg ? -v : v;
  return true;
}

// Not exited yet, per its pidfd (readable once the process is dead).
bool pidfd_alive(const Fd& pidfd) {
  pollfd p{pidfd.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

}  // namespace

bool parse_shim_line(std::string_view line, ShimLine* out) {
  if (line.size() < 2 || line.front() != '{' || line.back() != '}') return false;
  constexpr std::string_view kEvent = "\"event\":\"";
  size_t at = line.find(kEvent);
  if (at == std::string_view::npos) return false;
  size_t start = at + kEvent.size();
  size_t end = line.find('"', start);
  if (end == std::string_view::npos) return false;
  out->event = std::string(line.substr(start, end - start));
  if (!find_number(line, "\"pid\":", &out->pid) || out->pid <= 0) return false;
  find_number(line, "\"ppid\":", &out->ppid);
  find_number(line, "\"lost\":", &out->lost);
  auto unsigned_field = [&](std::string_view key, uint64_t* v) {
    int64_t n = 0;
    if (find_number(line, key, &n) && n > 0) *v = static_cast<uint64_t>(n);
  };
  unsigned_field("\"ino\":", &out->ino);
  unsigned_field("\"start_time\":", &out->start_time);
  unsigned_field("\"parent_ino\":", &out->parent_ino);
  unsigned_field("\"parent_start_time\":", &out->parent_start_time);
  return true;
}

std::unique_ptr<EventSink> EventSink::open(const Options& opts, std::string* error) {
  std::unique_ptr<EventSink> s(new EventSink());
  s->opts_ = opts;
  if (!s->opts_.launcher) s->opts_.launcher = ::getpid();

  if (!opts.log_path.empty()) {
    s->log_ = open_log_file(opts.log_path, LogOpen::kReplace, error);
    if (!s->log_) return nullptr;
  }

  // One fd per live member and connection: raise the soft limit as far as allowed.
  ::getrlimit(RLIMIT_NOFILE, &s->original_nofile_);
  rlimit raised = s->original_nofile_;
  raised.rlim_cur = raised.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &raised);

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

EventSink::~EventSink() { flush(); }

void EventSink::write(const Record& r) {
  out_ += r.line();
  flush();
}

void EventSink::flush() {
  if (out_.empty()) return;
  if (log_ && !log_error_) {
    size_t off = 0;
    while (off < out_.size()) {
      ssize_t n = ::write(log_.get(), out_.data() + off, out_.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        log_error_ = n < 0 ? errno : EIO;
        break;
      }
      off += static_cast<size_t>(n);
    }
    if (log_error_) {
      // The log ends at the last whole record (a record cut by a full disk is taken back),
      // and everything after it is counted, never silently missing.
      size_t whole = off ? out_.rfind('\n', off - 1) : std::string::npos;
      size_t kept = whole == std::string::npos ? 0 : whole + 1;
      if (kept < off && ::ftruncate(log_.get(), static_cast<off_t>(log_bytes_ + kept)) != 0)
        kept = off;  // cannot take the cut record back: it stays, still counted below
      log_bytes_ += kept;
      off = kept;
    } else {
      log_bytes_ += off;
    }
    if (log_error_)
      log_unwritten_ += static_cast<uint64_t>(std::count(out_.begin() + static_cast<long>(off), out_.end(), '\n'));
  } else if (log_) {
    log_unwritten_ += static_cast<uint64_t>(std::count(out_.begin(), out_.end(), '\n'));
  }
  if (opts_.tap) opts_.tap(out_);
  out_.clear();
}

void EventSink::accept_all() {
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
    // The pidfd of the process that connected, even if its pid was reused since. Without
    // SO_PEERPIDFD (before 6.5) the peer's pid could name another process by now: the peer
    // is then only vouched for by its records' identities.
    int pidfd = -1;
    socklen_t pl = sizeof pidfd;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &pl) != 0) pidfd = -1;
    Fd pf(pidfd);
    if (uint64_t ino = pf ? pidfd_ino(pf.get()) : 0) host_by_ino_[ino] = cred.pid;
    if (known(cred.pid)) {
      c.verified = true;
    } else if (pf && pidfd_alive(pf)) {
      Member* m = add_member(cred.pid, std::move(pf), 0, 0, 0);
      if (!m) {
        ++refused_;  // alive and not ours: drop it
        continue;
      }
      c.verified = true;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = kConn | static_cast<uint32_t>(fd);
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
    conns_.emplace(fd, std::move(c));
    read_conn(fd);  // most peers have sent their record by now
  }
}

void EventSink::remember_exited(pid_t pid) {
  if (!recent_.insert(pid).second) return;
  recent_order_.push_back(pid);
  if (recent_order_.size() > kRecent) {
    recent_.erase(recent_order_.front());
    recent_order_.pop_front();
  }
}

bool EventSink::known(pid_t pid) const { return members_.count(pid) || recent_.count(pid); }

Fd EventSink::open_identified(pid_t pid, uint64_t ino, uint64_t start_time) const {
  if (ino) {
    // The handle opens exactly the process the shim named, or nothing once it is reaped.
    Fd fd = open_pidfd_by_ino(ino);
    auto pids = fd ? pidfd_pids(fd.get()) : std::nullopt;
    return pids && pids->pid == pid ? std::move(fd) : Fd();
  }
  if (!start_time) return Fd();
  // Without pidfs (Linux < 6.9): the process with this pid and start time, confirmed alive
  // after the read so the stat was its own.
  Fd fd = open_pidfd(pid);
  auto st = fd ? read_proc_stat(pid, opts_.proc_root.c_str()) : std::nullopt;
  return st && st->start_time == start_time && pidfd_alive(fd) ? std::move(fd) : Fd();
}

EventSink::Member* EventSink::add_member(pid_t pid, Fd pidfd, pid_t parent, uint64_t parent_ino,
                                         uint64_t parent_start) {
  auto it = members_.find(pid);
  if (it != members_.end()) {
    // The same process (without pidfs: the same start time), or a reused pid.
    uint64_t ino = pidfd_ino(pidfd.get());
    auto st = ino ? std::nullopt : read_proc_stat(pid, opts_.proc_root.c_str());
    if (ino ? it->second.proc.ino() == ino : st && st->start_time == it->second.proc.start_time())
      return &it->second;
    member_exited(pid, nullptr);  // its pid was reused: the old member is gone for good
  }
  auto proc = Proof::descendant(pid, std::move(pidfd), opts_.launcher, [this](pid_t p) {
    auto m = members_.find(p);
    return m == members_.end() ? nullptr : &m->second.proc;
  });
  if (!proc) return nullptr;
  if (parent <= 0) {
    auto st = read_proc_stat(pid, opts_.proc_root.c_str());
    parent = st ? st->ppid : 0;
  }
  auto pit = members_.find(parent);
  if (pit != members_.end() && !parent_ino && !parent_start) {
    parent_ino = pit->second.proc.ino();
    parent_start = pit->second.proc.start_time();
  }
  int fd = proc->pidfd().get();
  Member m{std::move(*proc), parent, parent_ino, parent_start};
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kPidfd | static_cast<uint32_t>(fd);
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
  pidfds_[fd] = pid;
  return &members_.insert_or_assign(pid, std::move(m)).first->second;
}

void EventSink::read_conn(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  char buf[16384];
  bool eof = false;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      c.buf.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    eof = n == 0 || errno != EAGAIN;
    break;
  }
  size_t start = 0;
  for (size_t nl; (nl = c.buf.find('\n', start)) != std::string::npos; start = nl + 1)
    handle_line(c, c.buf.substr(start, nl - start));
  c.buf.erase(0, start);
  if (c.buf.size() >= PROGENY_MAX_RECORD) {  // a line longer than any record: not a shim
    ++refused_;
    eof = true;
  }
  if (eof) conns_.erase(it);  // closing the fd also removes it from the epoll set
}

namespace {

// Replaces the number after `key` in a shim record (its writer puts each key once).
void replace_number(std::string* line, std::string_view key, int64_t value) {
  size_t at = line->find(key);
  if (at == std::string::npos) return;
  size_t start = at + key.size(), end = start;
  while (end < line->size() && ((*line)[end] == '-' || std::isdigit(static_cast<unsigned char>((*line)[end]))))
    ++end;
  line->replace(start, end - start, std::to_string(value));
}

// The launcher's pid of the process the peer (a launcher pid) calls `ns`: the peer itself,
// its parent, or one of its children (what a shim record usually names). 0 when not there.
pid_t host_pid_near(pid_t peer, pid_t ns) {
  if (ns_pid_of(peer) == ns) return peer;
  if (auto st = read_proc_stat(peer); st && ns_pid_of(st->ppid) == ns) return st->ppid;
  for (pid_t child : read_children(peer))
    if (ns_pid_of(child) == ns) return child;
  return 0;
}

}  // namespace

// Without pidfs: near the peer first; else (the data connection is shared with fork
// children, so the peer may be another process, already gone) from a map of the launcher's
// whole subtree, which one walk fills and at most one walk per 50 ms refreshes: a walk per
// record would cost O(n²) on a large tree. The caller checks the start time of what it finds.
pid_t EventSink::host_pid_by_walk(pid_t peer, pid_t ns) const {
  if (pid_t host = host_pid_near(peer, ns)) return host;
  auto cached = [&]() -> pid_t {
    auto it = ns_to_host_.find(ns);
    return it != ns_to_host_.end() && ns_pid_of(it->second) == ns ? it->second : 0;
  };
  if (pid_t host = cached()) return host;
  uint64_t now = monotonic_ns();
  if (now - last_ns_walk_ < 50'000'000) return 0;
  last_ns_walk_ = now;
  ns_to_host_.clear();
  std::vector<pid_t> queue = read_children(opts_.launcher);
  while (!queue.empty()) {
    pid_t p = queue.back();
    queue.pop_back();
    if (pid_t n = ns_pid_of(p)) ns_to_host_[n] = p;
    for (pid_t child : read_children(p)) queue.push_back(child);
  }
  return cached();
}

pid_t EventSink::host_pid_of(const Conn& c, pid_t ns_pid, uint64_t ino, uint64_t start_time) {
  if (ino) {
    auto it = host_by_ino_.find(ino);
    if (it != host_by_ino_.end()) return it->second;
    Fd fd = open_pidfd_by_ino(ino);
    auto pids = fd ? pidfd_pids(fd.get()) : std::nullopt;
    if (!pids || pids->pid <= 0) return 0;
    host_by_ino_[ino] = pids->pid;
    return pids->pid;
  }
  if (!start_time) return 0;
  pid_t host = host_pid_by_walk(c.peer, ns_pid);
  auto st = host ? read_proc_stat(host, opts_.proc_root.c_str()) : std::nullopt;
  return st && st->start_time == start_time ? host : 0;
}

bool EventSink::translate_ns_pids(const Conn& c, ShimLine* f, std::string* line) {
  if (f->ns_translated) return true;
  auto ns = static_cast<pid_t>(f->pid);
  pid_t host = host_pid_of(c, ns, f->ino, f->start_time);
  if (!host) return false;
  replace_number(line, "\"pid\":", host);
  f->pid = host;
  if (f->ppid > 0) {
    // A parent we cannot place is left unnamed (0) rather than named by its namespace pid.
    pid_t hp = host_pid_of(c, static_cast<pid_t>(f->ppid), f->parent_ino, f->parent_start_time);
    replace_number(line, "\"ppid\":", hp);
    f->ppid = hp;
  }
  line->insert(line->size() - 1, ",\"ns_pid\":" + std::to_string(ns));
  f->ns_translated = true;
  return true;
}

void EventSink::handle_line(Conn& c, std::string line) {
  ShimLine f;
  if (line.size() + 1 > PROGENY_MAX_RECORD || !parse_shim_line(line, &f) || !f.has_identity()) {
    ++refused_;
    return;
  }
  bool placed = !opts_.translate_ns_pids || translate_ns_pids(c, &f, &line);
  if (placed && (c.verified || vouched(f))) {
    accept_line(f, std::move(line));
  } else if (pending_.size() < kMaxPending) {
    // From a peer that exited before we could place it, or (pidns) about a process whose
    // pid in our namespace we do not know yet: the record that makes it known (its parent's
    // fork record, its own connection) may still be on its way. Kept untranslated.
    pending_.emplace_back(std::move(f), std::move(line));
    pending_conn_.push_back(c.peer);
  } else {
    ++refused_;
  }
}

bool EventSink::vouched(const ShimLine& f) const {
  return known(static_cast<pid_t>(f.pid)) || (f.ppid > 0 && known(static_cast<pid_t>(f.ppid)));
}

void EventSink::retry_pending(bool final) {
  std::vector<std::pair<ShimLine, std::string>> keep;
  std::vector<pid_t> keep_conn;
  for (size_t i = 0; i < pending_.size(); ++i) {
    auto& [f, line] = pending_[i];
    Conn peer;
    peer.peer = pending_conn_[i];
    bool placed = !opts_.translate_ns_pids || translate_ns_pids(peer, &f, &line);
    if (placed && vouched(f)) {
      accept_line(f, std::move(line));
    } else if (final) {
      ++refused_;
    } else {
      keep.emplace_back(std::move(f), std::move(line));
      keep_conn.push_back(pending_conn_[i]);
    }
  }
  pending_ = std::move(keep);
  pending_conn_ = std::move(keep_conn);
}

void EventSink::accept_line(const ShimLine& f, std::string line) {
  if (f.lost > 0) lost_ += static_cast<uint64_t>(f.lost);
  auto pid = static_cast<pid_t>(f.pid);
  const Member* m = nullptr;
  if (f.event == "fork" || f.event == "exec") {
    // Only the very process the shim named, and only if it is ours: a pid reused by a
    // stranger meanwhile has another identity and is never adopted.
    // A process already dead (a zombie still opens) is no member, but its record is genuine.
    Fd fd = open_identified(pid, f.ino, f.start_time);
    if (fd && pidfd_alive(fd)) {
      m = add_member(pid, std::move(fd), static_cast<pid_t>(f.ppid), f.parent_ino,
                     f.parent_start_time);
      if (!m) {
        ++refused_;  // alive and not a descendant: not a record of this run
        return;
      }
    }
  } else {
    auto it = members_.find(pid);
    if (it != members_.end() && (!f.ino || it->second.proc.ino() == f.ino)) m = &it->second;
  }
  if (m && !f.start_time) {
    line.pop_back();
    line += ",\"start_time\":" + std::to_string(m->proc.start_time()) + "}";
  }
  out_ += line;
  out_ += '\n';
}

void EventSink::member_exited(pid_t pid, const int* status) {
  auto it = members_.find(pid);
  if (it == members_.end()) return;
  uint64_t start = it->second.proc.start_time();
  uint64_t ino = it->second.proc.ino();
  Record r = exit_record("launcher", pid, start, status);
  out_ += r.line();
  pidfds_.erase(it->second.proc.pidfd().get());
  members_.erase(it);
  remember_exited(pid);

  // Orphan policy (requirement 1 of docs/shim.md): a member killed by a signal takes its
  // children with it; one that exited normally leaves them running. Its children are the
  // members whose records name it, by identity, as their parent.
  if (!status || !WIFSIGNALED(*status) || opts_.pdeathsig <= 0) return;
  for (auto& [cpid, child] : members_) {
    bool its_child = child.parent == pid &&
                     (ino ? child.parent_ino == ino : child.parent_start == start);
    if (!its_child) continue;
    if (signal_gate::send(child.proc, opts_.pdeathsig) != 0) continue;
    Record s("signal", "launcher", opts_.launcher);
    s.add("signal", signal_name(opts_.pdeathsig));
    s.add("target_pid", static_cast<int64_t>(cpid));
    if (child.proc.start_time()) s.add("target_start_time", child.proc.start_time());
    s.add("reason", "kill");
    s.add("cause", "parent_killed");
    s.add("parent", static_cast<int64_t>(pid));
    out_ += s.line();
  }
}

bool EventSink::on_reaped(pid_t pid, int status) {
  if (!members_.count(pid)) {
    // Our own child, even if it died before its connection was accepted (COMMAND exiting
    // inside daemon()): its pending records are vouched for now.
    remember_exited(pid);
    retry_pending(false);
    flush();
    return false;
  }
  member_exited(pid, &status);
  flush();
  return true;
}

void EventSink::on_readable() {
  epoll_event evs[128];
  int n = ::epoll_wait(epoll_.get(), evs, 128, 0);
  std::vector<int> dead;
  for (int i = 0; i < n; ++i) {
    uint64_t kind = evs[i].data.u64 & ~0xffffffffULL;
    int fd = static_cast<int>(evs[i].data.u64 & 0xffffffffULL);
    if (kind == kListen)
      accept_all();
    else if (kind == kConn)
      read_conn(fd);
    else if (kind == kPidfd)
      dead.push_back(fd);
  }
  if (!dead.empty()) {
    // Learn every child a dying member may have before deciding about its children.
    accept_all();
    std::vector<int> fds;
    for (auto& [fd, c] : conns_) fds.push_back(fd);
    for (int fd : fds) read_conn(fd);
  }
  for (int pidfd : dead) {
    auto it = pidfds_.find(pidfd);
    if (it == pidfds_.end()) continue;
    pid_t pid = it->second;
    int status;
    if (pidfd_exit_status(pidfd, &status)) {
      member_exited(pid, &status);
      continue;
    }
    // Not reaped yet: the zombie's /proc entry holds the status (the pid cannot be reused
    // before the reap).
    auto st = read_proc_stat(pid, opts_.proc_root.c_str());
    if (st && st->state == 'Z' && st->start_time == members_.at(pid).proc.start_time()) {
      status = st->exit_code;
      member_exited(pid, &status);
    } else if (pidfd_exit_status(pidfd, &status)) {
      member_exited(pid, &status);
    } else {
      member_exited(pid, nullptr);
    }
  }
  if (!pending_.empty()) retry_pending(false);
  flush();
}

void EventSink::drain() {
  for (int round = 0; round < 1000; ++round) {
    pollfd p{epoll_.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) break;
    on_readable();
  }
  std::vector<int> fds;
  for (auto& [fd, c] : conns_) fds.push_back(fd);
  for (int fd : fds) read_conn(fd);
  retry_pending(true);
  if (lost_ || refused_) {
    Record r("lost", "launcher", opts_.launcher);
    r.add("count", lost_);
    r.add("what", "shim");
    r.add("refused", refused_);
    out_ += r.line();
  }
  flush();
  if (log_error_) {
    // One last try, all or nothing: room may have come back (and the record is small).
    Record r("lost", "launcher", opts_.launcher);
    r.add("count", log_unwritten_).add("what", "log").add("errno", log_error_);
    std::string line = r.line();
    if (::write(log_.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      if (::ftruncate(log_.get(), static_cast<off_t>(log_bytes_)) != 0) {}
  }
}

std::vector<ShimMember> EventSink::members() const {
  std::vector<ShimMember> out;
  out.reserve(members_.size());
  for (const auto& [pid, m] : members_) out.push_back({pid, m.proc.start_time()});
  return out;
}

}  // namespace progeny
