#include "launcher/run/exit_status.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace progeny {
namespace {

int status_of_child(void (*body)()) {
  pid_t p = ::fork();
  if (p == 0) body();
  int st = 0;
  ::waitpid(p, &st, 0);
  return st;
}

TEST(ExitStatus, NormalExitKeepsTheCode) {
  int sig = -1;
  EXPECT_EQ(exit_code_for(status_of_child([] { ::_exit(42); }), &sig), 42);
  EXPECT_EQ(sig, 0);
}

TEST(ExitStatus, DeathBySignalIsReported) {
  int sig = 0;
  exit_code_for(status_of_child([] {
                  ::signal(SIGTERM, SIG_DFL);
                  ::raise(SIGTERM);
                  ::_exit(0);
                }),
                &sig);
  EXPECT_EQ(sig, SIGTERM);
}

// exit_like must reproduce the status exactly (a shell then sees the same $?).
TEST(ExitStatus, ExitLikeReproducesCodesAndSignals) {
  int by_code = status_of_child([] { ::_exit(7); });
  pid_t p = ::fork();
  if (p == 0) exit_like(by_code);
  int st = 0;
  ::waitpid(p, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 7);

  int by_signal = status_of_child([] {
    ::signal(SIGUSR1, SIG_DFL);
    ::raise(SIGUSR1);
    ::_exit(0);
  });
  p = ::fork();
  if (p == 0) {
    // Blocked and ignored in the caller: exit_like must still die of it.
    ::signal(SIGUSR1, SIG_IGN);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    ::sigprocmask(SIG_BLOCK, &s, nullptr);
    exit_like(by_signal);
  }
  ::waitpid(p, &st, 0);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1);
  EXPECT_FALSE(WCOREDUMP(st));
}

}  // namespace
}  // namespace progeny
