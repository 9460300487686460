// The launcher's end of the shim transport (docs/CONTRACT.md, docs/shim.md): owns the lineage
// log and the abstract AF_UNIX socket the shim connects to, verifies every peer, tracks the
// members the shim reports (pid + start time, with a pidfd each), and applies the orphan
// policy: when a member dies of a signal, its children are sent the parent-death signal.
// Everything is driven from the launcher's single-threaded poll loop through one fd.
#pragma once
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string_view>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "launcher/os/fd.h"
#include "schema/record.h"
#include "launcher/members/verified.h"

namespace progeny {

struct ShimMember {
  pid_t pid = 0;
  uint64_t start_time = 0;
  bool operator==(const ShimMember&) const = default;
};

// Fields of one shim record, as the sink reads them (exposed for tests). The identity of the
// process (ino, or start_time without pidfs) and of its parent come from the shim itself.
struct ShimLine {
  std::string event;
  int64_t pid = -1, ppid = -1, lost = 0;
  uint64_t ino = 0, start_time = 0, parent_ino = 0, parent_start_time = 0;
  bool ns_translated = false;  // pids already rewritten to the launcher's (pidns)
  bool has_identity() const { return ino || start_time; }
};
bool parse_shim_line(std::string_view line, ShimLine* out);

class EventSink {
 public:
  struct Options {
    std::string log_path;      // empty: no log file (membership and policy still work)
    pid_t launcher = 0;        // 0: this process; peers must descend from it
    int pdeathsig = 9;         // sent to the children of a member killed by a signal; 0 = off
    std::string proc_root = "/proc";
    // COMMAND runs in its own PID namespace (--contain pidns): the shim's records carry that
    // namespace's pids and are rewritten to the launcher's, keeping theirs as `ns_pid`.
    bool translate_ns_pids = false;
    // Sees every batch of complete record lines as it is written (`progeny run --trace`).
    std::function<void(std::string_view lines)> tap;
  };

  // nullptr and a one-line *error when the log file or the socket cannot be set up.
  static std::unique_ptr<EventSink> open(const Options& opts, std::string* error);
  ~EventSink();
  EventSink(const EventSink&) = delete;
  EventSink& operator=(const EventSink&) = delete;

  // Value for PROGENY_SOCK.
  const std::string& socket_name() const { return name_; }
  // An epoll fd: poll it for POLLIN and call on_readable() when it is ready.
  int fd() const { return epoll_.get(); }
  // Accepts, reads and handles whatever is ready, never blocking.
  void on_readable();
  // The launcher's own records (start, signal, stop, ...).
  void write(const Record& r);
  // At the end: reads everything still queued, writes the `lost` event, flushes the log.
  void drain();
  // The launcher reaped one of its children: the sink records the exit of its members
  // (and applies the orphan policy), so the caller writes `exit` only when this returns false.
  bool on_reaped(pid_t pid, int status);

  // Live members the shim made known (connections and fork/exec records), for the stop set.
  std::vector<ShimMember> members() const;
  uint64_t lost() const { return lost_; }        // records the shims could not send
  // Connections and lines dropped: not from the tree, or about a process whose identity
  // could not be established (never attached to whatever process has that number).
  uint64_t refused() const { return refused_; }
  // 0, or the errno that ended the log early (ENOSPC, EIO, EFBIG): the log then stops at
  // its last whole record, and log_unwritten() records after it were not written.
  int log_error() const { return log_error_; }
  uint64_t log_unwritten() const { return log_unwritten_; }
  uint64_t log_bytes() const { return log_bytes_; }
  // The RLIMIT_NOFILE the launcher had before open() raised it (one fd per member): restore it
  // in COMMAND's child before exec.
  const rlimit& original_nofile() const { return original_nofile_; }

 private:
  struct Conn {
    Fd fd;
    pid_t peer = 0;
    bool verified = false;  // peer placed in the tree at accept (alive and descending, or known)
    std::string buf;
  };
  struct Member {
    VerifiedProcess proc;
    pid_t parent = 0;  // as its records name it: the creator of a forked child
    uint64_t parent_ino = 0, parent_start = 0;
  };

  EventSink() = default;
  void accept_all();
  void read_conn(int fd);
  void handle_line(Conn& c, std::string line);
  // --contain pidns: rewrites the record's namespace pids to ours, found by identity; false
  // when the process's pid in our namespace cannot be established (yet).
  bool translate_ns_pids(const Conn& c, ShimLine* f, std::string* line);
  // Our pid of the process with this identity whose namespace pid is ns_pid; 0 if unknown.
  pid_t host_pid_of(const Conn& c, pid_t ns_pid, uint64_t ino, uint64_t start_time);
  pid_t host_pid_by_walk(pid_t peer, pid_t ns) const;
  bool vouched(const ShimLine& f) const;
  void accept_line(const ShimLine& f, std::string line);
  // Lines that could not be placed yet; final: count what is left as refused.
  void retry_pending(bool final);
  // A pidfd of the live process the record is about, checked against its identity.
  Fd open_identified(pid_t pid, uint64_t ino, uint64_t start_time) const;
  // Makes a member of the process behind pidfd if it descends from the launcher.
  Member* add_member(pid_t pid, Fd pidfd, pid_t parent, uint64_t parent_ino,
                     uint64_t parent_start);
  // A member now, or one that exited lately (its records may arrive after its exit).
  bool known(pid_t pid) const;
  void member_exited(pid_t pid, const int* status);
  // A bounded memory of exited members (and reaped children), to vouch for late records.
  void remember_exited(pid_t pid);
  void flush();

  Options opts_;
  std::string name_;
  Fd log_;
  Fd listen_;
  Fd epoll_;
  std::unordered_map<int, Conn> conns_;
  std::map<pid_t, Member> members_;
  std::unordered_map<int, pid_t> pidfds_;  // pidfd -> member pid
  static constexpr size_t kRecent = 65536;
  std::unordered_set<pid_t> recent_;
  std::deque<pid_t> recent_order_;
  static constexpr size_t kMaxPending = 65536;
  std::vector<std::pair<ShimLine, std::string>> pending_;
  std::vector<pid_t> pending_conn_;  // the peer each pending line came from
  std::string out_;
  uint64_t lost_ = 0;
  uint64_t refused_ = 0;
  int log_error_ = 0;
  uint64_t log_bytes_ = 0, log_unwritten_ = 0;
  rlimit original_nofile_{};
  // --contain pidns: pidfs inode -> our pid, from every connection's peer and every record
  // placed, so a record about a process gone by the time it is read still translates.
  std::unordered_map<uint64_t, pid_t> host_by_ino_;
  // Without pidfs: namespace pid -> launcher pid, from the last walk (host_pid_by_walk).
  mutable std::unordered_map<pid_t, pid_t> ns_to_host_;
  mutable uint64_t last_ns_walk_ = 0;
};


}  // namespace progeny
