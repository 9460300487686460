// `progeny run`: one path from argv to exit status. Single-threaded: every event (signals,
// children, timers, lineage records) arrives on one poll loop.
#include <dirent.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bpf/tracker.h"
#include "launcher/run/commands.h"
#include "launcher/contain/containment.h"
#include "launcher/collect/event_sink.h"
#include "launcher/run/exit_status.h"
#include "launcher/os/parse.h"
#include "launcher/os/proc.h"
#include "schema/record.h"
#include "launcher/views/runaway_report.h"
#include "launcher/cli/run_options.h"
#include "launcher/run/spawn.h"
#include "launcher/members/stop.h"
#include "launcher/members/signal_gate.h"
#include "launcher/os/sys.h"
#include "launcher/run/terminal.h"
#include "launcher/views/trace_format.h"
#include "launcher/members/tree.h"

namespace progeny {
namespace {

// Signals the launcher relays to COMMAND. SIGCHLD is ours; job-control stops are handled
// apart; SIGPIPE, SIGSEGV & co. are about progeny itself.
constexpr int kForwarded[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                              SIGWINCH, SIGCONT, SIGALRM, SIGURG,  SIGPWR,  SIGIO,
                              SIGTSTP, SIGTTIN, SIGTTOU, SIGVTALRM, SIGPROF, SIGXCPU};

class Runner : public StopHooks {
 public:
  explicit Runner(RunOptions opts) : opts_(std::move(opts)), self_(::getpid()), tree_(self_) {}

  int run() {
    if (!setup()) return kExitProgenyError;
    if (!start_command()) return kExitProgenyError;
    main_loop();
    return finish();
  }

  // --- StopHooks ---
  void wait_events(int timeout_ms) override { poll_once(timeout_ms); }
  bool escalate_requested() override { return escalate_; }
  bool tree_gone() override {
    for (pid_t c : read_children(self_))
      if (!tree_.is_excluded(c)) return false;
    return true;
  }
  void on_signal(const Member& m, int sig, const char* reason, int error,
                 uint64_t time_ns) override {
    if (sink_) {
      Record r("signal", "launcher", self_, time_ns);
      r.add("signal", signal_name(sig)).add("target_pid", m.pid()).add("reason", reason);
      if (m.start_time()) r.add("target_start_time", m.start_time());
      if (error) r.add("errno", error);
      sink_->write(r);
    }
    if (opts_.verbose > 0 || error != 0) {
      std::fprintf(stderr, "progeny: %s %s to %s%s%s\n", reason, signal_name(sig).c_str(),
                   describe_process(m.pid()).c_str(), error ? ": " : "",
                   error ? std::strerror(error) : "");
    }
  }

 private:
  bool setup() {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
      std::fprintf(stderr, "progeny: cannot become a child subreaper: %s\n", std::strerror(errno));
      return false;
    }
    sigset_t handled;
    sigemptyset(&handled);
    for (int s : kForwarded) sigaddset(&handled, s);
    for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) sigaddset(&handled, s);
    sigaddset(&handled, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &handled, &orig_mask_);
    dispositions_.save_and_take_over();
    sigfd_.reset(::signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd_) {
      std::fprintf(stderr, "progeny: signalfd failed: %s\n", std::strerror(errno));
      return false;
    }
    tty_ = std::make_unique<Terminal>(Terminal::open_if_foreground());
    ContainMode mode = ContainMode::auto_;
    parse_contain_mode(opts_.contain, &mode);  // validated by the option parser
    std::string why;
    contain_ = Containment::make(mode, &why);
    if (!contain_) {
      std::fprintf(stderr, "progeny run: --contain %s: %s\n", opts_.contain.c_str(), why.c_str());
      return false;
    }
    if (opts_.verbose > 0) std::fprintf(stderr, "progeny: containment %s\n", contain_->reason().c_str());
    // The cgroup watchdog is our child but not part of the run.
    if (contain_->watchdog_pid() > 0) tree_.exclude(contain_->watchdog_pid());
    return open_sink() && start_tracker();
  }

