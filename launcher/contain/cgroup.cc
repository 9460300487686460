#include "launcher/contain/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstring>

#include "launcher/contain/mountinfo.h"
#include "launcher/os/proc.h"
#include "launcher/members/signal_gate.h"

namespace progeny {
namespace {

bool read_text(int dirfd, const char* path, std::string* out) {
  Fd fd(::openat(dirfd, path, O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  out->clear();
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return true;
    out->append(buf, static_cast<size_t>(n));
  }
}

// Writes a short string to a cgroup control file under dirfd. Async-signal-safe.
int write_at(int dirfd, const char* file, const char* text) {
  int fd = ::openat(dirfd, file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t len = static_cast<ssize_t>(std::strlen(text));
  ssize_t n;
  do n = ::write(fd, text, static_cast<size_t>(len));
  while (n < 0 && errno == EINTR);
  int err = n == len ? 0 : (n < 0 ? errno : EIO);
  ::close(fd);
  return err;
}

// Value of `key` in a flat keyed file such as cgroup.events ("populated 1\nfrozen 0\n").
std::optional<int> keyed_value(std::string_view text, std::string_view key) {
  for (std::string_view line : split_fields(text, '\n')) {
    if (line.size() > key.size() + 1 && line.substr(0, key.size()) == key &&
        line[key.size()] == ' ') {
      int v = 0;
      std::string_view num = line.substr(key.size() + 1);
      auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
      if (ec == std::errc()) return v;
    }
  }
  return std::nullopt;
}

int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Waits until cgroup.events under dirfd has key == want, or the deadline passes. The kernel
// signals every change of cgroup.events as POLLPRI on an open descriptor of it.
bool wait_event_value(int dirfd, std::string_view key, int want, int64_t deadline_ms) {
  Fd ev(::openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC));
  if (!ev) return false;
  std::string text;
  for (;;) {
    char buf[256];
    ssize_t n = ::pread(ev.get(), buf, sizeof buf - 1, 0);
    if (n < 0) return false;
    auto v = keyed_value(std::string_view(buf, static_cast<size_t>(n)), key);
    if (!v) return false;
    if (*v == want) return true;
    int64_t left = deadline_ms - now_ms();
    if (left <= 0) return false;
    pollfd p{ev.get(), POLLPRI, 0};
    if (::poll(&p, 1, static_cast<int>(left)) < 0 && errno != EINTR) return false;
  }
}

void collect_procs(int dirfd, std::vector<pid_t>* out) {
  std::string text;
  if (read_text(dirfd, "cgroup.procs", &text))
    for (pid_t p : parse_pid_list(text)) out->push_back(p);
  int dup = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return;
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return;
  }
  while (dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    Fd sub(::openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (sub) collect_procs(sub.get(), out);
  }
  ::closedir(d);
}

std::string random_suffix() {
  unsigned char bytes[6] = {};
  if (::getrandom(bytes, sizeof bytes, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof bytes)) {
    // Uniqueness only needs to hold among our own runs; pid + time is enough then.
    uint64_t t = static_cast<uint64_t>(now_ms());
    std::memcpy(bytes, &t, sizeof bytes);
  }
  char hex[sizeof bytes * 2 + 1];
  for (size_t i = 0; i < sizeof bytes; ++i) std::snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
  return hex;
}

}  // namespace

int cgroup_write_at(int dirfd, const char* file, const char* text) { return write_at(dirfd, file, text); }
bool cgroup_read_at(int dirfd, const char* file, std::string* out) { return read_text(dirfd, file, out); }
std::string new_cgroup_name() { return "progeny-" + std::to_string(::getpid()) + "-" + random_suffix(); }

std::vector<Cgroup2Mount> parse_cgroup2_mounts(std::string_view mountinfo) {
  std::vector<Cgroup2Mount> out;
  for (MountEntry& m : parse_mountinfo(mountinfo))
    if (m.fstype == "cgroup2") out.push_back({std::move(m.mount_point), std::move(m.root)});
  return out;
}

std::optional<std::string> parse_own_cgroup_v2(std::string_view proc_cgroup) {
  for (std::string_view line : split_fields(proc_cgroup, '\n'))
    if (line.substr(0, 3) == "0::") return std::string(line.substr(3));
  return std::nullopt;
}

std::optional<std::string> cgroup_dir_for(const std::vector<Cgroup2Mount>& mounts,
                                          std::string_view path) {
  if (path.empty() || path[0] != '/') return std::nullopt;  // e.g. "/../x" outside our cgroupns
  for (const Cgroup2Mount& m : mounts) {
    std::string_view root = m.root;
    if (root == "/") root = "";
    if (path.substr(0, root.size()) != root) continue;
    std::string_view rest = path.substr(root.size());
    if (!rest.empty() && rest[0] != '/') continue;  // "/a" must not match "/ab"
    if (rest.find("/..") != std::string_view::npos) continue;
    std::string dir = m.mount_point;
    if (rest != "/") dir += rest;
    return dir;
  }
  return std::nullopt;
}

std::optional<LeafParent> find_leaf_parent(std::string* why) {
  std::string mountinfo, own;
  if (!read_text(AT_FDCWD, "/proc/self/mountinfo", &mountinfo) ||
      !read_text(AT_FDCWD, "/proc/self/cgroup", &own)) {
    *why = "cannot read /proc/self/mountinfo or /proc/self/cgroup";
    return std::nullopt;
  }
  std::vector<Cgroup2Mount> mounts = parse_cgroup2_mounts(mountinfo);
  if (mounts.empty()) {
    *why = "no cgroup v2 hierarchy is mounted (cgroup v1 only)";
    return std::nullopt;
  }
  std::optional<std::string> path = parse_own_cgroup_v2(own);
  if (!path) {
    *why = "this process has no cgroup v2 membership in /proc/self/cgroup";
    return std::nullopt;
  }
  std::optional<std::string> dir = cgroup_dir_for(mounts, *path);
  if (!dir) {
    *why = "own cgroup " + *path + " is not visible through any cgroup2 mount";
    return std::nullopt;
  }
  Fd fd(::open(dir->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  struct statfs sfs{};
  if (!fd || ::fstatfs(fd.get(), &sfs) != 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
    *why = "cannot open own cgroup directory " + *dir + ": " + std::strerror(errno);
    return std::nullopt;
  }
  // Creating the leaf needs write access to this directory; starting a process in it needs
  // write access to cgroup.procs of the common ancestor of source and target, i.e. this one.
  // Root has both unless the mount is read-only; other users only in a delegated subtree.
  if (::faccessat(fd.get(), ".", W_OK | X_OK, AT_EACCESS) != 0 ||
      ::faccessat(fd.get(), "cgroup.procs", W_OK, AT_EACCESS) != 0) {
    if (errno == EROFS)
      *why = "cgroup2 is mounted read-only at " + *dir;
    else
      *why = "own cgroup " + *path + " is not delegated to uid " + std::to_string(::geteuid()) +
             " (run under a delegated cgroup, e.g. systemd-run --user --scope -p Delegate=yes)";
    return std::nullopt;
  }
  return LeafParent{*dir, std::move(fd)};
}

CgroupLeaf::CgroupLeaf(Fd parent, Fd dir, std::string name, std::string path)
    : parent_(std::move(parent)), dir_(std::move(dir)), name_(std::move(name)),
      path_(std::move(path)) {}

std::unique_ptr<CgroupLeaf> CgroupLeaf::create(LeafParent parent, std::string* why) {
  std::string name = new_cgroup_name();
  if (::mkdirat(parent.fd.get(), name.c_str(), 0755) != 0) {
    *why = "cannot create cgroup " + parent.path + "/" + name + ": " + std::strerror(errno);
    return nullptr;
  }
  Fd dir(::openat(parent.fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    *why = "cannot open the new cgroup " + name + ": " + std::strerror(errno);
    ::unlinkat(parent.fd.get(), name.c_str(), AT_REMOVEDIR);
    return nullptr;
  }
  std::string path = parent.path + "/" + name;
  return std::unique_ptr<CgroupLeaf>(
      new CgroupLeaf(std::move(parent.fd), std::move(dir), std::move(name), std::move(path)));
}

std::unique_ptr<CgroupLeaf> CgroupLeaf::create(std::string* why) {
  std::optional<LeafParent> parent = find_leaf_parent(why);
  if (!parent) return nullptr;
  return create(std::move(*parent), why);
}

CgroupLeaf::~CgroupLeaf() {
  if (removed_) return;
  // Whatever the caller left running dies with its cgroup: the leaf must not outlive the run.
  if (populated()) {
    kill_all();
    wait_empty(std::chrono::seconds(2));
  }
  remove();
}

std::vector<pid_t> CgroupLeaf::procs() const {
  std::vector<pid_t> out;
  collect_procs(dir_.get(), &out);
  return out;
}

bool CgroupLeaf::populated() const { return cgroup_populated_at(dir_.get()); }

bool CgroupLeaf::kill_all() { return signal_gate::kill_cgroup(dir_.get()) == 0; }

bool CgroupLeaf::freeze(bool frozen) {
  if (write_at(dir_.get(), "cgroup.freeze", frozen ? "1" : "0") != 0) return false;
  return wait_event_value(dir_.get(), "frozen", frozen ? 1 : 0, now_ms() + 1000);
}

bool CgroupLeaf::wait_empty(std::chrono::milliseconds timeout) {
  return wait_event_value(dir_.get(), "populated", 0, now_ms() + timeout.count());
}

bool CgroupLeaf::remove() {
  if (removed_) return true;
  if (remove_cgroup_tree(parent_.get(), name_.c_str()) != 0) return false;
  removed_ = true;
  return true;
}

int remove_cgroup_tree(int parentfd, const char* name) {
  int fd = ::openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  // Remove children first (a nested run's leaf that its killed launcher could not remove).
  // Restart the listing after each removal: the directory changed under getdents.
  bool again = true;
  while (again) {
    again = false;
    alignas(8) char buf[2048];
    if (::lseek(fd, 0, SEEK_SET) != 0) break;
    long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
    for (long off = 0; n > 0 && off < n && !again;) {
      struct Dirent64 {
        uint64_t ino;
        int64_t off;
        unsigned short reclen;
        unsigned char type;
        char name[1];
      };
      auto* d = reinterpret_cast<Dirent64*>(buf + off);
      off += d->reclen;
      if (d->type != DT_DIR || d->name[0] == '.') continue;
      if (remove_cgroup_tree(fd, d->name) == 0) again = true;
    }
  }
  ::close(fd);
  return ::unlinkat(parentfd, name, AT_REMOVEDIR) == 0 ? 0 : errno;
}

bool cgroup_populated_at(int dirfd) {
  int fd = ::openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  // "populated 1" is the first line; a manual scan keeps this allocation-free.
  buf[n] = '\0';
  const char* p = std::strstr(buf, "populated ");
  return p && p[10] == '1';
}

}  // namespace progeny
