#include "launcher/contain/cgroup_v2_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "launcher/contain/mountinfo.h"

namespace progeny {
namespace {

bool lists(std::string_view space_list, std::string_view name) {
  for (std::string_view f : split_fields(space_list, ' '))
    if (f == name) return true;
  return false;
}

// The limit's name and value as the user gave it, for messages.
std::string limit_text(std::string_view controller, const LimitSpec& spec) {
  std::string s(controller);
  if (controller == "pids") return s + "=" + std::to_string(*spec.pids);
  if (controller == "memory") return s + "=" + std::to_string(*spec.memory);
  return s + "=" + cpu_fraction_text(*spec.cpu);
}

}  // namespace

std::vector<std::string> v2_controllers_for(const LimitSpec& spec) {
  std::vector<std::string> out;
  if (spec.pids) out.push_back("pids");
  if (spec.memory) out.push_back("memory");
  if (spec.cpu) out.push_back("cpu");
  return out;
}

std::optional<LeafParent> open_delegated_subtree(const std::string& dir, std::string* why) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  struct statfs sfs{};
  if (!fd || ::fstatfs(fd.get(), &sfs) != 0) {
    *why = "cannot open " + dir + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (sfs.f_type != CGROUP2_SUPER_MAGIC) {
    *why = dir + " is not a cgroup v2 directory";
    return std::nullopt;
  }
  return LeafParent{dir, std::move(fd)};
}

std::unique_ptr<CgroupV2LimitGroup> CgroupV2LimitGroup::create(LeafParent subtree,
                                                               const LimitSpec& spec,
                                                               std::string* why) {
  std::string procs_text, enabled;
  if (!cgroup_read_at(subtree.fd.get(), "cgroup.procs", &procs_text) ||
      !cgroup_read_at(subtree.fd.get(), "cgroup.subtree_control", &enabled)) {
    *why = "cannot read cgroup.procs and cgroup.subtree_control of " + subtree.path + ": " +
           std::strerror(errno);
    return nullptr;
  }
  // A cgroup with processes of its own cannot enable controllers for children (v2's "no
  // internal processes" rule); one that has them enabled was emptied for that purpose.
  if (!procs_text.empty()) {
    *why = subtree.path + " holds processes: a delegated subtree for limits must be empty";
    return nullptr;
  }
  if (!enabled.empty() && enabled.back() == '\n') enabled.pop_back();
  for (const std::string& c : v2_controllers_for(spec)) {
    if (lists(enabled, c)) continue;
    *why = limit_text(c, spec) + ": " + subtree.path + "/cgroup.subtree_control does not enable " +
           c + " (it enables: " + (enabled.empty() ? "none" : enabled) + ")";
    return nullptr;
  }
  std::string name = new_cgroup_name();
  if (::mkdirat(subtree.fd.get(), name.c_str(), 0755) != 0) {
    *why = "cannot create a group in " + subtree.path + ": " + std::strerror(errno);
    return nullptr;
  }
  Fd self(::openat(subtree.fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!self) {
    *why = "cannot open the group made in " + subtree.path + ": " + std::strerror(errno);
    ::unlinkat(subtree.fd.get(), name.c_str(), AT_REMOVEDIR);
    return nullptr;
  }
  std::string path = subtree.path + "/" + name;
  return std::unique_ptr<CgroupV2LimitGroup>(new CgroupV2LimitGroup(
      std::move(subtree.fd), std::move(self), std::move(name), std::move(path)));
}

bool CgroupV2LimitGroup::configure(const LimitSpec& spec, std::string* why) {
  auto set = [&](const char* limit, const char* file, const std::string& value) {
    int err = cgroup_write_at(dir_.get(), file, value.c_str());
    if (err == 0) return true;
    *why = std::string(limit) + ": cannot write " + file + " = " + value + " in a group under " +
           path_.substr(0, path_.rfind('/')) + ": " + std::strerror(err);
    return false;
  };
  procs_.reset(::openat(dir_.get(), "cgroup.procs", O_WRONLY | O_CLOEXEC));
  if (!procs_) {
    *why = "cannot open cgroup.procs of the group made in " + path_.substr(0, path_.rfind('/')) +
           ": " + std::strerror(errno);
    return false;
  }
  if (spec.pids && !set("pids", "pids.max", std::to_string(*spec.pids))) return false;
  if (spec.memory) {
    if (!set("memory", "memory.max", std::to_string(*spec.memory))) return false;
    // Without swap accounting the file is absent and nothing can swap past the limit anyway.
    if (::faccessat(dir_.get(), "memory.swap.max", F_OK, 0) == 0 &&
        !set("memory", "memory.swap.max", "0"))
      return false;
  }
  if (spec.cpu && !set("cpu", "cpu.max",
                       std::to_string(cpu_quota_us(*spec.cpu)) + " " + std::to_string(kCpuPeriodUs)))
    return false;
  return true;
}

std::vector<LimitUse> CgroupV2LimitGroup::usage(const LimitSpec& spec) const {
  std::vector<LimitUse> out;
  auto use = [&](const char* name, std::string value) -> LimitUse& {
    out.push_back({name, "cgroup v2", path_, std::move(value), false, {}});
    return out.back();
  };
  auto add = [&](LimitUse& u, const char* file, const char* key, const char* as) {
    if (auto text = read(file)) add_count(*text, key, as, &u);
  };
  if (spec.pids) {
    LimitUse& u = use("pids", std::to_string(*spec.pids));
    add(u, "pids.events", "max", "max");
    add(u, "pids.peak", nullptr, "peak");
    u.hit = count_of(u, "max") > 0;
  }
  if (spec.memory) {
    LimitUse& u = use("memory", std::to_string(*spec.memory));
    add(u, "memory.events", "max", "max");
    add(u, "memory.events", "oom_kill", "oom_kill");
    add(u, "memory.peak", nullptr, "peak");
    u.hit = count_of(u, "max") > 0 || count_of(u, "oom_kill") > 0;
  }
  if (spec.cpu) {
    LimitUse& u = use("cpu", cpu_fraction_text(*spec.cpu));
    add(u, "cpu.stat", "nr_periods", "nr_periods");
    add(u, "cpu.stat", "nr_throttled", "nr_throttled");
    add(u, "cpu.stat", "throttled_usec", "throttled_usec");
    u.hit = count_of(u, "nr_throttled") > 0;
  }
  return out;
}

LeafParent CgroupV2LimitGroup::as_leaf_parent() const {
  return LeafParent{path_, Fd(::fcntl(dir_.get(), F_DUPFD_CLOEXEC, 0))};
}

std::optional<std::string> CgroupV2LimitGroup::read(const char* file) const {
  std::string text;
  if (!cgroup_read_at(dir_.get(), file, &text)) return std::nullopt;
  return text;
}

bool CgroupV2LimitGroup::remove() {
  if (removed_) return true;
  procs_.reset();
  // Tasks the stop killed leave the group as they finish exiting: EBUSY for a moment.
  for (int i = 0; i < 400; ++i) {
    int err = remove_cgroup_tree(parent_.get(), name_.c_str());
    if (err == 0 || err == ENOENT) {
      removed_ = true;
      return true;
    }
    if (err != EBUSY) {
      errno = err;
      return false;
    }
    timespec ts{0, 5 * 1000 * 1000};
    ::nanosleep(&ts, nullptr);
  }
  errno = EBUSY;
  return false;
}

}  // namespace progeny
