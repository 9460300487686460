// Runs a command with libprogeny.so and an EventSink, the way `progeny run` hosts the shim,
// for the shim's benchmarks and integration tests.
//   shim_host [--shim SO] [--log FILE] [--pdeathsig N] [--opts OPTS] [--wait] -- CMD ARG...
// Without --shim the command runs bare. Exits with the command's status; prints
// "members=N lost=N refused=N" on stderr at the end when --stats is given.
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "launcher/event_sink.h"
#include "shim/protocol.h"

int main(int argc, char** argv) {
  std::string shim, log, opts;
  int pdeathsig = SIGKILL;
  bool wait_all = false, stats = false;
  int i = 1;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    std::string a = argv[i];
    if (a == "--shim" && i + 1 < argc) shim = argv[++i];
    else if (a == "--log" && i + 1 < argc) log = argv[++i];
    else if (a == "--pdeathsig" && i + 1 < argc) pdeathsig = std::atoi(argv[++i]);
    else if (a == "--opts" && i + 1 < argc) opts = argv[++i];
    else if (a == "--wait") wait_all = true;
    else if (a == "--stats") stats = true;
    else {
      std::fprintf(stderr, "shim_host: unknown option %s\n", argv[i]);
      return 125;
    }
  }
  if (i + 1 >= argc) {
    std::fprintf(stderr, "shim_host: no command\n");
    return 125;
  }
  char** cmd = argv + i + 1;
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  std::unique_ptr<progeny::EventSink> sink;
  if (!shim.empty()) {
    std::string err;
    progeny::EventSink::Options o;
    o.log_path = log;
    o.pdeathsig = pdeathsig;
    sink = progeny::EventSink::open(o, &err);
    if (!sink) {
      std::fprintf(stderr, "shim_host: %s\n", err.c_str());
      return 125;
    }
  }
  pid_t child = fork();
  if (child == 0) {
    if (sink) {
      setrlimit(RLIMIT_NOFILE, &sink->original_nofile());
      setenv("LD_PRELOAD", shim.c_str(), 1);
      setenv(PROGENY_ENV_SOCK, sink->socket_name().c_str(), 1);
      setenv(PROGENY_ENV_LAUNCHER, std::to_string(getppid()).c_str(), 1);
      setenv(PROGENY_ENV_PDEATHSIG, std::to_string(pdeathsig).c_str(), 1);
      setenv(PROGENY_ENV_SHIM, shim.c_str(), 1);
      if (!opts.empty()) setenv(PROGENY_ENV_OPTS, opts.c_str(), 1);
      if (pdeathsig) prctl(PR_SET_PDEATHSIG, pdeathsig);
    }
    execvp(cmd[0], cmd);
    _exit(127);
  }
  int cmd_status = 0;
  bool cmd_done = false;
  for (;;) {
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
      if (sink) sink->on_reaped(p, st);
      if (p == child) {
        cmd_status = st;
        cmd_done = true;
      }
    }
    if (cmd_done && (!wait_all || (p < 0 && errno == ECHILD))) break;
    pollfd pf{sink ? sink->fd() : -1, POLLIN, 0};
    poll(&pf, 1, 20);
    if (sink && (pf.revents & POLLIN)) sink->on_readable();
  }
  if (sink) {
    sink->drain();
    if (stats)
      std::fprintf(stderr, "members=%zu lost=%llu refused=%llu\n", sink->members().size(),
                   static_cast<unsigned long long>(sink->lost()),
                   static_cast<unsigned long long>(sink->refused()));
  }
  return WIFEXITED(cmd_status) ? WEXITSTATUS(cmd_status) : 128 + WTERMSIG(cmd_status);
}
