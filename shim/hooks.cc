// The interposed entry points. Each calls the real libc function and reports what happened;
// errno and return values are the real function's. Code that can run in a child before exec
// uses only the helpers in shim.h (raw syscalls, stack memory).
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/bytes.h"
#include "shim/shim.h"
#include "shim/sys.h"

#define EXPORT extern "C" __attribute__((visibility("default")))

extern char** environ;

namespace progeny::shim {
namespace {

enum Fn {
  kFork, kUFork, kClone, kSpawn, kSpawnOld, kSpawnp, kSpawnpOld, kPopen, kDaemon, kSetsid,
  kSetpgid, kSetpgrp, kExecve, kExecvpe, kFexecve, kExecveat, kSetuid, kSetgid, kSeteuid,
  kSetegid, kSetreuid, kSetregid, kSetresuid, kSetresgid, kSetfsuid, kSetfsgid, kFnCount
};
struct Real {
  const char* name;
  const char* version;  // for the entries glibc exports in two versions
  std::atomic<void*> fn;
};
Real g_real[kFnCount] = {
    {"fork", nullptr, {}},       {"_Fork", nullptr, {}},      {"clone", nullptr, {}},
    {"posix_spawn", "GLIBC_2.15", {}}, {"posix_spawn", "GLIBC_2.2.5", {}},
    {"posix_spawnp", "GLIBC_2.15", {}}, {"posix_spawnp", "GLIBC_2.2.5", {}},
    {"popen", nullptr, {}},      {"daemon", nullptr, {}},     {"setsid", nullptr, {}},
    {"setpgid", nullptr, {}},    {"setpgrp", nullptr, {}},    {"execve", nullptr, {}},
    {"execvpe", nullptr, {}},    {"fexecve", nullptr, {}},    {"execveat", nullptr, {}},
    {"setuid", nullptr, {}},     {"setgid", nullptr, {}},     {"seteuid", nullptr, {}},
    {"setegid", nullptr, {}},    {"setreuid", nullptr, {}},   {"setregid", nullptr, {}},
    {"setresuid", nullptr, {}},  {"setresgid", nullptr, {}},  {"setfsuid", nullptr, {}},
    {"setfsgid", nullptr, {}},
};

void* resolve(Fn i) {
  void* p = g_real[i].fn.load(std::memory_order_relaxed);
  if (!p) {
    p = g_real[i].version ? dlvsym(RTLD_NEXT, g_real[i].name, g_real[i].version)
                          : dlsym(RTLD_NEXT, g_real[i].name);
    g_real[i].fn.store(p, std::memory_order_relaxed);
  }
  return p;
}

template <typename F>
F real(Fn i) {
  return reinterpret_cast<F>(resolve(i));
}

std::atomic<bool> g_resolved{false};

// Before any fork: the child must find every real function already resolved.
void prepare_fork() { resolve_all(); }

// Marks the process across an exec as belonging to a live launcher's tree (see docs/shim.md:
// the new image's constructor dies if the launcher vanished in between; this covers a vfork
// or posix_spawn child, which never handed in a lifeline of its own), and says whether its
// own lifeline is held (the new image then keeps it: an exec keeps the process, the owner
// of its end). A parent-death signal the program chose itself is left alone.
struct ExecMarker {
  bool armed = false;
  ExecMarker() {
    if (!g.active || !g.lifeline) return;
    int cur = 0;
    // A vfork child reads its parent's state, not its own: it holds no lifeline.
    int sig = !t_vfork_child && g.lifeline_held ? kExecMarkerHeldSig : kExecMarkerSig;
    if (sys::prctl(PR_GET_PDEATHSIG, sys::ptr(&cur)) == 0 && cur == 0)
      armed = sys::prctl(PR_SET_PDEATHSIG, sig) == 0;
  }
  // The exec failed: the process goes on as it was.
  ~ExecMarker() {
    if (armed) sys::prctl(PR_SET_PDEATHSIG, 0);
  }
};

// A vfork child has handed in no lifeline (it may not write the shared memory a lifeline's
// bookkeeping lives in), and the exec marker covers it only into a new image the shim runs
// in. About to become one it does not (set-ID, static: docs/shim.md, "Windows"), it takes a
// lifeline of its own now: otherwise only its parent's fork record, sent after the exec and
// perhaps never read by a launcher killed first, would hold it.
template <typename Unshimmed>
void cover_unshimmed_exec(Unshimmed unshimmed) {
  if (!g.active || !g.lifeline || !t_vfork_child) return;
  int saved = errno;
  if (unshimmed()) lifeline_before_unshimmed_exec();
  errno = saved;
}

int fail_enosys() {
  errno = ENOSYS;
  return -1;
}

}  // namespace

void resolve_all() {
  if (g_resolved.load(std::memory_order_relaxed)) return;
  for (int i = 0; i < kFnCount; ++i) resolve(static_cast<Fn>(i));
  g_resolved.store(true, std::memory_order_relaxed);
}

void report_fork(pid_t child, const char* via) {
  if (!g.active) return;
  // The child is ours and not reaped yet (we have not waited for it): its pidfd is its own.
  int child_fd = open_pidfd(child);
  Json j("fork", child);
  j.identity(PROGENY_F_INO, PROGENY_F_START_TIME, identity_of_pidfd(child_fd, child));
  j.num(PROGENY_F_PPID, sys::getpid());
  j.identity(PROGENY_F_PARENT_INO, PROGENY_F_PARENT_START_TIME, own_identity());
  j.num(PROGENY_F_TID, sys::gettid());
  j.str(PROGENY_F_VIA, via);
  pid_t pgid = sys::getpgid(child), sid = sys::getsid(child);
  if (pgid >= 0) j.num(PROGENY_F_PGID, pgid);
  if (sid >= 0) j.num(PROGENY_F_SID, sid);
  send_event(j, child_fd);
  if (child_fd >= 0) sys::close(child_fd);
}

Birth birth_before_fork(const char* via) {
  Birth b;
  if (!g.active) return b;
  b.ppid = sys::getpid();
  b.parent = own_identity();
  b.tid = sys::gettid();
  b.via = via;
  return b;
}

void after_fork_child(const Birth& b) {
  // Inherited from the parent: its count of lost records, its identity, its lifeline.
  g.lifeline_held = false;
  g.lost.store(0, std::memory_order_relaxed);
  g.self_ino.store(0, std::memory_order_relaxed);
  g.self_start_time.store(0, std::memory_order_relaxed);
  if (!g.active) return;
  pid_t self = sys::getpid();
  // Our own pidfd travels with the record: the launcher then holds us from birth, and
  // learns our exit even if we are reaped before it reads this.
  int self_fd = open_pidfd(self);
  ProcId id = identity_of_pidfd(self_fd, self);
  g.self_ino.store(id.ino, std::memory_order_relaxed);
  g.self_start_time.store(id.start_time, std::memory_order_relaxed);
  Json j("fork", self);
  j.identity(PROGENY_F_INO, PROGENY_F_START_TIME, id);
  j.num(PROGENY_F_PPID, b.ppid);
  j.identity(PROGENY_F_PARENT_INO, PROGENY_F_PARENT_START_TIME, b.parent);
  j.num(PROGENY_F_TID, b.tid);
  j.str(PROGENY_F_VIA, b.via);
  j.num(PROGENY_F_PGID, sys::getpgid(0));
  j.num(PROGENY_F_SID, sys::getsid(0));
  // The parent's lifeline names the parent only: this process needs its own, before it
  // returns from fork.
  send_event_with_lifeline(j, self_fd);
  if (self_fd >= 0) sys::close(self_fd);
}

void report_exec_failed(const char* path, int err) {
  if (!g.active) return;
  Json j("exec_failed", sys::getpid());
  j.identity(PROGENY_F_INO, PROGENY_F_START_TIME, own_identity());
  j.str(PROGENY_F_PATH, path ? path : "");
  j.num(PROGENY_F_ERRNO, err);
  send_event(j);
}

void report_fork_failed(const char* via, int err) {
  if (!g.active) return;
  Json j("fork_failed", sys::getpid());
  j.identity(PROGENY_F_INO, PROGENY_F_START_TIME, own_identity());
  j.str(PROGENY_F_VIA, via);
  j.num(PROGENY_F_ERRNO, err);
  send_event(j);
}

namespace {

void report_id(const char* event, const char* key, pid_t pid, pid_t value) {
  if (!g.active) return;
  Json j(event, pid);
  j.identity(PROGENY_F_INO, PROGENY_F_START_TIME, pid == sys::getpid() ? own_identity() : identity_of(pid));
  j.num(key, value);
  send_event(j);
}

// The kernel checks the credentials of whoever armed a lifeline when it signals: after a
// credential change a fresh end, armed with the new ones, replaces the old one at the keeper.
void after_setid(int r) {
  if (r != 0 || !g.active || t_vfork_child) return;
  take_lifeline();
}

template <typename R>
R finish_exec(R r, const char* path) {
  report_exec_failed(path, errno);
  return r;
}

// Children of the calling thread, from /proc (for popen, whose pid glibc keeps to itself).
int thread_children(pid_t* out, int max) {
  char path[64] = "/proc/self/task/";
  char* p = path + length(path);
  pid_t tid = sys::gettid();
  char digits[16];
  int nd = 0;
  do {
    digits[nd++] = static_cast<char>('0' + tid % 10);
    tid /= 10;
  } while (tid);
  while (nd) *p++ = digits[--nd];
  copy_bytes(p, "/children", sizeof "/children");
  int fd = sys::openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[4096];
  long len = sys::read(fd, buf, sizeof buf - 1);
  sys::close(fd);
  if (len < 0 || len == static_cast<long>(sizeof buf - 1)) return -1;
  int n = 0;
  for (long i = 0; i < len;) {
    while (i < len && (buf[i] < '0' || buf[i] > '9')) ++i;
    if (i >= len) break;
    pid_t v = 0;
    while (i < len && buf[i] >= '0' && buf[i] <= '9') v = v * 10 + (buf[i++] - '0');
    if (n == max) return -1;
    out[n++] = v;
  }
  return n;
}

struct CloneCtx {
  int (*fn)(void*);
  void* arg;
  int flags;
  Birth birth;
};

int clone_trampoline(void* p) {
  CloneCtx c = *static_cast<CloneCtx*>(p);
  if (c.flags & CLONE_VM)
    t_vfork_child = true;  // CLONE_VM|CLONE_VFORK: memory shared with the suspended parent
  else
    after_fork_child(c.birth);
  return c.fn(c.arg);
}

std::atomic<int> g_system_users{0};
struct sigaction g_system_int, g_system_quit;

}  // namespace
}  // namespace progeny::shim

