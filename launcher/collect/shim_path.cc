#include "launcher/collect/shim_path.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace progeny {

bool find_shim(std::string* path, std::string* why) {
  char exe[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string dir = n > 0 ? std::string(exe, static_cast<size_t>(n)) : std::string(".");
  *path = dir.substr(0, dir.rfind('/')) + "/../lib/progeny/libprogeny.so";
  if (::access(path->c_str(), R_OK) == 0) return true;
  *why = "cannot find the shim at " + *path + ": " + std::strerror(errno);
  return false;
}

}  // namespace progeny
