// Reading a lineage log (docs/CONTRACT.md, schema 1) and telling processes apart.
//
// Parsing is tolerant: a truncated, garbled or ill-typed line becomes a LogProblem with its
// line number and the rest of the log is still read (a log cut by a crash or a full disk must
// still be readable). Identity follows the contract: (pid, start_time) names a process, since
// pids are reused; a record that lacks start_time belongs to the latest process with that pid
// alive at that time.
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

namespace progeny {

struct LogEvent {
  size_t line = 0;  // 1-based line number in the log
  std::string event;
  std::string source;
  pid_t pid = 0;
  uint64_t time_ns = 0;
  std::optional<uint64_t> start_time;
  // The event-specific fields the views use, typed once here (absent: nullopt, empty, false).
  // Holding these instead of each record's JSON tree keeps a 100,000-event log cheap.
  std::optional<int64_t> ppid, tid, pgid, sid, target_pid, target_start_time, code, count,
      wall_ns;
  std::optional<std::string> via, path, signal, reason, what;
  std::vector<std::string> argv;
  bool argv_truncated = false, core = false, unknown = false;
};

struct LogProblem {
  size_t line = 0;
  std::string what;
};

struct LogContents {
  std::vector<LogEvent> events;  // in file order
  std::vector<LogProblem> problems;
};

// The top-level fields of one JSON record, parsed with nlohmann-json's SAX interface
// straight into this flat form: a record is one object of scalars and string arrays, and
// building a full JSON tree per line would cost more than everything else the views do.
class FlatRecord {
 public:
  // Parses `line`; false (and *why set) when it is not one JSON object.
  bool parse(std::string_view line, std::string* why);

  bool has(std::string_view key) const { return find(key) != nullptr; }
  // Typed access; nullopt/empty/false when absent or of another type.
  std::optional<int64_t> integer(std::string_view key) const;
  std::optional<std::string> str(std::string_view key) const;
  bool flag(std::string_view key) const;
  std::vector<std::string> strings(std::string_view key) const;
  // A signal given as a number or a name, as a short name ("TERM", "KILL", "SIG42").
  std::optional<std::string> signal(std::string_view key) const;

  struct Value {
    enum Kind { kOther, kInt, kUint, kBool, kString, kStrings } kind = kOther;
    int64_t i = 0;
    uint64_t u = 0;
    bool b = false;
    std::string s;
    std::vector<std::string> list;  // the string elements of an array
  };
  std::vector<std::pair<std::string, Value>> fields;  // a repeated key keeps its last value

 private:
  const Value* find(std::string_view key) const;
};

// Reads every line of `in`. Never throws on bad content.
LogContents read_log(std::istream& in);
// Parses one line; nullopt (and *why set) when it is not a usable schema-1 record.
std::optional<LogEvent> parse_log_line(std::string_view line, std::string* why);
// The same for a record already parsed.
std::optional<LogEvent> event_from_record(const FlatRecord& rec, std::string* why);
// One line per problem on `err` ("NAME:LINE: what"), at most `limit` of them plus a count of
// the rest, so a log full of garbage does not bury the output.
void report_problems(const std::vector<LogProblem>& problems, const std::string& name,
                     std::FILE* err, size_t limit = 20);

// Assigns process identities while events are visited in time order.
class IdentityResolver {
 public:
  // The process a record about (pid, start_time) at time t belongs to; creates one when
  // needed. `birth` marks a record that creates the process (a fork), which never attaches
  // to an earlier process of the same pid that has already exited.
  size_t resolve(pid_t pid, std::optional<uint64_t> start_time, uint64_t t, bool birth,
                 pid_t creator = 0);
  // For records that name another process by pid only (a parent, a signal target): the
  // latest process with that pid seen so far, created as a placeholder when unknown.
  size_t by_pid(pid_t pid, uint64_t t);
  void mark_exited(size_t id, uint64_t t) { ids_[id].exited_ns = t; }

  struct Identity {
    pid_t pid = 0;
    std::optional<uint64_t> start_time;
    uint64_t first_ns = 0;
    std::optional<uint64_t> exited_ns;
    bool born = false;  // a birth record was seen
    pid_t creator = 0;
  };
  const std::vector<Identity>& identities() const { return ids_; }

 private:
  size_t create(pid_t pid, std::optional<uint64_t> start_time, uint64_t t);
  std::vector<Identity> ids_;
  std::unordered_map<pid_t, std::vector<size_t>> by_pid_;  // incarnations, oldest first
};

}  // namespace progeny
