// progeny watch [--log FILE] PID: records the lineage of a running process and of everything
// it creates, through the BPF tracker, until the process exits. It never signals anything.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "bpf/tracker.h"
#include "launcher/cli/watch_options.h"
#include "launcher/collect/lineage_log.h"
#include "launcher/os/exit_codes.h"
#include "launcher/run/commands.h"
#include "launcher/os/fd.h"
#include "launcher/os/pidfs.h"
#include "launcher/os/proc.h"
#include "schema/record.h"
#include "launcher/os/sys.h"

namespace progeny {
namespace {

std::string exe_path(pid_t pid) {
  char link[64], buf[4096];
  std::snprintf(link, sizeof link, "/proc/%d/exe", static_cast<int>(pid));
  ssize_t n = ::readlink(link, buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// What /proc knows of a process that existed before the watch: its current parent (its
// creator is no longer knowable: `via` says "proc"), groups, and what it runs. `role`:
// "command" for the watched process itself.
void describe_existing(LineageLog& log, pid_t pid, uint64_t start_time, uint64_t ino,
                       const char* role) {
  auto st = read_proc_stat(pid);
  if (!st || st->start_time != start_time) return;
  Record fork = make_record("fork", "launcher", pid);
  if (ino) fork.ino = ino;
  fork.start_time = start_time;
  fork.ppid = st->ppid;
  fork.via = "proc";
  if (role) fork.role = role;
  fork.pgid = st->pgrp;
  fork.sid = st->session;
  Record exec = make_record("exec", "launcher", pid);
  exec.ino = fork.ino;
  exec.start_time = start_time;
  exec.path = exe_path(pid);
  exec.argv = read_cmdline(pid);
  exec.ppid = st->ppid;
  log.write(fork);
  log.write(exec);
}

}  // namespace

int watch_main(int argc, char** argv) {
  WatchOptions args;
  if (auto status = cli::parse_main_args(watch_command_line(&args), argc, argv)) return *status;
  const pid_t root = args.pid;
  const std::string& log_path = args.log_path;

  // The pidfd is taken before anything else so the exit we wait for is the one of the process
  // whose start time we recorded, not of a later process with a reused pid.
  Fd root_fd = open_pidfd(root);
  auto root_stat = read_proc_stat(root);
  if (!root_fd || !root_stat) {
    std::fprintf(stderr, "progeny watch: no process %d\n", static_cast<int>(root));
    return kExitProgenyError;
  }
  // The one writer (launcher/collect/lineage_log.h): records cut to 4 KiB, one exit per
  // process and source, a write failure reported. What still runs when the watch ends has no
  // exit yet: no `unknown` exits are made up for it.
  LineageLog::Options lopts;
  lopts.path = log_path;
  lopts.append = true;
  lopts.to_stdout = log_path.empty();
  lopts.every_process_ends = false;
  lopts.launcher = ::getpid();
  std::string why;
  auto log = LineageLog::open(std::move(lopts), &why);
  if (!log) {
    std::fprintf(stderr, "progeny watch: %s\n", why.c_str());
    return kExitProgenyError;
  }

  // INT/TERM/HUP end the watch cleanly (final events and the loss count still get written).
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&mask, s);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return kExitProgenyError;
  Fd sig_fd(::signalfd(-1, &mask, SFD_CLOEXEC));

  bpf::Options opts;
  opts.kill_on_root_exit = false;  // watching must never kill what it watches
  opts.batch_wakeups = false;      // someone may be reading the log as it grows
  auto tracker = bpf::Tracker::start(root, &why, opts);
  if (!tracker) {
    std::fprintf(stderr, "progeny watch: BPF tracker unavailable: %s\n", why.c_str());
    return kExitProgenyError;
  }

  // The log's launcher is this watch (role "watch"); the watched process is its COMMAND.
  Record start = make_record("start", "launcher", ::getpid());
  start.role = "watch";
  start.wall_ns = realtime_ns();
  if (auto me = read_proc_stat(::getpid())) start.start_time = me->start_time;
  start.argv = read_cmdline(root);
  start.version = PROGENY_VERSION;
  start.mechanisms = {"bpf"};
  log->write(start);
  describe_existing(*log, root, root_stat->start_time, pidfd_ino(root_fd.get()), "command");
  for (const auto& m : tracker->members()) describe_existing(*log, m.pid, m.start_time, m.ino, nullptr);
  log->flush();

  auto sink = [&log](const Record& r) { log->write(r); };
  for (;;) {
    pollfd fds[3] = {{tracker->event_fd(), POLLIN, 0},
                     {root_fd.get(), POLLIN, 0},
                     {sig_fd.get(), POLLIN, 0}};
    int n = ::poll(fds, sig_fd ? 3 : 2, -1);
    if (n < 0 && errno != EINTR) break;
    tracker->consume(sink);
    log->flush();  // someone may be reading the log as it grows
    // The kernel queues the root's exit event before its pidfd turns readable, so the
    // consume above has already written it.
    if (fds[1].revents || (sig_fd && fds[2].revents)) break;
  }
  tracker->consume(sink);

  uint64_t lost = tracker->lost();
  uint64_t untracked = tracker->untracked();
  if (lost > 0) {
    Record r = make_record("lost", "launcher", ::getpid());
    r.count = lost;
    r.what = "bpf";
    log->write(r);
    std::fprintf(stderr, "progeny watch: %llu events lost (ring buffer full)\n",
                 static_cast<unsigned long long>(lost));
  }
  if (untracked > 0)
    std::fprintf(stderr, "progeny watch: %llu processes could not be tracked (members map full)\n",
                 static_cast<unsigned long long>(untracked));
  log->finish();
  if (log->error())
    std::fprintf(stderr,
                 "progeny watch: the log is incomplete: writing failed after %llu bytes (%s); "
                 "%llu record(s) after that were not written\n",
                 static_cast<unsigned long long>(log->bytes()), std::strerror(log->error()),
                 static_cast<unsigned long long>(log->unwritten()));
  return lost > 0 || untracked > 0 || log->error() ? 1 : 0;
}

}  // namespace progeny
