#include "launcher/contain/limits.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace progeny {
namespace {

// Writes file = value, or says which limit it failed for.
bool set(CgroupV1Group& cg, const char* file, const std::string& value, std::string_view limit,
         std::string* why) {
  int err = cg.write(file, value);
  if (err == 0) return true;
  // The parent, not the group: its name is random, and doctor's reason must be the run's.
  std::string parent = cg.path().substr(0, cg.path().rfind('/'));
  *why = std::string(limit) + ": cannot write " + file + " = " + value + " in a group under " +
         parent + ": " + std::strerror(err);
  return false;
}

// One counter of a v1 group, read through its directory descriptor.
void add_count(const CgroupV1Group& cg, const char* file, const char* key, const char* as,
               LimitUse* use) {
  if (auto text = cg.read(file)) add_count(*text, key, as, use);
}

}  // namespace

std::unique_ptr<LimitGroups> LimitGroups::make(const LimitSpec& spec, const std::string& v2_subtree,
                                               std::string* why) {
  std::unique_ptr<LimitGroups> g(new LimitGroups);
  if (!v2_subtree.empty()) {
    std::string reason;
    std::optional<LeafParent> subtree = open_delegated_subtree(v2_subtree, &reason);
    if (subtree) g->v2_ = CgroupV2LimitGroup::create(std::move(*subtree), spec, &reason);
    if (!g->v2_ || !g->v2_->configure(spec, &reason)) {
      *why = reason;
      return nullptr;
    }
    g->v2_spec_ = spec;
    return g;
  }
  auto add = [&](const char* name, std::string value) -> CgroupV1Group* {
    std::string reason;
    auto cg = CgroupV1Group::create(name, &reason);
    if (!cg) {
      *why = std::string(name) + "=" + value + ": " + reason +
             " (cgroup v2 limits need a delegated, empty subtree: --limit-cgroup DIR)";
      return nullptr;
    }
    g->groups_.push_back({name, std::move(value), std::move(cg)});
    return g->groups_.back().cg.get();
  };
  if (spec.pids) {
    CgroupV1Group* cg = add("pids", std::to_string(*spec.pids));
    if (!cg || !set(*cg, "pids.max", std::to_string(*spec.pids), "pids", why)) return nullptr;
  }
  if (spec.memory) {
    std::string bytes = std::to_string(*spec.memory);
    CgroupV1Group* cg = add("memory", bytes);
    if (!cg || !set(*cg, "memory.limit_in_bytes", bytes, "memory", why)) return nullptr;
    // Without memsw the tree could swap past the limit instead of being held to it. The
    // memory limit first: memsw may never be below it.
    if (cg->has("memory.memsw.limit_in_bytes") &&
        !set(*cg, "memory.memsw.limit_in_bytes", bytes, "memory", why))
      return nullptr;
  }
  if (spec.cpu) {
    CgroupV1Group* cg = add("cpu", cpu_fraction_text(*spec.cpu));
    int64_t quota = cpu_quota_us(*spec.cpu);
    if (!cg || !set(*cg, "cpu.cfs_period_us", std::to_string(kCpuPeriodUs), "cpu", why) ||
        !set(*cg, "cpu.cfs_quota_us", std::to_string(quota), "cpu", why))
      return nullptr;
  }
  return g;
}

bool LimitGroups::available(std::string_view limit, std::string* detail,
                            const std::string& v2_subtree) {
  LimitSpec probe;
  if (limit == "pids") probe.pids = 1000;
  if (limit == "memory") probe.memory = int64_t{1} << 30;
  if (limit == "cpu") probe.cpu = 1;
  auto g = make(probe, v2_subtree, detail);
  if (!g) return false;
  std::string path = g->v2_ ? g->v2_->path() : g->groups_.empty() ? "" : g->groups_[0].cg->path();
  if (path.empty()) return false;
  *detail = std::string(g->v2_ ? "cgroup v2" : "cgroup v1") + " under " + path.substr(0, path.rfind('/'));
  return true;
}

std::vector<int> LimitGroups::enter_fds(bool born_in_v2_group) const {
  std::vector<int> out;
  for (const Group& g : groups_) out.push_back(g.cg->enter_fd());
  if (v2_ && !born_in_v2_group) out.push_back(v2_->enter_fd());
  return out;
}

std::vector<CgroupRef> LimitGroups::refs() const {
  std::vector<CgroupRef> out;
  for (const Group& g : groups_) out.push_back({g.cg->parent_fd(), g.cg->name().c_str()});
  if (v2_) out.push_back({v2_->parent_fd(), v2_->name().c_str()});
  return out;
}

std::optional<LeafParent> LimitGroups::leaf_parent() const {
  if (!v2_) return std::nullopt;
  return v2_->as_leaf_parent();
}

std::vector<LimitUse> LimitGroups::usage() const {
  std::vector<LimitUse> out;
  if (v2_) {
    out = v2_->usage(v2_spec_);
  }
  for (const Group& g : groups_) {
    LimitUse u;
    u.name = g.name;
    u.backend = "cgroup v1";
    u.group = g.cg->path();
    u.value = g.value;
    const CgroupV1Group& cg = *g.cg;
    if (g.name == "pids") {
      add_count(cg, "pids.events", "max", "max", &u);
      add_count(cg, "pids.peak", nullptr, "peak", &u);
      u.hit = count_of(u, "max") > 0;
    } else if (g.name == "memory") {
      add_count(cg, "memory.failcnt", nullptr, "failcnt", &u);
      add_count(cg, "memory.max_usage_in_bytes", nullptr, "max_usage_in_bytes", &u);
      add_count(cg, "memory.oom_control", "oom_kill", "oom_kill", &u);
      u.hit = count_of(u, "failcnt") > 0 || count_of(u, "oom_kill") > 0;
    } else {
      add_count(cg, "cpu.stat", "nr_periods", "nr_periods", &u);
      add_count(cg, "cpu.stat", "nr_throttled", "nr_throttled", &u);
      add_count(cg, "cpu.stat", "throttled_time", "throttled_time", &u);
      u.hit = count_of(u, "nr_throttled") > 0;
    }
    out.push_back(std::move(u));
  }
  return out;
}

uint64_t LimitGroups::oom_kills() const {
  if (v2_) {
    auto text = v2_spec_.memory ? v2_->read("memory.events") : std::nullopt;
    return text ? keyed_u64(*text, "oom_kill").value_or(0) : 0;
  }
  for (const Group& g : groups_) {
    if (g.name != "memory") continue;
    auto text = g.cg->read("memory.oom_control");
    return text ? keyed_u64(*text, "oom_kill").value_or(0) : 0;
  }
  return 0;
}

bool LimitGroups::remove(std::string* why) {
  bool ok = true;
  if (v2_ && !v2_->remove()) {
    *why = "cannot remove the limit cgroup " + v2_->path() + ": " + std::strerror(errno);
    ok = false;
  }
  for (Group& g : groups_) {
    if (g.cg->remove()) continue;
    if (ok) *why = "cannot remove the " + g.name + " limit cgroup " + g.cg->path() + ": " +
                   std::strerror(errno);
    ok = false;
  }
  return ok;
}

bool enter_limit_groups(const int* fds, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    ssize_t n;
    do n = ::write(fds[i], "0", 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) return false;
  }
  return true;
}

std::string no_pids_backend(const std::string& cgroup_why, const std::string& tracker_why) {
  return cgroup_why + "; nor the tracker: " + tracker_why;
}

}  // namespace progeny
