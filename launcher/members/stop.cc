#include "launcher/members/stop.h"

#include <signal.h>
#include <time.h>

#include <set>

#include "launcher/os/proc.h"
#include "schema/record.h"
#include "launcher/members/signal_gate.h"

namespace progeny {
namespace {

int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Every SIGSTOP progeny sends is matched by a SIGCONT, and a frozen cgroup is thawed, also
// when the stop is cut short.
class FreezeGuard {
 public:
  explicit FreezeGuard(Membership& tree) : tree_(tree) {}
  FreezeGuard(const FreezeGuard&) = delete;
  FreezeGuard& operator=(const FreezeGuard&) = delete;
  ~FreezeGuard() { thaw(); }
  void frozen_group(GroupControl* group) { group_ = group; }
  void thaw() {
    for (Member* m : tree_.all()) {
      if (!m->frozen) continue;
      signal_gate::send(m->proc, SIGCONT);
      m->frozen = false;
    }
    if (group_) group_->freeze(false);
    group_ = nullptr;
  }

 private:
  Membership& tree_;
  GroupControl* group_ = nullptr;
};

constexpr int64_t kWalkIntervalMs = 100;

class Stopper {
 public:
  Stopper(Membership& tree, const StopPolicy& policy, StopHooks& hooks, GroupControl* group)
      : tree_(tree), policy_(policy), hooks_(hooks), group_(group) {}

  StopResult run() {
    if (policy_.signal != SIGKILL) {
      graceful();
    } else {
      tree_.scan();
      hooks_.on_members_known();
    }
    int64_t t = now_ms();
    if (group_ && !hooks_.tree_gone()) group_->kill_all();
    if (!hooks_.tree_gone()) kill_rounds();
    result_.kill_ms = now_ms() - t;
    result_.members = signalled_.size();
    return result_;
  }

 private:
  void send(Member& m, int sig, const char* reason) {
    uint64_t t = monotonic_ns();
    int err = signal_gate::send(m.proc, sig);
    if (sig != SIGCONT && sig != SIGSTOP) {
      signalled_.insert(m.pid());
      hooks_.on_signal(m, sig, reason, err, t);
    }
  }

  // The stop signal followed by SIGCONT, so a stopped process can act on it.
  void signal_and_continue(Member& m) {
    send(m, policy_.signal, "stop");
    send(m, SIGCONT, "stop");
    m.frozen = false;
    m.signalled = true;
  }

  // With a group: the kernel freezes it whole, and cgroup.procs is the membership.
  bool freeze_group() {
    if (!group_ || !group_->freeze(true)) {
      if (group_) group_->freeze(false);  // a half-done freeze leaves nothing frozen
      return false;
    }
    for (pid_t pid : group_->members()) tree_.adopt({pid, 0}, true);
    return true;
  }

  // Freezing first gives a consistent snapshot: each process is stopped before its children
  // are read, so the walk sees the tree as it stands and the whole tree gets the signal at
  // once instead of parents reacting to their children's deaths. A fork already in flight
  // when the SIGSTOP landed completes unseen; the grace walks and the SIGKILL fixed point
  // catch it.
  void graceful() {
    int64_t t0 = now_ms();
    FreezeGuard guard(tree_);
    bool group_frozen = freeze_group();
    if (group_frozen) guard.frozen_group(group_);
    auto freeze = [this](Member& m) {
      if (m.frozen || m.signalled) return;
      send(m, SIGSTOP, "freeze");
      m.frozen = true;
    };
    if (!group_frozen) {
      for (Member* m : tree_.all()) freeze(*m);  // roots of `progeny kill`, earlier members
      tree_.scan(freeze);
    }
    hooks_.on_members_known();
    int64_t t1 = now_ms();
    // All the stop signals first, then all the SIGCONTs: a stopped process acts on its
    // signal only when continued, so the whole tree wakes to it in one sweep.
    std::vector<Member*> targets;
    for (Member* m : tree_.all())
      if (!m->signalled) targets.push_back(m);
    for (Member* m : targets) {
      send(*m, policy_.signal, "stop");
      m->signalled = true;
    }
    for (Member* m : targets) {
      send(*m, SIGCONT, "stop");
      m->frozen = false;
    }
    guard.thaw();
    int64_t t2 = now_ms();
    result_.freeze_ms = t1 - t0;
    result_.signal_ms = t2 - t1;
    // Members that handle the signal by forking are found by periodic walks; walking on
    // every child's exit would cost more than the stop itself on a large tree.
    int64_t deadline = now_ms() + policy_.grace_ms;
    int64_t next_walk = now_ms() + kWalkIntervalMs;
    while (!hooks_.tree_gone()) {
      int64_t left = deadline - now_ms();
      if (left <= 0 || hooks_.escalate_requested()) break;
      hooks_.wait_events(static_cast<int>(left < 20 ? left : 20));
      if (now_ms() < next_walk) continue;
      next_walk = now_ms() + kWalkIntervalMs;
      for (Member* m : tree_.scan()) signal_and_continue(*m);
    }
    result_.grace_ms = now_ms() - t2;
  }

  // A process that got SIGKILL can no longer fork, so walk+kill reaches a fixed point: a
  // walk that finds nobody left to kill. After that only the reaping remains.
  void kill_rounds() {
    int64_t deadline = now_ms() + policy_.kill_limit_ms;
    int64_t next_walk = 0;
    for (;;) {
      // Walk until a walk finds nobody left to kill; after that only now and then, for
      // anything a walk could not see until its parent died and it came to us.
      if (now_ms() >= next_walk) {
        tree_.scan();
        bool killed_any = false;
        for (Member* m : tree_.all()) {
          if (m->killed) continue;
          if (now_ms() < deadline && m->proc.alive() && hooks_.kill_last(*m)) continue;
          send(*m, SIGKILL, "kill");
          m->killed = true;
          result_.killed++;
          killed_any = true;
        }
        next_walk = killed_any ? 0 : now_ms() + kWalkIntervalMs;
      }
      if (hooks_.tree_gone()) return;
      hooks_.wait_events(5);
      if (hooks_.tree_gone()) return;
      if (now_ms() > deadline) break;
    }
    // Bounded: what cannot be killed (uninterruptible sleep, no permission) is reported.
    for (Member* m : tree_.live()) {
      auto st = read_proc_stat(m->pid());
      std::string what = describe_process(m->pid());
      if (st) what += std::string(" [state ") + st->state + "]";
      result_.survivors.push_back(what);
    }
  }

  Membership& tree_;
  const StopPolicy& policy_;
  StopHooks& hooks_;
  GroupControl* group_;
  std::set<pid_t> signalled_;
  StopResult result_;
};

}  // namespace

StopResult stop_tree(Membership& tree, const StopPolicy& policy, StopHooks& hooks,
                     GroupControl* group) {
  return Stopper(tree, policy, hooks, group).run();
}

}  // namespace progeny
