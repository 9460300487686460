// Who a limit bit, from the records of the run as the log writes them: the kernel's counters
// (launcher/contain/limits.h) say how often, never whom. At the pids cap the forkers are the
// processes whose shim saw fork() fail with EAGAIN (`fork_failed`); under a memory limit the
// OOM victims are the members that died of a SIGKILL progeny did not send, as many as the
// memory group's OOM kill count says (in the order they died). Nobody named: "unknown".
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "schema/record.h"

namespace progeny {

class LimitWatch {
 public:
  struct Process {
    pid_t pid = 0;
    uint64_t ino = 0;
    uint64_t count = 0;  // forkers: refused process creations
    std::string comm;    // forkers: /proc's name while it lived (a forked child has no exec)
  };
  // Every record the log writes (its tap).
  void on_record(const Record& r);
  // The processes whose forks the kernel refused with EAGAIN, most refusals first, at most n.
  std::vector<Process> forkers(size_t n) const;
  // The first `oom_kills` SIGKILL deaths progeny did not cause.
  std::vector<Process> oom_victims(uint64_t oom_kills) const;

 private:
  using Key = std::pair<uint64_t, pid_t>;  // ino (0 when unknown), pid
  static Key key_of(uint64_t ino, pid_t pid) { return ino ? Key{ino, 0} : Key{0, pid}; }
  std::vector<Process> refusals_;          // per forker, in order of its first refusal
  std::set<Key> killed_by_us_, died_;
  std::vector<Process> unexplained_kills_;
};

}  // namespace progeny
