// The keeper: a tiny process forked before COMMAND starts, in its own session, that holds
// every shimmed member's lifeline outside the tree (docs/shim.md, "Parent death"). A member
// arms both ends of a pipe for itself (F_SETOWN_EX to itself, F_SETSIG, O_ASYNC) and passes
// them to the launcher, which keeps the write end and hands the read end here with the
// member's pidfd and identity. Held here, the end is in no descriptor table of the program,
// yet the launcher's death (its end released) still makes the kernel signal the member. The keeper also acts:
// when the launcher is gone without dismissing it, it signals every member it holds through
// the gate, from an ancestor PID namespace, which reaches a namespace init the kernel's own
// signal cannot. It also holds members that never hand in a lifeline (a fork record's child:
// a vfork or posix_spawn child that execs a setuid or static program), by pidfd alone.
// A member's entry is dropped when the member exits; a fresh end (after an exec or a
// credential change) replaces its old one. The launcher must not count it as a member.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "launcher/os/fd.h"

namespace progeny {

class Keeper {
 public:
  // Forks the keeper; `sig` is what it sends to the members once the launcher is gone.
  // nullptr with a one-line *why on failure.
  static std::unique_ptr<Keeper> start(int sig, std::string* why);
  Keeper(const Keeper&) = delete;
  Keeper& operator=(const Keeper&) = delete;
  // An undismissed keeper acts as if the launcher had died.
  ~Keeper() { dismiss(false); }

  // Its pid: exclude it from membership and from every stop signal.
  pid_t pid() const { return pid_; }
  // Whether it has exited without being dismissed (killed).
  bool gone() const;
  // Hands over a member by its pidfd (the keeper gets a copy) and pidfs identity (0 without
  // pidfs), with its armed lifeline or none (empty). False once the keeper is gone (its
  // lifelines with it): the caller warns.
  bool hold(const Fd& lifeline, const Fd& member_pidfd, uint64_t ino);
  // quiet: the run is over, the keeper exits holding its fire, and is reaped (bounded).
  // !quiet: it is let go as if the launcher had died.
  void dismiss(bool quiet);

 private:
  Keeper(pid_t pid, Fd pidfd, Fd channel)
      : pid_(pid), pidfd_(std::move(pidfd)), channel_(std::move(channel)) {}
  pid_t pid_;
  Fd pidfd_;
  Fd channel_;
};

}  // namespace progeny
