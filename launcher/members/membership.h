// Membership: the processes of a run, the one place that holds their pidfds. Every member is
// a VerifiedProcess (verified.h), so whatever uses the membership (the stop sequence, the
// parent-death policy, `progeny kill`, the runaway report) can only ever signal what was
// proven to belong. Members come from four places: the /proc walk from the roots (scan), the
// records of the shim and the tracker (add, adopt), and the kernel's own sets (the tracker's
// map and the frozen cgroup, adopt with trusted). Each member's exit is noticed on its pidfd
// and reported once, with its status when anyone can still tell it (take_exited).
#pragma once
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "launcher/members/verified.h"
#include "launcher/os/fd.h"

namespace progeny {

struct Member {
  explicit Member(VerifiedProcess p) : proc(std::move(p)) {}
  VerifiedProcess proc;  // how it is held and signalled
  pid_t pid() const { return proc.pid(); }
  uint64_t ino() const { return proc.ino(); }
  uint64_t start_time() const { return proc.start_time(); }
  // Its parent as first known (the creator, for a process a fork record named), by pid and
  // identity: what the parent-death policy and the runaway report go by.
  pid_t parent = 0;
  uint64_t parent_ino = 0, parent_start_time = 0;
  bool single_thread = false;  // when verified: its children are its main thread's
  bool frozen = false;         // progeny sent SIGSTOP and owes a SIGCONT
  bool signalled = false;      // got the stop signal
  bool killed = false;         // got SIGKILL
};

// A process another mechanism knows about (the shim's records, the tracker's map).
struct KnownProcess {
  pid_t pid;
  uint64_t start_time;
  uint64_t ino = 0;  // pidfs identity when the source has it
};
using MemberSource = std::function<std::vector<KnownProcess>()>;

// A member whose pidfd said it ended: its identity and parent, and its wait(2) status when
// it could be learnt (reaped by us, PIDFD_INFO_EXIT, a zombie's /proc), else unknown.
struct ExitedMember {
  pid_t pid = 0;
  uint64_t ino = 0, start_time = 0;
  pid_t parent = 0;
  uint64_t parent_ino = 0, parent_start_time = 0;
  std::optional<int> status;
  std::optional<struct rusage> usage;  // wait4's (it and its waited-for descendants): we reaped it
};

class Membership {
 public:
  // `self`: in run mode the launcher's pid (its children are the first members); 0 in kill mode.
  explicit Membership(pid_t self);
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // Never a member (e.g. the cgroup watchdog, a child of the launcher that is not COMMAND's).
  void exclude(pid_t pid) { excluded_.insert(pid); }
  bool is_excluded(pid_t pid) const { return excluded_.count(pid) != 0; }
  // `progeny kill`: a process the user named, held by the pidfd taken when it was named.
  void add_root(VerifiedProcess root);
  // A process proven to belong (COMMAND, a shim record's process), with the parent its
  // records name. Returns the member (the existing one when it is the same process).
  Member* add(VerifiedProcess proc, pid_t parent, uint64_t parent_ino, uint64_t parent_start_time);
  // Adds a member known to another mechanism if it still names a live process and, unless
  // `trusted`, it descends from a root. True if it is (now) a member.
  // Trusted: the BPF tracker's map, which the kernel keeps by creator, so a double-forked
  // daemon that init adopted during a `progeny kill` still belongs; our frozen cgroup.
  bool adopt(const KnownProcess& k, bool trusted = false);
  // Every scan() also adopts what `source` reports.
  void add_source(MemberSource source, bool trusted) { sources_.push_back({std::move(source), trusted}); }
  // Walks /proc children links from the roots through every live member. Returns the
  // members found by this walk that were not known before. `on_new` runs for each new
  // member before its own children are read (the stop freezes it there, so what it forks
  // afterwards cannot slip past this walk, in-flight forks aside).
  std::vector<Member*> scan(const std::function<void(Member&)>& on_new = {});

  Member* find(pid_t pid);
  // A live member for Proof::descendant's shortcut.
  MemberLookup lookup();
  // Members whose pidfd has not reported an exit (one poll each).
  std::vector<Member*> live();
  // Every member, exited or not: for sending to all (a signal to an exited one fails
  // harmlessly with ESRCH, cheaper than asking first).
  std::vector<Member*> all();
  size_t size() const { return members_.size(); }
  pid_t self() const { return self_; }

  // Readable (POLLIN) when a member's pidfd reported its exit.
  int exit_fd() const { return epoll_.get(); }
  // A process of the run that had ended before it could be made a member (held by a pidfd
  // its parent's shim passed): never signalled, only its exit status is still to be learnt.
  void add_ended(Fd pidfd, const ExitedMember& who);
  // We reaped pid ourselves with this status and usage: the member's exit is known exactly.
  void reaped(pid_t pid, int status, const struct rusage& usage);
  // Members that ended since the last call, each once, and forgotten. A member that ended
  // but whose status nobody can tell yet (a zombie its parent has not reaped, /proc not
  // readable) is held back until it can, or until `final`, then reported as unknown.
  std::vector<ExitedMember> take_exited(bool final = false);

 private:
  std::vector<pid_t> children_of(pid_t pid);
  Member& insert(Member m);
  pid_t self_;
  std::vector<pid_t> roots_;
  std::unordered_map<pid_t, Member> members_;
  struct Reaped {
    int status;
    struct rusage usage;
  };
  std::unordered_map<pid_t, Reaped> reaped_;  // what wait4 gave us, until taken
  std::set<pid_t> ended_;                   // members whose pidfd said they ended
  struct Ended {
    Fd pidfd;
    ExitedMember who;
  };
  std::vector<Ended> ended_only_;           // see add_ended
  std::set<pid_t> excluded_;
  Fd epoll_;
  struct Source {
    MemberSource fn;
    bool trusted;
  };
  std::vector<Source> sources_;
};

}  // namespace progeny
