// The lineage log's one writer (README "Lineage log"). Every record of a run, whatever its
// source (the launcher, the shim's socket, the tracker), goes through write(): it becomes one
// line of at most 4 KiB (schema/record.h), goes to the file and to the trace tap, and is
// counted per process, so that the log keeps its promises:
//   - one exit per (process, source): a second exit of the same process from the same source
//     is dropped (the launcher can learn an exit both by reaping and by a pidfd);
//   - every process the log names has an exit: finish() writes `exit` with `unknown: true` for
//     those no source could observe, and counts them in a `lost` record (`what: exit`);
//   - a write that fails (ENOSPC, EIO, EFBIG) ends the file at its last whole record; what
//     follows is counted, and the caller says so on stderr (error(), unwritten()).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "launcher/os/fd.h"
#include "schema/record.h"

namespace progeny {

class LineageLog {
 public:
  struct Options {
    std::string path;  // empty: no file (the tap and the bookkeeping still work)
    bool append = false;     // `progeny watch` adds to a log; `run` replaces it
    bool to_stdout = false;  // no path: the records go to standard output (`watch`)
    // A run's stop ends every process, so one without an exit had it unobserved; a watch
    // ends with what it watches still running, which have no exit yet.
    bool every_process_ends = true;
    pid_t launcher = 0;
    // Sees every record as it is written (`progeny run --trace`).
    std::function<void(const Record&)> tap;
  };
  // nullptr and a one-line *why when the file is refused (log_file.h says when).
  static std::unique_ptr<LineageLog> open(Options opts, std::string* why);
  ~LineageLog() { flush(); }
  LineageLog(const LineageLog&) = delete;
  LineageLog& operator=(const LineageLog&) = delete;

  void write(const Record& r);
  // Writes what is buffered (the run loop calls it once per wake-up).
  void flush();
  // End of the run: the unknown exits, their `lost` count, and a last try at saying how
  // much a failed log lost. Nothing may be written after it.
  void finish();

  int error() const { return error_; }  // 0, or the errno that ended the file early
  uint64_t unwritten() const { return unwritten_; }  // records after that
  uint64_t bytes() const { return bytes_; }           // what the file holds
  uint64_t unknown_exits() const { return unknown_exits_; }

  // What the records said of a process (by pidfs inode): who created it and what it ran.
  struct Origin {
    // The creator when a fork record named it; else the parent an exec record or a /proc walk
    // found it under (which may be an adopter: the launcher, as subreaper).
    pid_t creator = 0;
    uint64_t creator_ino = 0;
    bool creator_from_fork = false;
    std::string via;   // the creating call
    std::string name;  // base name of its latest image
    bool setsid = false, setpgid = false;  // a record said it led a session / a group of its own
  };
  const Origin* origin(uint64_t ino) const;

  // The processes that created the most others (by the records' creators; the launcher's
  // own spawn not counted), most first, at most n.
  struct Creator {
    pid_t pid = 0;
    uint64_t ino = 0;
    std::string name;  // its Origin's, when the log knows it
    uint64_t created = 0;
  };
  std::vector<Creator> top_creators(size_t n) const;

 private:
  LineageLog() = default;
  // A process as the log can tell it apart: its pidfs inode, or (pid, start time).
  struct Key {
    uint64_t ino = 0;
    pid_t pid = 0;
    uint64_t start_time = 0;
    bool operator<(const Key& o) const {
      return std::tie(ino, pid, start_time) < std::tie(o.ino, o.pid, o.start_time);
    }
  };
  static std::optional<Key> key_of(const Record& r);
  void account(const Record& r);

  Options opts_;
  Fd fd_;
  std::string out_;
  int error_ = 0;
  uint64_t bytes_ = 0, unwritten_ = 0, unknown_exits_ = 0;
  // Per process: its pid, and whether some source recorded its exit.
  struct Seen {
    pid_t pid = 0;
    uint64_t start_time = 0;
    bool exited = false;
  };
  std::map<Key, Seen> seen_;
  std::map<uint64_t, Origin> origins_;  // bounded: a million processes
  std::set<std::pair<Key, std::string>> exits_;  // (process, source) whose exit is written
};

}  // namespace progeny
