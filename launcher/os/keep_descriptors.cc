#include "launcher/os/keep_descriptors.h"

#include <fcntl.h>
#include <unistd.h>

namespace progeny {

bool keep_only_descriptors(int* fds, int n) {
  constexpr int kMax = 8;
  if (n < 0 || n > kMax) return false;
  for (int i = 0; i < n; ++i) {
    int moved = ::fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
    if (moved < 0) return false;
    fds[i] = moved;
  }
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return false;
  for (int t = 0; t < 3; ++t)
    if (null != t) ::dup2(null, t);
  int sorted[kMax];
  for (int i = 0; i < n; ++i) {  // insertion sort: a handful of numbers
    int k = i;
    for (; k > 0 && sorted[k - 1] > fds[i]; --k) sorted[k] = sorted[k - 1];
    sorted[k] = fds[i];
  }
  unsigned lo = 3;
  for (int i = 0; i < n; ++i) {
    if (static_cast<unsigned>(sorted[i]) > lo) ::close_range(lo, static_cast<unsigned>(sorted[i]) - 1, 0);
    lo = static_cast<unsigned>(sorted[i]) + 1;
  }
  ::close_range(lo, ~0U, 0);
  return true;
}

}  // namespace progeny
