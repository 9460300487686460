#include "launcher/os/log_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace progeny {
namespace {

constexpr int kMaxLinks = 40;  // as the kernel's own MAXSYMLINKS

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string errtext(const std::string& what, int err) { return what + ": " + std::strerror(err); }

// The fs.protected_symlinks rule: may a symlink owned by link_uid, in the directory
// described by dir, be followed by this process?
bool may_follow(const struct stat& dir, uid_t link_uid) {
  bool shared = (dir.st_mode & S_ISVTX) && (dir.st_mode & S_IWOTH);
  return !shared || link_uid == ::geteuid() || link_uid == dir.st_uid;
}

}  // namespace

Fd open_log_file(const std::string& path, LogOpen how, std::string* why) {
  if (path.empty()) {
    *why = "empty log file name";
    return Fd();
  }
  // The directories still to walk, as a stack of components (a followed link pushes its
  // target's), and where we are, as an O_PATH descriptor.
  std::vector<std::string> todo = components(path);
  std::reverse(todo.begin(), todo.end());
  std::string where = path[0] == '/' ? "/" : ".";
  Fd dir(::open(where.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    *why = errtext("cannot open " + where, errno);
    return Fd();
  }
  if (todo.empty()) {
    *why = path + " is a directory";
    return Fd();
  }
  int links = 0;
  while (todo.size() > 1) {
    std::string name = todo.back();
    todo.pop_back();
    std::string shown = where == "/" ? std::string() : where;
    shown.append("/").append(name);
    struct stat st {};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      *why = errtext("cannot use the log directory " + shown, errno);
      return Fd();
    }
    if (S_ISLNK(st.st_mode)) {
      struct stat here {};
      if (::fstat(dir.get(), &here) != 0) {
        *why = errtext("cannot stat " + where, errno);
        return Fd();
      }
      if (!may_follow(here, st.st_uid)) {
        *why = "refusing the symbolic link " + shown;
        why->append(" (owned by uid ").append(std::to_string(st.st_uid));
        why->append(", in the sticky world-writable directory ").append(where).append(")");
        return Fd();
      }
      if (++links > kMaxLinks) {
        *why = "too many symbolic links in " + path;
        return Fd();
      }
      char target[4096];
      ssize_t n = ::readlinkat(dir.get(), name.c_str(), target, sizeof target);
      if (n <= 0 || static_cast<size_t>(n) >= sizeof target) {
        *why = "cannot read the symbolic link " + shown;
        return Fd();
      }
      std::string t(target, static_cast<size_t>(n));
      std::vector<std::string> more = components(t);
      for (auto it = more.rbegin(); it != more.rend(); ++it) todo.push_back(*it);
      if (t[0] == '/') {
        where = "/";
        dir = Fd(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
      }
      if (todo.empty()) todo.push_back(".");  // a link to "/" as the last directory
      continue;
    }
    Fd next(::openat(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      *why = errtext("cannot use the log directory " + shown, errno);
      return Fd();
    }
    dir = std::move(next);
    where = shown;
  }
  const std::string& name = todo.back();
  // O_NOFOLLOW: the log itself is never a link; O_NONBLOCK: a planted FIFO must not hang us.
  Fd fd(::openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                 0600));
  if (!fd) {
    *why = errno == ELOOP ? "log file " + path + " is a symbolic link, refusing it"
                          : errtext("cannot create log file " + path, errno);
    return Fd();
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    *why = "log file " + path + " is not a regular file";
    return Fd();
  }
  if (st.st_uid != ::geteuid()) {
    *why = "log file " + path + " belongs to uid " + std::to_string(st.st_uid) +
           ", refusing to write another user's file";
    return Fd();
  }
  if ((how == LogOpen::kReplace && ::ftruncate(fd.get(), 0) != 0) || ::fchmod(fd.get(), 0600) != 0) {
    *why = errtext("cannot prepare log file " + path, errno);
    return Fd();
  }
  ::fcntl(fd.get(), F_SETFL, O_WRONLY | O_APPEND);
  return fd;
}

}  // namespace progeny
