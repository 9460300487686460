#include "launcher/members/parent_death.h"

#include <sys/wait.h>

#include "launcher/members/signal_gate.h"

namespace progeny {

size_t apply_parent_death(Membership& members, const ExitedMember& dead, int sig,
                          const PolicySignalled& signalled) {
  if (sig <= 0 || !dead.status || !WIFSIGNALED(*dead.status)) return 0;
  size_t n = 0;
  for (Member* child : members.all()) {
    bool its_child = child->parent == dead.pid &&
                     (dead.ino ? child->parent_ino == dead.ino
                               : child->parent_start_time == dead.start_time);
    if (!its_child || !child->proc.alive()) continue;
    int err = signal_gate::send(child->proc, sig);
    if (signalled) signalled(*child, err);
    n += err == 0;
  }
  return n;
}

}  // namespace progeny
