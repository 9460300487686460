// From a wait(2) status to what progeny itself exits with, the way coreutils timeout does.
#pragma once

#include "launcher/os/exit_codes.h"

namespace progeny {

// Exit code for a normal exit; for death by signal, 0 and *signal set to the signal.
int exit_code_for(int wait_status, int* signal);
// Exits like a process that ended with wait_status: same code, or death by the same signal
// (with core dumps disabled, so progeny does not dump core for COMMAND's crash).
[[noreturn]] void exit_like(int wait_status);

}  // namespace progeny
