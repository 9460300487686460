// `progeny run`: one path from argv to exit status. Single-threaded: every event (signals,
// children, timers, lineage records) arrives on one poll loop.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bpf/tracker.h"
#include "launcher/run/commands.h"
#include "launcher/run/control_channel.h"
#include "launcher/contain/containment.h"
#include "launcher/contain/limits.h"
#include "launcher/collect/lineage_log.h"
#include "launcher/collect/shim_path.h"
#include "launcher/collect/shim_socket.h"
#include "launcher/members/keeper.h"
#include "launcher/members/parent_death.h"
#include "launcher/os/pidfs.h"
#include "launcher/run/exit_status.h"
#include "launcher/run/leftovers.h"
#include "launcher/run/limit_watch.h"
#include "launcher/run/report_file.h"
#include "launcher/os/parse.h"
#include "launcher/os/path_search.h"
#include "launcher/os/proc.h"
#include "launcher/os/batch_window.h"
#include "launcher/os/subreaper.h"
#include "schema/record.h"
#include "launcher/views/runaway_report.h"
#include "launcher/views/verdict.h"
#include "launcher/views/view_util.h"
#include "launcher/cli/run_options.h"
#include "launcher/run/spawn.h"
#include "launcher/members/stop.h"
#include "launcher/members/signal_gate.h"
#include "launcher/os/sys.h"
#include "launcher/run/terminal.h"
#include "launcher/views/trace_merge.h"
#include "launcher/members/membership.h"

namespace progeny {
namespace {

// Signals the launcher relays to COMMAND. SIGCHLD is ours; job-control stops are handled
// apart; SIGPIPE, SIGSEGV & co. are about progeny itself.
constexpr int kForwarded[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                              SIGWINCH, SIGCONT, SIGALRM, SIGURG,  SIGPWR,  SIGIO,
                              SIGTSTP, SIGTTIN, SIGTTOU, SIGVTALRM, SIGPROF, SIGXCPU};

class Runner : public StopHooks {
 public:
  explicit Runner(RunOptions opts) : opts_(std::move(opts)), self_(::getpid()), members_(self_) {}

  int run() {
    if (!open_report()) return kExitProgenyError;
    if (!setup() || !start_command()) return end_in_error();
    main_loop();
    return finish();
  }

  // --- StopHooks ---
  void wait_events(int timeout_ms) override { poll_once(timeout_ms); }
  bool escalate_requested() override { return escalate_; }
  bool tree_gone() override {
    for (pid_t c : read_children(self_))
      if (!members_.is_excluded(c)) return false;
    return true;
  }
  // Killed last, as their work is done only when the rest is dead: a nested run's cgroup
  // watchdog (removes that run's cgroup), and the PID namespace's init (its death takes the
  // whole namespace, such a watchdog included; it ends by itself once the namespace is empty).
  bool kill_last(const Member& m) override {
    return (contain_->mode() == ContainMode::pidns && m.pid() == cmd_pid_) ||
           is_progeny_watchdog(m.pid());
  }
  void on_signal(const Member& m, int sig, const char* reason, int error,
                 uint64_t time_ns) override {
    write_signal_record(m, sig, reason, nullptr, error, time_ns);
    // A process that ended just before its signal (ESRCH) is no error worth a line.
    if (opts_.verbose > 0 || (error != 0 && error != ESRCH)) {
      std::fprintf(stderr, "progeny: %s %s to %s%s%s\n", reason, signal_name(sig).c_str(),
                   describe_process(m.pid()).c_str(), error ? ": " : "",
                   error ? std::strerror(error) : "");
    }
  }

 private:
  // One of progeny's own errors that ends the run: said on stderr in one line, which the
  // verdict keeps (the first one: what followed is its consequence).
  bool fail(const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
    if (verdict_.error.empty()) verdict_.error = line;
    return false;
  }

  // --report FILE first, so that every failure after it is in the report.
  bool open_report() {
    verdict_.command = opts_.command;
    verdict_.log_path = opts_.log_path;
    if (opts_.report_path.empty()) return true;
    std::string why;
    report_ = ReportFile::open(opts_.report_path, opts_.report_format, &why);
    if (!report_) std::fprintf(stderr, "progeny run: --report %s: %s\n", opts_.report_path.c_str(), why.c_str());
    return report_.has_value();
  }

  void write_report() {
    if (!report_) return;
    verdict_.duration_ns = monotonic_ns() - started_ns_;
    std::string why;
    if (!report_->write(verdict_, &why))
      std::fprintf(stderr, "progeny run: --report %s: %s\n", opts_.report_path.c_str(), why.c_str());
  }

  int end_in_error() {
    verdict_.outcome = Verdict::Outcome::kProgenyError;
    verdict_.exit_status = kExitProgenyError;
    write_report();
    return kExitProgenyError;
  }

