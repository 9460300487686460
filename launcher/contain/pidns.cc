#include "launcher/contain/pidns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "launcher/contain/cgroup.h"
#include "launcher/os/exit_codes.h"
#include "launcher/contain/spawn_contained.h"
#include "launcher/members/signal_gate.h"
#include "launcher/os/sys.h"

namespace progeny {
namespace {

// Signals the init and the intermediate pass down (the launcher forwards these to its child).
constexpr int kForwarded[] = {SIGHUP, SIGINT,  SIGQUIT, SIGTERM, SIGUSR1,
                              SIGUSR2, SIGWINCH, SIGCONT, SIGALRM};
// Job-control stops are for COMMAND; the init ignores them anyway (PID 1), the intermediate
// must not stop with them either.
constexpr int kJobStops[] = {SIGTSTP, SIGTTIN, SIGTTOU};

// A pidfd of the next process down (our unreaped child), opened before the handler exists.
volatile sig_atomic_t g_forward_pidfd = -1;

// Passes a signal on to the next process down. Signals the terminal generates (SI_KERNEL)
// already reached the whole foreground group, COMMAND included: passing them on would
// deliver them twice.
void forward(int sig, siginfo_t* info, void*) {
  if (info->si_code == SI_KERNEL || g_forward_pidfd < 0) return;
  int saved = errno;
  signal_gate::send_to_own_child(g_forward_pidfd, sig);
  errno = saved;
}

// Forwards the usual signals to `child`, an unreaped child of ours (so its pid is its own).
void install_forwarding(pid_t child) {
  g_forward_pidfd = sys_pidfd_open(child);
  struct sigaction sa{};
  sa.sa_sigaction = forward;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  for (int s : kForwarded) ::sigaction(s, &sa, nullptr);
}

[[noreturn]] void die(const char* what) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "progeny: pidns: %s: %s\n", what, std::strerror(errno));
  (void)!::write(2, buf, static_cast<size_t>(n > 0 ? n : 0));
  ::_exit(kExitProgenyError);
}

bool write_file(const char* path, const char* text) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t len = std::strlen(text);
  bool ok = ::write(fd, text, len) == static_cast<ssize_t>(len);
  ::close(fd);
  return ok;
}

// Everything the init changes that COMMAND must get back as the caller had it: the mask and
// every disposition (an inherited SIG_IGN such as nohup's must survive the round trip).
struct SavedSignals {
  sigset_t mask;
  struct sigaction action[NSIG];
};

void save_signals(SavedSignals* s) {
  ::sigprocmask(SIG_SETMASK, nullptr, &s->mask);
  for (int i = 1; i < NSIG; ++i) ::sigaction(i, nullptr, &s->action[i]);
}

void restore_signals(const SavedSignals& s) {
  for (int i = 1; i < NSIG; ++i)
    if (i != SIGKILL && i != SIGSTOP) ::sigaction(i, &s.action[i], nullptr);
  ::sigprocmask(SIG_SETMASK, &s.mask, nullptr);
}

// The launcher's handlers must not run in the init or the intermediate (a handler writing to
// an inherited self-pipe would wake the launcher): start from the defaults.
void reset_dispositions() {
  struct sigaction dfl{};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s)
    if (s != SIGKILL && s != SIGSTOP) ::sigaction(s, &dfl, nullptr);
}

// The pidfs inode of a process of ours (async-signal-safe), 0 without pidfs.
uint64_t ino_of(pid_t pid) {
  int fd = sys_pidfd_open(pid);
  if (fd < 0) return 0;
  struct stat st {};
  uint64_t ino = ::fstat(fd, &st) == 0 ? st.st_ino : 0;
  ::close(fd);
  return ino;
}

