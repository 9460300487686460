#include "launcher/os/subreaper.h"

#include <sys/prctl.h>

#include <cerrno>
#include <cstring>

namespace progeny {

bool become_child_subreaper(std::string* why) {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0) return true;
  *why = std::string("cannot become a child subreaper: ") + std::strerror(errno);
  return false;
}

}  // namespace progeny
