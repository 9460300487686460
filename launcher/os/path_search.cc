#include "launcher/os/path_search.h"

#include <sys/stat.h>
#include <unistd.h>

namespace progeny {

std::string find_in_path(const std::string& name, const std::string& path_var) {
  if (name.empty() || name.find('/') != std::string::npos) return name;
  size_t from = 0;
  for (;;) {
    size_t colon = path_var.find(':', from);
    std::string dir = path_var.substr(from, colon == std::string::npos ? colon : colon - from);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return dir.empty() ? name : candidate;
    if (colon == std::string::npos) return name;
    from = colon + 1;
  }
}

}  // namespace progeny
