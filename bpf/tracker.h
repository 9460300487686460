// The user side of progeny's in-kernel descendant tracker (bpf/progeny.bpf.c, docs/bpf.md).
// One Tracker is one session: it owns the loaded BPF object, its maps, links and ring buffer,
// and releases all of them when destroyed (nothing is pinned).
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "schema/record.h"

#include "bpf/light_skeleton.h"

struct ring_buffer;  // libbpf

namespace progeny::bpf {

struct Member {
  pid_t pid;            // in the caller's PID namespace
  uint64_t start_time;  // /proc/PID/stat field 22 (clock ticks), as launcher/os/proc.h reads it
  uint64_t ino = 0;     // pidfs inode (Linux 6.9+), 0 without pidfs
};

struct Options {
  // Ring buffer size in bytes, rounded up to a power of two of at least a page. It is the
  // capacity: a consumer that stalls loses (and counts) only what does not fit in it.
  size_t ring_bytes = size_t{1} << 20;
  // Most processes tracked at once (alive: an entry goes at its process's exit). Entries are
  // allocated on demand; the hash buckets (16 bytes each) are made, and cost time, at load.
  uint32_t max_members = 16384;
  // When the root's last thread exits, SIGKILL every member in the kernel. The launcher wants
  // this (a SIGKILLed launcher takes its whole tree down); `progeny watch` does not.
  bool kill_on_root_exit = true;
  // Wake event_fd() only when a quarter of the ring is filled, instead of on every event.
  // Cheaper for the traced tree; the caller must then also consume() when its loop wakes for
  // other reasons and before it finishes the log. `progeny watch` turns it off for liveness.
  bool batch_wakeups = true;
  // `--limit pids=N` enforced here (no cgroup backend for it): a member's child born while
  // more than N processes are tracked is SIGKILLed at birth, its creator reported in a
  // `limit_kill` record. 0: no cap.
  uint32_t pids_cap = 0;
  // Existing children of root never to seed (the cgroup watchdog: the in-kernel kill on the
  // launcher's death must leave it alive to remove its cgroup).
  std::vector<pid_t> exclude;
};

// How long each step of Tracker::start took, in microseconds (the benchmark prints them).
struct StartPhases {
  double open_us = 0;    // the object opened, options set
  double load_us = 0;    // maps created, programs verified and loaded
  double seed_us = 0;    // the root registered (the caller's PID namespace learned)
  double attach_us = 0;  // the tracepoints attached
  double walk_us = 0;    // existing descendants seeded, the ring buffer opened
};

// One program's cumulative cost, counted while BPF run-time statistics are enabled
// (kernel.bpf_stats_enabled, or an fd from bpf_enable_stats).
struct ProgramStats {
  std::string name;
  uint64_t run_cnt = 0;
  uint64_t run_time_ns = 0;
};

// Ring-buffer bytes one record takes: the event (bpf/progeny_bpf.h) plus the ring's 8-byte
// header, rounded up to 8. What the README's capacity is computed from.
constexpr size_t ring_record_bytes(size_t event_bytes) { return (event_bytes + 8 + 7) / 8 * 8; }
extern const size_t kForkRecordBytes;
// An exec record's bytes for a path and argv block of these lengths, an exit record's for a
// process title (an argv area) of this length (each cut as the kernel side cuts it).
size_t exec_record_bytes(size_t path_len, size_t argv_len);
size_t exit_record_bytes(size_t title_len);

// Converts one ring-buffer event (bpf/progeny_bpf.h) to its lineage record; nullopt for a
// malformed or unknown event.
std::optional<Record> event_to_record(const void* data, size_t size);

// Whether Tracker::start works here: starts a session rooted at the caller with the options a
// run uses, and ends it at once. `progeny doctor` asks this, so its verdict is the answer
// `progeny run --bpf on` gets. False with start()'s one-line *why.
bool tracker_available(std::string* why);

class Tracker {
 public:
  // Loads and attaches; tracks everything `root` (a pid in the caller's PID namespace,
  // normally the caller itself) creates from now on, plus its existing descendants found
  // through /proc. The root itself is not a member. Returns nullptr with *why set to a
  // one-line reason when BPF is unavailable or root is gone.
  static std::unique_ptr<Tracker> start(pid_t root, std::string* why, const Options& opts = {});
  ~Tracker();
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

  // Readable (poll/epoll) when events are waiting (see Options::batch_wakeups); then call
  // consume().
  int event_fd() const;
  // Hands every waiting event to sink as a lineage record with "source":"bpf".
  void consume(const std::function<void(const Record&)>& sink);
  // The authoritative membership: every tracked process visible in the caller's PID
  // namespace, as the kernel keeps it (no /proc reads: a fork rush makes those slow). It may
  // name processes already freed whose entry the kernel could not delete: open each by its
  // identity (Proof::kernel_member) before signalling, which skips those.
  std::vector<Member> members() const;
  // From now on anything a member forks is SIGKILLed by the kernel at birth.
  void begin_stop();
  // Events dropped because the ring buffer was full.
  uint64_t lost() const;
  // Children of members the kernel could not add to the map (map full): they are not
  // tracked, so the caller must report this; normally 0.
  uint64_t untracked() const;
  // Children killed at birth past Options::pids_cap (exact: a counter, not the records).
  uint64_t capped() const;
  const StartPhases& start_phases() const { return phases_; }
  // The ring buffer's real size (Options::ring_bytes rounded up).
  size_t ring_bytes() const { return ring_bytes_; }
  // Each attached program's run count and time so far (0 while statistics are off).
  std::vector<ProgramStats> program_stats() const;

 private:
  Tracker() = default;
  uint64_t counter(uint32_t slot) const;
  static int on_event(void* self, void* data, size_t size);

  progeny_bpf* skel_ = nullptr;
  progeny_skel_fds fds_{};
  size_t ring_bytes_ = 0;
  ring_buffer* rb_ = nullptr;
  const std::function<void(const Record&)>* sink_ = nullptr;  // set during consume()
  StartPhases phases_;
};

}  // namespace progeny::bpf
