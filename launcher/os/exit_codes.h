// progeny's own exit statuses (README "Exit status"): every subcommand and every helper
// process progeny forks (the PID namespace's init, a child that cannot join its cgroup) uses
// these, so one number never means two things.
#pragma once

namespace progeny {

inline constexpr int kExitRunaway = 3;          // --fail-on-runaway: COMMAND left processes
inline constexpr int kExitTimeout = 124;        // --timeout elapsed
inline constexpr int kExitProgenyError = 125;   // progeny's own error
inline constexpr int kExitCannotExecute = 126;  // COMMAND found but not executable
inline constexpr int kExitNotFound = 127;       // COMMAND not found

}  // namespace progeny
