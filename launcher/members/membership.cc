#include "launcher/members/membership.h"

#include <sys/epoll.h>

#include <deque>

#include "launcher/os/pidfs.h"
#include "launcher/os/proc.h"
#include "launcher/os/sys.h"

namespace progeny {

Membership::Membership(pid_t self) : self_(self), epoll_(::epoll_create1(EPOLL_CLOEXEC)) {}

Member& Membership::insert(Member m) {
  pid_t pid = m.pid();
  int fd = m.proc.pidfd().get();
  Member& added = members_.insert_or_assign(pid, std::move(m)).first->second;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = pid;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
  return added;
}

void Membership::add_root(VerifiedProcess root) {
  pid_t pid = root.pid();
  insert(Member(std::move(root)));
  roots_.push_back(pid);
}

Member* Membership::add(VerifiedProcess proc, pid_t parent, uint64_t parent_ino,
                        uint64_t parent_start_time) {
  if (excluded_.count(proc.pid())) return nullptr;
  if (Member* m = find(proc.pid())) {
    bool same = proc.ino() ? m->ino() == proc.ino() : m->start_time() == proc.start_time();
    if (same) return m;
  }
  Member m(std::move(proc));
  if (parent <= 0) {
    // No record named its parent (a connection's peer): its parent now, by its pidfd.
    if (auto pids = pidfd_pids(m.proc.pidfd().get())) parent = pids->ppid;
  }
  if (parent > 0 && !parent_ino && !parent_start_time) {
    if (Member* p = find(parent); p && p->proc.alive()) {
      parent_ino = p->ino();
      parent_start_time = p->start_time();
    }
  }
  m.parent = parent;
  m.parent_ino = parent_ino;
  m.parent_start_time = parent_start_time;
  // The proof's stat says it when it read one (no second read per new member).
  if (int n = m.proc.threads_when_proven()) m.single_thread = n == 1;
  else if (auto st = read_proc_stat(m.pid())) m.single_thread = st->num_threads == 1;
  return &insert(std::move(m));
}

Member* Membership::find(pid_t pid) {
  auto it = members_.find(pid);
  return it == members_.end() ? nullptr : &it->second;
}

MemberLookup Membership::lookup() {
  return [this](pid_t p) -> const VerifiedProcess* {
    Member* m = find(p);
    return m ? &m->proc : nullptr;
  };
}

// A thread created after the member was verified could have children this misses; they come
// to the launcher (a subreaper) when their parent dies, and the stop's later walks find them.
std::vector<pid_t> Membership::children_of(pid_t pid) {
  if (pid != self_) {
    Member* m = find(pid);
    if (m && m->single_thread) return read_main_thread_children(pid);
  }
  return read_children(pid);
}

std::vector<Member*> Membership::scan(const std::function<void(Member&)>& on_new) {
  std::vector<Member*> found;
  std::deque<pid_t> queue;
  if (self_ != 0) queue.push_back(self_);
  for (pid_t r : roots_) queue.push_back(r);
  std::set<pid_t> seen;
  while (!queue.empty()) {
    pid_t parent = queue.front();
    queue.pop_front();
    if (!seen.insert(parent).second) continue;
    const Member* parent_member = nullptr;
    if (parent != self_) {
      parent_member = find(parent);
      if (!parent_member || !parent_member->proc.alive()) continue;  // no children left
    }
    for (pid_t child : children_of(parent)) {
      if (excluded_.count(child)) continue;
      Member* m = find(child);
      if (m && m->proc.alive()) {
        queue.push_back(child);
        continue;
      }
      auto c = Proof::child_of(child, parent_member ? &parent_member->proc : nullptr);
      if (!c) continue;
      // A dead member's pid taken by a new process: the old one's exit is still pending.
      if (m) continue;
      Member nm(std::move(c->proc));
      nm.parent = parent;
      if (parent_member) {
        nm.parent_ino = parent_member->ino();
        nm.parent_start_time = parent_member->start_time();
      }
      nm.single_thread = c->stat.num_threads == 1;
      Member& added = insert(std::move(nm));
      found.push_back(&added);
      queue.push_back(child);
      if (on_new) on_new(added);
    }
  }
  for (const auto& src : sources_) {
    for (const KnownProcess& k : src.fn()) {
      Member* m = find(k.pid);
      bool same = m && (k.ino ? m->ino() == k.ino : m->start_time() == k.start_time);
      if (same && m->proc.alive()) continue;
      if (!adopt(k, src.trusted)) continue;
      found.push_back(find(k.pid));
      if (on_new) on_new(*found.back());
    }
  }
  // Pointers stay valid: unordered_map never moves its nodes.
  return found;
}

bool Membership::adopt(const KnownProcess& k, bool trusted) {
  const pid_t pid = k.pid;
  if (excluded_.count(pid) || pid == self_) return false;
  if (Member* m = find(pid)) {
    bool same = k.ino ? m->ino() == k.ino : m->start_time() == k.start_time;
    if (same || (k.start_time == 0 && !k.ino && m->proc.alive())) return true;
    if (m->proc.alive()) return false;  // a live member already has this pid: not this one
  }
  std::optional<VerifiedProcess> proc;
  if (trusted) {
    // The kernel keeps this set for us by identity (the tracker's map, our frozen cgroup).
    proc = Proof::kernel_member(pid, k.start_time, k.ino);
  } else {
    Fd fd = k.ino ? open_pidfd_by_ino(k.ino) : open_pidfd(pid);
    auto check = fd && !k.ino ? read_proc_stat(pid) : std::nullopt;
    if (!fd || (!k.ino && (!check || (k.start_time != 0 && check->start_time != k.start_time))))
      return false;
    proc = Proof::descendant(pid, fd, self_, lookup());
  }
  if (!proc || find(pid)) return false;  // a dead member's pid: its exit is still pending
  Member m(std::move(*proc));
  // Where it hangs and whether one children file covers it (the walk's shortcut); a
  // process already gone by now is still signalled harmlessly through its pidfd.
  if (auto st = read_proc_stat(pid)) {
    m.parent = st->ppid;
    m.single_thread = st->num_threads == 1;
    if (Member* p = find(st->ppid)) {
      m.parent_ino = p->ino();
      m.parent_start_time = p->start_time();
    }
  }
  insert(std::move(m));
  return true;
}

std::vector<Member*> Membership::all() {
  std::vector<Member*> out;
  out.reserve(members_.size());
  for (auto& [pid, m] : members_) out.push_back(&m);
  return out;
}

std::vector<Member*> Membership::live() {
  std::vector<Member*> out;
  for (auto& [pid, m] : members_)
    if (m.proc.alive()) out.push_back(&m);
  return out;
}

void Membership::reaped(pid_t pid, int status, const struct rusage& usage) {
  // Our child: its pid cannot have been reused before this reap, so a dead member with this
  // pid is this very process.
  Member* m = find(pid);
  if (m && !m->proc.alive()) reaped_[pid] = {status, usage};
}

void Membership::add_ended(Fd pidfd, const ExitedMember& who) {
  if (pidfd) ended_only_.push_back({std::move(pidfd), who});
}

// The wait(2) status of the ended process behind pidfd, when anyone can tell it yet: after
// its reap (PIDFD_INFO_EXIT, Linux 6.15+), or before it from its zombie's /proc entry.
static std::optional<int> ended_status(const Fd& pidfd, pid_t pid, uint64_t start_time) {
  int st = 0;
  if (pidfd_exit_status(pidfd.get(), &st)) return st;
  auto ps = read_proc_stat(pid);
  if (ps && ps->state == 'Z' && ps->start_time == start_time) return ps->exit_code;
  return std::nullopt;
}

std::vector<ExitedMember> Membership::take_exited(bool final) {
  epoll_event evs[256];
  for (;;) {
    int n = ::epoll_wait(epoll_.get(), evs, 256, 0);
    for (int i = 0; i < n; ++i) {
      Member* m = find(evs[i].data.fd);
      if (!m) continue;
      // Noticed once: the dead pidfd leaves the set (it would stay readable for ever).
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, m->proc.pidfd().get(), nullptr);
      ended_.insert(m->pid());
    }
    if (n < 256) break;
  }
  std::vector<ExitedMember> out;
  for (auto it = ended_.begin(); it != ended_.end();) {
    Member* m = find(*it);
    if (!m) {
      it = ended_.erase(it);
      continue;
    }
    std::optional<int> status;
    std::optional<struct rusage> usage;
    if (auto r = reaped_.find(m->pid()); r != reaped_.end()) {
      status = r->second.status;
      usage = r->second.usage;
      reaped_.erase(r);
    } else {
      status = ended_status(m->proc.pidfd(), m->pid(), m->start_time());
    }
    if (!status && !final) {
      ++it;  // not reaped yet and /proc does not show us its status: wait for the reap
      continue;
    }
    out.push_back({m->pid(), m->ino(), m->start_time(), m->parent, m->parent_ino,
                   m->parent_start_time, status, usage});
    members_.erase(m->pid());
    it = ended_.erase(it);
  }
  for (auto it = ended_only_.begin(); it != ended_only_.end();) {
    it->who.status = ended_status(it->pidfd, it->who.pid, it->who.start_time);
    if (!it->who.status && !final) {
      ++it;
      continue;
    }
    out.push_back(it->who);
    it = ended_only_.erase(it);
  }
  return out;
}

}  // namespace progeny
