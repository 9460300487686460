// A process progeny may signal: held by a pidfd through which it was proven to belong to the
// run. Only the proofs below make one, and the signal gate (signal_gate.h) takes nothing else,
// so no code path can signal a process by a number it merely read somewhere.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>

#include "launcher/os/fd.h"
#include "launcher/os/proc.h"

namespace progeny {

class VerifiedProcess {
 public:
  VerifiedProcess(VerifiedProcess&&) = default;
  VerifiedProcess& operator=(VerifiedProcess&&) = default;

  pid_t pid() const { return pid_; }                // in this process's PID namespace
  uint64_t ino() const { return ino_; }             // pidfs identity; 0 without pidfs
  uint64_t start_time() const { return start_time_; }  // /proc/PID/stat field 22
  const Fd& pidfd() const { return pidfd_; }
  // Its thread count as /proc/PID/stat said during the proof (field 20); 0 when the proof
  // read no stat (by pidfs identity alone).
  int threads_when_proven() const { return threads_; }
  // True while it has not exited (a zombie has).
  bool alive() const;

 private:
  friend struct Proof;
  VerifiedProcess(pid_t pid, uint64_t ino, const std::optional<ProcStat>& st, Fd pidfd)
      : pid_(pid), ino_(ino), start_time_(st ? st->start_time : 0),
        threads_(st ? st->num_threads : 0), pidfd_(std::move(pidfd)) {}
  VerifiedProcess(pid_t pid, uint64_t ino, uint64_t start_time, Fd pidfd)
      : pid_(pid), ino_(ino), start_time_(start_time), pidfd_(std::move(pidfd)) {}
  pid_t pid_;
  uint64_t ino_;
  uint64_t start_time_;
  int threads_ = 0;
  Fd pidfd_;
};

// A verified process and what /proc said of it when it was verified.
struct VerifiedChild {
  VerifiedProcess proc;
  ProcStat stat;
};

// Looks up a live verified member by pid (nullptr when there is none).
using MemberLookup = std::function<const VerifiedProcess*(pid_t)>;

// The ways a process is proven to belong to the run. Each returns nullopt when the proof
// fails; none trusts a pid number on its own.
struct Proof {
  // Our own unreaped child, held by the pidfd clone3/pidfd_open gave us: its pid cannot be
  // reused before we reap it.
  static std::optional<VerifiedProcess> own_child(pid_t pid, Fd pidfd);
  // `pid`, found in the children list of `parent` (nullptr: the calling process itself, a
  // child subreaper): its pidfd is opened, its stat says it is a live child of the parent,
  // and the parent is still alive afterwards, so the stat was of this very process.
  static std::optional<VerifiedChild> child_of(pid_t pid, const VerifiedProcess* parent);
  // The process `pid` behind `pidfd` descends from `root` (the calling process, a
  // subreaper, so every live descendant's ancestors lead to it): its parent chain is
  // followed through pidfds, each hop confirmed after it was read, up to `root` or a live
  // member.
  // On failure the pidfd stays with the caller (a process that ended meanwhile is not a
  // stranger: the caller can tell the two apart).
  static std::optional<VerifiedProcess> descendant(pid_t pid, Fd& pidfd, pid_t root,
                                                   const MemberLookup& member);
  // A member of a set the kernel keeps for us (the tracker's session map, checked there by
  // identity; our frozen cgroup): the live process `pid` with pidfs inode `ino` (opened by
  // that identity: exact, and no /proc read), or without pidfs the one whose start time is
  // `start_time` (0: whatever process has the pid now, for a set whose pids cannot be
  // reused meanwhile).
  static std::optional<VerifiedProcess> kernel_member(pid_t pid, uint64_t start_time,
                                                      uint64_t ino);
  // A live process the user named (`progeny kill PID`): the root of what may be signalled.
  static std::optional<VerifiedProcess> named_by_user(pid_t pid);
};

}  // namespace progeny
