// The file execvp(3) runs for a command name, found the way it searches PATH, so that the
// launcher's record of COMMAND's exec names the path the kernel was given, as the tracker's
// and the shim's records do (reading /proc/PID/exe instead gives the symlink's target, e.g.
// /usr/bin/dash for /bin/sh, and races with COMMAND's next exec).
#pragma once
#include <string>

namespace progeny {

// `file` itself when it contains a '/'; else the first PATH entry (glibc's default
// "/bin:/usr/bin" when PATH is unset, an empty entry meaning the current directory) holding
// an executable regular file of that name; else `file`.
std::string path_search(const std::string& file);

}  // namespace progeny
