// Internals of libprogeny.so shared by its translation units. Everything here may run in the
// child of a fork (or in a vfork child that shares its parent's memory): only raw syscalls
// (shim/sys.h: none touches errno, so none needs it saved) and stack memory, no malloc, no
// stdio, no locks.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "schema/protocol.h"

namespace progeny::shim {

// Who a record is about (shim/identity.cc): the pidfs inode, or without pidfs the start time.
struct ProcId {
  uint64_t ino = 0;
  uint64_t start_time = 0;
  bool known() const { return ino || start_time; }
};

// Process-wide state, written only by the constructor, by hooks in a normal (non-vfork)
// context and by the child half of a real fork (which has its own copy of memory).
struct State {
  bool active = false;  // PROGENY_SOCK was set and the launcher answered
  bool reenv = true;    // put the shim's variables back into scrubbed environments
  int kill_sig = 0;     // PROGENY_PDEATHSIG: sent to us by the kernel when the launcher dies
  bool lifeline = false;  // kill_sig set and no other mechanism takes the tree down (no
                          // `nolifeline` in PROGENY_OPTS)
  bool lifeline_held = false;  // this process's own lifeline, armed with its current
                               // credentials, was handed in (an exec keeps it)
  char addr[108] = {};  // sun_path of the launcher's abstract socket (leading NUL)
  unsigned addr_len = 0;
  bool tracked = false;  // `tracked` in PROGENY_OPTS: the tracker records every exec
  bool pidfs = false;   // identities are pidfs inodes (else start times)
  // This process's identity, read when a record first needs it (own_identity()) and reset
  // in every fork child. Atomics: two threads may read it at once.
  std::atomic<uint64_t> self_ino{0}, self_start_time{0};
  std::atomic<uint64_t> lost{0};
};
extern State g;

// Set (in the shared memory) by the child of vfork or clone(CLONE_VM|CLONE_VFORK) and
// cleared by the parent when it resumes: such a child must not write the shim's state.
extern thread_local bool t_vfork_child __attribute__((tls_model("initial-exec")));

// Signals that mark, across an exec, "an active shim with lifelines armed this process", with
// no lifeline of its own (a vfork or posix_spawn child) or with one held (the new image need
// not hand in another). Their default action is to ignore, so a parent dying in the window
// between exec and constructor does no harm.
inline constexpr int kExecMarkerSig = 23;      // SIGURG
inline constexpr int kExecMarkerHeldSig = 28;  // SIGWINCH

// A JSON record built in a fixed buffer (PROGENY_MAX_RECORD), async-signal-safe.
class Json {
 public:
  // {"v":1,"event":EVENT,"source":"shim","pid":PID,"time_ns":now
  Json(const char* event, pid_t pid);
  void key(const char* k);
  void str(const char* k, const char* v);
  void num(const char* k, int64_t v);
  // "ino_key":N, or without pidfs "start_key":T, or nothing when unknown.
  void identity(const char* ino_key, const char* start_key, const ProcId& id);
  // Appends "argv":[...] with as many elements as fit; when cut, "argv_truncated":true and
  // "argv_bytes" (the whole argv's size): the room for them is always kept.
  void argv(char* const* argv, int argc);
  // Closes the object, with the count of earlier records that could not be sent; false when
  // the record did not fit.
  bool finish(uint64_t lost = 0);
  const char* data() const { return buf_; }
  size_t size() const { return len_; }

