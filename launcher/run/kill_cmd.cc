// `progeny kill`: stop a process progeny did not start, and every descendant it can reach.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bpf/tracker.h"
#include "launcher/cli/kill_options.h"
#include "launcher/os/exit_codes.h"
#include "launcher/run/commands.h"
#include "launcher/os/parse.h"
#include "launcher/os/proc.h"
#include "launcher/members/stop.h"
#include "launcher/os/sys.h"
#include "launcher/members/membership.h"

namespace progeny {
namespace {

class KillHooks : public StopHooks {
 public:
  KillHooks(Membership& tree, bool verbose) : tree_(tree), verbose_(verbose) {}
  // Not our children: nothing to reap, so wait for any member's pidfd to report its exit.
  void wait_events(int timeout_ms) override {
    std::vector<pollfd> fds;
    for (Member* m : tree_.live()) fds.push_back({m->proc.pidfd().get(), POLLIN, 0});
    if (fds.empty()) return;
    ::poll(fds.data(), fds.size(), timeout_ms);
  }
  bool escalate_requested() override { return false; }
  bool tree_gone() override {
    tree_.scan();
    return tree_.live().empty();
  }
  void on_signal(const Member& m, int sig, const char* reason, int error, uint64_t) override {
    if (verbose_ || error)
      std::fprintf(stderr, "progeny kill: %s %s to %s%s%s\n", reason, signal_name(sig).c_str(),
                   describe_process(m.pid()).c_str(), error ? ": " : "",
                   error ? std::strerror(error) : "");
  }

 private:
  Membership& tree_;
  bool verbose_;
};

std::vector<pid_t> own_ancestors() {
  std::vector<pid_t> out;
  pid_t p = ::getppid();
  for (int i = 0; i < 4096 && p > 0; ++i) {
    out.push_back(p);
    auto st = read_proc_stat(p);
    if (!st) break;
    p = st->ppid;
  }
  return out;
}

}  // namespace

int kill_main(int argc, char** argv) {
  KillOptions opts;
  if (auto status = cli::parse_main_args(kill_command_line(&opts), argc, argv)) return *status;
  StopPolicy policy;
  policy.signal = opts.signal;
  policy.grace_ms = opts.grace_ms;
  const bool verbose = opts.verbose;
  const std::vector<pid_t>& targets = opts.targets;
  std::vector<pid_t> ancestors = own_ancestors();
  Membership tree(0);
  for (pid_t pid : targets) {
    if (pid <= 1) {
      std::fprintf(stderr, "progeny kill: refusing to stop PID %d (init)\n", pid);
      return kExitProgenyError;
    }
    if (pid == ::getpid()) {
      std::fprintf(stderr, "progeny kill: refusing to stop itself (PID %d)\n", pid);
      return kExitProgenyError;
    }
    for (pid_t a : ancestors) {
      if (a == pid) {
        std::fprintf(stderr, "progeny kill: refusing to stop PID %d, an ancestor of progeny\n", pid);
        return kExitProgenyError;
      }
    }
    // Named by the user: the pidfd taken now is what every later signal goes through.
    auto root = Proof::named_by_user(pid);
    if (!root) {
      std::fprintf(stderr, "progeny kill: no such process: %d\n", pid);
      return kExitProgenyError;
    }
    tree.add_root(std::move(*root));
  }
  // One tracker session per target, seeded with its existing descendants.
  std::vector<std::unique_ptr<bpf::Tracker>> trackers;
  if (opts.bpf != Tristate::kOff) {
    bpf::Options topts;
    topts.kill_on_root_exit = false;  // the targets' exit must not kill anything by itself
    for (pid_t pid : targets) {
      std::string why;
      auto t = bpf::Tracker::start(pid, &why, topts);
      if (!t) {
        if (opts.bpf == Tristate::kOn) {
          std::fprintf(stderr, "progeny kill: --bpf on: %s\n", why.c_str());
          return kExitProgenyError;
        }
        if (verbose) std::fprintf(stderr, "progeny kill: going on without BPF: %s\n", why.c_str());
        trackers.clear();
        break;
      }
      trackers.push_back(std::move(t));
    }
  }
  for (auto& t : trackers) {
    t->begin_stop();
    bpf::Tracker* tp = t.get();
    tree.add_source([tp] {
      std::vector<KnownProcess> out;
      for (const auto& m : tp->members()) out.push_back({m.pid, m.start_time, m.ino});
      return out;
    }, true);
  }
  KillHooks hooks(tree, verbose);
  StopResult r = stop_tree(tree, policy, hooks);
  for (const auto& s : r.survivors) std::fprintf(stderr, "progeny kill: survived: %s\n", s.c_str());
  return r.survivors.empty() ? 0 : 1;
}

}  // namespace progeny
