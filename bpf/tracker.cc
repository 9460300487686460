#include "bpf/tracker.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <deque>

#include "bpf/light_skeleton.h"
#include "bpf/progeny_bpf.h"
#include "launcher/os/proc.h"
#include "schema/protocol.h"

namespace progeny::bpf {
namespace {

// The shim leaves an exec to the tracker only when the tracker copies all of it.
static_assert(PROGENY_ARGV_LEN == PROGENY_TRACKER_ARGV_BYTES &&
              PROGENY_PATH_LEN == PROGENY_TRACKER_PATH_BYTES);

// libbpf reports why a load failed only through its print callback, which is process-wide:
// keep its last warning while start() runs so the one-line reason can carry it.
thread_local std::string* g_libbpf_last = nullptr;

int capture_libbpf(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG || g_libbpf_last == nullptr) return 0;
  char buf[512];
  int n = std::vsnprintf(buf, sizeof buf, fmt, args);
  if (n <= 0) return n;
  std::string line(buf);
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  if (!line.empty()) *g_libbpf_last = line;
  return n;
}

class LibbpfCapture {
 public:
  explicit LibbpfCapture(std::string* last) {
    g_libbpf_last = last;
    previous_ = libbpf_set_print(capture_libbpf);
  }
  ~LibbpfCapture() {
    libbpf_set_print(previous_);
    g_libbpf_last = nullptr;
  }
  LibbpfCapture(const LibbpfCapture&) = delete;
  LibbpfCapture& operator=(const LibbpfCapture&) = delete;

 private:
  libbpf_print_fn_t previous_;
};

std::string failure(const char* what, int err, const std::string& libbpf_last) {
  std::string out = std::string(what) + ": " + std::strerror(err < 0 ? -err : err);
  if (err == -EPERM || err == EPERM) out += " (needs root, or CAP_BPF and CAP_PERFMON)";
  if (!libbpf_last.empty()) out += " [libbpf: " + libbpf_last + "]";
  return out;
}

// Runs the `seed` program in the caller's context; returns a progeny_seed_result, or -errno.
int seed(int prog_fd, pid_t vpid, uint64_t start_ticks, bool as_root) {
  progeny_seed_args args{};
  args.caller_vpid = static_cast<__u32>(::getpid());
  args.vpid = static_cast<__u32>(vpid);
  args.start_ticks = start_ticks;
  args.as_root = as_root ? 1 : 0;
  LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = &args, .ctx_size_in = sizeof args);
  int err = bpf_prog_test_run_opts(prog_fd, &run);
  if (err) return -errno;
  return static_cast<int>(run.retval);
}

std::string bounded(const char* s, size_t cap) { return std::string(s, ::strnlen(s, cap)); }

// Microseconds since the last call, for StartPhases.
class PhaseClock {
 public:
  PhaseClock() : last_(now()) {}
  double lap() {
    double t = now();
    double d = t - last_;
    last_ = t;
    return d;
  }

 private:
  static double now() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
  }
  double last_;
};

// The ring's size as the kernel wants it: a power of two, at least a page.
uint32_t ring_size(size_t wanted) {
  size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  size_t size = page;
  while (size < wanted && size < (size_t{1} << 30)) size <<= 1;
  return static_cast<uint32_t>(size);
}

// The verifier's or loader's last words, for the one-line reason.
std::string last_line(const char* log) {
  std::string text(log);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.substr(text.rfind('\n') + 1);
}

// The exit event's cost as the record's self figures. CPU: the exact total split between user
// and system in the ratio of the tick samples, as the kernel's cputime_adjust() does for
// getrusage() and wait4(), so both sources split alike.
void add_self_cost(Record* r, const progeny_exit_event& e) {
  uint64_t sampled = e.utime_ns + e.stime_ns;
  uint64_t user = e.cpu_ns;
  if (e.stime_ns && e.utime_ns)
    user = static_cast<uint64_t>(static_cast<unsigned __int128>(e.cpu_ns) * e.utime_ns / sampled);
  else if (e.utime_ns == 0 && e.stime_ns)
    user = 0;
  r->cpu_user_ns = user;
  r->cpu_system_ns = e.cpu_ns - user;
  static const uint64_t page_kb = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) / 1024;
  r->peak_rss_kb = uint64_t{e.maxrss_pages} * page_kb;
  r->lifetime_ns = e.lifetime_ns;
}

}  // namespace

const size_t kForkRecordBytes = ring_record_bytes(sizeof(progeny_fork_event));

size_t exit_record_bytes(size_t title_len) {
  return ring_record_bytes(PROGENY_EXIT_FIXED + std::min<size_t>(title_len, PROGENY_TITLE_LEN));
}

size_t exec_record_bytes(size_t path_len, size_t argv_len) {
  return ring_record_bytes(PROGENY_EXEC_FIXED + std::min<size_t>(path_len, PROGENY_PATH_LEN - 1) +
                           std::min<size_t>(argv_len, PROGENY_ARGV_LEN));
}