  bool start_tracker() {
    if (opts_.bpf == Tristate::kOff) return true;
    std::string why;
    bpf::Options topts;
    if (contain_->watchdog_pid() > 0) topts.exclude.push_back(contain_->watchdog_pid());
    tracker_ = bpf::Tracker::start(self_, &why, topts);
    if (tracker_) return true;
    if (opts_.bpf == Tristate::kOn) {
      std::fprintf(stderr, "progeny run: --bpf on: %s\n", why.c_str());
      return false;
    }
    if (opts_.verbose > 0) std::fprintf(stderr, "progeny: going on without BPF: %s\n", why.c_str());
    return true;
  }

  // The tracker's records join the log; without a log they are drained all the same.
  void consume_tracker() {
    if (!tracker_) return;
    tracker_->consume([this](const Record& r) {
      if (sink_) sink_->write(r);
    });
  }

  // Lost or untracked events are reported, never silent.
  void report_tracker_losses() {
    if (!tracker_) return;
    consume_tracker();
    uint64_t lost = tracker_->lost(), untracked = tracker_->untracked();
    if (lost + untracked == 0) return;
    if (sink_) {
      Record r("lost", "launcher", self_);
      r.add("count", lost).add("what", "bpf").add("untracked", untracked);
      sink_->write(r);
    }
    std::fprintf(stderr, "progeny: the BPF tracker lost %llu event(s) and could not track %llu process(es)\n",
                 static_cast<unsigned long long>(lost), static_cast<unsigned long long>(untracked));
  }

  // A log that could not be written to the end is said so, on stderr (it may be the only
  // place left), with what it lost; the exit status stays COMMAND's.
  void report_log_failure() {
    if (!sink_->log_error()) return;
    std::fprintf(stderr,
                 "progeny: the log %s is incomplete: writing failed after %llu bytes (%s); %llu "
                 "record(s) after that were not written\n",
                 opts_.log_path.c_str(), static_cast<unsigned long long>(sink_->log_bytes()),
                 std::strerror(sink_->log_error()),
                 static_cast<unsigned long long>(sink_->log_unwritten()));
  }

  // The lineage log and the shim's socket: needed for the shim, --log and --trace.
  bool open_sink() {
    if (opts_.preload) {
      shim_path_ = shim_location();
      if (::access(shim_path_.c_str(), R_OK) != 0) {
        std::fprintf(stderr, "progeny run: cannot find the shim at %s: %s (use --no-preload)\n",
                     shim_path_.c_str(), std::strerror(errno));
        return false;
      }
    }
    if (!opts_.preload && opts_.log_path.empty() && !opts_.trace) return true;
    EventSink::Options o;
    o.log_path = opts_.log_path;
    o.launcher = self_;
    o.pdeathsig = opts_.preload ? opts_.pdeathsig : 0;
    o.translate_ns_pids = contain_->mode() == ContainMode::pidns;
    if (opts_.trace) {
      o.tap = [this](std::string_view lines) {
        size_t at = 0, nl;
        while ((nl = lines.find('\n', at)) != std::string_view::npos) {
          std::fprintf(stderr, "%s\n", trace_.format(lines.substr(at, nl - at)).c_str());
          at = nl + 1;
        }
      };
    }
    std::string error;
    sink_ = EventSink::open(o, &error);
    if (!sink_) {
      std::fprintf(stderr, "progeny run: %s\n", error.c_str());
      return false;
    }
    return true;
  }

  // <dir of progeny>/../lib/progeny/libprogeny.so, in the build tree and once installed.
  static std::string shim_location() {
    char exe[4096];
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    std::string dir = n > 0 ? std::string(exe, static_cast<size_t>(n)) : std::string(".");
    dir = dir.substr(0, dir.rfind('/'));
    return dir + "/../lib/progeny/libprogeny.so";
  }

