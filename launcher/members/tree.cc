#include "launcher/members/tree.h"

#include <deque>

#include "launcher/os/pidfs.h"
#include "launcher/os/proc.h"
#include "launcher/os/sys.h"

namespace progeny {

void Tree::add_root(VerifiedProcess root) {
  pid_t pid = root.pid();
  members_.insert_or_assign(pid, Member(std::move(root)));
  roots_.push_back(pid);
}

Member* Tree::find(pid_t pid) {
  auto it = members_.find(pid);
  return it == members_.end() ? nullptr : &it->second;
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
    const VerifiedProcess* parent_proc = nullptr;
    if (parent != self_) {
      Member* pm = find(parent);
      if (!pm || !pm->proc.alive()) continue;  // an exited process has no children
      parent_proc = &pm->proc;
    }
    for (pid_t child : children_of(parent)) {
      if (excluded_.count(child)) continue;
      Member* m = find(child);
      if (m && m->proc.alive()) {
        queue.push_back(child);
        continue;
      }
      // A dead member's pid: an unreaped zombie, or reused by a new process to verify.
      if (m) members_.erase(child);
      auto c = Proof::child_of(child, parent_proc);
      if (!c) continue;
      Member nm(std::move(c->proc));
      nm.parent = parent;
      nm.single_thread = c->stat.num_threads == 1;
      Member& added = members_.insert_or_assign(child, std::move(nm)).first->second;
      found.push_back(&added);
      queue.push_back(child);
      if (on_new) on_new(added);
    }
  }
  for (const auto& src : sources_) {
    for (const KnownProcess& k : src.fn()) {
      Member* m = find(k.pid);
      bool same = m && (k.ino ? m->proc.ino() == k.ino : m->start_time() == k.start_time);
      if (same && m->proc.alive()) continue;
      if (!adopt(k, src.trusted)) continue;
      found.push_back(find(k.pid));
      if (on_new) on_new(*found.back());
    }
  }
  // Pointers stay valid: unordered_map never moves its nodes.
  return found;
}

bool Tree::adopt(const KnownProcess& k, bool trusted) {
  const pid_t pid = k.pid;
  if (excluded_.count(pid) || pid == self_) return false;
  if (Member* m = find(pid)) {
    bool same = k.ino ? m->proc.ino() == k.ino : m->start_time() == k.start_time;
    if (same || (k.start_time == 0 && !k.ino && m->proc.alive())) return true;
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
    proc = Proof::descendant(pid, std::move(fd), self_, [this](pid_t p) -> const VerifiedProcess* {
      Member* m = find(p);
      return m ? &m->proc : nullptr;
    });
  }
  if (!proc) return false;
  Member m(std::move(*proc));
  // Where it hangs and whether one children file covers it (the walk's shortcut); a
  // process already gone by now is still signalled harmlessly through its pidfd.
  if (auto st = read_proc_stat(pid)) {
    m.parent = st->ppid;
    m.single_thread = st->num_threads == 1;
  }
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
    if (m.proc.alive()) out.push_back(&m);
  return out;
}

}  // namespace progeny
