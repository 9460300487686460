// Who a limit bit, from the records of the run as the log writes them: the kernel's counters
// (launcher/contain/limits.h) say how often, never whom. At the pids cap the forkers are the
// processes whose shim saw fork() fail with EAGAIN (`fork_failed`, a cgroup's pids.max) or
// whose children the tracker killed at birth (`limit_kill`, the tracker's cap). Under a
// memory limit the OOM victims are the members the kernel's OOM killer chose (`oom_kill`,
// the tracker's mark_victim program); without those records, the members that died of a
// SIGKILL progeny did not send, as many as the memory group's OOM kill count says (in the
// order they died). Nobody named: "unknown".
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
    uint64_t count = 0;  // forkers: creations refused or killed at birth
    std::string comm;    // forkers: /proc's name while it lived (a forked child has no exec)
  };
  // Every record the log writes (its tap).
  void on_record(const Record& r);
  // The processes whose forks the cap refused (EAGAIN) or killed at birth, most first, at
  // most n.
  std::vector<Process> forkers(size_t n) const;
  // At most `oom_kills` OOM victims: the kernel's own records ("kernel" in *source) when
  // there are any, else the SIGKILL deaths progeny did not cause ("sigkill").
  std::vector<Process> oom_victims(uint64_t oom_kills, std::string* source) const;
  // Whose records named the forkers: "tracker" once a limit_kill was seen, else "shim".
  const char* forker_source() const { return tracker_kills_ ? "tracker" : "shim"; }

 private:
  using Key = std::pair<uint64_t, pid_t>;  // ino (0 when unknown), pid
  static Key key_of(uint64_t ino, pid_t pid) { return ino ? Key{ino, 0} : Key{0, pid}; }
  void count_forker(pid_t pid, uint64_t ino, std::optional<uint64_t> start_time);
  std::vector<Process> refusals_;          // per forker, in order of its first refusal
  bool tracker_kills_ = false;
  // Deaths by SIGKILL, each once, in order; those progeny caused (its own signals, the
  // tracker's kills at the cap) are left out when asked, whichever record came first.
  std::set<Key> killed_by_us_, died_;
  std::vector<Process> kill_deaths_;
  std::set<Key> kernel_seen_;
  std::vector<Process> kernel_victims_;
};

}  // namespace progeny
