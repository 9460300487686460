#include "launcher/tree.h"

#include <poll.h>

#include <deque>

#include "launcher/proc.h"
#include "launcher/sys.h"

namespace progeny {

bool pidfd_alive(const Fd& pidfd) {
  pollfd p{pidfd.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

void Tree::add_root(pid_t pid, uint64_t start_time, Fd pidfd) {
  Member m;
  m.pid = pid;
  m.start_time = start_time;
  m.pidfd = std::move(pidfd);
  members_[pid] = std::move(m);
  roots_.push_back(pid);
}

Member* Tree::find(pid_t pid) {
  auto it = members_.find(pid);
  return it == members_.end() ? nullptr : &it->second;
}

std::optional<Member> Tree::candidate_child(pid_t pid, pid_t parent) {
  Fd fd = open_pidfd(pid);
  if (!fd) return std::nullopt;
  auto st = read_proc_stat(pid);
  // A zombie has nothing left to signal and is not a member.
  if (!st || st->ppid != parent || st->state == 'Z') return std::nullopt;
  Member m;
  m.pid = pid;
  m.start_time = st->start_time;
  m.pidfd = std::move(fd);
  m.parent = parent;
  m.single_thread = st->num_threads == 1;
  return m;
}

// A thread created after the member was verified could have children this misses; they come
// to the launcher (a subreaper) when their parent dies, and the stop's later walks find them.
std::vector<pid_t> Tree::children_of(pid_t pid) {
  if (pid != self_) {
    Member* m = find(pid);
    if (m && m->single_thread) return read_main_thread_children(pid);
  }
  return read_children(pid);
}

std::vector<Member*> Tree::scan(const std::function<void(Member&)>& on_new) {
  std::vector<Member*> found;
  std::deque<pid_t> queue;
  if (self_ != 0) queue.push_back(self_);
  for (pid_t r : roots_) queue.push_back(r);
  std::set<pid_t> seen;
  while (!queue.empty()) {
    pid_t parent = queue.front();
    queue.pop_front();
    if (!seen.insert(parent).second) continue;
    const Fd* parent_fd = nullptr;
    if (parent != self_) {
      Member* pm = find(parent);
      if (!pm || !pidfd_alive(pm->pidfd)) continue;  // an exited process has no children
      parent_fd = &pm->pidfd;
    }
    std::vector<Member> batch;
    for (pid_t child : children_of(parent)) {
      if (excluded_.count(child)) continue;
      Member* m = find(child);
      if (m && pidfd_alive(m->pidfd)) {
        queue.push_back(child);
        continue;
      }
      // A dead member's pid: an unreaped zombie, or reused by a new process to verify.
      if (m) members_.erase(child);
      if (auto c = candidate_child(child, parent)) batch.push_back(std::move(*c));
    }
    // The stats say "child of parent" only if parent is still the process we verified (a live
    // pidfd pins its pid against reuse): one check for the whole batch. The launcher itself
    // needs none.
    if (batch.empty() || (parent_fd && !pidfd_alive(*parent_fd))) continue;
    for (Member& c : batch) {
      pid_t pid = c.pid;
      Member& nm = members_.insert_or_assign(pid, std::move(c)).first->second;
      found.push_back(&nm);
      queue.push_back(pid);
      if (on_new) on_new(nm);
    }
  }
  for (const auto& src : sources_) {
    for (const KnownProcess& k : src.fn()) {
      Member* m = find(k.pid);
      if (m && m->start_time == k.start_time && pidfd_alive(m->pidfd)) continue;
      if (!adopt(k.pid, k.start_time, src.trusted)) continue;
      found.push_back(find(k.pid));
      if (on_new) on_new(*found.back());
    }
  }
  // Pointers stay valid: unordered_map never moves its nodes.
  return found;
}

bool Tree::adopt(pid_t pid, uint64_t start_time, bool trusted) {
  if (excluded_.count(pid) || pid == self_) return false;
  if (Member* m = find(pid)) {
    if (m->start_time == start_time || (start_time == 0 && pidfd_alive(m->pidfd))) return true;
  }
  Fd fd = open_pidfd(pid);
  if (!fd) return false;
  auto st = read_proc_stat(pid);
  if (!st || st->state == 'Z' || (start_time != 0 && st->start_time != start_time)) return false;
  start_time = st->start_time;
  // Descends from a root? Walk the ppid chain (bounded: pid chains cannot loop, but be safe).
  pid_t p = st->ppid;
  bool descends = trusted;
  for (int depth = 0; depth < 4096 && p > 1; ++depth) {
    if (p == self_ || find(p)) {
      descends = true;
      break;
    }
    auto pst = read_proc_stat(p);
    if (!pst) break;
    p = pst->ppid;
  }
  if (!descends) return false;
  Member m;
  m.pid = pid;
  m.start_time = start_time;
  m.pidfd = std::move(fd);
  m.parent = st->ppid;
  m.single_thread = st->num_threads == 1;
  members_.insert_or_assign(pid, std::move(m));
  return true;
}

std::vector<Member*> Tree::all() {
  std::vector<Member*> out;
  out.reserve(members_.size());
  for (auto& [pid, m] : members_) out.push_back(&m);
  return out;
}

std::vector<Member*> Tree::live() {
  std::vector<Member*> out;
  for (auto& [pid, m] : members_)
    if (pidfd_alive(m.pidfd)) out.push_back(&m);
  return out;
}

}  // namespace progeny
