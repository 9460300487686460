#include "launcher/contain/limits.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

namespace progeny {
namespace {

// cpu.cfs_period_us: the kernel's default, 100 ms, so a 0.5 quota is 50 ms of each 100 ms.
constexpr int64_t kCpuPeriodUs = 100000;

std::string fraction_text(double f) {
  std::string s = std::to_string(f);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

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

void add_count(const CgroupV1Group& cg, const char* file, const char* key, const char* as,
               LimitUse* use) {
  auto text = cg.read(file);
  if (!text) return;
  std::optional<uint64_t> v;
  if (key) {
    v = keyed_u64(*text, key);
  } else {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
    if (ec == std::errc()) v = n;
  }
  if (v) use->counts.emplace_back(as, *v);
}

uint64_t count_of(const LimitUse& u, std::string_view key) {
  for (const auto& [k, v] : u.counts)
    if (k == key) return v;
  return 0;
}

}  // namespace

std::unique_ptr<LimitGroups> LimitGroups::make(const LimitSpec& spec, std::string* why) {
  std::unique_ptr<LimitGroups> g(new LimitGroups);
  auto add = [&](const char* name, std::string value) -> CgroupV1Group* {
    std::string reason;
    auto cg = CgroupV1Group::create(name, &reason);
    if (!cg) {
      *why = std::string(name) + "=" + value + ": " + reason +
             " (cgroup v2 limits need a delegated, empty subtree; not supported yet)";
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
    CgroupV1Group* cg = add("cpu", fraction_text(*spec.cpu));
    auto quota = static_cast<int64_t>(std::llround(*spec.cpu * kCpuPeriodUs));
    if (!cg || !set(*cg, "cpu.cfs_period_us", std::to_string(kCpuPeriodUs), "cpu", why) ||
        !set(*cg, "cpu.cfs_quota_us", std::to_string(quota), "cpu", why))
      return nullptr;
  }
  return g;
}

bool LimitGroups::available(std::string_view limit, std::string* detail) {
  LimitSpec probe;
  if (limit == "pids") probe.pids = 1000;
  if (limit == "memory") probe.memory = int64_t{1} << 30;
  if (limit == "cpu") probe.cpu = 1;
  auto g = make(probe, detail);
  if (!g || g->groups_.empty()) return false;
  std::string path = g->groups_[0].cg->path();
  *detail = "cgroup v1 under " + path.substr(0, path.rfind('/'));
  return true;
}

std::vector<int> LimitGroups::enter_fds() const {
  std::vector<int> out;
  for (const Group& g : groups_) out.push_back(g.cg->enter_fd());
  return out;
}

std::vector<LimitUse> LimitGroups::usage() const {
  std::vector<LimitUse> out;
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
  for (const Group& g : groups_) {
    if (g.name != "memory") continue;
    auto text = g.cg->read("memory.oom_control");
    return text ? keyed_u64(*text, "oom_kill").value_or(0) : 0;
  }
  return 0;
}

bool LimitGroups::remove(std::string* why) {
  bool ok = true;
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

}  // namespace progeny
