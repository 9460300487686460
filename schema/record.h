// One lineage record (README "Lineage log", schema version 1): every field of every event in
// one flat struct, written by the launcher's one writer (to_line) and read by the one reader
// (parse_record), both driven by the same field table in record.cc, whose names come from
// schema/protocol.h as the shim's writer spells them. A field that is absent is nullopt (or
// empty, or false).
#pragma once
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace progeny {

uint64_t monotonic_ns();
uint64_t realtime_ns();

struct Record {
  // Every record.
  std::string event;   // start fork fork_failed exec exec_failed setsid setpgid exit signal timeout stop lost limit
  std::string source;  // launcher shim bpf
  pid_t pid = 0;       // in the launcher's PID namespace
  uint64_t time_ns = 0;  // CLOCK_MONOTONIC, taken where the event happened
  // Identity: the pidfs inode (Linux 6.9+), the /proc start time; the pid inside COMMAND's
  // PID namespace (--contain pidns).
  std::optional<uint64_t> ino, start_time;
  std::optional<int64_t> ns_pid;
  // Lineage: the creator (fork) or parent (exec) and its identity, how it was created, groups.
  std::optional<int64_t> ppid;
  std::optional<uint64_t> parent_ino, parent_start_time;
  std::optional<int64_t> tid, pgid, sid;
  std::optional<std::string> via, role;
  // exec, exec_failed.
  std::optional<std::string> path, comm;
  std::vector<std::string> argv;
  bool argv_truncated = false;
  std::optional<uint64_t> argv_bytes;  // the whole argv's size, when it was cut
  std::optional<int64_t> error;        // "errno"
  // exit: code, or signal and core; unknown when nobody could observe it.
  std::optional<int64_t> code;
  std::optional<std::string> signal;  // short name ("TERM"); also the signal of `signal`
  bool core = false, unknown = false;
  // exit: the process title, its argv area at exit split like argv (the tracker's; a process
  // that rewrote it, e.g. "postgres: checkpointer", or else the argv it was started with).
  std::vector<std::string> title;
  // exit: what it cost (absent: no source had it). Self, from the tracker: CPU in ns, the
  // peak resident set of all its images in KiB, birth to exit in ns. Inclusive, from wait4
  // where the launcher reaped it: itself plus the descendants it waited for.
  std::optional<uint64_t> cpu_user_ns, cpu_system_ns, peak_rss_kb, lifetime_ns;
  std::optional<uint64_t> inclusive_cpu_user_ns, inclusive_cpu_system_ns, inclusive_peak_rss_kb;
  // signal: what progeny sent to whom and why.
  std::optional<int64_t> target_pid, parent;
  std::optional<uint64_t> target_ino, target_start_time;
  std::optional<std::string> reason, cause;
  // start.
  std::optional<uint64_t> wall_ns;
  std::optional<std::string> version;
  std::vector<std::string> mechanisms;
  // timeout, stop, lost.
  std::optional<int64_t> after_ms;
  std::optional<std::string> phase, what;
  std::optional<uint64_t> members, survivors, count, refused, untracked;
  // A shim's count of earlier records it could not send.
  std::optional<uint64_t> lost;
  // limit (what: pids, memory, cpu): the value enforced, by which backend, whether the kernel
  // acted on it (count: its main counter), and the process it names (target_*).
  std::optional<std::string> limit, backend;
  bool hit = false;
};

// A record of `event` from `source` about `pid`, at time_ns (now when 0).
Record make_record(std::string_view event, std::string_view source, pid_t pid, uint64_t time_ns = 0);
// The `exit` record: code, or signal and core; unknown when status is null.
Record exit_record(std::string_view source, pid_t pid, uint64_t ino, uint64_t start_time,
                   const int* status, uint64_t time_ns = 0);

// Adds wait4's account of a reaped child (it and its waited-for descendants) to its exit record.
void set_inclusive_cost(Record* r, const struct rusage& ru);

// The record as one line of JSON, newline included, at most PROGENY_MAX_RECORD bytes: when it
// would be longer, argv is cut from the end (argv_truncated, argv_bytes = its whole size) and
// then any string longer than a quarter of the limit is cut (at a character boundary).
std::string to_line(const Record& r);

// The record on one line (newline optional); nullopt and a short *why when it is not a
// usable schema-1 record. Unknown fields are ignored; "signal" may be a name or a number.
std::optional<Record> parse_record(std::string_view line, std::string* why);
// The same into *out (reset first), which may be a larger object built on Record: no copy.
bool parse_record(std::string_view line, std::string* why, Record* out);

// The top-level time_ns of a record line, found by a scan that skips strings (with their
// escapes) and nested values without building anything: what a reader that must put a log in
// time order before it parses it needs, at a fraction of parse_record's cost. nullopt when the
// scan finds no such integer (parse_record then judges the line). The last one counts, as in
// parse_record.
std::optional<uint64_t> peek_time_ns(std::string_view line);

}  // namespace progeny