  // progeny's own environment plus what the shim needs (its only trace, documented).
  std::vector<std::string> command_environment() const {
    std::vector<std::string> env;
    std::string user_preload;
    for (char** e = environ; *e; ++e) {
      std::string_view v(*e);
      if (opts_.preload && v.starts_with("LD_PRELOAD=")) {
        user_preload = std::string(v.substr(11));
        continue;
      }
      if (opts_.preload && v.starts_with("PROGENY_")) continue;  // an outer run's: ours win
      env.emplace_back(v);
    }
    if (!opts_.preload) return env;
    // Ours first; an outer run may have put the same shim there already.
    std::string preload = shim_path_;
    if (user_preload.find(shim_path_) != std::string::npos) preload = user_preload;
    else if (!user_preload.empty()) preload += ":" + user_preload;
    env.push_back("LD_PRELOAD=" + preload);
    env.push_back("PROGENY_SOCK=" + sink_->socket_name());
    env.push_back("PROGENY_LAUNCHER=" + std::to_string(self_));
    env.push_back("PROGENY_PDEATHSIG=" + std::to_string(opts_.pdeathsig));
    env.push_back("PROGENY_SHIM=" + shim_path_);
    if (!opts_.reenv) env.push_back("PROGENY_OPTS=noreenv");
    return env;
  }

  void write_start_record() {
    if (!sink_) return;
    Record r("start", "launcher", self_);
    r.add("wall_ns", realtime_ns());
    auto st = read_proc_stat(self_);
    if (st) r.add("start_time", st->start_time);
    r.add("argv", opts_.command).add("version", PROGENY_VERSION);
    std::vector<std::string> mechanisms = {"subreaper"};
    if (opts_.pdeathsig) mechanisms.emplace_back("pdeathsig");
    if (tracker_) mechanisms.emplace_back("bpf");
    if (opts_.preload) mechanisms.emplace_back("shim");
    if (contain_->mode() != ContainMode::none) mechanisms.emplace_back(contain_mode_name(contain_->mode()));
    r.add("mechanisms", mechanisms);
    sink_->write(r);
  }

  // The timeout is COMMAND's budget: armed just before it starts, so progeny's own setup
  // (loading the tracker can take seconds on a saturated machine) never eats into it.
  bool arm_timeout() {
    if (opts_.timeout_ms <= 0) return true;
    timerfd_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    itimerspec its{};
    its.it_value.tv_sec = opts_.timeout_ms / 1000;
    its.it_value.tv_nsec = (opts_.timeout_ms % 1000) * 1000000;
    if (!timerfd_ || ::timerfd_settime(timerfd_.get(), 0, &its, nullptr) != 0) {
      std::fprintf(stderr, "progeny: cannot arm the timeout: %s\n", std::strerror(errno));
      return false;
    }
    return true;
  }

  bool start_command() {
    if (!arm_timeout()) return false;
    write_start_record();
    SpawnRequest req;
    req.argv = opts_.command;
    req.env = command_environment();
    if (sink_) req.nofile = &sink_->original_nofile();
    req.mask = orig_mask_;
    req.dispositions = &dispositions_;
    req.pdeathsig = opts_.pdeathsig;
    req.tty_fd = tty_->active() ? tty_->fd() : -1;
    req.contain = contain_.get();
    std::string why;
    Spawned s = spawn_command(req, &why);
    if (s.pid < 0) {
      std::fprintf(stderr, "progeny: cannot start '%s': %s\n", opts_.command[0].c_str(), why.c_str());
      return false;
    }
    if (req.tty_fd >= 0) tty_->give_to(s.pid);
    cmd_pid_ = s.pid;
    cmd_ = Proof::own_child(s.pid, std::move(s.pidfd));
    if (!cmd_) {
      std::fprintf(stderr, "progeny: cannot hold '%s' by a pidfd\n", opts_.command[0].c_str());
      return false;
    }
    cmd_start_time_ = cmd_->start_time();
    // COMMAND's group is new, its session is ours (as /proc reports it: 0 when the session's
    // leader is outside our PID namespace). Read from us: COMMAND may call setsid at once.
    if (auto st = read_proc_stat(self_)) cmd_sid_ = st->session;
    if (opts_.verbose > 0)
      std::fprintf(stderr, "progeny: started %s as pid %d\n", opts_.command[0].c_str(), cmd_pid_);
    return true;
  }

  void main_loop() {
    for (;;) {
      if (timed_out_ || stop_requested_) return;
      if (cmd_exited_ && (!opts_.wait_all || tree_gone())) return;
      poll_once(-1);
    }
  }

