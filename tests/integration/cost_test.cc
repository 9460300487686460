// What each process cost (issue 13), against what the process measured itself: a busy loop's
// CPU time and a 100 MiB process's peak RSS, each within ±10%, from the tracker's self
// figures (`--bpf on`) and from wait4's inclusive ones where the launcher reaps (`--bpf off`),
// in the log and in `progeny tree --format json`. CPU time, not wall time: on a loaded
// machine only the former is the process's own.
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "schema/record.h"
#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace progeny::test {
namespace {

using json = nlohmann::json;

struct CostMode {
  const char* name;
  std::vector<std::string> flags;
  bool tracker;  // self figures from the tracker; else inclusive ones from the launcher's wait4
};

// COMMAND's exit record from the source the mode measures with (the fork record with role
// "command" names COMMAND).
std::optional<Record> command_exit(const std::string& log, const std::string& source) {
  std::istringstream in(read_file(log));
  std::vector<Record> records;
  std::string why;
  for (std::string line; std::getline(in, line);)
    if (auto r = parse_record(line, &why)) records.push_back(std::move(*r));
  std::optional<pid_t> cmd;
  for (const Record& r : records)
    if (r.event == "fork" && r.role == "command") cmd = r.pid;
  for (const Record& r : records)
    if (cmd && r.event == "exit" && r.pid == *cmd && r.source == source) return r;
  return std::nullopt;
}

// The number after `key=` in the fixture's output, -1 when absent.
long long reported(const std::string& out, const std::string& key) {
  auto at = out.find(key + "=");
  return at == std::string::npos ? -1 : std::atoll(out.c_str() + at + key.size() + 1);
}

bool within_10_percent(double got, double want) { return got >= want * 0.9 && got <= want * 1.1; }

// COMMAND's node in `progeny tree --format json LOG`.
json command_node(Scenario& s, const std::string& log) {
  std::string out = log + ".tree.json";
  int st = run_command({"/bin/sh", "-c", progeny_bin() + " tree --format json '" + log + "' >'" +
                                             out + "'"});
  s.expect(exited_with(st, 0), "progeny tree gave " + status_text(st));
  try {
    json doc = json::parse(read_file(out));
    return doc["processes"][doc["command"].get<size_t>()];
  } catch (const std::exception& e) {
    s.fail(std::string("no COMMAND in the tree: ") + e.what());
    return json();
  }
}

class Cost : public ::testing::TestWithParam<CostMode> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root";
    if (GetParam().tracker) REQUIRE_TRACKER();
    char tmpl[] = "/tmp/progeny-cost-XXXXXX";
    ASSERT_TRUE(::mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) run_command({"/bin/rm", "-rf", dir_});
  }

  // Runs `cost_hog WHAT AMOUNT` under progeny in the sandbox; fn checks its log and output.
  void run_hog(const std::string& what, int amount,
               const std::function<void(Scenario&, const std::string& log, const std::string& out)>& fn) {
    std::string log = dir_ + "/run.jsonl", out = dir_ + "/out";
    std::vector<std::string> argv = {progeny_bin(), "run", "-q", "--log", log};
    argv.insert(argv.end(), GetParam().flags.begin(), GetParam().flags.end());
    for (const std::string& a : {std::string("--"), fixture("cost_hog"), what, std::to_string(amount)})
      argv.push_back(a);
    SandboxOptions opts;
    opts.timeout_s = 120;
    auto r = run_in_sandbox([&](Scenario& s) {
      int st = run_command(argv, out);
      s.expect(exited_with(st, 0), "progeny gave " + status_text(st) + ": " + read_file(out));
      expect_nothing_left(s);
      fn(s, log, read_file(out));
      return 0;
    }, opts);
    EXPECT_TRUE(r.ok()) << r.describe();
  }

  const char* source() const { return GetParam().tracker ? "bpf" : "launcher"; }
  std::string dir_;
};

TEST_P(Cost, BusyLoopCpuIsWhatItMeasuredItself) {
  run_hog("cpu", 400, [&](Scenario& s, const std::string& log, const std::string& out) {
    long long own = reported(out, "cpu_ns");
    if (!s.expect(own > 0, "the fixture reported no CPU time: " + out)) return;
    auto exit = command_exit(log, source());
    if (!s.expect(exit.has_value(), std::string("no exit record from ") + source())) return;
    std::optional<uint64_t> user = GetParam().tracker ? exit->cpu_user_ns : exit->inclusive_cpu_user_ns;
    std::optional<uint64_t> sys = GetParam().tracker ? exit->cpu_system_ns : exit->inclusive_cpu_system_ns;
    if (!s.expect(user && sys, "the exit record has no CPU figures")) return;
    double got = static_cast<double>(*user + *sys);
    std::printf("[%s] CPU recorded %llu ns (user %llu, system %llu), measured %lld ns: %+.2f%%\n",
                GetParam().name, static_cast<unsigned long long>(*user + *sys),
                static_cast<unsigned long long>(*user), static_cast<unsigned long long>(*sys), own,
                (got - static_cast<double>(own)) / static_cast<double>(own) * 100);
    s.expect(within_10_percent(got, static_cast<double>(own)),
             "recorded " + std::to_string(*user + *sys) + " ns, the process measured " +
                 std::to_string(own) + " ns");
    s.expect(*user > *sys, "a busy loop's CPU is user time: user " + std::to_string(*user) +
                               " ns, system " + std::to_string(*sys) + " ns");
    // The view carries the same figures, named by kind.
    json node = command_node(s, log);
    const char* kind = GetParam().tracker ? "self" : "inclusive";
    s.expect(node["cost"][kind]["cpu_user_ns"] == *user,
             std::string("the tree's ") + kind + " CPU differs: " + node["cost"].dump());
  });
}

TEST_P(Cost, HundredMebibytesShowAsPeakRss) {
  run_hog("rss", 100, [&](Scenario& s, const std::string& log, const std::string& out) {
    long long hwm = reported(out, "hwm_kb");
    auto exit = command_exit(log, source());
    if (!s.expect(exit.has_value(), std::string("no exit record from ") + source())) return;
    std::optional<uint64_t> peak = GetParam().tracker ? exit->peak_rss_kb : exit->inclusive_peak_rss_kb;
    if (!s.expect(peak.has_value(), "the exit record has no peak RSS")) return;
    std::printf("[%s] peak RSS recorded %llu KiB, VmHWM %lld kB, touched 102400 KiB\n",
                GetParam().name, static_cast<unsigned long long>(*peak), hwm);
    s.expect(within_10_percent(static_cast<double>(*peak), 100 * 1024.0),
             "recorded a peak of " + std::to_string(*peak) + " KiB for 100 MiB touched (VmHWM " +
                 std::to_string(hwm) + " kB)");
    if (GetParam().tracker) {
      s.expect(exit->lifetime_ns && *exit->lifetime_ns > 0, "the tracker's exit has no lifetime");
      s.expect(!exit->inclusive_peak_rss_kb, "the tracker wrote an inclusive figure");
    }
  });
}

INSTANTIATE_TEST_SUITE_P(
    Sources, Cost,
    ::testing::Values(CostMode{"tracker", {"--contain", "none", "--bpf", "on", "--no-preload"}, true},
                      CostMode{"launcher_reaped", {"--contain", "none", "--bpf", "off"}, false}),
    [](const ::testing::TestParamInfo<CostMode>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace progeny::test
