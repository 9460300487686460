// Where execvp would find a command: the path the launcher records for COMMAND's exec, the
// same one the shim and the tracker report (the file exec'd, not /proc/PID/exe's target, which
// names what a symlink such as /usr/bin/sh points to).
#pragma once
#include <string>

namespace progeny {

// `name` itself when it contains a slash; else the first executable regular file `dir/name`
// for dir in `path_var` (":"-separated, an empty entry meaning the current directory, as
// execvp reads it); else `name`.
std::string find_in_path(const std::string& name, const std::string& path_var);

}  // namespace progeny
