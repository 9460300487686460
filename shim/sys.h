// System calls as the shim issues them: inline `syscall` instructions that return -errno,
// never libc's wrappers. Why not libc's: the shim's work runs in fork children and in every
// new image, where each libc function it calls is a page this process has not touched yet.
// A fork child maps no text of its parent (the kernel copies page tables only for memory
// written since the mapping), so each such function, its errno slot and the vDSO cost a page
// fault, ~10 µs here (PVM guest), against ~1 µs for the call itself (measured 2026-12-04:
// 29 faults in a shimmed fork child against 17 bare, 6 of them libc's text). These also leave
// errno alone, so nothing of the program's needs saving around them. x86_64 only, like the
// vfork stub.
#pragma once
#include <linux/types.h>
#include <sys/syscall.h>
#include <sys/types.h>

#if !defined(__x86_64__)
#error "raw system calls: x86_64 only"
#endif

struct msghdr;
struct sockaddr;
struct stat;
struct statfs;
struct timespec;

namespace progeny::shim::sys {

inline long call(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

template <typename P>
long ptr(P p) {
  return reinterpret_cast<long>(p);
}

// Each returns the kernel's result: >= 0, or -errno.
inline pid_t getpid() { return static_cast<pid_t>(call(SYS_getpid)); }
inline pid_t gettid() { return static_cast<pid_t>(call(SYS_gettid)); }
inline pid_t getppid() { return static_cast<pid_t>(call(SYS_getppid)); }
inline pid_t getpgid(pid_t pid) { return static_cast<pid_t>(call(SYS_getpgid, pid)); }
inline pid_t getsid(pid_t pid) { return static_cast<pid_t>(call(SYS_getsid, pid)); }
inline int pidfd_open(pid_t pid) { return static_cast<int>(call(SYS_pidfd_open, pid, 0)); }
inline int close(int fd) { return static_cast<int>(call(SYS_close, fd)); }
inline int fstat(int fd, struct stat* st) { return static_cast<int>(call(SYS_fstat, fd, ptr(st))); }
inline int fstatfs(int fd, struct statfs* st) {
  return static_cast<int>(call(SYS_fstatfs, fd, ptr(st)));
}
inline int fstatat(int dirfd, const char* path, struct stat* st, int flags) {
  return static_cast<int>(call(SYS_newfstatat, dirfd, ptr(path), ptr(st), flags));
}
inline int openat(int dirfd, const char* path, int flags) {
  return static_cast<int>(call(SYS_openat, dirfd, ptr(path), flags, 0));
}
inline long read(int fd, void* buf, unsigned long n) { return call(SYS_read, fd, ptr(buf), static_cast<long>(n)); }
inline long pread(int fd, void* buf, unsigned long n, long off) {
  return call(SYS_pread64, fd, ptr(buf), static_cast<long>(n), off);
}
inline long fgetxattr(int fd, const char* name, void* buf, unsigned long n) {
  return call(SYS_fgetxattr, fd, ptr(name), ptr(buf), static_cast<long>(n));
}
inline int fcntl(int fd, int cmd, long arg) { return static_cast<int>(call(SYS_fcntl, fd, cmd, arg)); }
inline int pipe2(int ends[2], int flags) { return static_cast<int>(call(SYS_pipe2, ptr(ends), flags)); }
inline int socket(int domain, int type, int proto) {
  return static_cast<int>(call(SYS_socket, domain, type, proto));
}
inline int connect(int fd, const struct sockaddr* sa, unsigned len) {
  return static_cast<int>(call(SYS_connect, fd, ptr(sa), len));
}
inline long sendmsg(int fd, const struct msghdr* msg, int flags) {
  return call(SYS_sendmsg, fd, ptr(msg), flags);
}
inline int prctl(int op, unsigned long arg) { return static_cast<int>(call(SYS_prctl, op, static_cast<long>(arg))); }
// A system call, not the vDSO: the vDSO's text and data pages are two more faults in a
// process that has not read the clock yet (every fork child: its page tables map none of it).
inline int clock_gettime(int clock, struct timespec* ts) {
  return static_cast<int>(call(SYS_clock_gettime, clock, ptr(ts)));
}

}  // namespace progeny::shim::sys
