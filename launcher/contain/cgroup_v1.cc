#include "launcher/contain/cgroup_v1.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include "launcher/contain/mountinfo.h"

namespace progeny {
namespace {

// CGROUP_SUPER_MAGIC of <linux/magic.h>, which also defines names glibc's headers clash with.
constexpr long kCgroupV1Magic = 0x27e0eb;

bool lists(std::string_view comma_list, std::string_view name) {
  for (std::string_view f : split_fields(comma_list, ','))
    if (f == name) return true;
  return false;
}

}  // namespace

std::vector<Cgroup2Mount> parse_cgroup1_mounts(std::string_view mountinfo,
                                               std::string_view controller) {
  std::vector<Cgroup2Mount> out;
  for (MountEntry& m : parse_mountinfo(mountinfo))
    if (m.fstype == "cgroup" && lists(m.super_options, controller))
      out.push_back({std::move(m.mount_point), std::move(m.root)});
  return out;
}

std::optional<std::string> parse_own_cgroup_v1(std::string_view proc_cgroup,
                                                std::string_view controller) {
  for (std::string_view line : split_fields(proc_cgroup, '\n')) {
    size_t a = line.find(':');
    size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    if (lists(line.substr(a + 1, b - a - 1), controller)) return std::string(line.substr(b + 1));
  }
  return std::nullopt;
}

std::optional<uint64_t> keyed_u64(std::string_view text, std::string_view key) {
  for (std::string_view line : split_fields(text, '\n')) {
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ' ')
      continue;
    uint64_t v = 0;
    std::string_view num = line.substr(key.size() + 1);
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
    if (ec == std::errc()) return v;
  }
  return std::nullopt;
}

std::unique_ptr<CgroupV1Group> CgroupV1Group::create(std::string_view controller,
                                                     std::string* why) {
  std::string mountinfo, own;
  if (!cgroup_read_at(AT_FDCWD, "/proc/self/mountinfo", &mountinfo) ||
      !cgroup_read_at(AT_FDCWD, "/proc/self/cgroup", &own)) {
    *why = "cannot read /proc/self/mountinfo or /proc/self/cgroup";
    return nullptr;
  }
  std::string ctl(controller);
  std::vector<Cgroup2Mount> mounts = parse_cgroup1_mounts(mountinfo, controller);
  std::optional<std::string> path = parse_own_cgroup_v1(own, controller);
  if (mounts.empty() || !path) {
    *why = "no cgroup v1 " + ctl + " hierarchy is mounted";
    return nullptr;
  }
  std::optional<std::string> dir = cgroup_dir_for(mounts, *path);
  if (!dir) {
    *why = "own " + ctl + " cgroup " + *path + " is not visible through any mount of it";
    return nullptr;
  }
  Fd parent(::open(dir->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  struct statfs sfs{};
  if (!parent || ::fstatfs(parent.get(), &sfs) != 0 || sfs.f_type != kCgroupV1Magic) {
    *why = "cannot open own " + ctl + " cgroup " + *dir + ": " + std::strerror(errno);
    return nullptr;
  }
  std::string name = new_cgroup_name();
  if (::mkdirat(parent.get(), name.c_str(), 0755) != 0) {
    *why = "cannot create a group in " + *dir + ": " + std::strerror(errno);
    return nullptr;
  }
  Fd self(::openat(parent.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  Fd procs(self ? ::openat(self.get(), "cgroup.procs", O_WRONLY | O_CLOEXEC) : -1);
  if (!procs) {
    *why = "cannot open the group made in " + *dir + ": " + std::strerror(errno);
    ::unlinkat(parent.get(), name.c_str(), AT_REMOVEDIR);
    return nullptr;
  }
  std::string full = *dir + "/" + name;
  return std::unique_ptr<CgroupV1Group>(new CgroupV1Group(std::move(parent), std::move(self),
                                                          std::move(procs), std::move(name),
                                                          std::move(full)));
}

bool CgroupV1Group::has(const char* file) const {
  return ::faccessat(dir_.get(), file, F_OK, 0) == 0;
}

int CgroupV1Group::write(const char* file, const std::string& value) {
  return cgroup_write_at(dir_.get(), file, value.c_str());
}

std::optional<std::string> CgroupV1Group::read(const char* file) const {
  std::string text;
  if (!cgroup_read_at(dir_.get(), file, &text)) return std::nullopt;
  return text;
}

bool CgroupV1Group::remove() {
  if (removed_) return true;
  procs_.reset();
  // Tasks the stop killed leave the group as they finish exiting: EBUSY for a moment.
  for (int i = 0; i < 400; ++i) {
    if (::unlinkat(parent_.get(), name_.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) {
      removed_ = true;
      return true;
    }
    if (errno != EBUSY) return false;
    timespec ts{0, 5 * 1000 * 1000};
    ::nanosleep(&ts, nullptr);
  }
  return false;
}

}  // namespace progeny