using namespace progeny::shim;

// ---- process creation ----

namespace {
// fork and _Fork: the same around the real call (both report "fork").
pid_t forked(pid_t (*f)()) {
  if (!f) return fail_enosys();
  prepare_fork();
  Birth birth = birth_before_fork("fork");
  pid_t r = f();
  if (r == 0) {
    after_fork_child(birth);
  } else if (r < 0) {
    report_fork_failed("fork", errno);
  }
  return r;
}
}  // namespace

EXPORT pid_t fork() { return forked(real<pid_t (*)()>(kFork)); }
EXPORT pid_t _Fork() { return forked(real<pid_t (*)()>(kUFork)); }

EXPORT int clone(int (*fn)(void*), void* stack, int flags, void* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  auto* ptid = va_arg(ap, pid_t*);
  void* tls = va_arg(ap, void*);
  auto* ctid = va_arg(ap, pid_t*);
  va_end(ap);
  auto f = real<int (*)(int (*)(void*), void*, int, void*, ...)>(kClone);
  if (!f) return fail_enosys();
  // Threads are not processes; a CLONE_VM child without CLONE_VFORK runs concurrently with
  // its parent on shared memory, so no shim code may run in it.
  if ((flags & CLONE_THREAD) || !g.active) return f(fn, stack, flags, arg, ptid, tls, ctid);
  if ((flags & CLONE_VM) && !(flags & CLONE_VFORK)) {
    int r = f(fn, stack, flags, arg, ptid, tls, ctid);
    if (r > 0) report_fork(r, "clone");
    return r;
  }
  prepare_fork();
  // On our stack: a CLONE_VM child reads it while we are suspended, any other child copies it
  // (and reports its own birth).
  CloneCtx ctx{fn, arg, flags, flags & CLONE_VM ? Birth{} : birth_before_fork("clone")};
  int r = f(clone_trampoline, stack, flags, &ctx, ptid, tls, ctid);
  t_vfork_child = false;
  if (r > 0 && (flags & CLONE_VM)) report_fork(r, "clone");
  if (r < 0) report_fork_failed("clone", errno);
  return r;
}

