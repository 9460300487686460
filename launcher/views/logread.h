// Reading a lineage log (docs/CONTRACT.md, schema 1) and telling processes apart.
//
// Parsing is tolerant: a truncated, garbled or ill-typed line becomes a LogProblem with its
// line number and the rest of the log is still read (a log cut by a crash or a full disk must
// still be readable). Identity follows the contract: the pidfs inode (`ino`) names a process,
// else (pid, start_time), since pids are reused; a record that lacks both belongs to the
// latest process with that pid alive at that time.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "schema/record.h"

namespace progeny {

// A record as read from a log, with where it was.
struct LogEvent : Record {
  size_t line = 0;  // 1-based line number in the log
};

struct LogProblem {
  size_t line = 0;
  std::string what;
};

struct LogContents {
  std::vector<LogEvent> events;  // in file order
  std::vector<LogProblem> problems;
};

// The one rule for a line of a log: a trailing CR is dropped (a log edited on another
// system), and a line of only blanks and tabs holds no record (empty view returned).
std::string_view record_text(std::string_view line);
// Reads every line of `in`. Never throws on bad content.
LogContents read_log(std::istream& in);
// One line per problem on `err` ("NAME:LINE: what"), at most `limit` of them plus a count of
// the rest, so a log full of garbage does not bury the output.
void report_problems(const std::vector<LogProblem>& problems, const std::string& name,
                     std::FILE* err, size_t limit = 20);

// Assigns process identities while events are visited in time order. A record with `ino`
// (pidfs, Linux 6.9+) names its process exactly; without it (old logs, older kernels)
// (pid, start_time) does, and a record that lacks both belongs to the latest process with
// that pid alive at that time. Every lookup is a hash lookup: a pid reused 100,000 times
// costs no more than 100,000 pids.
class IdentityResolver {
 public:
  // The process a record about (pid, ino, start_time) at time t belongs to; creates one
  // when needed. `birth` marks a record that creates the process (a fork), which never
  // attaches to an earlier process of the same pid that has already exited.
  size_t resolve(pid_t pid, std::optional<uint64_t> ino, std::optional<uint64_t> start_time,
                 uint64_t t, bool birth, pid_t creator = 0);
  // For records that name another process (a parent, a signal target): by its identity when
  // the record gives it, else the latest process with that pid seen so far, created as a
  // placeholder when unknown.
  size_t named(pid_t pid, std::optional<uint64_t> ino, std::optional<uint64_t> start_time,
               uint64_t t);
  void mark_exited(size_t id, uint64_t t) { ids_[id].exited_ns = t; }

  struct Identity {
    pid_t pid = 0;
    std::optional<uint64_t> ino;
    std::optional<uint64_t> start_time;
    uint64_t first_ns = 0;
    std::optional<uint64_t> exited_ns;
    bool born = false;  // a birth record was seen
    pid_t creator = 0;
  };
  const std::vector<Identity>& identities() const { return ids_; }

 private:
  size_t create(pid_t pid, std::optional<uint64_t> ino, std::optional<uint64_t> start_time,
                uint64_t t);
  // The pid's latest process if it can still be the one a record at t with this identity
  // is about (it has no conflicting identity and had not ended before t).
  std::optional<size_t> latest_open(pid_t pid, std::optional<uint64_t> ino,
                                    std::optional<uint64_t> start_time, uint64_t t) const;
  void learn(size_t id, std::optional<uint64_t> ino, std::optional<uint64_t> start_time);
  static uint64_t start_key(pid_t pid, uint64_t start_time) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(pid)) << 40) ^ start_time;
  }
  std::vector<Identity> ids_;
  std::unordered_map<pid_t, size_t> latest_;       // pid -> its latest process
  std::unordered_map<uint64_t, size_t> by_ino_;    // pidfs inode -> process
  std::unordered_map<uint64_t, size_t> by_start_;  // (pid, start_time) -> process
};

}  // namespace progeny
