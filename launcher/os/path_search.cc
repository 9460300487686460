#include "launcher/os/path_search.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace progeny {

std::string path_search(const std::string& file) {
  if (file.empty() || file.find('/') != std::string::npos) return file;
  const char* env = std::getenv("PATH");
  std::string path = env ? env : "/bin:/usr/bin";
  for (size_t from = 0; from <= path.size();) {
    size_t to = path.find(':', from);
    if (to == std::string::npos) to = path.size();
    std::string dir = path.substr(from, to - from);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + file;
    struct stat st{};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return dir.empty() ? file : candidate;
    from = to + 1;
  }
  return file;
}

}  // namespace progeny