 private:
  void raw(const char* s, size_t n, size_t limit);
  void raw(const char* s);
  void quoted(const char* s, size_t limit);
  char buf_[PROGENY_MAX_RECORD];
  size_t len_ = 0;
  bool overflow_ = false;
};

uint64_t now_ns();

// Transport (transport.cc). Nothing here leaves a descriptor behind.
// Sends one finished record on a connection of its own: 0 or -errno (-ECONNREFUSED: nobody
// listens). pass_fd >= 0 travels with it (SCM_RIGHTS).
int send_record(const Json& j, int pass_fd = -1);
// Finishes and sends a record, counting what was lost. pass_fd >= 0: a pidfd of the process
// the record is about, handed to the launcher with it (the caller closes its own copy): the
// launcher then holds the process from its birth.
void send_event(Json& j, int pass_fd = -1);
// Connects, makes a pipe, arms both its ends (F_SETOWN_EX to this process, F_SETSIG(kill_sig),
// O_ASYNC) and sends them with data (a record, or a bare newline): the launcher keeps the
// write end and hands the read end to the keeper, outside the tree; the release of either
// signals us. Our copies are closed. pass_fd >= 0 (a pidfd of this process) travels with
// them. 0 or -errno.
int hand_in_lifeline(const char* data, size_t len, int pass_fd = -1);
// A fresh lifeline for this process (when lifelines are on); dies (kill_sig) if the
// launcher is gone, counts a failure as lost. Normal and fork-child contexts only.
void take_lifeline();
// In a vfork child about to exec a program the shim will not run in (exec_target.cc): a
// lifeline of its own, armed with the credentials it has now (its real uid survives a
// set-ID exec, which is what the kernel checks); dies if the launcher is gone. Writes
// nothing of the shared memory, so a failure goes uncounted.
void lifeline_before_unshimmed_exec();
// A record sent together with a fresh lifeline when lifelines are on (one connection for
// both), else alone, as send_event; dies (kill_sig) if the launcher is gone.
void send_event_with_lifeline(Json& j, int pass_fd = -1);
// Applies kill_sig to this process: the launcher is gone and we belong to its tree.
void die();

// Exec targets (exec_target.cc): whether the program an exec starts is one the shim will not
// run in (set-ID, file capabilities, static, or a script with such an interpreter).
// at_flags: execveat's AT_EMPTY_PATH and AT_SYMLINK_NOFOLLOW.
bool exec_target_unshimmed(int dirfd, const char* path, int at_flags);
// The same for execvp's `file`, searched in PATH when it has no '/'.
bool exec_search_target_unshimmed(const char* file);

// Identities (identity.cc).
void detect_pidfs();                // sets g.pidfs; once, in the constructor
ProcId identity_of(pid_t pid);      // of any process (the child of a fork, the parent)
ProcId identity_of_pidfd(int pidfd, pid_t pid);  // of the process behind a pidfd of ours
int open_pidfd(pid_t pid);          // a pidfd (close-on-exec), or -1
ProcId own_identity();              // of the caller (cached outside vfork children)

// Real libc entry points (hooks.cc), all resolved before the first fork so that no child
// ever calls dlsym (the loader lock may be held by a thread that does not exist there).
void resolve_all();

// Environment repair for exec (env.cc).
struct EnvFix {
  static constexpr int kMaxEntries = 1024;
  static constexpr size_t kBuf = 4096;
  char* vec[kMaxEntries];
  char buf[kBuf];
};
// Returns envp itself or a repaired copy in fix.
char* const* repair_env(char* const* envp, EnvFix* fix);
// Whether repair_env would copy envp (it lacks a variable of the shim's, or LD_PRELOAD the shim).
bool env_needs_repair(char* const* envp);
template <typename Exec>
__attribute__((noinline)) int exec_with_repaired_env(char* const* envp, Exec& exec) {
  EnvFix fix;
  return exec(repair_env(envp, &fix));
}
// Returns exec(env) with the environment an exec or spawn passes on: envp itself, or a
// repaired copy built in a frame of its own only when one is needed. The copy takes 12 KiB of
// stack, and stack a process never used so deep costs a page fault per page, in every exec.
template <typename Exec>
int with_env(char* const* envp, Exec exec) {
  if (!env_needs_repair(envp)) return exec(envp);
  return exec_with_repaired_env(envp, exec);
}
void save_env(char** envp);

// Who forks, read by the parent just before a real fork: the child has its own copy.
struct Birth {
  pid_t ppid = 0;
  ProcId parent;
  pid_t tid = 0;  // the forking thread
  const char* via = "";
};
Birth birth_before_fork(const char* via);
// In the child of a real fork (or of daemon): resets what it inherited, then reports its own
// birth, with its own lifeline: one connection per fork, and no child runs program code
// unreported (a parent killed just after the fork would have left it so).
void after_fork_child(const Birth& b);
// Reports a fork seen in the parent: a child that runs no shim code before its exec (vfork,
// posix_spawn, a CLONE_VM clone, popen and system's children).
void report_fork(pid_t child, const char* via);
void report_exec_failed(const char* path, int err);
// Reports a process creation the kernel refused (EAGAIN at a pids limit): the forker.
void report_fork_failed(const char* via, int err);

}  // namespace progeny::shim
