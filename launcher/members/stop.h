// The stop sequence: freeze, signal, grace, SIGKILL, repeated until no member remains.
#pragma once
#include <cstdint>
#include <string>
#include <sys/types.h>

#include <vector>

#include "launcher/members/membership.h"

namespace progeny {

struct StopPolicy {
  int signal = 15;                 // first signal (SIGTERM)
  int64_t grace_ms = 5000;         // before SIGKILL
  int64_t kill_limit_ms = 3000;    // how long SIGKILL rounds go on before reporting survivors
};

// What the caller's event loop provides while the stop runs.
class StopHooks {
 public:
  virtual ~StopHooks() = default;
  // Waits up to timeout_ms for events (children to reap, signals, log records) and handles them.
  virtual void wait_events(int timeout_ms) = 0;
  // A second INT/TERM arrived: skip the rest of the grace period.
  virtual bool escalate_requested() = 0;
  // Nothing of the tree is left (run mode: no child left to reap; kill mode: no live member).
  virtual bool tree_gone() = 0;
  // Called for every signal sent, after it was sent, for logs and -v. time_ns: just before
  // the send (CLOCK_MONOTONIC); the target may well have died of it before this call.
  virtual void on_signal(const Member& m, int sig, const char* reason, int error,
                         uint64_t time_ns) = 0;
  // The whole tree is known (and frozen, unless the stop signal is SIGKILL), before any
  // stop signal: the moment to report who is being stopped.
  virtual void on_members_known() {}
  // A member whose SIGKILL waits until the kill rounds' deadline, because it ends by itself
  // once the rest is dead and must do so first (a nested run's cgroup watchdog).
  virtual bool kill_last(const Member&) { return false; }
};

// A kernel mechanism that holds the whole tree (a cgroup): it freezes, lists and kills every
// member at once, where the walk would go process by process.
class GroupControl {
 public:
  virtual ~GroupControl() = default;
  virtual bool freeze(bool frozen) = 0;  // true once every member is (un)frozen
  // Members while frozen: their pids cannot be reused then (no member can reap, and the
  // launcher does not reap during this step).
  virtual std::vector<pid_t> members() = 0;
  virtual bool kill_all() = 0;  // SIGKILL to every member, atomically against forks
};

struct StopResult {
  size_t members = 0;                  // distinct processes signalled
  size_t killed = 0;                   // of those, how many got SIGKILL
  std::vector<std::string> survivors;  // "pid (comm) args" still alive at the end
  // Where the time went (for -v): freezing+walking, signalling, grace, kill rounds.
  int64_t freeze_ms = 0, signal_ms = 0, grace_ms = 0, kill_ms = 0;
};

StopResult stop_tree(Membership& tree, const StopPolicy& policy, StopHooks& hooks,
                     GroupControl* group = nullptr);

}  // namespace progeny
