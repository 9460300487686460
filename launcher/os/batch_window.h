// Reading a busy tree's events in batches. Waking a sleeping process costs whoever wakes it
// (an inter-processor interrupt; on a VM a trap into the hypervisor): a launcher woken by
// every shim connection and every member's exit cost a tight exec loop ~250 µs per process
// on the 2-CPU VM progeny is measured on (README, Benchmarks). So after a wake-up that
// brought records or exits, the launcher (and the keeper) first waits for the events that
// must not wait (signals, the timeout, a control request, the launcher's death) alone, for
// a few milliseconds: what arrives meanwhile wakes nobody and is queued by the kernel (the
// listen backlog, each connection's buffer, each pidfd's readiness) for the next full poll.
// An idle reader sleeps in a full poll as before: a single event is seen at once.
#pragma once

#include <poll.h>
#include <stddef.h>

namespace progeny {

// How long a busy reader lets events pile up: at most 200 batched wake-ups a second.
constexpr long kBatchWindowNs = 5'000'000;

// Waits up to kBatchWindowNs for one of `urgent` (nullptr if n is 0) to be ready; returns early
// when one is (its revents set), and on a signal.
void wait_for_urgent(pollfd* urgent, size_t n);

}  // namespace progeny