// vfork: the child borrows the parent's stack until it execs or exits, so it must not return
// through a C frame of ours. The stub (vfork.cc) keeps the return address in a register
// across the syscall, exactly as glibc's own vfork does, and tail-calls these.
extern "C" __attribute__((used)) void progeny_vfork_prepare() { prepare_fork(); }
extern "C" __attribute__((used)) pid_t progeny_vfork_child() {
  t_vfork_child = true;
  return 0;
}
extern "C" __attribute__((used)) pid_t progeny_vfork_parent(pid_t pid) {
  t_vfork_child = false;
  report_fork(pid, "vfork");
  return pid;
}
extern "C" __attribute__((used)) pid_t progeny_vfork_error(int err) {
  t_vfork_child = false;
  report_fork_failed("vfork", err);
  errno = err;
  return -1;
}

namespace {
using SpawnFn = int (*)(pid_t*, const char*, const posix_spawn_file_actions_t*,
                        const posix_spawnattr_t*, char* const*, char* const*);

int spawn_common(Fn which, pid_t* pid, const char* path, const posix_spawn_file_actions_t* fa,
                 const posix_spawnattr_t* attr, char* const argv[], char* const envp[],
                 const char* via) {
  auto f = real<SpawnFn>(which);
  if (!f) return ENOSYS;
  pid_t local = 0;
  pid_t* out = pid ? pid : &local;
  int r = with_env(envp, [&](char* const* env) { return f(out, path, fa, attr, argv, env); });
  if (r == 0) report_fork(*out, via);
  if (r == EAGAIN) report_fork_failed(via, r);
  return r;
}
}  // namespace