  bool setup() {
    std::string why;
    if (!adopt_control_channel()) return false;
    if (!become_child_subreaper(&why)) {
      return fail("progeny: " + why);
    }
    // Every signal goes through a pidfd: without them nothing could be stopped safely, so say
    // so now rather than after COMMAND started.
    if (!signal_gate::available(&why)) {
      return fail("progeny run: no pidfds: " + why);
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
      return fail(std::string("progeny: signalfd failed: ") + std::strerror(errno));
    }
    tty_ = std::make_unique<Terminal>(Terminal::open_if_foreground());
    ContainMode mode = ContainMode::auto_;
    parse_contain_mode(opts_.contain, &mode);  // validated by the option parser
    // The limits first: a v2 limit group is where the containment leaf goes.
    if (!opts_.limits.empty()) {
      limits_ = LimitGroups::make(opts_.limits, opts_.limit_cgroup, &why);
      // No cgroup backend for pids: the tracker enforces it (kill at birth; it must load, see
      // start_tracker), the other limits keep their groups.
      if (!limits_ && opts_.limits.pids && opts_.limit_cgroup.empty() && opts_.bpf != Tristate::kOff) {
        LimitSpec rest = opts_.limits;
        rest.pids.reset();
        std::string rest_why;
        limits_ = LimitGroups::make(rest, "", &rest_why);
        if (limits_) {
          tracker_pids_ = *opts_.limits.pids;
          pids_cgroup_why_ = why;
        } else {
          why = rest_why;
        }
      }
      if (!limits_)
        return fail("progeny run: " +
                    (opts_.limit_cgroup.empty() ? "--limit " : "--limit-cgroup " + opts_.limit_cgroup + ": ") +
                    why);
    } else if (!opts_.limit_cgroup.empty()) {
      return fail("progeny run: --limit-cgroup needs --limit");
    }
    contain_ = Containment::make(mode, &why, limits_ ? limits_->leaf_parent() : std::nullopt,
                                 limits_ ? limits_->refs() : std::vector<CgroupRef>{});
    if (!contain_) {
      return fail("progeny run: --contain " + opts_.contain + ": " + why);
    }
    if (opts_.verbose > 0) std::fprintf(stderr, "progeny: containment %s\n", contain_->reason().c_str());
    // The cgroup watchdog is our child but not part of the run.
    if (contain_->watchdog_pid() > 0) members_.exclude(contain_->watchdog_pid());
    // One descriptor per member: raise the soft limit as far as allowed (COMMAND gets the
    // limit progeny had).
    ::getrlimit(RLIMIT_NOFILE, &orig_nofile_);
    rlimit raised = orig_nofile_;
    raised.rlim_cur = raised.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &raised);
    return open_log() && open_shim_socket() && start_tracker();
  }

  // --control-fd first: whatever fails later, COMMAND never inherits it.
  bool adopt_control_channel() {
    if (opts_.control_fd < 0) return true;
    std::string why;
    control_ = ControlChannel::adopt(opts_.control_fd, &why);
    return control_.has_value() ||
           fail("progeny run: --control-fd " + std::to_string(opts_.control_fd) + ": " + why);
  }

  // A request on the control channel: the same stop as a timeout's, from the main loop (or,
  // during the stop, "kill" cuts the grace short as a second TERM does).
  void read_control() {
    std::vector<std::string> unknown;
    ControlChannel::Request req = control_->read(&unknown);
    for (const auto& line : unknown)
      std::fprintf(stderr, "progeny: --control-fd: ignored '%s' (not stop or kill)\n",
                   printable(line).c_str());
    if (req == ControlChannel::Request::kNone) return;
    bool kill = req == ControlChannel::Request::kKill;
    if (opts_.verbose > 0)
      std::fprintf(stderr, "progeny: %s requested on --control-fd\n", kill ? "kill" : "stop");
    if (stopping_) {
      escalate_ = escalate_ || kill;
      return;
    }
    if (!stop_requested_) command_ran_at_request_ = !cmd_exited_;
    stop_requested_ = true;
    kill_requested_ = kill_requested_ || kill;
  }

  bool start_tracker() {
    if (opts_.bpf == Tristate::kOff) return true;  // then the tracker enforces no pids cap
    std::string why;
    bpf::Options topts;
    if (contain_->watchdog_pid() > 0) topts.exclude.push_back(contain_->watchdog_pid());
    topts.batch_wakeups = !opts_.trace;  // live lines need the tracker's records at once
    topts.pids_cap = static_cast<uint32_t>(tracker_pids_);
    tracker_ = bpf::Tracker::start(self_, &why, topts);
    if (tracker_) {
      if (tracker_pids_ && opts_.verbose > 0)
        std::fprintf(stderr, "progeny: --limit pids=%lld by the tracker (%s)\n",
                     static_cast<long long>(tracker_pids_), pids_cgroup_why_.c_str());
      return true;
    }
    if (tracker_pids_)
      return fail("progeny run: --limit " + no_pids_backend(pids_cgroup_why_, why));
    if (opts_.bpf == Tristate::kOn) {
      return fail("progeny run: --bpf on: " + why);
    }
    if (opts_.verbose > 0) std::fprintf(stderr, "progeny: going on without BPF: %s\n", why.c_str());
    return true;
  }

  // The tracker's records join the log; without a log they are drained all the same.
  void consume_tracker() {
    if (!tracker_) return;
    tracker_->consume([this](const Record& r) { log_->write(r); });
  }

  // Lost or untracked events are reported, never silent.
  void report_tracker_losses() {
    if (!tracker_) return;
    consume_tracker();
    uint64_t lost = tracker_->lost(), untracked = tracker_->untracked();
    verdict_.lost.bpf_events = lost;
    verdict_.lost.bpf_untracked = untracked;
    if (lost + untracked == 0) return;
    Record r = make_record("lost", "launcher", self_);
    r.count = lost;
    r.what = "bpf";
    r.untracked = untracked;
    log_->write(r);
    std::fprintf(stderr, "progeny: the BPF tracker lost %llu event(s) and could not track %llu process(es)\n",
                 static_cast<unsigned long long>(lost), static_cast<unsigned long long>(untracked));
  }

  // A log that could not be written to the end is said so, on stderr (it may be the only
  // place left), with what it lost; the exit status stays COMMAND's.
  void report_log_failure() {
    if (!log_->error()) return;
    std::fprintf(stderr,
                 "progeny: the log %s is incomplete: writing failed after %llu bytes (%s); %llu "
                 "record(s) after that were not written\n",
                 opts_.log_path.c_str(), static_cast<unsigned long long>(log_->bytes()),
                 std::strerror(log_->error()), static_cast<unsigned long long>(log_->unwritten()));
  }

