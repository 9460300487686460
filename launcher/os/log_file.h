// Opening the lineage log without being redirected by another user. progeny often runs as
// root with a log path in a shared directory (/tmp): a symlink planted there by someone else
// must not make it overwrite a file of root's. The kernel's own guard (fs.protected_symlinks)
// is off on many hosts, so progeny applies its rule itself, to every component of the path:
// a symlink in a sticky, world-writable directory is followed only if its owner is the user
// progeny runs as or the directory's owner. The log itself is never a symlink, never a FIFO or
// device, and never a file of another user.
#pragma once
#include <string>

#include "launcher/os/fd.h"

namespace progeny {

enum class LogOpen {
  kReplace,  // `progeny run --log`: an existing log of ours is truncated (like `>`)
  kAppend,   // `progeny watch --log`: records are added at the end
};

// An O_WRONLY|O_APPEND descriptor of a regular file with mode 0600, or an invalid Fd and a
// one-line *why naming what was refused (the link, its owner and directory).
Fd open_log_file(const std::string& path, LogOpen how, std::string* why);

}  // namespace progeny