EXPORT int progeny_posix_spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* fa,
                               const posix_spawnattr_t* attr, char* const argv[],
                               char* const envp[]) {
  return spawn_common(kSpawn, pid, path, fa, attr, argv, envp, "posix_spawn");
}
EXPORT int progeny_posix_spawn_old(pid_t* pid, const char* path,
                                   const posix_spawn_file_actions_t* fa,
                                   const posix_spawnattr_t* attr, char* const argv[],
                                   char* const envp[]) {
  return spawn_common(kSpawnOld, pid, path, fa, attr, argv, envp, "posix_spawn");
}
EXPORT int progeny_posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* fa,
                                const posix_spawnattr_t* attr, char* const argv[],
                                char* const envp[]) {
  return spawn_common(kSpawnp, pid, file, fa, attr, argv, envp, "posix_spawn");
}
EXPORT int progeny_posix_spawnp_old(pid_t* pid, const char* file,
                                    const posix_spawn_file_actions_t* fa,
                                    const posix_spawnattr_t* attr, char* const argv[],
                                    char* const envp[]) {
  return spawn_common(kSpawnpOld, pid, file, fa, attr, argv, envp, "posix_spawn");
}
__asm__(".symver progeny_posix_spawn,posix_spawn@@GLIBC_2.15");
__asm__(".symver progeny_posix_spawn_old,posix_spawn@GLIBC_2.2.5");
__asm__(".symver progeny_posix_spawnp,posix_spawnp@@GLIBC_2.15");
__asm__(".symver progeny_posix_spawnp_old,posix_spawnp@GLIBC_2.2.5");

// glibc's system() spawns through an internal path that hides the child's pid, so it is
// reimplemented here with glibc 2.36's exact behaviour (sh -c, SIGINT/SIGQUIT ignored and
// SIGCHLD blocked in the caller while it waits, both reset to default in the child).
EXPORT int system(const char* line) {
  if (!line) return system("exit 0") == 0;
  auto spawn = real<SpawnFn>(kSpawn);
  if (!spawn) return fail_enosys();
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  if (g_system_users.fetch_add(1) == 0) {
    sigaction(SIGINT, &ign, &g_system_int);
    sigaction(SIGQUIT, &ign, &g_system_quit);
  }
  sigset_t block, omask;
  sigemptyset(&block);
  sigaddset(&block, SIGCHLD);
  sigprocmask(SIG_BLOCK, &block, &omask);

  sigset_t reset;
  sigemptyset(&reset);
  if (g_system_int.sa_handler != SIG_IGN) sigaddset(&reset, SIGINT);
  if (g_system_quit.sa_handler != SIG_IGN) sigaddset(&reset, SIGQUIT);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &omask);
  posix_spawnattr_setsigdefault(&attr, &reset);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  const char* argv[] = {"sh", "-c", line, nullptr};
  pid_t pid = 0;
  int status;
  int r = with_env(environ, [&](char* const* env) {
    return spawn(&pid, "/bin/sh", nullptr, &attr, const_cast<char* const*>(argv), env);
  });
  posix_spawnattr_destroy(&attr);
  int err = 0;
  if (r == 0) {
    report_fork(pid, "system");
    while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) {
        status = -1;
        err = errno;
        break;
      }
    }
  } else {
    status = 127 << 8;  // what glibc returns when the shell could not be started
  }
  if (g_system_users.fetch_sub(1) == 1) {
    sigaction(SIGINT, &g_system_int, nullptr);
    sigaction(SIGQUIT, &g_system_quit, nullptr);
  }
  sigprocmask(SIG_SETMASK, &omask, nullptr);
  if (err) errno = err;
  return status;
}

