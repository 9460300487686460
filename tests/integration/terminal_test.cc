// Interactive use under a pseudo-terminal: COMMAND's group owns the terminal during the run,
// Ctrl-C reaches COMMAND, Ctrl-Z suspends the job (progeny too), `fg` resumes it, and the
// terminal's settings come back even when COMMAND left it raw.
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace {

using progeny::test::build_path;
using progeny::test::read_file;
using progeny::test::run_in_sandbox;
using progeny::test::Scenario;
using progeny::test::wait_until;

struct PtyRun {
  pid_t pid = -1;
  int master = -1;
};

// Starts argv as the session leader of a new pseudo-terminal (like a terminal emulator
// starting a shell), so progeny sees itself in the terminal's foreground group.
PtyRun start_on_pty(const std::vector<std::string>& argv) {
  PtyRun r;
  r.pid = ::forkpty(&r.master, nullptr, nullptr, nullptr);
  if (r.pid == 0) {
    // As a terminal emulator starts a shell: job-control signals at their defaults. A test
    // binary started from a script's background job inherits SIGINT ignored (POSIX), which
    // progeny rightly passes on to COMMAND, and Ctrl-C would then do nothing.
    for (int sig : {SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGHUP}) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return r;
}

// Reads the terminal until `needle` appears (true) or timeout.
bool read_until(int fd, const std::string& needle, std::string* seen, int timeout_ms = 60000) {
  for (int waited = 0; waited < timeout_ms;) {
    if (seen->find(needle) != std::string::npos) return true;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) {
      char buf[512];
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return false;
      seen->append(buf, static_cast<size_t>(n));
    } else {
      waited += 50;
    }
  }
  return seen->find(needle) != std::string::npos;
}

int wait_stopped_or_exited(pid_t pid, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 5) {
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG | WUNTRACED) == pid) return st;
    ::usleep(5000);
  }
  return -1;
}

class Terminal : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root (PID namespace, pids cgroup)";
  }
};

TEST_F(Terminal, CommandOwnsTheForegroundAndCtrlCReachesIt) {
  auto r = run_in_sandbox([](Scenario& s) {
    // sh reports its own process group and the terminal's foreground group (fields 5 and 8).
    auto pty = start_on_pty({build_path("bin/progeny"), "run", "--", "/bin/sh", "-c",
                             "read -r l < /proc/self/stat; set -- $l; echo \"FG $5 $8\"; "
                             "echo READY; exec sleep 30"});
    std::string seen;
    s.expect(read_until(pty.master, "READY", &seen), "no READY: " + seen);
    size_t at = seen.find("FG ");
    if (s.expect(at != std::string::npos, "no FG line: " + seen)) {
      int pgrp = 0, tpgid = 0;
      std::sscanf(seen.c_str() + at, "FG %d %d", &pgrp, &tpgid);
      s.expect(pgrp == tpgid && pgrp != 0,
               "COMMAND's group is not the foreground group: " + seen.substr(at, 20));
      s.expect(pgrp != pty.pid, "COMMAND shares progeny's group");
      // dash catches SIGINT under -c (SigCgt) and acts on it at its own next check: ^C only
      // once COMMAND (the group's leader) is sleep, so the test never depends on that window.
      s.expect(wait_until([&] { return read_file("/proc/" + std::to_string(pgrp) + "/comm") ==
                                       "sleep\n"; },
                          60000),
               "COMMAND never became sleep");
    }
    (void)!::write(pty.master, "\x03", 1);  // Ctrl-C
    int st = wait_stopped_or_exited(pty.pid, 60000);
    s.expect(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGINT,
             "progeny did not end like COMMAND (SIGINT), status " + std::to_string(st));
    ::close(pty.master);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(Terminal, CtrlZSuspendsTheJobAndContinueResumesIt) {
  auto r = run_in_sandbox([](Scenario& s) {
    auto pty = start_on_pty({build_path("bin/progeny"), "run", "--", "/bin/sh", "-c",
                             "echo READY; read line; echo GOT-$line"});
    std::string seen;
    s.expect(read_until(pty.master, "READY", &seen), "no READY: " + seen);
    (void)!::write(pty.master, "\x1a", 1);  // Ctrl-Z
    int st = wait_stopped_or_exited(pty.pid, 60000);
    s.expect(st != -1 && WIFSTOPPED(st), "progeny was not suspended with COMMAND, status " +
                                             std::to_string(st));
    ::kill(pty.pid, SIGCONT);  // what the shell's `fg` does
    (void)!::write(pty.master, "hello\n", 6);
    s.expect(read_until(pty.master, "GOT-hello", &seen), "COMMAND did not resume: " + seen);
    st = wait_stopped_or_exited(pty.pid, 60000);
    s.expect(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "status " + std::to_string(st));
    ::close(pty.master);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(Terminal, SettingsAreRestoredAfterCommandLeftTheTerminalRaw) {
  auto r = run_in_sandbox([](Scenario& s) {
    auto pty = start_on_pty({build_path("bin/progeny"), "run", "--", "/bin/sh", "-c",
                             "stty raw -echo; echo READY; exec sleep 30"});
    termios before{};
    ::tcgetattr(pty.master, &before);
    std::string seen;
    s.expect(read_until(pty.master, "READY", &seen), "no READY: " + seen);
    termios during{};
    ::tcgetattr(pty.master, &during);
    s.expect((during.c_lflag & ECHO) == 0, "stty raw -echo had no effect");
    // COMMAND dies of the forwarded TERM; progeny must still restore the settings.
    ::kill(pty.pid, SIGTERM);
    int st = wait_stopped_or_exited(pty.pid, 60000);
    s.expect(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status " + std::to_string(st));
    termios after{};
    ::tcgetattr(pty.master, &after);
    s.expect(after.c_lflag == before.c_lflag && after.c_iflag == before.c_iflag &&
                 after.c_oflag == before.c_oflag,
             "terminal settings were not restored");
    ::close(pty.master);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(Terminal, InTheBackgroundTheTerminalIsLeftAlone) {
  auto r = run_in_sandbox([](Scenario& s) {
    // A shell on the pty runs progeny in the background: its COMMAND must not take the
    // terminal, and the shell stays the foreground group.
    auto pty = start_on_pty({"/bin/sh", "-c",
                             "set -m; " + build_path("bin/progeny") + " run -- /bin/sh -c 'read -r l < "
                             "/proc/self/stat; set -- $l; echo \"BG $5 $8\"' & wait; "
                             "read -r l < /proc/self/stat; set -- $l; echo \"SH $5 $8\""});
    std::string seen;
    s.expect(read_until(pty.master, "SH ", &seen), "no SH line: " + seen);
    read_until(pty.master, "\n", &seen, 500);
    int bg_pgrp = 0, bg_tpgid = 0, sh_pgrp = 0, sh_tpgid = 0;
    size_t b = seen.find("BG "), h = seen.find("SH ");
    if (s.expect(b != std::string::npos && h != std::string::npos, "missing lines: " + seen)) {
      std::sscanf(seen.c_str() + b, "BG %d %d", &bg_pgrp, &bg_tpgid);
      std::sscanf(seen.c_str() + h, "SH %d %d", &sh_pgrp, &sh_tpgid);
      s.expect(bg_tpgid != bg_pgrp, "a background run took the terminal: " + seen);
      s.expect(sh_tpgid == sh_pgrp, "the shell lost the terminal: " + seen);
    }
    wait_stopped_or_exited(pty.pid, 60000);
    ::close(pty.master);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
