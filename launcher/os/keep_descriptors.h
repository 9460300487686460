// For helper processes forked by the launcher that outlive it (the cgroup watchdog, the
// keeper): keep exactly the descriptors they need.
#pragma once

namespace progeny {

// Moves fds[0..n) (n <= 8) to numbers >= 10, rewriting the array, puts /dev/null on 0-2 and
// closes everything else, so the helper never holds the launcher's stdout/stderr, its shim
// socket or anybody else's pipe open. Async-signal-safe. False when a move failed.
bool keep_only_descriptors(int* fds, int n);

}  // namespace progeny
