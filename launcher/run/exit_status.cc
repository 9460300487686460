#include "launcher/run/exit_status.h"

#include "launcher/members/signal_gate.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace progeny {

int exit_code_for(int wait_status, int* signal) {
  *signal = 0;
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) {
    *signal = WTERMSIG(wait_status);
    return 0;
  }
  return 125;
}

void exit_like(int wait_status) {
  int sig = 0;
  int code = exit_code_for(wait_status, &sig);
  if (sig != 0) {
    rlimit none{0, 0};
    setrlimit(RLIMIT_CORE, &none);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, nullptr);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, sig);
    sigprocmask(SIG_UNBLOCK, &only, nullptr);
    signal_gate::raise_on_self(sig);
    // A signal whose default action does not terminate (it cannot have killed COMMAND
    // either, short of SIGKILL races): fall back to the shell's convention.
    code = 128 + sig;
  }
  _exit(code);
}

}  // namespace progeny
