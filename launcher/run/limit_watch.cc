#include "launcher/run/limit_watch.h"

#include <errno.h>

#include <algorithm>

#include "launcher/os/proc.h"

namespace progeny {

void LimitWatch::on_record(const Record& r) {
  if (r.event == "fork_failed" && r.error == EAGAIN) {
    uint64_t ino = r.ino.value_or(0);
    for (Process& p : refusals_)
      if (key_of(p.ino, p.pid) == key_of(ino, r.pid)) {
        ++p.count;
        return;
      }
    Process p{r.pid, ino, 1, {}};
    // Alive as it failed to fork: its name, if the pid is still that process.
    if (auto st = read_proc_stat(r.pid); st && (!r.start_time || st->start_time == *r.start_time))
      p.comm = st->comm;
    refusals_.push_back(std::move(p));
  } else if (r.event == "signal" && r.source == "launcher" && r.signal == "KILL" && r.target_pid) {
    killed_by_us_.insert(key_of(r.target_ino.value_or(0), static_cast<pid_t>(*r.target_pid)));
  } else if (r.event == "exit" && r.signal == "KILL") {
    // Several sources report the same death: counted once.
    Key k = key_of(r.ino.value_or(0), r.pid);
    if (killed_by_us_.count(k) || !died_.insert(k).second) return;
    unexplained_kills_.push_back({r.pid, r.ino.value_or(0), 0, {}});
  }
}

std::vector<LimitWatch::Process> LimitWatch::forkers(size_t n) const {
  std::vector<Process> out = refusals_;
  std::stable_sort(out.begin(), out.end(),
                   [](const Process& a, const Process& b) { return a.count > b.count; });
  if (out.size() > n) out.resize(n);
  return out;
}

std::vector<LimitWatch::Process> LimitWatch::oom_victims(uint64_t oom_kills) const {
  std::vector<Process> out = unexplained_kills_;
  if (out.size() > oom_kills) out.resize(oom_kills);
  return out;
}

}  // namespace progeny
