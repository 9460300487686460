// What the user asked `--limit` for: "pids=N,memory=SIZE,cpu=FRACTION", any subset, parsed
// without touching the host (which limits it can enforce is launcher/contain/limits.h's
// question).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace progeny {

struct LimitSpec {
  std::optional<int64_t> pids;     // tasks at once in COMMAND's tree, >= 1
  std::optional<int64_t> memory;   // bytes of memory (and memory+swap where the host has it)
  std::optional<double> cpu;       // CPUs' worth of time per period: 0.5 = half of one CPU
  bool empty() const { return !pids && !memory && !cpu; }
};

// The smallest memory limit taken: below it not even the dynamic loader of COMMAND fits, so
// the limit could only kill COMMAND at its first instruction.
constexpr int64_t kMinMemoryLimit = 1 << 20;
// cpu.cfs_quota_us' floor is 1 ms of a 100 ms period.
constexpr double kMinCpuLimit = 0.01;

// The cgroup CPU period progeny writes: the kernel's default, 100 ms, so a 0.5 quota is 50 ms
// of each 100 ms (v1 cpu.cfs_period_us, v2 cpu.max's second field).
constexpr int64_t kCpuPeriodUs = 100000;
// The quota of `fraction` CPUs per kCpuPeriodUs, in microseconds.
int64_t cpu_quota_us(double fraction);
// The fraction as the user would write it: "0.5", not "0.500000".
std::string cpu_fraction_text(double fraction);

// "64", "512K", "64M", "1.5G" (powers of 1024; a bare number is bytes). nullopt if invalid.
std::optional<int64_t> parse_size_bytes(std::string_view text);
// Adds one comma-separated list of KEY=VALUE to *spec (a key given again replaces its value).
// False with what is wrong in *error.
bool parse_limits(std::string_view text, LimitSpec* spec, std::string* error);

}  // namespace progeny