EXPORT FILE* popen(const char* command, const char* mode) {
  auto f = real<FILE* (*)(const char*, const char*)>(kPopen);
  if (!f) {
    errno = ENOSYS;
    return nullptr;
  }
  if (!g.active) return f(command, mode);
  // glibc's popen hides the child's pid: it is the child of this thread that was not there
  // before the call.
  constexpr int kMax = 256;
  pid_t before[kMax], after[kMax];
  int nb = thread_children(before, kMax);
  FILE* fp = f(command, mode);
  if (fp && nb >= 0) {
    int na = thread_children(after, kMax);
    for (int i = 0; i < na; ++i) {
      bool old = false;
      for (int k = 0; k < nb && !old; ++k) old = before[k] == after[i];
      if (!old) report_fork(after[i], "popen");
    }
  }
  return fp;
}

EXPORT int daemon(int nochdir, int noclose) {
  auto f = real<int (*)(int, int)>(kDaemon);
  if (!f) return fail_enosys();
  prepare_fork();
  // The parent never learns the child's pid (it _exit()s inside): the child reports its own
  // birth, as every real fork's child does.
  Birth birth = birth_before_fork("daemon");
  int r = f(nochdir, noclose);
  if (r == 0 && g.active) {
    after_fork_child(birth);
    report_id("setsid", PROGENY_F_SID, sys::getpid(), sys::getsid(0));
  }
  return r;
}

// ---- session and group ----

EXPORT pid_t setsid() {
  auto f = real<pid_t (*)()>(kSetsid);
  if (!f) return fail_enosys();
  pid_t r = f();
  if (r >= 0) report_id("setsid", PROGENY_F_SID, sys::getpid(), r);
  return r;
}

EXPORT int setpgid(pid_t pid, pid_t pgid) {
  auto f = real<int (*)(pid_t, pid_t)>(kSetpgid);
  if (!f) return fail_enosys();
  int r = f(pid, pgid);
  if (r == 0) {
    pid_t who = pid ? pid : sys::getpid();
    report_id("setpgid", PROGENY_F_PGID, who, pgid ? pgid : who);
  }
  return r;
}

EXPORT int setpgrp() {
  auto f = real<int (*)()>(kSetpgrp);
  if (!f) return fail_enosys();
  int r = f();
  if (r == 0) {
    pid_t self = sys::getpid();
    report_id("setpgid", PROGENY_F_PGID, self, self);
  }
  return r;
}

// ---- exec ----

EXPORT int execve(const char* path, char* const argv[], char* const envp[]) {
  auto f = real<int (*)(const char*, char* const*, char* const*)>(kExecve);
  if (!f) return fail_enosys();
  cover_unshimmed_exec([&] { return exec_target_unshimmed(AT_FDCWD, path, 0); });
  ExecMarker marker;
  return finish_exec(with_env(envp, [&](char* const* env) { return f(path, argv, env); }), path);
}

EXPORT int execv(const char* path, char* const argv[]) { return execve(path, argv, environ); }

EXPORT int execvpe(const char* file, char* const argv[], char* const envp[]) {
  auto f = real<int (*)(const char*, char* const*, char* const*)>(kExecvpe);
  if (!f) return fail_enosys();
  cover_unshimmed_exec([&] { return exec_search_target_unshimmed(file); });
  ExecMarker marker;
  return finish_exec(with_env(envp, [&](char* const* env) { return f(file, argv, env); }), file);
}

EXPORT int execvp(const char* file, char* const argv[]) { return execvpe(file, argv, environ); }