  // The one writer of every record: to --log, to --trace, and counted per process.
  bool open_log() {
    LineageLog::Options o;
    o.path = opts_.log_path;
    o.launcher = self_;
    if (opts_.trace || limits_)
      o.tap = [this](const Record& r) {
        if (opts_.trace) trace_.add(r);
        if (limits_) limit_watch_.on_record(r);
      };
    std::string error;
    log_ = LineageLog::open(std::move(o), &error);
    return log_ != nullptr || fail("progeny run: " + error);
  }

  // The shim's socket: its records go to the log, the processes it proves to the membership.
  bool open_shim_socket() {
    if (!opts_.preload) return true;
    std::string missing;
    if (!find_shim(&shim_path_, &missing)) {
      return fail("progeny run: " + missing + " (use --no-preload)");
    }
    ShimSocket::Options o;
    o.launcher = self_;
    o.translate_ns_pids = contain_->mode() == ContainMode::pidns;
    o.on_record = [this](Record&& r) { log_->write(r); };
    o.on_member = [this](VerifiedProcess&& p, pid_t parent, uint64_t parent_ino,
                         uint64_t parent_start) {
      members_.add(std::move(p), parent, parent_ino, parent_start);
    };
    o.on_ended = [this](Fd pidfd, const Record& r) {
      ExitedMember who;
      who.pid = r.pid;
      who.ino = r.ino.value_or(0);
      who.start_time = r.start_time.value_or(0);
      who.parent = static_cast<pid_t>(r.ppid.value_or(0));
      who.parent_ino = r.parent_ino.value_or(0);
      members_.add_ended(std::move(pidfd), who);
    };
    o.on_hold = [this](const Fd& lifeline, const Fd& member, uint64_t ino) {
      if (!keeper_) return false;
      if (keeper_->hold(lifeline, member, ino)) return true;
      say_keeper_gone();
      return false;
    };
    o.member = members_.lookup();
    std::string error;
    shim_ = ShimSocket::open(std::move(o), &error);
    return shim_ != nullptr || fail("progeny run: " + error);
  }

  // Whether the shim's lifelines are what takes the tree down with a killed launcher: with
  // containment (the cgroup watchdog, the PID namespace) or the tracker another mechanism
  // does, and the shim is told to take none (docs/shim.md).
  bool lifelines() const {
    return opts_.preload && opts_.pdeathsig && contain_->mode() == ContainMode::none && !tracker_;
  }

  // The keeper holds the lifelines outside the tree (launcher/members/keeper.h): started
  // before COMMAND, so that COMMAND's first lifeline already has a holder.
  bool start_keeper() {
    if (!lifelines()) return true;
    std::string why;
    keeper_ = Keeper::start(opts_.pdeathsig, &why);
    if (!keeper_) return fail("progeny run: " + why);
    members_.exclude(keeper_->pid());
    return true;
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
    env.push_back("PROGENY_SOCK=" + shim_->name());
    env.push_back("PROGENY_LAUNCHER=" + std::to_string(self_));
    env.push_back("PROGENY_PDEATHSIG=" + std::to_string(opts_.pdeathsig));
    env.push_back("PROGENY_SHIM=" + shim_path_);
    std::vector<std::string> flags;
    if (!opts_.reenv) flags.emplace_back("noreenv");
    if (!lifelines()) flags.emplace_back("nolifeline");
    // The tracker records every exec: the shim sends its own only for what the tracker cuts.
    if (tracker_) flags.emplace_back("tracked");
    // Spares every image the shim starts in a pidfd and an fstatfs to find out.
    if (pidfs_available()) flags.emplace_back("pidfs");
    std::string joined;
    for (const auto& f : flags) joined += (joined.empty() ? "" : ",") + f;
    if (!joined.empty()) env.push_back("PROGENY_OPTS=" + joined);
    return env;
  }

  void write_start_record() {
    Record r = make_record("start", "launcher", self_);
    r.wall_ns = realtime_ns();
    Fd self_fd = open_pidfd(self_);
    if (uint64_t ino = pidfd_ino(self_fd.get())) r.ino = ino;
    if (auto st = read_proc_stat(self_)) r.start_time = st->start_time;
    r.argv = opts_.command;
    r.version = PROGENY_VERSION;
    r.mechanisms = {"subreaper"};
    if (opts_.pdeathsig) r.mechanisms.emplace_back("pdeathsig");
    if (tracker_) r.mechanisms.emplace_back("bpf");
    if (opts_.preload) r.mechanisms.emplace_back("shim");
    if (contain_->mode() != ContainMode::none) r.mechanisms.emplace_back(contain_mode_name(contain_->mode()));
    log_->write(r);
  }

  // What progeny itself started: COMMAND, or in pidns mode the namespace's init (COMMAND is
  // further down). Its role says which, so every view can tell COMMAND from progeny's own.
  void write_spawn_record(const VerifiedProcess& p, const char* role) {
    Record r = make_record("fork", "launcher", p.pid());
    if (p.ino()) r.ino = p.ino();
    if (p.start_time()) r.start_time = p.start_time();
    r.ppid = self_;
    Fd self_fd = open_pidfd(self_);
    if (uint64_t ino = pidfd_ino(self_fd.get())) r.parent_ino = ino;
    r.via = "spawn";
    r.role = role;
    log_->write(r);
  }

  void write_signal_record(const Member& m, int sig, const char* reason, const char* cause,
                           int error, uint64_t time_ns) {
    Record r = make_record("signal", "launcher", self_, time_ns);
    r.signal = signal_name(sig);
    r.target_pid = m.pid();
    if (m.ino()) r.target_ino = m.ino();
    if (m.start_time()) r.target_start_time = m.start_time();
    r.reason = reason;
    if (cause) {
      r.cause = cause;
      r.parent = m.parent;
    }
    if (error) r.error = error;
    log_->write(r);
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
      return fail(std::string("progeny: cannot arm the timeout: ") + std::strerror(errno));
    }
    return true;
  }