std::unique_ptr<Tracker> Tracker::start(pid_t root, std::string* why, const Options& opts) {
  std::string libbpf_last;
  LibbpfCapture capture(&libbpf_last);
  auto root_stat = read_proc_stat(root);
  if (!root_stat) {
    *why = "process " + std::to_string(root) + " not found";
    return nullptr;
  }
  PhaseClock clock;
  progeny_skel_config config{};
  long ticks = ::sysconf(_SC_CLK_TCK);
  config.tick_ns = ticks > 0 ? 1000000000ULL / static_cast<uint64_t>(ticks) : 0;
  config.kill_on_root_exit = opts.kill_on_root_exit;
  config.ring_bytes = ring_size(opts.ring_bytes);
  config.max_members = opts.max_members;
  config.pids_cap = opts.pids_cap;
  if (opts.batch_wakeups) config.wake_bytes = config.ring_bytes / 4;
  std::unique_ptr<Tracker> t(new Tracker());
  t->ring_bytes_ = config.ring_bytes;
  t->skel_ = progeny_skel_open(&config);
  if (!t->skel_) return *why = failure("cannot open the BPF object", ENOMEM, ""), nullptr;
  t->phases_.open_us = clock.lap();
  if (int err = progeny_skel_load(t->skel_, nullptr, 0)) {
    // Once more with the verifier's log, only to say why (a missing kfunc, a rejected
    // program); the fast path never asks the kernel for a log.
    std::vector<char> log(1 << 16);
    progeny_skel_destroy(t->skel_);
    t->skel_ = progeny_skel_open(&config);
    if (t->skel_ && progeny_skel_load(t->skel_, log.data(), static_cast<__u32>(log.size())) != 0)
      libbpf_last = last_line(log.data());
    return *why = failure("cannot load the BPF program", err, libbpf_last), nullptr;
  }
  progeny_skel_get_fds(t->skel_, &t->fds_);
  t->phases_.load_us = clock.lap();

  int rc = seed(t->fds_.seed, root, root_stat->start_time, true);
  if (rc != PROGENY_SEED_OK) {
    *why = rc < 0 ? failure("cannot run the BPF seed program", rc, libbpf_last)
           : rc == PROGENY_SEED_GONE ? "process " + std::to_string(root) + " exited"
                                     : std::string("cannot find the caller's PID namespace");
    return nullptr;
  }
  t->phases_.seed_us = clock.lap();
  if (int err = progeny_skel_attach(t->skel_))
    return *why = failure("cannot attach the BPF tracepoints", err, libbpf_last), nullptr;
  t->phases_.attach_us = clock.lap();

  // Existing descendants: from here on the kernel tracks what every seeded process creates,
  // and /proc shows what each created before it was seeded, so seeding each process before
  // listing its children leaves no gap (orphans already reparented elsewhere are out of reach).
  std::deque<pid_t> queue{root};
  while (!queue.empty()) {
    pid_t p = queue.front();
    queue.pop_front();
    for (pid_t c : read_children(p)) {
      if (std::find(opts.exclude.begin(), opts.exclude.end(), c) != opts.exclude.end()) continue;
      auto st = read_proc_stat(c);
      if (st && seed(t->fds_.seed, c, st->start_time, false) == PROGENY_SEED_OK) queue.push_back(c);
    }
  }

  t->rb_ = ring_buffer__new(t->fds_.events, &Tracker::on_event, t.get(), nullptr);
  if (!t->rb_) return *why = failure("cannot open the ring buffer", errno, libbpf_last), nullptr;
  t->phases_.walk_us = clock.lap();
  return t;
}

bool tracker_available(std::string* why) { return Tracker::start(::getpid(), why) != nullptr; }

Tracker::~Tracker() {
  ring_buffer__free(rb_);
  progeny_skel_destroy(skel_);
}

int Tracker::event_fd() const { return ring_buffer__epoll_fd(rb_); }

void Tracker::consume(const std::function<void(const Record&)>& sink) {
  sink_ = &sink;
  ring_buffer__consume(rb_);
  sink_ = nullptr;
}

