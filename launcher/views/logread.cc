#include "launcher/views/logread.h"

#include <signal.h>
#include <string.h>


namespace progeny {

std::string_view record_text(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return {};
  return line;
}

LogContents read_log(std::istream& in) {
  LogContents out;
  std::string raw;
  size_t n = 0;
  while (std::getline(in, raw)) {
    ++n;
    std::string_view line = record_text(raw);
    if (line.empty()) continue;
    std::string why;
    if (auto r = parse_record(line, &why)) {
      LogEvent ev;
      static_cast<Record&>(ev) = std::move(*r);
      ev.line = n;
      out.events.push_back(std::move(ev));
    } else {
      out.problems.push_back({n, why});
    }
  }
  return out;
}

void report_problems(const std::vector<LogProblem>& problems, const std::string& name,
                     std::FILE* err, size_t limit) {
  for (size_t i = 0; i < problems.size() && i < limit; ++i)
    std::fprintf(err, "progeny: %s:%zu: %s, skipped\n", name.c_str(), problems[i].line,
                 problems[i].what.c_str());
  if (problems.size() > limit)
    std::fprintf(err, "progeny: %s: %zu more unreadable lines skipped\n", name.c_str(),
                 problems.size() - limit);
}

size_t IdentityResolver::create(pid_t pid, std::optional<uint64_t> ino,
                                std::optional<uint64_t> start_time, uint64_t t) {
  ids_.push_back({pid, std::nullopt, std::nullopt, t, std::nullopt, false, 0});
  size_t id = ids_.size() - 1;
  latest_[pid] = id;
  learn(id, ino, start_time);
  return id;
}

void IdentityResolver::learn(size_t id, std::optional<uint64_t> ino,
                             std::optional<uint64_t> start_time) {
  Identity& x = ids_[id];
  if (ino && !x.ino) {
    x.ino = ino;
    by_ino_.emplace(*ino, id);
  }
  if (start_time && !x.start_time) {
    x.start_time = start_time;
    by_start_.emplace(start_key(x.pid, *start_time), id);
  }
}

std::optional<size_t> IdentityResolver::latest_open(pid_t pid, std::optional<uint64_t> ino,
                                                    std::optional<uint64_t> start_time,
                                                    uint64_t t) const {
  auto it = latest_.find(pid);
  if (it == latest_.end()) return std::nullopt;
  const Identity& last = ids_[it->second];
  if (ino && last.ino && *last.ino != *ino) return std::nullopt;
  if (start_time && last.start_time && *last.start_time != *start_time) return std::nullopt;
  if (last.exited_ns && *last.exited_ns < t && (ino || start_time)) return std::nullopt;
  return it->second;
}

size_t IdentityResolver::resolve(pid_t pid, std::optional<uint64_t> ino,
                                 std::optional<uint64_t> start_time, uint64_t t, bool birth,
                                 pid_t creator) {
  std::optional<size_t> id;
  if (ino) {
    if (auto it = by_ino_.find(*ino); it != by_ino_.end()) id = it->second;
  }
  if (!id && start_time) {
    if (auto it = by_start_.find(start_key(pid, *start_time)); it != by_start_.end())
      id = it->second;
  }
  if (!id && (ino || start_time)) {
    // A process first seen through a record without identity (or only as someone's parent)
    // learns it here, unless it is known to be another process.
    id = latest_open(pid, ino, start_time, t);
  }
  if (!id && !ino && !start_time) {
    if (auto it = latest_.find(pid); it != latest_.end()) {
      const Identity& last = ids_[it->second];
      // A second birth of a pid is the same process only when another source reports the
      // same birth (same creator, not yet exited); otherwise the pid was reused.
      bool reused = birth && (last.exited_ns || (last.born && last.creator != creator));
      if (!reused) id = it->second;
    }
  }
  if (!id) id = create(pid, ino, start_time, t);
  learn(*id, ino, start_time);
  if (birth && !ids_[*id].born) {
    ids_[*id].born = true;
    ids_[*id].creator = creator;
  }
  return *id;
}

size_t IdentityResolver::named(pid_t pid, std::optional<uint64_t> ino,
                               std::optional<uint64_t> start_time, uint64_t t) {
  if (ino) {
    if (auto it = by_ino_.find(*ino); it != by_ino_.end()) return it->second;
  }
  if (start_time) {
    if (auto it = by_start_.find(start_key(pid, *start_time)); it != by_start_.end())
      return it->second;
  }
  if (auto it = latest_.find(pid); it != latest_.end()) {
    if (!ino && !start_time) return it->second;
    if (auto open = latest_open(pid, ino, start_time, t)) {
      learn(*open, ino, start_time);
      return *open;
    }
  }
  return create(pid, ino, start_time, t);
}

}  // namespace progeny
