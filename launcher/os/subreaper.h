// PR_SET_CHILD_SUBREAPER: orphans below the caller reparent to it instead of to init, which is
// how `progeny run` keeps double-forked daemons in its tree. The run refuses to start without
// it; `progeny doctor` asks the same function (in a throw-away child) for its verdict.
#pragma once
#include <string>

namespace progeny {

// Makes the caller a child subreaper. False with a one-line *why when the kernel refuses.
bool become_child_subreaper(std::string* why);

}  // namespace progeny
