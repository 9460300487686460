// /proc/self/mountinfo read once for both cgroup versions (the v2 leaf and the v1 --limit
// groups): which mounts exist, and the text helpers their parsers share.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace progeny {

// `s` cut at every `sep` (an empty piece where two meet, one piece for an empty string).
std::vector<std::string_view> split_fields(std::string_view s, char sep);

struct MountEntry {
  std::string root;         // the mounted subtree of its filesystem, unescaped
  std::string mount_point;  // where it is mounted, unescaped
  std::string fstype;       // "cgroup2", "cgroup", ...
  std::string super_options;  // comma-separated ("rw,pids" for a v1 pids hierarchy)
};

// Every well-formed line of mountinfo text (`id parent maj:min root mountpoint options
// [optional...] - fstype source superoptions`), with the \ooo escapes of paths undone.
std::vector<MountEntry> parse_mountinfo(std::string_view mountinfo);

}  // namespace progeny
