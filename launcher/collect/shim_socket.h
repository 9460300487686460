// The launcher's end of the shim transport (docs/CONTRACT.md, docs/shim.md): the abstract
// AF_UNIX socket every shimmed process connects to. It checks every peer, reads the record
// lines, parses each into a typed Record, ties it to the identity of the process it is about
// (and, with --contain pidns, to that process's pid in our namespace), and hands on the
// records and the live processes proven to descend from the launcher. It holds no members
// and writes no log: the run loop owns both (Membership, LineageLog). Everything is driven
// from the launcher's single-threaded poll loop through one fd.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "launcher/members/verified.h"
#include "launcher/os/fd.h"
#include "schema/record.h"

namespace progeny {

class ShimSocket {
 public:
  struct Options {
    pid_t launcher = 0;  // 0: this process; peers must descend from it
    // COMMAND runs in its own PID namespace (--contain pidns): records carry that
    // namespace's pids and are rewritten to ours, keeping theirs as ns_pid.
    bool translate_ns_pids = false;
    // Every record that is tied to its process's identity, in arrival order.
    std::function<void(Record&&)> on_record;
    // A live process proven to descend from the launcher (a peer, a record's process), with
    // the parent its records name (0: unknown).
    std::function<void(VerifiedProcess&&, pid_t parent, uint64_t parent_ino,
                       uint64_t parent_start_time)> on_member;
    // A process that had already ended when its record was read, held by the pidfd passed
    // with its record (by its parent, or by a fork child itself): its exit status can still
    // be learnt.
    std::function<void(Fd pidfd, const Record& about)> on_ended;
    // A proven member to hold outside the tree (docs/shim.md), by a pidfd (lent: the callee
    // keeps a copy if it wants one) and its pidfs identity: with the read end of the lifeline
    // pipe it armed and passed in (SO_PEERPIDFD's pidfd), or with none (a fork record's
    // child, which may never hand one in: a vfork or posix_spawn child that execs a setuid
    // or static program). Dropped, the member has no lifeline. False: nobody holds it (the
    // keeper was killed: the launcher then releases the pair armed, and the member dies as
    // the keeper's members did). The end is lent too: the caller closes its copy afterwards.
    // The write end stays here, armed by the member as well, so the keeper's death, alone
    // or with the launcher's, takes the member down.
    std::function<bool(const Fd& lifeline, const Fd& member_pidfd, uint64_t ino)> on_hold;
    // Live members by pid (the descent proof stops at one).
    MemberLookup member;
  };

  // nullptr and a one-line *error when the socket cannot be set up.
  static std::unique_ptr<ShimSocket> open(Options opts, std::string* error);
  ShimSocket(const ShimSocket&) = delete;
  ShimSocket& operator=(const ShimSocket&) = delete;

  // Value for PROGENY_SOCK.
  const std::string& name() const { return name_; }
  // An epoll fd: poll it for POLLIN and call on_readable() when it is ready.
  int fd() const { return epoll_.get(); }
  // Accepts, reads and hands on whatever is ready, never blocking.
  void on_readable();
  // At the end: reads everything still queued; what still cannot be placed is refused.
  void drain();
  // A process of the run known otherwise (COMMAND, a member): its late records, and its
  // children's, are accepted even when it is gone before its connection is read.
  void vouch(uint64_t ino);
  // Before the keeper is dismissed: its ends closing must then signal nobody.
  void disarm_lifelines();
  // The member `ino` is gone: our end of its lifeline is closed now, not at the EPOLLERR the
  // keeper's dropping its end would bring (one wake-up fewer per member).
  void exited(uint64_t ino);

  uint64_t lost() const { return lost_; }  // records the shims could not send
  // Connections and lines dropped: not from the tree, or about a process whose identity
  // could not be established (never attached to whatever process has that number).
  uint64_t refused() const { return refused_; }

 private:
  struct Conn {
    Fd fd;
    pid_t peer = 0;
    uint64_t peer_ino = 0;
    Fd peer_pidfd;  // a verified peer's (Linux 6.5+)
    bool verified = false;  // the peer was placed in the tree (proven, or known by identity)
    std::string buf;
  };
  struct Pending {
    Record rec;
    Fd passed;
  };

  ShimSocket() = default;
  void accept_all();
  // Reads what is queued; false once the connection is finished (and closed).
  bool read_conn(int fd);
  // One line and the descriptors that came with it (a lifeline's two ends, a pidfd, or both).
  void handle_line(const Conn& c, std::string_view line, std::vector<Fd> with);
  // The two ends of a pipe the peer passed: its lifeline. The read end is handed on (see
  // on_hold), our_end is kept (moved from). True when it is held.
  bool take_lifeline(const Conn& c, const Fd& keeper_end, Fd& our_end);
  // Our end of the lifeline `ino` handed in before, disarmed: the keeper is about to close
  // its end (a fresh one replaces it), or the run is over.
  void disarm(uint64_t ino);
  // Our end of a lifeline whose keeper end is gone (the member exited, or the keeper did).
  void drop_lifeline(int fd);
  // Our end `fd` out of the epoll set, then closed; its member's armed entry goes with it.
  void forget_lifeline(int fd);
  void close_conn(std::unordered_map<int, Conn>::iterator it);
  // Places the record (pidns: rewrites its pids to ours); false when its process's pid in
  // our namespace cannot be established yet.
  bool place(Record* r);
  pid_t host_pid_of(uint64_t ino);
  bool vouched(const Record& r) const;
  // held: the record's process is held already (its lifeline came with the record).
  void accept(Record r, Fd passed, bool held = false);
  // The membership a record about a process asks for: proven, held, or its exit awaited.
  // False when the record is refused (a lie about who it names, or not of this run).
  bool admit(Record& r, Fd passed, bool held);
  void retry_pending(bool final);
  // A pidfd of the process the record is about, checked against its identity (the one its
  // shim passed, or one opened by identity); *contradicted when the identity names a live
  // process with another pid.
  Fd open_identified(const Record& r, Fd passed, bool* contradicted) const;
  void remember(uint64_t ino);

  Options opts_;
  std::string name_;
  Fd listen_;
  Fd epoll_;
  std::unordered_map<int, Conn> conns_;
  // Our ends of the lifelines, by fd, each with its member's pidfs inode: kept until the
  // keeper's end is gone.
  struct Lifeline {
    uint64_t ino;
    Fd end;
  };
  std::unordered_map<int, Lifeline> lifelines_;
  // pidfs inode -> our end that is still armed (signals that member when the keeper's goes)
  std::unordered_map<uint64_t, int> armed_;
  static constexpr size_t kMaxPending = 65536;
  std::vector<Pending> pending_;
  // Identities seen in accepted records and proven peers: they vouch for a late record of a
  // process that is gone (a connection whose peer died before we accepted it). Bounded.
  static constexpr size_t kMaxKnown = 1 << 20;
  std::unordered_set<uint64_t> known_;
  // pidfs inode -> our pid, from every peer and every record placed, so a record about a
  // process gone by the time it is read still translates (pidns mode).
  std::unordered_map<uint64_t, pid_t> host_by_ino_;
  uint64_t lost_ = 0;
  uint64_t refused_ = 0;
};

}  // namespace progeny
