// `--contain auto|cgroup|pidns|none`: the kernel containment a run uses, chosen once before
// COMMAND starts. The launcher's run loop uses it for four things: starting COMMAND (spawn),
// knowing who belongs (members), the final kill (stop) and cleaning up (finish). See
// docs/containment.md for what each mode catches and how it survives the launcher's death.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "launcher/contain/cgroup.h"
#include "launcher/contain/cgroup_watchdog.h"
#include "launcher/os/fd.h"
#include "launcher/contain/pidns.h"
#include "launcher/members/stop.h"

namespace progeny {

enum class ContainMode { auto_, cgroup, pidns, none };

bool parse_contain_mode(std::string_view text, ContainMode* mode);
const char* contain_mode_name(ContainMode mode);

class Containment {
 public:
  // auto_: cgroup when possible, else none (reason() says why). An explicit mode the host
  // does not allow: nullptr and a one-line *why (the launcher exits 125 with it).
  // cgroup: creates the leaf and starts the watchdog now, before COMMAND exists; the leaf is
  // made in `leaf_parent` when given (the v2 limit group, so the limits hold the leaf),
  // else in the launcher's own v2 cgroup.
  // `limit_groups`: the --limit groups, which the watchdog removes too if the launcher dies
  // (in every mode: without a leaf the watchdog is started for them alone).
  static std::unique_ptr<Containment> make(ContainMode requested, std::string* why,
                                           std::optional<LeafParent> leaf_parent = std::nullopt,
                                           const std::vector<CgroupRef>& limit_groups = {});
  // Whether `--contain mode` can start here: make(mode) for real, undone at once (the leaf
  // removed, the watchdog dismissed). `progeny doctor` asks this, so its verdict is the
  // answer the run gets. False with make()'s one-line *why.
  static bool available(ContainMode mode, std::string* why) { return make(mode, why) != nullptr; }
  Containment(const Containment&) = delete;
  Containment& operator=(const Containment&) = delete;
  ~Containment() { finish(); }

  ContainMode mode() const { return mode_; }  // never auto_
  const std::string& reason() const { return reason_; }  // why this mode, for -v

  // Starts COMMAND's process like fork(): 0 in the child, the launcher's direct child in the
  // parent (pidfd in *pidfd), -1 with errno and *why on failure.
  //   cgroup: COMMAND itself, born inside the leaf (clone3 CLONE_INTO_CGROUP).
  //   pidns:  the namespace's init; COMMAND is PID 3 inside, returned 0 to as after a fork.
  //   none:   fork().
  pid_t spawn(Fd* pidfd, std::string* why);
  // What getppid() must return in the child for the parent-death race check: the launcher's
  // pid, or in pidns mode the intermediate's pid inside the namespace. Valid in the child.
  pid_t expected_parent() const { return expected_parent_; }
  // pidns: the init is the process-group leader COMMAND shares; the child must not setpgid.
  bool child_sets_own_group() const { return mode_ != ContainMode::pidns; }

  // The leaf's directory (cgroup mode), empty otherwise: for -v, reports and tests.
  std::string cgroup_path() const { return leaf_ ? leaf_->path() : std::string(); }
  // The watchdog's pid (cgroup mode, or limit groups to watch), -1 otherwise: never a
  // member, never signalled.
  pid_t watchdog_pid() const { return watchdog_ ? watchdog_->pid() : -1; }
  // Every process the mode knows to belong to the run (cgroup: the leaf's cgroup.procs and
  // below; pidns: the init and its descendants; none: nothing, the /proc walk decides).
  std::vector<pid_t> members() const;

  // pidns: readable when the intermediate reports (COMMAND started, COMMAND ended: see
  // read_pidns_report); -1 in other modes, where COMMAND is the launcher's direct child.
  int status_fd() const { return pidns_.status_fd.get(); }
  bool pidns_report(PidnsReport* report) { return read_pidns_report(pidns_.status_fd.get(), report); }
  // pidns: COMMAND is named; its parent may reap it now (pidns_named).
  void pidns_command_named() { pidns_named(&pidns_); }

  // The final kill, after the launcher's own TERM/grace phase: cgroup: freeze, cgroup.kill,
  // wait until empty (thawed again on any failure); pidns: SIGKILL to the init, which takes
  // the whole namespace; none: nothing (true). Bounded by `timeout`; false when something is
  // still there, then *survivors lists it (pids as this namespace sees them).
  bool stop(std::chrono::milliseconds timeout, std::vector<pid_t>* survivors);

  // The leaf as one unit for the stop sequence (freeze, cgroup.procs, cgroup.kill); nullptr
  // in other modes.
  GroupControl* group() { return leaf_ ? &leaf_group_ : nullptr; }

  // End of run: kills whatever is left in the leaf, removes it, then dismisses the watchdog
  // (in this order, so a launcher killed halfway still leaves the watchdog to finish), unless
  // `keep_watchdog`: the limit groups are still to be removed, dismiss_watchdog() follows.
  // Idempotent; also done by the destructor.
  void finish(bool keep_watchdog = false);
  // Dismisses the watchdog; `all_gone` false (a limit group still there) hands what is left
  // over to it. Idempotent.
  void dismiss_watchdog(bool all_gone);

 private:
  class LeafGroup : public GroupControl {
   public:
    explicit LeafGroup(Containment& c) : c_(c) {}
    bool freeze(bool frozen) override { return c_.leaf_->freeze(frozen); }
    std::vector<pid_t> members() override { return c_.leaf_->procs(); }
    bool kill_all() override { return c_.leaf_->kill_all(); }

   private:
    Containment& c_;
  };

  Containment() = default;
  static std::unique_ptr<Containment> make_mode(ContainMode requested, std::string* why,
                                                std::optional<LeafParent> leaf_parent,
                                                const std::vector<CgroupRef>& limit_groups);
  LeafGroup leaf_group_{*this};
  ContainMode mode_ = ContainMode::none;
  std::string reason_;
  std::unique_ptr<CgroupLeaf> leaf_;
  std::unique_ptr<CgroupWatchdog> watchdog_;
  PidnsChild pidns_;
  pid_t expected_parent_ = 0;
  bool leaf_gone_ = true;
};

}  // namespace progeny