  void poll_once(int timeout_ms) {
    std::vector<pollfd> fds;
    fds.push_back({sigfd_.get(), POLLIN, 0});
    size_t timer_at = fds.size();
    if (timerfd_) fds.push_back({timerfd_.get(), POLLIN, 0});
    size_t sink_at = fds.size();
    if (sink_) fds.push_back({sink_->fd(), POLLIN, 0});
    if (tracker_) fds.push_back({tracker_->event_fd(), POLLIN, 0});
    size_t status_at = fds.size();
    if (contain_->status_fd() >= 0 && !cmd_exited_) fds.push_back({contain_->status_fd(), POLLIN, 0});
    int n = ::poll(fds.data(), fds.size(), timeout_ms);
    // The tracker wakes us only when its ring fills up: read it on every wake-up.
    consume_tracker();
    if (n <= 0) return;
    if (fds[0].revents & POLLIN) read_signals();
    if (sink_ && (fds[sink_at].revents & POLLIN)) sink_->on_readable();
    if (status_at < fds.size() && fds[status_at].revents) command_ended_in_namespace();
    if (timerfd_ && (fds[timer_at].revents & POLLIN)) {
      uint64_t ticks;
      if (::read(timerfd_.get(), &ticks, sizeof ticks) > 0 && !timed_out_) {
        timed_out_ = true;
        if (sink_) sink_->write(Record("timeout", "launcher", self_).add("after_ms", opts_.timeout_ms));
        if (opts_.verbose > 0)
          std::fprintf(stderr, "progeny: timeout after %lld ms, stopping the tree\n",
                       static_cast<long long>(opts_.timeout_ms));
      }
    }
  }

  void read_signals() {
    signalfd_siginfo si;
    while (::read(sigfd_.get(), &si, sizeof si) == sizeof si) {
      int sig = static_cast<int>(si.ssi_signo);
      if (sig == SIGCHLD) {
        reap();
        continue;
      }
      bool ends_run = sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT;
      if (stopping_ && (sig == SIGINT || sig == SIGTERM)) {
        escalate_ = true;
        continue;
      }
      if (cmd_exited_ && ends_run) {
        // COMMAND is gone (--wait): the user wants the rest ended.
        stop_requested_ = true;
      } else if (!cmd_exited_ || opts_.forward_group) {
        // Once COMMAND is gone only its process group can still be reached.
        forward(sig);
      }
    }
  }

  void forward(int sig) {
    int rc = opts_.forward_group ? signal_gate::send_to_group_of_command(*cmd_, sig)
                                 : signal_gate::send(*cmd_, sig);
    if (opts_.verbose > 0)
      std::fprintf(stderr, "progeny: forwarded %s to %s %d%s\n", signal_name(sig).c_str(),
                   opts_.forward_group ? "process group" : "pid", cmd_pid_,
                   rc == 0 ? "" : " (failed)");
  }

  void reap() {
    for (;;) {
      int st = 0;
      pid_t p = ::waitpid(-1, &st, WNOHANG | (tty_->active() ? WUNTRACED : 0));
      if (p <= 0) return;
      if (WIFSTOPPED(st)) {
        if (p == cmd_pid_) suspend_with_command();
        continue;
      }
      log_exit(p, st);
      tree_.forget(p);
      // In a PID namespace this is the init: COMMAND's own status came through status_fd.
      if (p == cmd_pid_ && !cmd_exited_) command_ended(st);
    }
  }

  // The sink records its own members' exits (with the parent-death policy); the rest here.
  void log_exit(pid_t pid, int status) {
    if (!sink_ || sink_->on_reaped(pid, status)) return;
    const Member* m = tree_.find(pid);
    uint64_t start = m ? m->start_time() : 0;
    if (pid == cmd_pid_ && cmd_start_time_) start = cmd_start_time_;
    sink_->write(exit_record("launcher", pid, start, &status));
  }

  void command_ended(int status) {
    cmd_exited_ = true;
    cmd_status_ = status;
    // The terminal is ours again before anything else happens (the stop, reports).
    tty_->take_back();
  }

  // pidns: COMMAND (PID 3 inside) ended while the init may still hold the rest of the tree.
  void command_ended_in_namespace() {
    int st = 0;
    if (contain_->command_status(&st)) command_ended(st);
  }

