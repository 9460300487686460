// Reaping a helper process of the launcher's own (the cgroup watchdog, the keeper) once it has
// been told to exit.
#pragma once

namespace progeny {

// Waits up to timeout_ms for the process behind pidfd (a child of ours) to exit and reaps it,
// so a dismissed helper leaves no zombie; gives up silently after that.
void reap_within(int pidfd, int timeout_ms);

}  // namespace progeny