EXPORT int fexecve(int fd, char* const argv[], char* const envp[]) {
  auto f = real<int (*)(int, char* const*, char* const*)>(kFexecve);
  if (!f) return fail_enosys();
  cover_unshimmed_exec([&] { return exec_target_unshimmed(fd, "", AT_EMPTY_PATH); });
  ExecMarker marker;
  return finish_exec(with_env(envp, [&](char* const* env) { return f(fd, argv, env); }), "");
}

EXPORT int execveat(int dirfd, const char* path, char* const argv[], char* const envp[],
                    int flags) {
  auto f = real<int (*)(int, const char*, char* const*, char* const*, int)>(kExecveat);
  if (!f) return fail_enosys();
  cover_unshimmed_exec([&] { return exec_target_unshimmed(dirfd, path, flags); });
  ExecMarker marker;
  return finish_exec(with_env(envp, [&](char* const* env) { return f(dirfd, path, argv, env, flags); }),
                     path);
}

// execl*: glibc builds argv and calls its internal execve, which no hook sees; build it here
// (on the stack, like glibc) and go through the hooks above.
#define COLLECT_ARGS(arg0, argv, envp_out)                                  \
  va_list ap;                                                               \
  va_start(ap, arg0);                                                       \
  size_t argc = 1;                                                          \
  {                                                                         \
    va_list count;                                                          \
    va_copy(count, ap);                                                     \
    while (va_arg(count, const char*)) ++argc;                              \
    va_end(count);                                                          \
  }                                                                         \
  auto** argv = static_cast<char**>(__builtin_alloca((argc + 1) * sizeof(char*))); \
  argv[0] = const_cast<char*>(arg0);                                        \
  for (size_t i = 1; i <= argc; ++i) argv[i] = va_arg(ap, char*);           \
  envp_out;                                                                 \
  va_end(ap)

EXPORT int execl(const char* path, const char* arg, ...) {
  COLLECT_ARGS(arg, argv, (void)0);
  return execve(path, argv, environ);
}

EXPORT int execlp(const char* file, const char* arg, ...) {
  COLLECT_ARGS(arg, argv, (void)0);
  return execvpe(file, argv, environ);
}

EXPORT int execle(const char* path, const char* arg, ...) {
  char* const* envp;
  COLLECT_ARGS(arg, argv, envp = va_arg(ap, char* const*));
  return execve(path, argv, envp);
}

// ---- credentials (they change who may signal the lifeline's owner) ----

#define SETID1(name, idx, T)                       \
  EXPORT int name(T a) {                           \
    auto f = real<int (*)(T)>(idx);                \
    if (!f) return fail_enosys();                  \
    int r = f(a);                                  \
    after_setid(r);                                \
    return r;                                      \
  }
#define SETID2(name, idx, T)                       \
  EXPORT int name(T a, T b) {                      \
    auto f = real<int (*)(T, T)>(idx);             \
    if (!f) return fail_enosys();                  \
    int r = f(a, b);                               \
    after_setid(r);                                \
    return r;                                      \
  }
#define SETID3(name, idx, T)                       \
  EXPORT int name(T a, T b, T c) {                 \
    auto f = real<int (*)(T, T, T)>(idx);          \
    if (!f) return fail_enosys();                  \
    int r = f(a, b, c);                            \
    after_setid(r);                                \
    return r;                                      \
  }
SETID1(setuid, kSetuid, uid_t)
SETID1(setgid, kSetgid, gid_t)
SETID1(seteuid, kSeteuid, uid_t)
SETID1(setegid, kSetegid, gid_t)
SETID2(setreuid, kSetreuid, uid_t)
SETID2(setregid, kSetregid, gid_t)
SETID3(setresuid, kSetresuid, uid_t)
SETID3(setresgid, kSetresgid, gid_t)

// setfs*id return the previous id, not a status: a fresh lifeline is handed in regardless.
EXPORT int setfsuid(uid_t id) {
  auto f = real<int (*)(uid_t)>(kSetfsuid);
  if (!f) return fail_enosys();
  int r = f(id);
  after_setid(0);
  return r;
}
EXPORT int setfsgid(gid_t id) {
  auto f = real<int (*)(gid_t)>(kSetfsgid);
  if (!f) return fail_enosys();
  int r = f(id);
  after_setid(0);
  return r;
}

// ---- every image: report the exec, hand in a lifeline ----