std::optional<Record> event_to_record(const void* data, size_t size) {
  if (size < sizeof(progeny_event_hdr)) return std::nullopt;
  const auto* h = static_cast<const progeny_event_hdr*>(data);
  const auto pid = static_cast<pid_t>(h->pid);
  auto identified = [&](std::string_view event) {
    Record r = make_record(event, "bpf", pid, h->time_ns);
    if (h->ino) r.ino = h->ino;
    r.start_time = h->start_ticks;
    return r;
  };
  if (h->kind == PROGENY_EV_FORK && size >= sizeof(progeny_fork_event)) {
    const auto* e = static_cast<const progeny_fork_event*>(data);
    Record r = identified("fork");
    r.ppid = e->ppid;
    if (e->parent_ino) r.parent_ino = e->parent_ino;
    r.tid = e->tid;
    r.via = "bpf";
    r.pgid = e->pgid;
    r.sid = e->sid;
    return r;
  }
  if (h->kind == PROGENY_EV_EXEC && size >= PROGENY_EXEC_FIXED) {
    const auto* e = static_cast<const progeny_exec_event*>(data);
    if (size < PROGENY_EXEC_FIXED + size_t{e->path_len} + e->argv_len ||
        e->path_len >= PROGENY_PATH_LEN || e->argv_len > PROGENY_ARGV_LEN)
      return std::nullopt;
    Record r = identified("exec");
    r.path = bounded(e->data, e->path_len);
    r.argv = split_argv_area({e->data + e->path_len, e->argv_len}, false);
    r.argv_truncated = e->argv_truncated;
    r.ppid = e->ppid;
    r.comm = bounded(e->comm, sizeof e->comm);
    return r;
  }
  if (h->kind == PROGENY_EV_CAP && size >= sizeof(progeny_cap_event)) {
    const auto* e = static_cast<const progeny_cap_event*>(data);
    Record r = identified("limit_kill");
    r.what = "pids";
    r.ppid = e->ppid;
    if (e->parent_ino) r.parent_ino = e->parent_ino;
    r.members = e->members;
    return r;
  }
  if (h->kind == PROGENY_EV_OOM && size >= sizeof(progeny_oom_event)) {
    Record r = identified("oom_kill");
    r.what = "memory";
    return r;
  }
  if (h->kind == PROGENY_EV_EXIT && size >= PROGENY_EXIT_FIXED) {
    const auto* e = static_cast<const progeny_exit_event*>(data);
    if (e->title_len > PROGENY_TITLE_LEN || size < PROGENY_EXIT_FIXED + size_t{e->title_len})
      return std::nullopt;
    int status = static_cast<int>(e->status);
    Record r = exit_record("bpf", pid, h->ino, h->start_ticks, &status, h->time_ns);
    add_self_cost(&r, *e);
    r.title = split_argv_area({e->title, e->title_len}, true);
    return r;
  }
  return std::nullopt;
}

int Tracker::on_event(void* self, void* data, size_t size) {
  auto* t = static_cast<Tracker*>(self);
  if (t->sink_ == nullptr) return 0;
  if (auto r = event_to_record(data, size)) (*t->sink_)(*r);
  return 0;
}

std::vector<Member> Tracker::members() const {
  std::vector<Member> out;
  int fd = fds_.members;
  // In batches: a fork rush starves every syscall of CPU, so one per entry (get_next_key,
  // lookup) took seconds for a few thousand members; a batch takes a few calls in all.
  constexpr uint32_t kBatch = 4096;
  std::vector<__u32> keys(kBatch);
  std::vector<progeny_member> values(kBatch);
  __u32 token = 0;
  bool first = true;
  for (;;) {
    __u32 count = kBatch;
    int err = bpf_map_lookup_batch(fd, first ? nullptr : &token, &token, keys.data(),
                                   values.data(), &count, nullptr);
    first = false;
    int e = err ? errno : 0;
    // An entry goes when its process's last thread exits; one that exits while we read is
    // still listed, and the caller's open by identity skips it.
    for (__u32 i = 0; i < count; ++i)
      if (values[i].vpid != 0)
        out.push_back({static_cast<pid_t>(values[i].vpid), values[i].start_ticks, values[i].ino});
    if (err && e != ENOSPC) break;  // ENOENT: that was the last batch
  }
  return out;
}

void Tracker::begin_stop() {
  // Sequentially consistent so the flag is visible before the caller's next members() call:
  // a fork the kernel handles after this either sees the flag or is already in the map.
  __atomic_store_n(progeny_skel_stopping(skel_), 1, __ATOMIC_SEQ_CST);
}

uint64_t Tracker::counter(uint32_t slot) const {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return 0;
  std::vector<__u64> values(static_cast<size_t>(ncpu));
  if (bpf_map_lookup_elem(fds_.counters, &slot, values.data()) != 0) return 0;
  uint64_t sum = 0;
  for (__u64 v : values) sum += v;
  return sum;
}

std::vector<ProgramStats> Tracker::program_stats() const {
  std::vector<ProgramStats> out;
  const std::pair<const char*, int> progs[] = {
      {"on_fork", fds_.on_fork}, {"on_exec", fds_.on_exec}, {"on_exit", fds_.on_exit},
      {"on_oom_victim", fds_.on_oom_victim}};
  for (const auto& [name, fd] : progs) {
    bpf_prog_info info{};
    __u32 len = sizeof info;
    ProgramStats st{name};
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
      st.run_cnt = info.run_cnt;
      st.run_time_ns = info.run_time_ns;
    }
    out.push_back(st);
  }
  return out;
}

uint64_t Tracker::lost() const { return counter(PROGENY_CNT_LOST); }
uint64_t Tracker::untracked() const { return counter(PROGENY_CNT_UNTRACKED); }
uint64_t Tracker::capped() const { return counter(PROGENY_CNT_CAPPED); }

}  // namespace progeny::bpf
