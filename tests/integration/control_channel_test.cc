// `progeny run --control-fd N`: a caller's request stops the whole tree (setsid escapees and
// orphans included), "kill" does not wait for the grace, end of file asks for nothing, and
// COMMAND never inherits the descriptor.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace {

using progeny::test::exited_with;
using progeny::test::expect_nothing_left;
using progeny::test::progeny_bin;
using progeny::test::read_file;
using progeny::test::run_command;
using progeny::test::run_in_sandbox;
using progeny::test::Scenario;
using progeny::test::start_command;
using progeny::test::status_text;
using progeny::test::wait_for_line;
using progeny::test::wait_status;

// A tree that escapes COMMAND's group both ways, and lists COMMAND's descriptors first.
const std::string kTree =
    "ls -l /proc/$$/fd; setsid sleep 100 & (setsid sleep 100 &); (sleep 100 &); echo ready; "
    "exec sleep 100";

class ControlChannel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root (PID namespace, pids cgroup)";
  }
};

// The control pipe: the read end inherited by progeny, the write end kept by the test.
struct Channel {
  int read_end = -1, write_end = -1;
  Channel() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return;
    read_end = p[0];
    write_end = p[1];
    ::fcntl(read_end, F_SETFD, 0);
  }
  std::string inode() const {
    struct stat st {};
    ::fstat(read_end, &st);
    return "pipe:[" + std::to_string(st.st_ino) + "]";
  }
};

// Starts progeny on kTree with the channel, waits for "ready"; the output seen so far.
progeny::test::Started start_tree(Scenario& s, Channel& ch, const std::string& report,
                                  std::vector<std::string> extra, std::string* seen) {
  std::vector<std::string> argv = {progeny_bin(), "run", "-q", "--report", report,
                                   "--control-fd", std::to_string(ch.read_end)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"--", "/bin/sh", "-c", kTree});
  auto started = start_command(argv);
  ::close(ch.read_end);
  s.expect(wait_for_line(started.out_fd, "ready", 60000, seen), "no ready line: " + *seen);
  return started;
}

TEST_F(ControlChannel, StopEndsTheWholeTreeAndCommandNeverHoldsTheDescriptor) {
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string rep = "/tmp/progeny-control-test." + std::to_string(::getpid()) + ".json";
    Channel ch;
    std::string pipe_name = ch.inode(), seen;
    auto p = start_tree(s, ch, rep, {}, &seen);
    s.expect(seen.find(pipe_name) == std::string::npos, "COMMAND holds the control pipe:\n" + seen);
    s.expect(s.others().size() >= 4, "the tree is not there");
    s.expect(::write(ch.write_end, "stop\n", 5) == 5, "write stop");
    int st = wait_status(p.pid, 120000);
    s.expect(exited_with(st, 125), "progeny gave " + status_text(st));
    auto doc = nlohmann::json::parse(read_file(rep), nullptr, false);
    s.expect(doc["exit"]["outcome"] == "stopped_on_request" && doc["stop"]["why"] == "requested",
             "report: " + doc.dump());
    s.expect(doc["leftovers"].size() >= 4, "leftovers: " + doc["leftovers"].dump());
    ::unlink(rep.c_str());
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(ControlChannel, KillDoesNotWaitForTheGrace) {
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string rep = "/tmp/progeny-control-kill." + std::to_string(::getpid()) + ".json";
    Channel ch;
    std::string seen;
    // A stop signal that ends nothing and a grace far beyond the bound: only SIGKILL at once
    // ends the tree in time.
    auto p = start_tree(s, ch, rep, {"--kill-after", "1h", "--signal", "CONT"}, &seen);
    s.expect(::write(ch.write_end, "kill\n", 5) == 5, "write kill");
    int st = wait_status(p.pid, 120000);
    s.expect(exited_with(st, 125), "progeny gave " + status_text(st));
    ::unlink(rep.c_str());
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// Whether pid has a descriptor open on `name` (as /proc/PID/fd links read: "pipe:[N]").
bool holds(pid_t pid, const std::string& name) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return false;
  bool found = false;
  while (dirent* e = ::readdir(d)) {
    char target[256];
    ssize_t n = ::readlink((dir + "/" + e->d_name).c_str(), target, sizeof target);
    if (n > 0 && std::string(target, static_cast<size_t>(n)) == name) found = true;
  }
  ::closedir(d);
  return found;
}

TEST_F(ControlChannel, EndOfFileAndUnknownLinesAskForNothing) {
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string fifo = "/tmp/progeny-control-eof." + std::to_string(::getpid());
    ::mkfifo(fifo.c_str(), 0600);
    Channel ch;
    std::string pipe_name = ch.inode();
    auto p = start_command({progeny_bin(), "run", "-q", "--control-fd", std::to_string(ch.read_end),
                            "--", "/bin/sh", "-c", "echo ready; read x <" + fifo + "; echo done"});
    ::close(ch.read_end);
    std::string seen;
    s.expect(wait_for_line(p.out_fd, "ready", 60000, &seen), "no ready line");
    s.expect(::write(ch.write_end, "halt\n", 5) == 5, "write");
    ::close(ch.write_end);
    // progeny closes the channel once it read the end of file: then COMMAND may go on.
    for (int i = 0; i < 6000 && holds(p.pid, pipe_name); ++i) ::usleep(10000);
    s.expect(!holds(p.pid, pipe_name), "progeny did not read the end of file");
    // Non-blocking: a COMMAND wrongly stopped never opens the FIFO, and the test must not hang.
    int go = -1;
    for (int i = 0; i < 6000 && go < 0; ++i) {
      go = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (go < 0) ::usleep(10000);
    }
    s.expect(go >= 0 && ::write(go, "go\n", 3) == 3, "release COMMAND");
    ::close(go);
    s.expect(wait_for_line(p.out_fd, "done", 60000, &seen), "stopped before its end: " + seen);
    int st = wait_status(p.pid, 60000);
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st));
    ::unlink(fifo.c_str());
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(ControlChannel, ADescriptorThatIsNotOpenIs125) {
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string out = "/tmp/progeny-control-bad." + std::to_string(::getpid());
    int st = run_command({progeny_bin(), "run", "--control-fd", "57", "--", "/bin/true"}, out);
    std::string said = read_file(out);
    s.expect(exited_with(st, 125), "progeny gave " + status_text(st));
    s.expect(said == "progeny run: --control-fd 57: Bad file descriptor\n", "said: " + said);
    ::unlink(out.c_str());
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