namespace {

const char* env_value(char** envp, const char* name) {
  size_t n = length(name);
  for (char** e = envp; e && *e; ++e)
    if (same_bytes(*e, name, n) && (*e)[n] == '=') return *e + n + 1;
  return nullptr;
}

__attribute__((constructor)) void progeny_init(int argc, char** argv, char** envp) {
  const char* sock = env_value(envp, PROGENY_ENV_SOCK);
  if (!sock || !*sock) return;
  // Clear our exec marker first, whatever happens next: it is ours, not the program's.
  int cur = 0;
  bool got = sys::prctl(PR_GET_PDEATHSIG, sys::ptr(&cur)) == 0;
  bool held = got && cur == kExecMarkerHeldSig;
  bool marked = held || (got && cur == kExecMarkerSig);
  if (marked) sys::prctl(PR_SET_PDEATHSIG, 0);
  size_t len = length(sock);
  if (len + 1 > sizeof g.addr) return;
  g.addr[0] = 0;  // abstract namespace
  copy_bytes(g.addr + 1, sock, len);
  g.addr_len = static_cast<unsigned>(len + 1);
  const char* sig = env_value(envp, PROGENY_ENV_PDEATHSIG);
  g.kill_sig = sig ? parse_decimal(sig) : 0;
  if (g.kill_sig < 0 || g.kill_sig >= NSIG) g.kill_sig = 0;
  g.lifeline = g.kill_sig > 0;
  bool pidfs_told = false;
  const char* opts = env_value(envp, PROGENY_ENV_OPTS);
  if (opts) {
    for (const char* p = opts; *p;) {
      const char* end = find_byte(p, ',');
      size_t n = end ? static_cast<size_t>(end - p) : length(p);
      auto is = [&](const char* flag) { return n == length(flag) && same_bytes(p, flag, n); };
      if (is("noreenv")) g.reenv = false;
      if (is("nolifeline")) g.lifeline = false;
      if (is("tracked")) g.tracked = true;
      if (is("pidfs")) pidfs_told = true;
      p += n + (end ? 1 : 0);
    }
  }
  save_env(envp);
  // The launcher says whether identities are pidfs inodes; asked itself only without it.
  if (pidfs_told) g.pidfs = true;
  else detect_pidfs();

  auto execfn = reinterpret_cast<const char*>(getauxval(AT_EXECFN));
  const char* path = execfn ? execfn : (argc > 0 ? argv[0] : "");
  // The tracker has recorded this exec already, whole unless its argv block or path is
  // longer than it copies: then only this record has all of it. (With the tracker no
  // lifeline is taken, so there is nothing else to hand in.)
  if (g.tracked && !g.lifeline && length(path) < PROGENY_TRACKER_PATH_BYTES) {
    size_t argv_bytes = 0;
    for (int i = 0; i < argc; ++i) argv_bytes += length(argv[i]) + 1;
    if (argv_bytes <= PROGENY_TRACKER_ARGV_BYTES) {
      g.active = true;
      return;
    }
  }
  Json j("exec", sys::getpid());
  j.identity(PROGENY_F_INO, PROGENY_F_START_TIME, own_identity());
  pid_t ppid = sys::getppid();
  j.num(PROGENY_F_PPID, ppid);
  j.identity(PROGENY_F_PARENT_INO, PROGENY_F_PARENT_START_TIME, identity_of(ppid));
  j.str(PROGENY_F_PATH, path);
  j.argv(argv, argc);
  // A process whose own lifeline the keeper holds keeps it across this exec (an exec keeps
  // the process, and with it the end's owner and the credentials it was armed with): the
  // record goes alone. Otherwise it rides with a fresh lifeline, one connection per image.
  bool fits = j.finish();
  const char* data = fits ? j.data() : "\n";
  size_t data_len = fits ? j.size() : 1;
  bool hand_in = g.lifeline && !held;
  int r = hand_in ? hand_in_lifeline(data, data_len) : fits ? send_record(j) : 0;
  g.lifeline_held = g.lifeline && (held || r == 0);
  if (r == -ECONNREFUSED) {
    // No launcher. Silent, unless an active shim marked us before the exec: then the
    // launcher died while we were being exec'd, and we belong to its tree.
    if (marked) die();
    return;
  }
  g.active = true;
  // It answered and is gone already: we belong to its tree.
  if (g.lifeline && (r == -EPIPE || r == -ECONNRESET)) die();
  if (!fits || r < 0) g.lost.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace
