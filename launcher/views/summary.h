// The audit numbers of `progeny summary`, computed from a reconstructed lineage.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "launcher/views/lineage.h"

namespace progeny {

struct ExecutableStats {
  std::string path;  // the creator's image at the time of the fork ("?" when unknown)
  size_t created = 0;
  std::map<std::string, size_t> via;  // creating call → count ("?" when unknown)
  size_t setsid = 0;   // processes running this image that called setsid
  size_t setpgid = 0;  // ... setpgid
  size_t daemon = 0;   // processes it created through daemon()
  size_t thread_forks = 0;  // created from a thread other than the main one
};

struct Summary {
  size_t events = 0;
  size_t unreadable_lines = 0;
  size_t processes = 0;  // the launcher excluded
  size_t max_depth = 0;  // COMMAND = 1
  size_t max_alive = 0;  // at any one time
  size_t setsid = 0, setpgid = 0, daemon = 0, thread_forks = 0;
  std::vector<size_t> runaways;  // indices into the lineage
  uint64_t lost_shim = 0, lost_bpf = 0;
  size_t unknown_exits = 0;        // neither an exit record nor a progeny stop tells
  size_t no_creation_record = 0;   // processes whose creator the log does not name
  std::vector<ExecutableStats> executables;  // most processes created first
};

Summary summarize(const Lineage& lin);

}  // namespace progeny
