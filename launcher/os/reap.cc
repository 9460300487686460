#include "launcher/os/reap.h"

#include <poll.h>
#include <sys/wait.h>

namespace progeny {

void reap_within(int pidfd, int timeout_ms) {
  pollfd p{pidfd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) != 1) return;
  siginfo_t info{};
  ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG);
}

}  // namespace progeny