  // Ctrl-Z: COMMAND stopped, so the job (progeny) stops too, as the shell expects; on
  // `fg` it hands the terminal back and continues COMMAND's group.
  void suspend_with_command() {
    tty_->save_job_modes();
    tty_->take_back();
    signal_gate::raise_on_self(SIGSTOP);  // stops just this process
    tty_->give_to(cmd_pid_);
    tty_->restore_job_modes();
    signal_gate::send_to_group_of_command(*cmd_, SIGCONT);
  }

  // Membership is the union of every mechanism's knowledge: the walk's own (Tree::scan), the
  // shim's (checked for descent) and the tracker's map (kernel-kept). The containment adds
  // nothing to walk: a PID namespace's init is our child, so the walk covers it, and a
  // cgroup's members come through GroupControl when the stop freezes it.
  void add_member_sources() {
    if (sink_) {
      tree_.add_source([this] {
        std::vector<KnownProcess> out;
        for (const auto& m : sink_->members()) out.push_back({m.pid, m.start_time});
        return out;
      }, false);
    }
    if (tracker_) {
      tree_.add_source([this] {
        std::vector<KnownProcess> out;
        for (const auto& m : tracker_->members()) out.push_back({m.pid, m.start_time, m.ino});
        return out;
      }, true);
    }
  }

  void on_members_known() override {
    if (cmd_exited_ && !timed_out_ && !stop_requested_) runaways_ = report_runaways();
    write_stop_record("begin", tree_.live().size(), 0);
  }

  // True when pid has our stdout or stderr open and it is a pipe or socket: the classic
  // "the job is done but its output never ends" (a grandchild keeps the pipe). progeny never
  // reads it, so it never hangs on it; the report says who holds it.
  static bool holds_our_output(pid_t pid) {
    struct stat ours[2];
    bool stream[2];
    for (int fd = 1; fd <= 2; ++fd) {
      stream[fd - 1] = ::fstat(fd, &ours[fd - 1]) == 0 &&
                       (S_ISFIFO(ours[fd - 1].st_mode) || S_ISSOCK(ours[fd - 1].st_mode));
    }
    if (!stream[0] && !stream[1]) return false;
    char dir_path[64];
    std::snprintf(dir_path, sizeof dir_path, "/proc/%d/fd", static_cast<int>(pid));
    DIR* dir = ::opendir(dir_path);
    if (!dir) return false;
    bool holds = false;
    while (dirent* e = ::readdir(dir)) {
      struct stat theirs;
      if (e->d_name[0] == '.' || ::fstatat(::dirfd(dir), e->d_name, &theirs, 0) != 0) continue;
      for (int k = 0; k < 2; ++k)
        holds |= stream[k] && theirs.st_dev == ours[k].st_dev && theirs.st_ino == ours[k].st_ino;
    }
    ::closedir(dir);
    return holds;
  }

  // Descendants still running when COMMAND ended: who they are and how they got away. The
  // report names the first kReportLines; only those are described from /proc.
  static constexpr size_t kReportLines = 20;
  size_t report_runaways() {
    std::vector<RunawayProcess> procs;
    for (Member* m : tree_.live()) {
      if (m->pid() == cmd_pid_) continue;  // the PID namespace's init: ours, not COMMAND's
      RunawayProcess r;
      r.pid = m->pid();
      r.start_time = m->start_time();
      // Found below its parent: that is its creator. Found below us: adopted, creator unknown.
      r.creator = m->parent == self_ ? 0 : m->parent;
      if (procs.size() < kReportLines && !opts_.quiet) {
        r.argv = read_cmdline(m->pid(), 512);
        r.holds_output = holds_our_output(m->pid());
        if (auto st = read_proc_stat(m->pid())) {
          r.ppid = st->ppid;
          r.pgid = st->pgrp;
          r.sid = st->session;
        }
      }
      procs.push_back(std::move(r));
    }
    if (!procs.empty() && !opts_.quiet) {
      RunawayContext ctx;
      ctx.launcher_pid = self_;
      ctx.command_pid = cmd_pid_;
      ctx.command_pgid = cmd_pid_;  // COMMAND (or the namespace's init) leads its group
      ctx.command_sid = cmd_sid_;
      std::fputs(format_runaway_report(procs, ctx, kReportLines).c_str(), stderr);
    }
    return procs.size();
  }

