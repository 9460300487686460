// The test sandbox: runs one scenario in a fresh PID and mount namespace, under a minimal
// init (PID 1) that is never the launcher, with private mounts, its own /proc, and a v1 pids
// cgroup cap; tears everything down afterwards. Every test that starts or kills process
// trees goes through run_in_sandbox().
#pragma once
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace progeny::test {

struct SandboxOptions {
  int pids_max = 4096;       // pids cgroup cap for everything in the sandbox
  uid_t uid = 0;             // != 0: the scenario drops to this uid/gid (non-root path)
  gid_t gid = 0;
  int timeout_s = 60;        // the whole sandbox is killed after this
};

// Handed to the scenario (which runs as PID 2 of the sandbox, child of the init).
class Scenario {
 public:
  explicit Scenario(int report_fd) : report_fd_(report_fd) {}
  // Records a failure; the scenario goes on.
  void fail(const std::string& what);
  // Expect helper: records `what` when !cond. Returns cond.
  bool expect(bool cond, const std::string& what);
  // Writes a free-form note to the report (shown in test output).
  void note(const std::string& what);
  // Processes in the sandbox other than PID 1 and this scenario process ("pid comm" each).
  std::vector<std::string> others() const;

 private:
  int report_fd_;
};

struct SandboxResult {
  bool ran = false;                  // the sandbox could be set up
  std::string setup_error;           // why not, when !ran
  int scenario_status = -1;          // wait(2) status of the scenario process
  std::vector<std::string> failures; // from Scenario::fail/expect
  std::vector<std::string> notes;
  std::vector<std::string> survivors; // processes alive after the scenario returned
  int zombies = 0;                   // of those, how many were zombies
  // cgroups a progeny run of the scenario created and did not remove (each sandbox has a
  // cgroup v2 directory of its own, under which the launcher's leaves go): every one is a
  // failure. They are removed after being counted.
  std::vector<std::string> leaked_cgroups;
  bool ok() const {
    return ran && failures.empty() && scenario_status == 0 && leaked_cgroups.empty();
  }
  std::string describe() const;      // everything above, for gtest messages
};

// Runs fn(scenario) as PID 2 of a new sandbox. fn's return value is the scenario's exit code.
// After fn returns, the init lists whatever is still alive (survivors), then kills it all.
SandboxResult run_in_sandbox(const std::function<int(Scenario&)>& fn,
                             const SandboxOptions& opts = {});

// Paths of built artifacts (from $PROGENY_BUILD, set by `make test`).
std::string build_path(const std::string& rel);  // e.g. build_path("bin/progeny")
std::string fixture(const std::string& name);     // build_path("tests/fixtures/" + name)

// Runs argv (execv, no shell) and waits; returns the wait status. Output goes to out_path
// (stdout+stderr) when given, else is inherited.
int run_command(const std::vector<std::string>& argv, const std::string& out_path = "",
                const std::vector<std::string>& extra_env = {});
std::string read_file(const std::string& path);

// A command started in the background, its stdout on a pipe (stderr inherited).
struct Started {
  pid_t pid = -1;
  int out_fd = -1;  // read end of the child's stdout
};
Started start_command(const std::vector<std::string>& argv,
                      const std::vector<std::string>& extra_env = {});
// Reads fd until a line equal to `line` arrives (true) or timeout_ms/EOF (false). Everything
// read is appended to *seen when given.
bool wait_for_line(int fd, const std::string& line, int timeout_ms, std::string* seen = nullptr);
// waitpid with a bound: the wait status, or -1 if pid has not ended within timeout_ms.
int wait_status(pid_t pid, int timeout_ms);
// SIGKILL through a pidfd to a process of the sandbox (test scaffolding cleaning up what a
// measurement left, e.g. the escapees `kill -- -PGID` misses). Inside the sandbox only.
void kill_in_sandbox(pid_t pid);
// The same through a pidfd the test holds (of a process it started in the sandbox).
void signal_pidfd(int pidfd, int sig);

}  // namespace progeny::test