  bool start_command() {
    if (!start_keeper() || !arm_timeout()) return false;
    write_start_record();
    SpawnRequest req;
    req.argv = opts_.command;
    req.env = command_environment();
    req.nofile = &orig_nofile_;
    req.mask = orig_mask_;
    req.dispositions = &dispositions_;
    req.pdeathsig = opts_.pdeathsig;
    req.tty_fd = tty_->active() ? tty_->fd() : -1;
    req.contain = contain_.get();
    if (limits_) req.limit_fds = limits_->enter_fds(contain_->mode() == ContainMode::cgroup);
    std::string why;
    Spawned s = spawn_command(req, &why);
    if (s.pid < 0) {
      return fail("progeny: cannot start '" + opts_.command[0] + "': " + why);
    }
    if (req.tty_fd >= 0) tty_->give_to(s.pid);
    cmd_pid_ = s.pid;
    exec_report_ = std::move(s.exec_report);
    Fd second(::fcntl(s.pidfd.get(), F_DUPFD_CLOEXEC, 0));
    cmd_ = Proof::own_child(s.pid, std::move(s.pidfd));
    auto member = Proof::own_child(s.pid, std::move(second));
    if (!cmd_ || !member) {
      return fail("progeny: cannot hold '" + opts_.command[0] + "' by a pidfd");
    }
    write_spawn_record(*cmd_, contain_->mode() == ContainMode::pidns ? "pidns_init" : "command");
    if (shim_) shim_->vouch(cmd_->ino());
    members_.add(std::move(*member), self_, 0, 0);
    // COMMAND's group is new, its session is ours (as /proc reports it: 0 when the session's
    // leader is outside our PID namespace). Read from us: COMMAND may call setsid at once.
    if (auto st = read_proc_stat(self_)) cmd_sid_ = st->session;
    // In a PID namespace the pid is its init's; COMMAND's is told when the init reports it.
    if (opts_.verbose > 0 && contain_->mode() == ContainMode::pidns)
      std::fprintf(stderr, "progeny: started the PID namespace's init as pid %d\n", cmd_pid_);
    else if (opts_.verbose > 0)
      std::fprintf(stderr, "progeny: started %s as pid %d\n", opts_.command[0].c_str(), cmd_pid_);
    return true;
  }

  // A wake-up that brought records is followed by a batch window
  // (os/batch_window.h): a busy tree is read in batches, at most 200 times a second, and
  // wakes the launcher itself only when it was idle.
  void main_loop() {
    for (bool busy = false;;) {
      if (timed_out_ || stop_requested_) return;
      if (cmd_exited_ && (!opts_.wait_all || tree_gone())) return;
      busy = poll_once(-1, busy);
    }
  }

  // Returns whether records were ready (the tree is busy).
  bool poll_once(int timeout_ms, bool batch_first = false) {
    // What must not wait comes first: the batch window polls these alone.
    std::vector<pollfd> fds;
    fds.push_back({sigfd_.get(), POLLIN, 0});
    size_t timer_at = fds.size();
    if (timerfd_) fds.push_back({timerfd_.get(), POLLIN, 0});
    // Where an optional one is in fds; SIZE_MAX when it is not polled.
    auto add_if = [&fds](bool polled, int fd) {
      if (!polled) return SIZE_MAX;
      fds.push_back({fd, POLLIN, 0});
      return fds.size() - 1;
    };
    size_t status_at = add_if(contain_->status_fd() >= 0 && !cmd_exited_ && !pidns_reports_done_,
                              contain_->status_fd());
    size_t exec_at = add_if(static_cast<bool>(exec_report_), exec_report_.get());
    size_t control_at = add_if(control_ && control_->open(), control_ ? control_->fd() : -1);
    // Without the tracker a member's exit is stamped when we see it, so neither it nor the
    // shim's records wait: a process that ended before its record was read is held by the
    // pidfd that came with it, and its exit stamped then (batched, a 1 ms process would look
    // 5 ms long). With the tracker, exits carry the kernel's time and both wait, unless the
    // parent-death policy must act on an exit at once.
    bool exits_wait = tracker_ && parent_death_policy() == 0;
    if (!exits_wait) fds.push_back({members_.exit_fd(), POLLIN, 0});
    size_t shim_at = SIZE_MAX;
    if (!tracker_) shim_at = add_if(static_cast<bool>(shim_), shim_ ? shim_->fd() : -1);
    size_t batched_at = fds.size();
    if (tracker_) shim_at = add_if(static_cast<bool>(shim_), shim_ ? shim_->fd() : -1);
    if (exits_wait) fds.push_back({members_.exit_fd(), POLLIN, 0});
    if (tracker_) fds.push_back({tracker_->event_fd(), POLLIN, 0});
    if (batch_first) wait_for_urgent(fds.data(), batched_at);
    // Trace lines wait for their reorder window: wake up to print them.
    if (trace_.pending() && (timeout_ms < 0 || timeout_ms > 50)) timeout_ms = 50;
    int n = ::poll(fds.data(), fds.size(), timeout_ms);
    // The tracker wakes us only when its ring fills up: read it on every wake-up.
    consume_tracker();
    if (n > 0) handle_events(fds, timer_at, shim_at, status_at);
    if (exec_at != SIZE_MAX && fds[exec_at].revents) command_exec_decided();
    if (control_at != SIZE_MAX && fds[control_at].revents) read_control();
    // Whatever the shims sent before a member died is read before its children are judged.
    if (shim_) shim_->on_readable();
    members_exited(false);
    log_->flush();
    print_trace(false);
    bool busy = false;
    for (size_t i = batched_at; i < fds.size(); ++i) busy = busy || fds[i].revents;
    return busy;
  }

  void print_trace(bool final) {
    for (const auto& line : trace_.take(monotonic_ns(), final))
      std::fprintf(stderr, "%s\n", line.c_str());
  }

