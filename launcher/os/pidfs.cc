#include "launcher/os/pidfs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstring>

#include "launcher/os/sys.h"

namespace progeny {
namespace {

constexpr long kPidfsMagic = 0x50494446;  // "PIDF", include/uapi/linux/magic.h
constexpr int kFileidPidfs = 0xfe;        // FILEID_PIDFS: the handle is the 64-bit inode

// A pidfd of our own: pidfs's "mount" for open_by_handle_at, and the probe for pidfs.
int self_pidfd() {
  static const int fd = sys_pidfd_open(::getpid());
  return fd;
}

}  // namespace

bool pidfs_available() {
  static const bool available = [] {
    struct statfs sfs {};
    return self_pidfd() >= 0 && ::fstatfs(self_pidfd(), &sfs) == 0 && sfs.f_type == kPidfsMagic;
  }();
  return available;
}

uint64_t pidfd_ino(int pidfd) {
  if (!pidfs_available()) return 0;
  struct stat st {};
  return ::fstat(pidfd, &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

Fd open_pidfd_by_ino(uint64_t ino) {
  if (ino == 0 || !pidfs_available()) return Fd();
  // struct file_handle followed by its 8 handle bytes.
  alignas(file_handle) unsigned char buf[sizeof(file_handle) + sizeof ino];
  auto* fh = reinterpret_cast<file_handle*>(buf);
  fh->handle_bytes = sizeof ino;
  fh->handle_type = kFileidPidfs;
  std::memcpy(buf + sizeof(file_handle), &ino, sizeof ino);
  return Fd(::open_by_handle_at(self_pidfd(), fh, O_RDONLY | O_CLOEXEC));
}

std::optional<PidfdPids> pidfd_pids(int pidfd) {
  PidfdInfo info{};
  info.mask = kPidfdInfoPid;
  if (::ioctl(pidfd, kPidfdGetInfo, &info) != 0 || !(info.mask & kPidfdInfoPid)) return std::nullopt;
  return PidfdPids{static_cast<pid_t>(info.tgid), static_cast<pid_t>(info.ppid)};
}

}  // namespace progeny