  void write_stop_record(const char* phase, size_t members, size_t survivors) {
    if (!sink_) return;
    Record r("stop", "launcher", self_);
    r.add("phase", phase).add("members", static_cast<uint64_t>(members));
    r.add("survivors", static_cast<uint64_t>(survivors));
    sink_->write(r);
  }

  int finish() {
    StopResult stop;
    bool need_stop = timed_out_ || stop_requested_ || !tree_gone();
    if (need_stop) {
      stopping_ = true;
      // From here on whatever a member forks dies at birth, in the kernel.
      if (tracker_) tracker_->begin_stop();
      add_member_sources();
      StopPolicy policy;
      policy.signal = opts_.stop_signal;
      policy.grace_ms = opts_.kill_after_ms;
      if (opts_.verbose > 0) std::fprintf(stderr, "progeny: stopping every descendant\n");
      stop = stop_tree(tree_, policy, *this, contain_->group());
      // The kernel's own final word where the mode has one (cgroup.kill, namespace teardown):
      // it also reaches what no walk could see.
      std::vector<pid_t> left;
      if (!contain_->stop(std::chrono::milliseconds(policy.kill_limit_ms), &left))
        for (pid_t p : left) stop.survivors.push_back(describe_process(p));
      if (opts_.verbose > 0)
        std::fprintf(stderr,
                     "progeny: stop done: %zu processes, %zu killed; freeze %lld ms, signal %lld ms, "
                     "grace %lld ms, kill %lld ms\n",
                     stop.members, stop.killed, static_cast<long long>(stop.freeze_ms),
                     static_cast<long long>(stop.signal_ms), static_cast<long long>(stop.grace_ms),
                     static_cast<long long>(stop.kill_ms));
      // Reap what the stop left (the loop above stops at the last child, this drains).
      reap();
      write_stop_record("done", stop.members, stop.survivors.size());
    }
    tty_->take_back();
    contain_->finish();
    report_tracker_losses();
    // Unloaded before we exit: its in-kernel kill is for a launcher that dies mid-run.
    tracker_.reset();
    if (sink_) {
      sink_->drain();
      report_log_failure();
    }
    if (!stop.survivors.empty()) {
      std::fprintf(stderr, "progeny: %zu process(es) could not be stopped:\n", stop.survivors.size());
      for (const auto& s : stop.survivors) std::fprintf(stderr, "progeny:   %s\n", s.c_str());
    }
    if (timed_out_) return kExitTimeout;
    if (!cmd_exited_) {
      // Stopped on request while COMMAND lived on: it has been reaped by the stop.
      return kExitProgenyError;
    }
    if (runaways_ > 0 && opts_.fail_on_runaway && WIFEXITED(cmd_status_) &&
        WEXITSTATUS(cmd_status_) == 0)
      return kExitRunaway;
    exit_like(cmd_status_);
  }

  RunOptions opts_;
  pid_t self_;
  Tree tree_;
  Fd sigfd_, timerfd_;
  std::unique_ptr<Terminal> tty_;
  std::unique_ptr<Containment> contain_;
  std::unique_ptr<EventSink> sink_;
  std::unique_ptr<bpf::Tracker> tracker_;
  TraceFormatter trace_;
  std::string shim_path_;
  sigset_t orig_mask_{};
  InheritedDispositions dispositions_;
  pid_t cmd_pid_ = -1;
  uint64_t cmd_start_time_ = 0;
  pid_t cmd_sid_ = -1;
  std::optional<VerifiedProcess> cmd_;  // COMMAND (or the PID namespace's init)
  bool cmd_exited_ = false;
  int cmd_status_ = 0;
  bool timed_out_ = false;
  bool stop_requested_ = false;
  bool stopping_ = false;
  bool escalate_ = false;
  size_t runaways_ = 0;  // descendants alive when COMMAND ended (the stop's report)
};

}  // namespace

int run_main(int argc, char** argv) {
  RunOptions opts;
  if (auto status = cli::parse_main_args(run_command_line(&opts), argc, argv)) return *status;
  return Runner(std::move(opts)).run();
}

}  // namespace progeny