  void handle_events(const std::vector<pollfd>& fds, size_t timer_at, size_t shim_at,
                     size_t status_at) {
    if (fds[0].revents & POLLIN) read_signals();
    // Records before exits: a member's children must be known when it is found dead.
    if (shim_at != SIZE_MAX && (fds[shim_at].revents & POLLIN)) shim_->on_readable();
    if (status_at != SIZE_MAX && fds[status_at].revents) command_ended_in_namespace();
    if (timerfd_ && (fds[timer_at].revents & POLLIN)) {
      uint64_t ticks;
      if (::read(timerfd_.get(), &ticks, sizeof ticks) > 0 && !timed_out_) {
        timed_out_ = true;
        Record r = make_record("timeout", "launcher", self_);
        r.after_ms = opts_.timeout_ms;
        log_->write(r);
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
        // --wait: asked to end while COMMAND still ran (it may be a daemon's parent about to
        // exit), the user wants the rest ended too once COMMAND has had the signal.
        if (!cmd_exited_ && ends_run && opts_.wait_all) stop_when_command_ends_ = true;
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
      // Looked at before it is reaped, while the pid is still its own: its identity.
      siginfo_t si{};
      int flags = WEXITED | WNOHANG | WNOWAIT | (tty_->active() ? WSTOPPED : 0);
      if (::waitid(P_ALL, 0, &si, flags) != 0 || si.si_pid <= 0) return;
      pid_t p = si.si_pid;
      int st = 0;
      if (si.si_code == CLD_STOPPED) {
        ::waitpid(p, &st, WNOHANG | WUNTRACED);
        if (p == cmd_pid_) suspend_with_command();
        continue;
      }
      Fd zombie = open_pidfd(p);
      uint64_t ino = pidfd_ino(zombie.get());
      auto stat = read_proc_stat(p);
      // wait4: the kernel's account of the child and every descendant it waited for.
      struct rusage usage {};
      if (::wait4(p, &st, WNOHANG, &usage) != p) continue;
      reaped(p, st, usage, ino, stat ? stat->start_time : 0);
    }
  }

  // One of our children is gone: a member's exit is written when the membership reports it
  // (with the parent-death policy); a child no source knew (an orphan of a static program
  // adopted by us) is written here, once.
  void reaped(pid_t pid, int status, const struct rusage& usage, uint64_t ino, uint64_t start_time) {
    Member* m = members_.find(pid);
    if (m && (!ino || m->ino() == ino)) {
      members_.reaped(pid, status, usage);
    } else if (!members_.is_excluded(pid)) {
      Record r = exit_record("launcher", pid, ino, start_time, &status);
      set_inclusive_cost(&r, usage);
      log_->write(r);
    }
    // In a PID namespace this is the init: COMMAND's own status came through status_fd.
    if (pid == cmd_pid_ && !cmd_exited_) command_ended(status);
  }

  // The parent-death policy in force. Not while stopping: the stop ends everything anyway,
  // in its own order (a nested run's watchdog last), which the policy would upset.
  int parent_death_policy() const { return opts_.preload && !stopping_ ? opts_.parent_death : 0; }

  // Members that ended: their exit, once, and the parent-death policy for their children.
  void members_exited(bool final) {
    int policy = parent_death_policy();
    for (const ExitedMember& e : members_.take_exited(final)) {
      Record r = exit_record("launcher", e.pid, e.ino, e.start_time, e.status ? &*e.status : nullptr);
      if (e.usage) set_inclusive_cost(&r, *e.usage);
      log_->write(r);
      if (shim_ && e.ino) shim_->exited(e.ino);
      apply_parent_death(members_, e, policy, [&](const Member& child, int err) {
        write_signal_record(child, policy, "kill", "parent_killed", err, 0);
      });
    }
  }

  void command_ended(int status) {
    cmd_exited_ = true;
    cmd_status_ = status;
    if (stop_when_command_ends_) stop_requested_ = true;
    // The terminal is ours again before anything else happens (the stop, reports).
    tty_->take_back();
  }

  // COMMAND's exec is decided: the launcher's own record of it, so even a static COMMAND
  // without the tracker is named (what the shim and the tracker report agrees with it, and
  // the views merge them).
  void command_exec_decided() {
    int err = 0;
    ssize_t n = ::read(exec_report_.get(), &err, sizeof err);
    if (n < 0 && errno == EAGAIN) return;
    exec_report_.reset();
    Record r = make_record(n == sizeof err ? "exec_failed" : "exec", "launcher", cmd_pid_);
    if (cmd_->ino()) r.ino = cmd_->ino();
    if (cmd_->start_time()) r.start_time = cmd_->start_time();
    if (n == sizeof err) {
      exec_errno_ = err;
      r.path = opts_.command[0];
      r.error = err;
    } else {
      r.path = path_search(opts_.command[0]);
      r.argv = opts_.command;
      r.ppid = self_;
    }
    log_->write(r);
  }

  // pidns: the intermediate's reports. COMMAND (PID 3 inside) started: it and the
  // intermediate are named by identity, so the log says which process is COMMAND; COMMAND
  // ended while the init may still hold the rest of the tree.
  void command_ended_in_namespace() {
    PidnsReport r{};
    if (!contain_->pidns_report(&r)) {
      pidns_reports_done_ = true;  // the intermediate is gone: its status was all there was
      return;
    }
    if (r.kind == PidnsReport::kEnded) {
      command_ended(r.status);
      return;
    }
    name_in_namespace(r.intermediate_ino, "pidns_intermediate", true);
    name_in_namespace(r.command_ino, "command", true);
    contain_->pidns_command_named();
  }

  // A process of the namespace, by identity: its fork record (role), and COMMAND a member.
  void name_in_namespace(uint64_t ino, const char* role, bool member) {
    Fd fd = open_pidfd_by_ino(ino);
    auto pids = fd ? pidfd_pids(fd.get()) : std::nullopt;
    if (!pids || pids->pid <= 0) return;
    Record r = make_record("fork", "launcher", pids->pid);
    r.ino = ino;
    if (auto st = read_proc_stat(pids->pid)) r.start_time = st->start_time;
    r.ppid = pids->ppid;
    Fd parent = open_pidfd(pids->ppid);
    if (uint64_t pino = pidfd_ino(parent.get())) r.parent_ino = pino;
    r.via = "spawn";
    r.role = role;
    log_->write(r);
    if (shim_) shim_->vouch(ino);
    if (std::string_view(role) != "command") helpers_.insert(pids->pid);
    else
      command_in_ns_ = pids->pid;
    if (command_in_ns_ == pids->pid && opts_.verbose > 0)
      std::fprintf(stderr, "progeny: started %s as pid %d (PID 3 in its namespace)\n",
                   opts_.command[0].c_str(), pids->pid);
    if (!member) return;
    if (auto proof = Proof::descendant(pids->pid, fd, self_, members_.lookup()))
      members_.add(std::move(*proof), pids->ppid, r.parent_ino.value_or(0), 0);
  }

  // Once: someone killed the keeper. Its lifelines' launcher ends, armed by their members,
  // then killed those members (docs/shim.md); a lifeline handed in later kills its member
  // as soon as it is read (shim_socket.cc, take_lifeline).
  void say_keeper_gone() {
    if (keeper_lost_) return;
    keeper_lost_ = true;
    std::fprintf(stderr, "progeny: the keeper was killed: the members whose lifelines it held "
                         "were killed with it, and so is every member that hands one in now\n");
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

  // Membership is the union of every mechanism's knowledge: the walk's own (Membership::scan), the
  // shim's (checked for descent) and the tracker's map (kernel-kept). The containment adds
  // nothing to walk: a PID namespace's init is our child, so the walk covers it, and a
  // cgroup's members come through GroupControl when the stop freezes it.
  void add_member_sources() {
    if (tracker_) {
      members_.add_source([this] {
        std::vector<KnownProcess> out;
        for (const auto& m : tracker_->members()) out.push_back({m.pid, m.start_time, m.ino});
        return out;
      }, true);
    }
  }

  void on_members_known() override {
    leftovers_ = report_leftovers();
    write_stop_record("begin", members_.live().size(), 0);
  }

  // Descendants still running when the stop begins: who they are and how they got away,
  // into the verdict. The stderr report names the first kReportLines, --report the first
  // kReportDescribed; only those are described from /proc, the rest are listed by identity.
  static constexpr size_t kReportLines = 20;
  static constexpr size_t kReportDescribed = 256;
  size_t report_leftovers() {
    std::set<pid_t> skip = helpers_;
    // COMMAND when it still runs (a timeout), the PID namespace's init: not leftovers of it.
    if (cmd_exited_ || contain_->mode() == ContainMode::pidns) skip.insert(cmd_pid_);
    record_unnamed_leftovers(skip);
    size_t detailed = report_ ? kReportDescribed : kReportLines;
    RunawayContext& ctx = verdict_.stop;
    ctx.why = timed_out_ ? RunawayContext::Why::kTimeout
              : stop_requested_ ? RunawayContext::Why::kRequested : RunawayContext::Why::kOutlived;
    ctx.timeout_ms = opts_.timeout_ms;
    ctx.launcher_pid = self_;
    bool pidns = contain_->mode() == ContainMode::pidns;
    ctx.command_pid = pidns && command_in_ns_ ? command_in_ns_ : cmd_pid_;
    ctx.init_pid = pidns ? cmd_pid_ : 0;
    ctx.command_pgid = cmd_pid_;  // COMMAND (or the namespace's init) leads its group
    ctx.command_sid = cmd_sid_;
    verdict_.leftovers = describe_leftovers(members_, skip, *log_, detailed);
    record_unreported_escapes(ctx);
    if (!opts_.quiet && !verdict_.leftovers.empty()) {
      print_trace(true);  // the live lines up to now come before the report, not through it
      std::fputs(format_runaway_report(verdict_.leftovers, ctx, kReportLines).c_str(), stderr);
    }
    return verdict_.leftovers.size();
  }

  // Leftovers no record named (the children of a static program without the tracker): what
  // /proc says of them, as `progeny watch` does for what existed before it (`via: proc`: the
  // parent is the one they have now, their creator is not knowable any more).
  void record_unnamed_leftovers(const std::set<pid_t>& skip) {
    for (Member* m : members_.live()) {
      if (skip.count(m->pid()) || !m->ino() || log_->origin(m->ino())) continue;
      auto st = read_proc_stat(m->pid());
      if (!st || st->start_time != m->start_time()) continue;
      Record fork = make_record("fork", "launcher", m->pid());
      fork.ino = m->ino();
      fork.start_time = m->start_time();
      fork.ppid = st->ppid;
      fork.via = "proc";
      fork.pgid = st->pgrp;
      fork.sid = st->session;
      log_->write(fork);
      Record exec = make_record("exec", "launcher", m->pid());
      exec.ino = m->ino();
      exec.start_time = m->start_time();
      char exe[4096];
      std::string link = "/proc/" + std::to_string(m->pid()) + "/exe";
      ssize_t len = ::readlink(link.c_str(), exe, sizeof exe);
      if (len > 0) exec.path = std::string(exe, static_cast<size_t>(len));
      exec.argv = read_cmdline(m->pid());
      exec.ppid = st->ppid;
      log_->write(exec);
    }
  }

  // An escape that no record reported (the setsid of a static or setuid program, which no
  // shim runs in and the tracker does not follow): what /proc says at the stop, so the log's
  // views agree with the stop's report. It happened before this record's time, not at it.
  void record_unreported_escapes(const RunawayContext& ctx) {
    for (const RunawayProcess& p : verdict_.leftovers) {
      std::string kind = how_escaped(p, ctx).kind;
      bool setsid = kind == "setsid";
      if (!setsid && kind != "setpgid") continue;
      const LineageLog::Origin* o = p.ino ? log_->origin(p.ino) : nullptr;
      if (!o || (setsid ? o->setsid : o->setpgid)) continue;  // unknown, or reported already
      Record r = make_record(setsid ? "setsid" : "setpgid", "launcher", p.pid);
      r.ino = p.ino;
      r.start_time = p.start_time;
      if (setsid) r.sid = p.sid;
      else r.pgid = p.pgid;
      log_->write(r);
    }
  }

  void write_stop_record(const char* phase, size_t members, size_t survivors) {
    Record r = make_record("stop", "launcher", self_);
    r.phase = phase;
    r.members = members;
    r.survivors = survivors;
    log_->write(r);
  }

  // --fail-on-runaway: what is still exiting on its own (a pool's workers reading EOF, a
  // resource tracker cleaning up) is given the settle to do so before anything is judged.
  // Ends as soon as nothing is left: a clean run waits for nothing.
  void settle() {
    uint64_t deadline = monotonic_ns() + static_cast<uint64_t>(opts_.settle_ms) * 1000000;
    while (!tree_gone() && !timed_out_ && !stop_requested_) {
      uint64_t now = monotonic_ns();
      if (now >= deadline) break;
      poll_once(static_cast<int>(std::min<uint64_t>(50, (deadline - now) / 1000000 + 1)));
    }
  }

  int finish() {
    if (opts_.fail_on_runaway && cmd_exited_ && !timed_out_ && !stop_requested_) settle();
    StopResult stop;
    bool need_stop = timed_out_ || stop_requested_ || !tree_gone();
    if (need_stop) {
      stopping_ = true;
      // From here on whatever a member forks dies at birth, in the kernel.
      if (tracker_) tracker_->begin_stop();
      add_member_sources();
      StopPolicy policy;
      policy.signal = kill_requested_ ? SIGKILL : opts_.stop_signal;
      policy.grace_ms = opts_.kill_after_ms;
      if (opts_.verbose > 0) std::fprintf(stderr, "progeny: stopping every descendant\n");
      stop = stop_tree(members_, policy, *this, contain_->group());
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
    contain_->finish(/*keep_watchdog=*/limits_ != nullptr);
    // The tree is stopped: nothing left to hold (and a record drained below that would be
    // handed to it finds no keeper rather than a gone one).
    if (keeper_) {
      if (keeper_->gone()) say_keeper_gone();
      if (shim_) shim_->disarm_lifelines();
      keeper_->dismiss(true);
    }
    keeper_.reset();
    report_tracker_losses();
    if (tracker_) tracker_capped_ = tracker_->capped();
    // Unloaded before we exit: its in-kernel kill is for a launcher that dies mid-run.
    tracker_.reset();
    if (shim_) {
      shim_->drain();
      verdict_.lost.shim_records = shim_->lost();
      verdict_.lost.shim_refused = shim_->refused();
      if (shim_->lost() || shim_->refused()) {
        Record r = make_record("lost", "launcher", self_);
        r.count = shim_->lost();
        r.what = "shim";
        r.refused = shim_->refused();
        log_->write(r);
      }
    }
    members_exited(true);
    report_limits();
    log_->finish();
    verdict_.lost.unknown_exits = log_->unknown_exits();
    verdict_.lost.log_unwritten = log_->unwritten();
    for (const auto& c : log_->top_creators(kTopCreators))
      verdict_.top_creators.push_back({c.pid, c.ino, c.name, c.created});
    print_trace(true);
    report_log_failure();
    verdict_.stopped = need_stop;
    verdict_.survivors = stop.survivors;
    if (!stop.survivors.empty()) {
      std::fprintf(stderr, "progeny: %zu process(es) could not be stopped:\n", stop.survivors.size());
      for (const auto& s : stop.survivors) std::fprintf(stderr, "progeny:   %s\n", s.c_str());
    }
    decide_outcome();
    write_report();
    if (verdict_.outcome == Verdict::Outcome::kTimeout ||
        verdict_.outcome == Verdict::Outcome::kRunaway ||
        verdict_.outcome == Verdict::Outcome::kStoppedOnRequest)
      return verdict_.exit_status;
    exit_like(cmd_status_);
  }

  static constexpr size_t kTopCreators = 5;
  static constexpr size_t kNamedPerLimit = 5;

  // --limit, once everything has ended: the kernel's counters and whom each limit hit, into
  // the verdict, the log (a `limit` record each) and, when one bit, stderr; then the groups
  // are removed.
  void report_limits() {
    if (!limits_) return;
    uint64_t oom_kills = limits_->oom_kills();
    std::vector<LimitUse> uses = limits_->usage();
    if (tracker_pids_) {
      LimitUse t{"pids", "tracker", "", std::to_string(tracker_pids_), tracker_capped_ > 0,
                 {{"killed", tracker_capped_}}};
      uses.insert(uses.begin(), std::move(t));
    }
    for (LimitUse& u : uses) {
      Verdict::Limit l;
      l.name = u.name;
      l.value = u.value;
      l.backend = u.backend;
      l.group = u.group;
      l.hit = u.hit;
      l.counts = u.counts;
      std::vector<LimitWatch::Process> named;
      if (u.name == "pids" && u.hit) {
        l.role = "forker";
        named = limit_watch_.forkers(kNamedPerLimit);
        if (!named.empty()) l.named_by = limit_watch_.forker_source();
      } else if (u.name == "memory" && oom_kills > 0) {
        l.role = "oom_victim";
        named = limit_watch_.oom_victims(oom_kills, &l.named_by);
        if (named.empty()) l.named_by.clear();
      }
      for (const LimitWatch::Process& p : named) {
        const LineageLog::Origin* o = p.ino ? log_->origin(p.ino) : nullptr;
        l.named.push_back({p.pid, p.ino, o && !o->name.empty() ? o->name : p.comm, p.count});
      }
      Record r = make_record("limit", "launcher", self_);
      r.what = l.name;
      r.limit = l.value;
      r.backend = l.backend;
      r.hit = l.hit;
      for (const auto& [k, v] : l.counts)
        if (k == (l.name == "pids" ? (l.backend == "tracker" ? "killed" : "max")
                  : l.name == "memory" ? "oom_kill" : "nr_throttled"))
          r.count = v;
      if (!l.role.empty()) r.role = l.role;
      if (!l.named_by.empty()) r.via = l.named_by;
      if (!l.named.empty()) {
        r.target_pid = l.named[0].pid;
        if (l.named[0].ino) r.target_ino = l.named[0].ino;
      } else if (!l.role.empty()) {
        r.reason = "unknown";
      }
      log_->write(r);
      verdict_.limits.push_back(std::move(l));
    }
    if (!opts_.quiet) std::fputs(format_limit_report(verdict_.limits).c_str(), stderr);
    std::string why;
    bool gone = limits_->remove(&why);
    if (!gone) std::fprintf(stderr, "progeny: %s\n", why.c_str());
    contain_->dismiss_watchdog(gone);
  }

  // How the run ends: the status progeny exits with and what it means.
  void decide_outcome() {
    using Outcome = Verdict::Outcome;
    Verdict& v = verdict_;
    if (cmd_exited_) {
      int sig = 0;
      int code = exit_code_for(cmd_status_, &sig);
      v.command_signal = sig;
      if (!sig) v.command_code = code;
    }
    v.exec_errno = exec_errno_;
    if (timed_out_) {
      v.outcome = Outcome::kTimeout;
      v.exit_status = kExitTimeout;
    } else if (!cmd_exited_ || command_ran_at_request_) {
      // Stopped on request (--control-fd) while COMMAND lived on: it has been reaped by the
      // stop, its status is the stop's doing, not its own.
      v.outcome = Outcome::kStoppedOnRequest;
      v.exit_status = kExitProgenyError;
    } else if (leftovers_ > 0 && opts_.fail_on_runaway && !stop_requested_ &&
               v.command_code == 0) {
      // --fail-on-runaway: COMMAND succeeded but left processes that did not end on their
      // own within the settle (a timeout or a stop on request keeps its own status).
      v.outcome = Outcome::kRunaway;
      v.exit_status = kExitRunaway;
    } else if (v.command_signal) {
      v.outcome = Outcome::kCommandSignaled;
      v.exit_status = 128 + v.command_signal;
    } else {
      v.exit_status = *v.command_code;
      v.outcome = !exec_errno_ ? Outcome::kCommandExited
                  : v.exit_status == kExitNotFound ? Outcome::kCommandNotFound
                                                   : Outcome::kNotExecutable;
    }
  }

  RunOptions opts_;
  pid_t self_;
  Membership members_;
  Fd sigfd_, timerfd_;
  std::unique_ptr<Terminal> tty_;
  // Declared before contain_, so destroyed after it: a v2 limit group holds the leaf.
  std::unique_ptr<LimitGroups> limits_;
  std::unique_ptr<Containment> contain_;
  LimitWatch limit_watch_;
  std::unique_ptr<LineageLog> log_;
  std::unique_ptr<ShimSocket> shim_;
  std::unique_ptr<Keeper> keeper_;
  bool keeper_lost_ = false;  // said once
  std::unique_ptr<bpf::Tracker> tracker_;
  // --limit pids=N by the tracker (no cgroup backend for it; 0: not), why no cgroup could,
  // and how many children it killed at birth.
  int64_t tracker_pids_ = 0;
  std::string pids_cgroup_why_;
  uint64_t tracker_capped_ = 0;
  TraceMerger trace_;
  std::string shim_path_;
  sigset_t orig_mask_{};
  InheritedDispositions dispositions_;
  rlimit orig_nofile_{};
  pid_t cmd_pid_ = -1;
  pid_t cmd_sid_ = -1;
  std::optional<VerifiedProcess> cmd_;  // COMMAND (or the PID namespace's init)
  Fd exec_report_;                      // see Spawned::exec_report
  bool cmd_exited_ = false;
  bool pidns_reports_done_ = false;
  std::set<pid_t> helpers_;  // pidns: the intermediate (the init is cmd_pid_)
  pid_t command_in_ns_ = 0;  // pidns: COMMAND (PID 3 inside), by our pid for it
  int cmd_status_ = 0;
  bool timed_out_ = false;
  bool stop_requested_ = false;
  bool stop_when_command_ends_ = false;  // see read_signals
  bool stopping_ = false;
  bool escalate_ = false;
  bool kill_requested_ = false;          // --control-fd "kill" before the stop began
  bool command_ran_at_request_ = false;  // the stop on request found COMMAND running
  std::optional<ControlChannel> control_;
  size_t leftovers_ = 0;  // what the stop found still running (the report's count)
  int exec_errno_ = 0;    // COMMAND's exec failed with it (not known in pidns mode)
  uint64_t started_ns_ = monotonic_ns();
  Verdict verdict_;
  std::optional<ReportFile> report_;
};

}  // namespace

int run_main(int argc, char** argv) {
  RunOptions opts;
  std::string usage_error;
  if (auto status = cli::parse_main_args(run_command_line(&opts), argc, argv, &usage_error)) {
    if (!usage_error.empty() && !opts.report_path.empty()) report_usage_error(opts, usage_error);
    return *status;
  }
  return Runner(std::move(opts)).run();
}

}  // namespace progeny
