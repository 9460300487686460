#include "launcher/contain/containment.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>

#include "launcher/os/proc.h"
#include "launcher/contain/spawn_contained.h"
#include "launcher/members/signal_gate.h"
#include "launcher/os/sys.h"

namespace progeny {
namespace {

struct ModeName {
  ContainMode mode;
  const char* name;
};
constexpr ModeName kModes[] = {{ContainMode::auto_, "auto"},
                               {ContainMode::cgroup, "cgroup"},
                               {ContainMode::pidns, "pidns"},
                               {ContainMode::none, "none"}};

void collect_tree(pid_t root, std::vector<pid_t>* out) {
  out->push_back(root);
  for (pid_t c : read_children(root)) collect_tree(c, out);
}

}  // namespace

bool parse_contain_mode(std::string_view text, ContainMode* mode) {
  for (const ModeName& m : kModes)
    if (text == m.name) {
      *mode = m.mode;
      return true;
    }
  return false;
}

const char* contain_mode_name(ContainMode mode) {
  for (const ModeName& m : kModes)
    if (m.mode == mode) return m.name;
  return "?";
}

std::unique_ptr<Containment> Containment::make(ContainMode requested, std::string* why,
                                               std::optional<LeafParent> leaf_parent,
                                               const std::vector<CgroupRef>& limit_groups) {
  std::unique_ptr<Containment> c = make_mode(requested, why, std::move(leaf_parent), limit_groups);
  if (c && !c->watchdog_ && !limit_groups.empty()) {
    c->watchdog_ = CgroupWatchdog::start(nullptr, limit_groups, why);
    if (!c->watchdog_) return nullptr;
  }
  return c;
}

std::unique_ptr<Containment> Containment::make_mode(ContainMode requested, std::string* why,
                                                    std::optional<LeafParent> leaf_parent,
                                                    const std::vector<CgroupRef>& limit_groups) {
  std::unique_ptr<Containment> c(new Containment);
  switch (requested) {
    case ContainMode::none:
      c->reason_ = "none: requested";
      return c;
    case ContainMode::pidns: {
      if (!pidns_available(why)) {
        *why = "pidns: " + *why;
        return nullptr;
      }
      c->mode_ = ContainMode::pidns;
      c->reason_ = ::geteuid() == 0 ? "pidns: new PID namespace" : "pidns: new PID + user namespace";
      return c;
    }
    case ContainMode::auto_:
    case ContainMode::cgroup: {
      std::string cg_why;
      c->leaf_ = leaf_parent ? CgroupLeaf::create(std::move(*leaf_parent), &cg_why)
                             : CgroupLeaf::create(&cg_why);
      if (c->leaf_) {
        c->watchdog_ = CgroupWatchdog::start(c->leaf_.get(), limit_groups, &cg_why);
        if (!c->watchdog_) c->leaf_.reset();
      }
      if (c->leaf_) {
        c->mode_ = ContainMode::cgroup;
        c->reason_ = "cgroup: leaf " + c->leaf_->path() + ", watchdog pid " +
                     std::to_string(c->watchdog_->pid());
        return c;
      }
      if (requested == ContainMode::cgroup) {
        *why = "cgroup: " + cg_why;
        return nullptr;
      }
      c->reason_ = "none: cgroup unavailable: " + cg_why;
      return c;
    }
  }
  return nullptr;
}

pid_t Containment::spawn(Fd* pidfd, std::string* why) {
  if (mode_ == ContainMode::pidns) {
    pid_t p = pidns_spawn(&pidns_, why);
    if (p == 0) expected_parent_ = pidns_.parent_in_child;
    if (p > 0) *pidfd = Fd(::dup(pidns_.init_pidfd.get()));
    return p;
  }
  expected_parent_ = ::getpid();
  if (mode_ == ContainMode::cgroup) {
    CloneSpec spec;
    spec.cgroup_fd = leaf_->dirfd();
    pid_t p = clone_contained(spec, pidfd);
    if (p >= 0) return p;
    *why = std::string("cannot start COMMAND in cgroup ") + leaf_->path() + ": " +
           std::strerror(errno);
    return -1;
  }
  pid_t p = ::fork();
  if (p < 0) {
    *why = std::string("fork: ") + std::strerror(errno);
    return -1;
  }
  if (p > 0) *pidfd = open_pidfd(p);
  return p;
}

void Containment::dismiss_watchdog(bool all_gone) {
  if (!watchdog_) return;
  watchdog_->dismiss(all_gone && leaf_gone_);
  watchdog_.reset();
}

std::vector<pid_t> Containment::members() const {
  std::vector<pid_t> out;
  if (leaf_) out = leaf_->procs();
  if (mode_ == ContainMode::pidns && pidns_.init > 0) {
    pollfd p{pidns_.init_pidfd.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 0) collect_tree(pidns_.init, &out);
  }
  return out;
}

bool Containment::stop(std::chrono::milliseconds timeout, std::vector<pid_t>* survivors) {
  survivors->clear();
  if (mode_ == ContainMode::cgroup && leaf_) {
    // Frozen first, so the set killed is exactly the set enumerated around it, and nothing
    // runs (or forks) between the decision and the kill. cgroup.kill reaches frozen tasks.
    leaf_->freeze(true);
    leaf_->kill_all();
    if (leaf_->wait_empty(timeout)) return true;
    // Nothing may be left frozen behind us, even when the freeze itself only half worked.
    leaf_->freeze(false);
    *survivors = leaf_->procs();
    return survivors->empty();
  }
  if (mode_ == ContainMode::pidns && pidns_.init > 0) {
    // The kernel kills the whole namespace when its init dies; the init's pidfd turns
    // readable once the namespace is empty and the init itself has exited.
    signal_gate::send_to_own_child(pidns_.init_pidfd.get(), SIGKILL);
    pollfd p{pidns_.init_pidfd.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) return true;
    *survivors = members();
    return survivors->empty();
  }
  return true;
}

void Containment::finish(bool keep_watchdog) {
  if (leaf_) {
    if (leaf_->populated()) {
      leaf_->kill_all();
      leaf_->wait_empty(std::chrono::seconds(2));
    }
    leaf_gone_ = leaf_->remove();
    // A leaf still there is handed to the watchdog: do not race it with our own rmdir.
    if (!leaf_gone_ && watchdog_) leaf_->release();
    leaf_.reset();
  }
  if (!keep_watchdog) dismiss_watchdog(true);
  if (mode_ == ContainMode::pidns && pidns_.init_pidfd) {
    pollfd p{pidns_.init_pidfd.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 0) signal_gate::send_to_own_child(pidns_.init_pidfd.get(), SIGKILL);
    pidns_.init_pidfd.reset();
  }
}

}  // namespace progeny
