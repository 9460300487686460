// Who a record is about, in a form the launcher can check instead of trusting a pid number:
// the pidfs inode of the process (Linux 6.9+: unique per boot, and it opens the process
// again), or, without pidfs, its start time in clock ticks (field 22 of /proc/PID/stat).
// Raw syscalls and stack buffers only: this runs after fork and in vfork children.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "shim/shim.h"
#include "shim/sys.h"

namespace progeny::shim {
namespace {

constexpr long kPidfsMagic = 0x50494446;  // "PIDF"

// Field 22 of /proc/PID/stat, 0 when unreadable.
uint64_t start_ticks(pid_t pid) {
  char path[32] = "/proc/";
  size_t n = 6;
  char digits[16];
  int nd = 0;
  for (unsigned v = static_cast<unsigned>(pid); nd == 0 || v; v /= 10) digits[nd++] = static_cast<char>('0' + v % 10);
  while (nd) path[n++] = digits[--nd];
  for (const char* t = "/stat"; *t; ++t) path[n++] = *t;
  path[n] = 0;
  int fd = sys::openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  long len = sys::read(fd, buf, sizeof buf - 1);
  sys::close(fd);
  if (len <= 0) return 0;
  // The fields after the last ')' (comm may contain anything) are separated by single
  // spaces; that ')' ends field 2.
  long i = len - 1;
  while (i >= 0 && buf[i] != ')') --i;
  if (i < 0) return 0;
  int field = 2;
  uint64_t v = 0;
  for (++i; i < len; ++i) {
    char c = buf[i];
    if (c == ' ' || c == '\n') {
      if (field == 22) return v;
      ++field;
    } else if (field == 22) {
      if (c < '0' || c > '9') return 0;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
  }
  return field == 22 ? v : 0;
}

}  // namespace

void detect_pidfs() {
  int fd = sys::pidfd_open(sys::getpid());
  if (fd < 0) return;
  struct statfs sfs {};
  g.pidfs = sys::fstatfs(fd, &sfs) == 0 && sfs.f_type == kPidfsMagic;
  sys::close(fd);
}

ProcId identity_of_pidfd(int pidfd, pid_t pid) {
  ProcId id{};
  if (!g.pidfs) {
    id.start_time = start_ticks(pid);
    return id;
  }
  struct stat st {};
  if (pidfd >= 0 && sys::fstat(pidfd, &st) == 0) id.ino = st.st_ino;
  return id;
}

int open_pidfd(pid_t pid) {
  int fd = sys::pidfd_open(pid);
  return fd >= 0 ? fd : -1;
}

ProcId identity_of(pid_t pid) {
  int fd = g.pidfs ? open_pidfd(pid) : -1;
  ProcId id = identity_of_pidfd(fd, pid);
  if (fd >= 0) sys::close(fd);
  return id;
}

ProcId own_identity() {
  // A vfork child shares its parent's memory, and with it the parent's cached identity: it
  // asks each time and writes nothing.
  if (t_vfork_child) return identity_of(sys::getpid());
  ProcId id{g.self_ino.load(std::memory_order_relaxed),
            g.self_start_time.load(std::memory_order_relaxed)};
  if (id.known()) return id;
  id = identity_of(sys::getpid());
  g.self_ino.store(id.ino, std::memory_order_relaxed);
  g.self_start_time.store(id.start_time, std::memory_order_relaxed);
  return id;
}

void Json::identity(const char* ino_key, const char* start_key, const ProcId& id) {
  if (id.ino) num(ino_key, static_cast<int64_t>(id.ino));
  else if (id.start_time) num(start_key, static_cast<int64_t>(id.start_time));
}

}  // namespace progeny::shim
