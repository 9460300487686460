#include "launcher/run/limit_watch.h"

#include <errno.h>

#include <algorithm>

#include "launcher/os/proc.h"

namespace progeny {

void LimitWatch::count_forker(pid_t pid, uint64_t ino, std::optional<uint64_t> start_time) {
  for (Process& p : refusals_)
    if (key_of(p.ino, p.pid) == key_of(ino, pid)) {
      ++p.count;
      return;
    }
  Process p{pid, ino, 1, {}};
  // Alive as it forked: its name, if the pid is still that process.
  if (auto st = read_proc_stat(pid); st && (!start_time || st->start_time == *start_time))
    p.comm = st->comm;
  refusals_.push_back(std::move(p));
}

void LimitWatch::on_record(const Record& r) {
  if (r.event == "fork_failed" && r.error == EAGAIN) {
    count_forker(r.pid, r.ino.value_or(0), r.start_time);
  } else if (r.event == "limit_kill" && r.ppid) {
    tracker_kills_ = true;
    count_forker(static_cast<pid_t>(*r.ppid), r.parent_ino.value_or(0), std::nullopt);
    killed_by_us_.insert(key_of(r.ino.value_or(0), r.pid));
  } else if (r.event == "oom_kill") {
    if (kernel_seen_.insert(key_of(r.ino.value_or(0), r.pid)).second)
      kernel_victims_.push_back({r.pid, r.ino.value_or(0), 0, {}});
  } else if (r.event == "signal" && r.source == "launcher" && r.signal == "KILL" && r.target_pid) {
    killed_by_us_.insert(key_of(r.target_ino.value_or(0), static_cast<pid_t>(*r.target_pid)));
  } else if (r.event == "exit" && r.signal == "KILL") {
    // Several sources report the same death: counted once.
    if (died_.insert(key_of(r.ino.value_or(0), r.pid)).second)
      kill_deaths_.push_back({r.pid, r.ino.value_or(0), 0, {}});
  }
}

std::vector<LimitWatch::Process> LimitWatch::forkers(size_t n) const {
  std::vector<Process> out = refusals_;
  std::stable_sort(out.begin(), out.end(),
                   [](const Process& a, const Process& b) { return a.count > b.count; });
  if (out.size() > n) out.resize(n);
  return out;
}

std::vector<LimitWatch::Process> LimitWatch::oom_victims(uint64_t oom_kills,
                                                         std::string* source) const {
  std::vector<Process> out;
  if (!kernel_victims_.empty()) {
    *source = "kernel";
    out = kernel_victims_;
  } else {
    *source = "sigkill";
    for (const Process& p : kill_deaths_)
      if (!killed_by_us_.count(key_of(p.ino, p.pid))) out.push_back(p);
  }
  if (out.size() > oom_kills) out.resize(oom_kills);
  return out;
}

}  // namespace progeny