// PID 1 of the namespace. Never returns.
[[noreturn]] void run_init(pid_t c1, int status_w, int named_r) {
  // Only the intermediate reports; without our copy the launcher sees EOF as soon as the
  // intermediate dies without a word.
  ::close(status_w);
  ::close(named_r);
  ::prctl(PR_SET_NAME, "progeny-init");  // what `ps` inside shows as PID 1
  install_forwarding(c1);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int code = 0;
  for (;;) {
    int st = 0;
    pid_t p = ::waitpid(-1, &st, 0);
    if (p < 0 && errno == EINTR) continue;
    if (p < 0) break;  // ECHILD: the namespace is empty but for us
    if (p == c1) code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  ::_exit(code);
}

// The namespaces of a run: a user namespace too when not root (it grants the rest).
uint64_t namespace_flags() {
  return CLONE_NEWPID | CLONE_NEWNS | (::geteuid() != 0 ? CLONE_NEWUSER : 0);
}

// PID 2: COMMAND's parent. Never returns.
// Until the launcher says it named COMMAND (a byte, or EOF when it is gone), at most 5 s.
void wait_until_named(int named_r) {
  timespec now{}, end{};
  ::clock_gettime(CLOCK_MONOTONIC, &end);
  end.tv_sec += 5;
  for (;;) {
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
    if (ms <= 0) return;
    pollfd p{named_r, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(ms));
    if (r != 0 && !(r < 0 && errno == EINTR)) return;  // a byte, EOF, or an error
  }
}

[[noreturn]] void run_intermediate(pid_t cmd, int status_w, int named_r) {
  ::prctl(PR_SET_NAME, "progeny-ns");
  install_forwarding(cmd);
  struct sigaction ign{};
  ign.sa_handler = SIG_IGN;
  for (int s : kJobStops) ::sigaction(s, &ign, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Who COMMAND and we are, by identity: the launcher cannot see our pids in its namespace.
  PidnsReport started{PidnsReport::kStarted, 0, ino_of(cmd), ino_of(::getpid())};
  (void)!::write(status_w, &started, sizeof started);
  // COMMAND's end, left a zombie until the launcher has named it (pidns_named).
  siginfo_t si{};
  while (::waitid(P_PID, static_cast<id_t>(cmd), &si, WEXITED | WNOWAIT) < 0)
    if (errno != EINTR) ::_exit(kExitProgenyError);
  wait_until_named(named_r);
  ::close(named_r);
  int st = 0;
  while (::waitpid(cmd, &st, 0) < 0)
    if (errno != EINTR) ::_exit(kExitProgenyError);
  PidnsReport ended{PidnsReport::kEnded, st, 0, 0};
  (void)!::write(status_w, &ended, sizeof ended);
  ::_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

}  // namespace

bool pidns_available(std::string* why) {
  // Only a real attempt tells, root or not: sysctls, AppArmor, seccomp, a container without
  // CAP_SYS_ADMIN or a kernel without clone3 all may refuse. So this makes the very clone
  // pidns_spawn makes, of a child that exits at once.
  CloneSpec spec;
  spec.ns_flags = namespace_flags();
  Fd pidfd;
  pid_t p = clone_contained(spec, &pidfd);
  if (p == 0) ::_exit(0);
  if (p < 0) {
    *why = std::string(::geteuid() != 0 ? "unprivileged user namespaces are not allowed here"
                                         : "cannot create a PID namespace") +
           " (clone3: " + std::strerror(errno) + ")";
    return false;
  }
  int st = 0;
  while (::waitpid(p, &st, 0) < 0 && errno == EINTR) {}
  return true;
}

pid_t pidns_spawn(PidnsChild* child, std::string* why) {
  SavedSignals saved;
  save_signals(&saved);
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  Fd launcher_pidfd = open_pidfd(::getpid());
  int sp[2], np[2] = {-1, -1};
  if (!launcher_pidfd || ::pipe2(sp, O_CLOEXEC) != 0) {
    *why = std::string("pidns: ") + std::strerror(errno);
    return -1;
  }
  Fd status_r(sp[0]), status_w(sp[1]);
  if (::pipe2(np, O_CLOEXEC) != 0) {
    *why = std::string("pidns: ") + std::strerror(errno);
    return -1;
  }
  Fd named_r(np[0]), named_w(np[1]);
  // Nothing may be delivered between the clone and the init's own handlers.
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_BLOCK, &all, nullptr);

  CloneSpec spec;
  spec.ns_flags = namespace_flags();
  Fd init_pidfd;
  pid_t init = clone_contained(spec, &init_pidfd);
  if (init < 0) {
    int err = errno;
    ::sigprocmask(SIG_SETMASK, &saved.mask, nullptr);
    *why = std::string("cannot create the PID namespace: ") + std::strerror(err);
    errno = err;
    return -1;
  }
  if (init > 0) {
    ::sigprocmask(SIG_SETMASK, &saved.mask, nullptr);
    child->init = init;
    child->init_pidfd = std::move(init_pidfd);
    child->status_fd = std::move(status_r);
    child->named_fd = std::move(named_w);
    return init;
  }

  // --- the init (PID 1), raw clone3 child: async-signal-safe calls only ---
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  pollfd lp{launcher_pidfd.get(), POLLIN, 0};
  if (::poll(&lp, 1, 0) != 0) ::_exit(kExitProgenyError);  // the launcher died before prctl
  if (uid != 0) {
    // A process that changed uids (su, setpriv, a sandbox dropping root) is not dumpable,
    // which makes its /proc/self files root's and the maps below unwritable. COMMAND's exec
    // applies the usual rules again.
    ::prctl(PR_SET_DUMPABLE, 1);
    char map[64];
    std::snprintf(map, sizeof map, "%u %u 1\n", uid, uid);
    if (!write_file("/proc/self/setgroups", "deny") || !write_file("/proc/self/uid_map", map))
      die("cannot map the user id");
    std::snprintf(map, sizeof map, "%u %u 1\n", gid, gid);
    if (!write_file("/proc/self/gid_map", map)) die("cannot map the group id");
  }
  // Private first: otherwise the new /proc could propagate over the host's.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    die("cannot make mounts private");
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    die("cannot mount /proc");
  ::setpgid(0, 0);
  status_r.reset();
  named_w.reset();
  reset_dispositions();

  pid_t c1 = ::_Fork();
  if (c1 < 0) die("fork");
  if (c1 > 0) run_init(c1, status_w.get(), named_r.get());

  // --- the intermediate (PID 2) ---
  pid_t cmd = ::_Fork();
  if (cmd < 0) die("fork");
  if (cmd > 0) run_intermediate(cmd, status_w.get(), named_r.get());

  // --- COMMAND's process (PID 3): back to the caller as after a fork ---
  launcher_pidfd.reset();
  status_w.reset();
  named_r.reset();
  child->parent_in_child = ::getppid();
  restore_signals(saved);
  return 0;
}

void pidns_named(PidnsChild* child) {
  if (!child->named_fd) return;
  (void)!::write(child->named_fd.get(), "n", 1);
  child->named_fd.reset();
}

bool read_pidns_report(int status_fd, PidnsReport* report) {
  ssize_t n;
  do n = ::read(status_fd, report, sizeof *report);
  while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof *report);
}

}  // namespace progeny
