// The tracker's stated capacity, through `progeny run --bpf on` in every containment mode:
// with the launcher (the ring's only consumer) stopped for a whole fork+exec burst, a burst
// that fits in the ring loses nothing and every process has its fork, exec and exit once; a
// burst larger than the ring loses events, and the log's `lost` record counts each of them.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <sstream>
#include <string>

#include "bpf/tracker.h"
#include "launcher/os/fd.h"
#include "launcher/os/proc.h"
#include "launcher/os/sys.h"
#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace {

using namespace progeny::test;
using nlohmann::json;
namespace tracker = progeny::bpf;

constexpr int kBoundMs = 240000;

// What one burst process (fork, exec of /bin/true with argv "/bin/true", exit: no title, as
// it exec'd) takes in the ring: the capacity is counted in these.
size_t burst_process_bytes() {
  return tracker::kForkRecordBytes + tracker::exec_record_bytes(9, 10) +
         tracker::exit_record_bytes(0);
}

size_t default_ring_bytes() { return tracker::Options{}.ring_bytes; }

template <typename F>
bool wait_until(F cond) {
  for (int waited = 0; waited < kBoundMs; waited += 5) {
    if (cond()) return true;
    ::usleep(5000);
  }
  return cond();
}

void touch(const std::string& path) {
  ::close(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
}

// SIGCONT on every way out of the stall.
struct Resume {
  int pidfd;
  ~Resume() { signal_pidfd(pidfd, SIGCONT); }
};

struct Burst {
  bool ran = false;
  int status = -1;
  uint64_t records = 0;  // fork, exec and exit records from the tracker
  uint64_t lost = 0;     // the `lost` record's count for the tracker
  // Per burst process (by pidfs identity): how many fork, exec and exit records it has.
  std::map<uint64_t, std::map<std::string, int>> per_process;
};

// Runs the burst under progeny with its launcher stopped from the cue to the burst's end.
Burst run_burst(Scenario& s, const std::string& contain, int count) {
  Burst b;
  char tmpl[] = "/tmp/progeny-burst-XXXXXX";
  if (!::mkdtemp(tmpl)) return b;
  std::string dir = tmpl, log = dir + "/run.jsonl";
  Started c = start_command({progeny_bin(), "run", "-q", "--contain", contain, "--bpf", "on",
                             "--no-preload", "--log", log, "--", fixture("bpf_burst"),
                             std::to_string(count), dir});
  progeny::Fd launcher = progeny::open_pidfd(c.pid);
  if (!s.expect(wait_for_line(c.out_fd, "READY", kBoundMs), "the burst never became ready"))
    return b;
  {
    Resume resume{launcher.get()};
    signal_pidfd(launcher.get(), SIGSTOP);
    s.expect(wait_until([&] {
               auto st = progeny::read_proc_stat(c.pid);
               return st && st->state == 'T';
             }),
             "the launcher did not stop");
    touch(dir + "/go");
    s.expect(wait_until([&] { return exists(dir + "/done"); }), "the burst did not finish");
  }
  touch(dir + "/end");
  b.status = wait_status(c.pid, kBoundMs);
  ::close(c.out_fd);
  std::istringstream lines(read_file(log));
  std::map<uint64_t, std::map<std::string, int>> all;
  std::map<uint64_t, bool> burst;
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    if (j["event"] == "lost" && j["what"] == "bpf") b.lost += j["count"].get<uint64_t>();
    if (j["source"] != "bpf") continue;
    ++b.records;
    uint64_t ino = j.value("ino", uint64_t{0});
    ++all[ino][j["event"].get<std::string>()];
    if (j["event"] == "exec" && j["path"] == "/bin/true") burst[ino] = true;
  }
  for (const auto& [ino, counts] : all)
    if (burst.count(ino)) b.per_process[ino] = counts;
  for (const char* f : {"/run.jsonl", "/go", "/done", "/end"}) ::unlink((dir + f).c_str());
  ::rmdir(dir.c_str());
  b.ran = true;
  return b;
}

struct Mode {
  const char* contain;
  // Also a burst larger than the ring. `make test` does it in the pidns mode, where a slow
  // drain used to lose events; each mode costs minutes on a busy machine, so `make test-long`
  // (the Long instances) does it in the other two.
  bool overflow;
};

class BurstCapacity : public ::testing::TestWithParam<Mode> {};

TEST_P(BurstCapacity, StalledConsumerLosesNothingUpToTheRingAndCountsEveryLossBeyond) {
  REQUIRE_TRACKER();
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        const size_t fits = default_ring_bytes() / burst_process_bytes();
        constexpr int kFirst = 2000;
        s.note("ring " + std::to_string(default_ring_bytes()) + " bytes: " + std::to_string(fits) +
               " burst processes (" + std::to_string(3 * fits) + " events)");
        if (!s.expect(kFirst < static_cast<int>(fits), "the first burst does not fit the ring"))
          return 1;

        Burst one = run_burst(s, GetParam().contain, kFirst);
        if (!s.expect(one.ran, "first burst did not run")) return 1;
        s.expect(exited_with(one.status, 0), "progeny gave " + status_text(one.status));
        s.expect(one.lost == 0, std::to_string(one.lost) + " events lost within the capacity");
        s.expect(one.per_process.size() == kFirst,
                 std::to_string(one.per_process.size()) + " burst processes recorded, not 2000");
        int wrong = 0;
        for (const auto& [ino, counts] : one.per_process)
          if (counts.size() != 3 || counts.at("fork") != 1 || counts.at("exec") != 1 ||
              counts.at("exit") != 1)
            ++wrong;
        s.expect(wrong == 0, std::to_string(wrong) + " processes without exactly one fork, exec and exit");

        if (!GetParam().overflow) {
          expect_nothing_left(s);
          return 0;
        }
        // Larger than the ring: everything the session produced is either in the log or
        // counted lost. The processes around the burst (COMMAND, the mode's helpers) make the
        // same records as in the first run.
        const int second = static_cast<int>(fits) + 1000;
        Burst two = run_burst(s, GetParam().contain, second);
        if (!s.expect(two.ran, "second burst did not run")) return 1;
        s.expect(two.status != -1, "progeny did not finish");
        uint64_t produced = one.records + 3 * static_cast<uint64_t>(second - kFirst);
        s.note("second burst of " + std::to_string(second) + ": " + std::to_string(two.records) +
               " recorded + " + std::to_string(two.lost) + " lost, " + std::to_string(produced) +
               " produced");
        s.expect(two.lost > 0, "nothing lost beyond the capacity");
        s.expect(two.records + two.lost == produced,
                 std::to_string(two.records) + " recorded + " + std::to_string(two.lost) +
                     " lost != " + std::to_string(produced) + " produced");
        expect_nothing_left(s);
        return 0;
      },
      [] {
        SandboxOptions o;
        o.timeout_s = 600;
        return o;
      }());
  EXPECT_TRUE(r.ok()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Modes, BurstCapacity,
                         ::testing::Values(Mode{"none", false}, Mode{"cgroup", false},
                                           Mode{"pidns", true}),
                         [](const auto& info) { return std::string(info.param.contain); });
INSTANTIATE_TEST_SUITE_P(Long, BurstCapacity,
                         ::testing::Values(Mode{"none", true}, Mode{"cgroup", true}),
                         [](const auto& info) { return std::string(info.param.contain); });

}  // namespace
