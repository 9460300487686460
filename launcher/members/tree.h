// Membership: the processes progeny may signal. Every member is held by a pidfd opened
// after verifying it descends from a root (the launcher itself, a child subreaper, or the
// targets of `progeny kill`), so a signal can never land on a reused pid.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "launcher/os/fd.h"
#include "launcher/members/verified.h"

namespace progeny {

struct Member {
  explicit Member(VerifiedProcess p) : proc(std::move(p)) {}
  VerifiedProcess proc;    // how it is held and signalled
  pid_t pid() const { return proc.pid(); }
  uint64_t start_time() const { return proc.start_time(); }
  pid_t parent = 0;        // parent when found
  bool single_thread = false;  // when verified: its children are its main thread's
  bool frozen = false;     // progeny sent SIGSTOP and owes a SIGCONT
  bool signalled = false;  // got the stop signal
  bool killed = false;     // got SIGKILL
};

// A process another mechanism knows about (the shim's records, the tracker's map).
struct KnownProcess {
  pid_t pid;
  uint64_t start_time;
  uint64_t ino = 0;  // pidfs identity when the source has it
};
using MemberSource = std::function<std::vector<KnownProcess>()>;

class Tree {
 public:
  // `self`: in run mode the launcher's pid (its children are the first members); 0 in kill mode.
  explicit Tree(pid_t self) : self_(self) {}
  Tree(const Tree&) = delete;
  Tree& operator=(const Tree&) = delete;

  // Never a member (e.g. the cgroup watchdog, a child of the launcher that is not COMMAND's).
  void exclude(pid_t pid) { excluded_.insert(pid); }
  // `progeny kill`: a process the user named, held by the pidfd taken when it was named.
  void add_root(VerifiedProcess root);
  // Adds a member known to another mechanism if (pid, start_time) still names a live
  // process (start_time 0: whatever process has the pid now, for a source whose pids
  // cannot be reused at that moment) and, unless `trusted`, it descends from a root. True
  // if it is (now) a member.
  // Trusted: the BPF tracker's map, which the kernel keeps by creator, so a double-forked
  // daemon that init adopted during a `progeny kill` still belongs.
  bool adopt(const KnownProcess& k, bool trusted = false);
  // Every scan() also adopts what `source` reports.
  void add_source(MemberSource source, bool trusted) { sources_.push_back({std::move(source), trusted}); }
  // Walks /proc children links from the roots through every live member. Returns the
  // members found by this walk that were not known before. `on_new` runs for each new
  // member before its own children are read (the stop freezes it there, so what it forks
  // afterwards cannot slip past this walk, in-flight forks aside).
  std::vector<Member*> scan(const std::function<void(Member&)>& on_new = {});
  // Drops a member (after reaping it).
  void forget(pid_t pid) { members_.erase(pid); }
  Member* find(pid_t pid);
  // Members whose pidfd has not reported an exit (one poll each).
  std::vector<Member*> live();
  // Every member, exited or not: for sending to all (a signal to an exited one fails
  // harmlessly with ESRCH, cheaper than asking first).
  std::vector<Member*> all();
  bool is_excluded(pid_t pid) const { return excluded_.count(pid) != 0; }
  pid_t self() const { return self_; }

 private:
  std::vector<pid_t> children_of(pid_t pid);
  pid_t self_;
  std::vector<pid_t> roots_;
  std::unordered_map<pid_t, Member> members_;
  std::set<pid_t> excluded_;
  struct Source {
    MemberSource fn;
    bool trusted;
  };
  std::vector<Source> sources_;
};

}  // namespace progeny
