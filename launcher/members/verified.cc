#include "launcher/members/verified.h"

#include <poll.h>

#include "launcher/os/pidfs.h"
#include "launcher/os/sys.h"

namespace progeny {
namespace {

bool alive(const Fd& pidfd) {
  pollfd p{pidfd.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

// The current parent of `pid`, read through its pidfd (PIDFD_GET_INFO, Linux 6.13+) or, on
// older kernels, from /proc confirmed by the pidfd being alive after the read.
std::optional<pid_t> current_parent(pid_t pid, const Fd& pidfd) {
  if (auto pids = pidfd_pids(pidfd.get())) {
    if (pids->pid != pid) return std::nullopt;
    return pids->ppid;
  }
  auto st = read_proc_stat(pid);
  if (!st || !alive(pidfd)) return std::nullopt;
  return st->ppid;
}

// Deeper than any tree progeny meets (a 200,000-deep chain proves in one hop, at a member):
// a bound against a chain that changes under the walk, not a limit.
constexpr int kMaxHops = 1 << 16;
constexpr int kAttempts = 3;

}  // namespace

bool VerifiedProcess::alive() const { return progeny::alive(pidfd_); }

std::optional<VerifiedProcess> Proof::own_child(pid_t pid, Fd pidfd) {
  if (!pidfd) return std::nullopt;
  auto st = read_proc_stat(pid);
  uint64_t ino = pidfd_ino(pidfd.get());
  return VerifiedProcess(pid, ino, st, std::move(pidfd));
}

std::optional<VerifiedChild> Proof::child_of(pid_t pid, const VerifiedProcess* parent) {
  Fd fd = open_pidfd(pid);
  if (!fd) return std::nullopt;
  auto st = read_proc_stat(pid);
  pid_t want = parent ? parent->pid() : ::getpid();
  // A zombie has nothing left to signal and is not a member.
  if (!st || st->ppid != want || st->state == 'Z') return std::nullopt;
  // The stat names a child of the parent only if the parent is still the process verified
  // (a live pidfd pins its pid against reuse). The caller itself needs no check.
  if (parent && !parent->alive()) return std::nullopt;
  uint64_t ino = pidfd_ino(fd.get());
  return VerifiedChild{VerifiedProcess(pid, ino, st, std::move(fd)), *st};
}

// One attempt to follow pid's parent chain up to root or a live member.
static bool chain_reaches(pid_t pid, const Fd& pidfd, pid_t root, const MemberLookup& member) {
  pid_t cur_pid = pid;
  Fd cur_owned;  // the current hop's pidfd, once above the candidate
  const Fd* cur = &pidfd;
  bool reached = false;
  for (int hop = 0; hop < kMaxHops && !reached; ++hop) {
    auto ppid = current_parent(cur_pid, *cur);
    if (!ppid || *ppid <= 0) return false;
    reached = *ppid == root;
    if (!reached) {
      const VerifiedProcess* m = member ? member(*ppid) : nullptr;
      reached = m && m->alive() && current_parent(cur_pid, *cur) == *ppid && m->alive();
    }
    if (reached) break;
    if (*ppid == 1) return false;
    Fd next = open_pidfd(*ppid);
    // The pidfd is of cur's parent only if cur still has that parent after it was opened
    // (a parent that died meanwhile would have left cur reparented first).
    if (!next || current_parent(cur_pid, *cur) != *ppid) return false;
    cur_owned = std::move(next);
    cur = &cur_owned;
    cur_pid = *ppid;
  }
  return reached;
}

std::optional<VerifiedProcess> Proof::descendant(pid_t pid, Fd& pidfd, pid_t root,
                                                const MemberLookup& member) {
  if (!pidfd || pid <= 0) return std::nullopt;
  // A chain changes while it is followed (a parent that dies reparents its children to the
  // subreaper): a failed attempt on a process still alive is tried again.
  bool reached = false;
  for (int attempt = 0; attempt < kAttempts && !reached && progeny::alive(pidfd); ++attempt)
    reached = chain_reaches(pid, pidfd, root, member);
  if (!reached || !progeny::alive(pidfd)) return std::nullopt;
  auto st = read_proc_stat(pid);
  uint64_t ino = pidfd_ino(pidfd.get());
  return VerifiedProcess(pid, ino, st, std::move(pidfd));
}

std::optional<VerifiedProcess> Proof::kernel_member(pid_t pid, uint64_t start_time,
                                                    uint64_t ino) {
  if (ino) {
    Fd fd = open_pidfd_by_ino(ino);
    auto pids = fd ? pidfd_pids(fd.get()) : std::nullopt;
    if (fd && (!pids || pids->pid != pid)) return std::nullopt;
    if (!fd) {
      // pidfs without file handles (Linux 6.9-6.12): a pidfd opened by pid is the process
      // named only if its inode is the identity; a reused pid has another.
      fd = open_pidfd(pid);
      if (!fd || pidfd_ino(fd.get()) != ino) return std::nullopt;
    }
    if (!progeny::alive(fd)) return std::nullopt;
    return VerifiedProcess(pid, ino, start_time, std::move(fd));
  }
  Fd fd = open_pidfd(pid);
  if (!fd) return std::nullopt;
  auto st = read_proc_stat(pid);
  if (!st || st->state == 'Z' || (start_time != 0 && st->start_time != start_time)) return std::nullopt;
  if (!progeny::alive(fd)) return std::nullopt;
  uint64_t fd_ino = pidfd_ino(fd.get());
  return VerifiedProcess(pid, fd_ino, st, std::move(fd));
}

std::optional<VerifiedProcess> Proof::named_by_user(pid_t pid) { return kernel_member(pid, 0, 0); }

}  // namespace progeny
