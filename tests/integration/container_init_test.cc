// progeny as a container's init: `progeny run` as PID 1 of a PID namespace of its own
// (`unshare --pid --fork --mount-proc`, what a runtime does for an ENTRYPOINT). The runtime's
// TERM comes from outside the namespace; progeny forwards it, stops what COMMAND left, reaps
// the orphans the namespace hands it, and exits 128+N: as PID 1 the kernel ignores the
// re-raised signal, so it cannot die of it. The runtime's KILL takes the whole namespace.
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "launcher/os/sys.h"
#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace {

using progeny::Fd;
using progeny::test::exited_with;
using progeny::test::expect_nothing_left;
using progeny::test::progeny_bin;
using progeny::test::read_file;
using progeny::test::run_in_sandbox;
using progeny::test::Scenario;
using progeny::test::signal_pidfd;
using progeny::test::start_command;
using progeny::test::status_text;
using progeny::test::wait_for_line;
using progeny::test::wait_status;

const char* kUnshare = "/usr/bin/unshare";

// COMMAND: orphans that exit at once (zombies for the init to reap), an escapee that
// double-forks into a session of its own (ready once it is the sleep: setsid done; an orphan,
// so COMMAND's death by TERM does not take it through the parent-death signal), then the
// main process.
const std::string kEntrypoint =
    "(sh -c 'exit 0' &); (sh -c 'exit 3' &); (setsid sleep 100 & n=0; "
    "until [ \"$(cat /proc/$!/comm)\" = sleep ] || [ $n -ge 6000 ]; do n=$((n+1)); sleep 0.01; done); "
    "echo ready; exec sleep 100";

class ContainerInit : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox and PID namespaces need root";
    if (::access(kUnshare, X_OK) != 0) GTEST_SKIP() << kUnshare << " missing (util-linux)";
  }
};

std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::ifstream f("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  for (pid_t c; f >> c;) out.push_back(c);
  return out;
}

std::string stat_state(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  return close == std::string::npos ? "" : stat.substr(close + 2, 1);
}

// Every descendant of pid, with how many are zombies.
size_t zombies_below(pid_t pid, size_t* total) {
  size_t zombies = 0;
  std::vector<pid_t> todo = children_of(pid);
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    ++*total;
    if (stat_state(p) == "Z") ++zombies;
    for (pid_t c : children_of(p)) todo.push_back(c);
  }
  return zombies;
}

// progeny, PID 1 of the new namespace: unshare's one child once it has exec'd progeny.
pid_t init_of(pid_t unshare) {
  for (int i = 0; i < 6000; ++i) {
    auto kids = children_of(unshare);
    if (kids.size() == 1 && read_file("/proc/" + std::to_string(kids[0]) + "/comm") == "progeny\n")
      return kids[0];
    ::usleep(10000);
  }
  return -1;
}

struct Container {
  std::string dir;  // the "volume": outside the container, the log and report land there
  progeny::test::Started unshare;
  pid_t init = -1;
  Fd init_fd;
};

Container start_container(Scenario& s, const std::string& name, const std::string& entrypoint) {
  Container c;
  c.dir = "/tmp/progeny-init-test." + std::to_string(::getpid()) + "." + name;
  ::mkdir(c.dir.c_str(), 0700);
  // --contain none, as the README's Dockerfile: the container's PID namespace is the
  // containment (a cgroup leaf's watchdog would die with the namespace on a SIGKILL).
  c.unshare = start_command({kUnshare, "--pid", "--fork", "--mount-proc", progeny_bin(), "run",
                             "-q", "--contain", "none", "--log", c.dir + "/log.jsonl", "--report",
                             c.dir + "/report.json", "--", "/bin/sh", "-c", entrypoint});
  std::string seen;
  s.expect(wait_for_line(c.unshare.out_fd, "ready", 60000, &seen), "no ready line: " + seen);
  c.init = init_of(c.unshare.pid);
  s.expect(c.init > 0, "progeny is not unshare's child");
  c.init_fd = progeny::open_pidfd(c.init);
  return c;
}

void remove_volume(const Container& c) {
  for (const char* f : {"/log.jsonl", "/report.json"}) ::unlink((c.dir + f).c_str());
  ::rmdir(c.dir.c_str());
}

TEST_F(ContainerInit, TermFromOutsideStopsEverythingReapsAndExits143) {
  auto r = run_in_sandbox([&](Scenario& s) {
    Container c = start_container(s, "term", kEntrypoint);
    // The orphans died: the namespace gave them to its init, which must reap them.
    size_t total = 0, zombies = 1;
    for (int i = 0; i < 6000 && zombies > 0; ++i) {
      total = 0;
      zombies = zombies_below(c.init, &total);
      if (zombies) ::usleep(10000);
    }
    s.expect(zombies == 0, std::to_string(zombies) + " zombie(s) below the init");
    s.expect(total >= 2, "COMMAND and the escapee are not there");
    signal_pidfd(c.init_fd.get(), SIGTERM);  // `docker stop`'s first step
    int st = wait_status(c.unshare.pid, 120000);
    // unshare --fork exits with its child's status: progeny's 128+TERM.
    s.expect(exited_with(st, 128 + SIGTERM), "the container gave " + status_text(st));
    auto doc = nlohmann::json::parse(read_file(c.dir + "/report.json"), nullptr, false);
    s.expect(doc["exit"]["outcome"] == "command_signaled" && doc["exit"]["status"] == 143 &&
                 doc["exit"]["command_signal"] == "TERM",
             "report: " + doc["exit"].dump());
    s.expect(!doc["leftovers"].empty(), "the escapee is not in the report");
    // The log on the volume: COMMAND's end and the escapee's stop.
    std::string log = read_file(c.dir + "/log.jsonl");
    s.expect(log.find("\"event\":\"setsid\"") != std::string::npos &&
                 log.find("\"event\":\"stop\"") != std::string::npos,
             "log lacks the escape or the stop:\n" + log);
    remove_volume(c);
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(ContainerInit, KillAfterAnIgnoredTermTakesTheWholeNamespace) {
  auto r = run_in_sandbox([&](Scenario& s) {
    // COMMAND ignores TERM, so `docker stop` gets to its KILL.
    Container c = start_container(s, "kill", "trap '' TERM; " + kEntrypoint);
    signal_pidfd(c.init_fd.get(), SIGTERM);
    s.expect(wait_status(c.unshare.pid, 300) == -1, "the container ended on an ignored TERM");
    signal_pidfd(c.init_fd.get(), SIGKILL);
    // The init's own end, on its pidfd (unshare reports a child killed by SIGKILL its own
    // way: util-linux 2.38 exits 1 after failing to re-raise it).
    pollfd pfd{c.init_fd.get(), POLLIN, 0};
    s.expect(::poll(&pfd, 1, 120000) == 1, "the init survived SIGKILL");
    int st = wait_status(c.unshare.pid, 120000);
    s.expect(st != -1, "unshare did not end");
    remove_volume(c);
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
