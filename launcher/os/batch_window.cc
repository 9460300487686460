#include "launcher/os/batch_window.h"

#include <time.h>

namespace progeny {

void wait_for_urgent(pollfd* urgent, size_t n) {
  timespec window{0, kBatchWindowNs};
  ::ppoll(urgent, n, &window, nullptr);
}

}  // namespace progeny
