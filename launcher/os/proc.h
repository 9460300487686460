// Reading /proc: the per-process facts progeny relies on, parsed once and checked.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace progeny {

struct ProcStat {
  pid_t pid = 0;
  std::string comm;
  char state = '?';
  pid_t ppid = 0;
  pid_t pgrp = 0;
  pid_t session = 0;
  int num_threads = 0;      // field 20
  uint64_t start_time = 0;  // field 22: clock ticks since boot
  int exit_code = 0;        // field 52: wait(2) status of a zombie (when permitted)
};

// Parses the text of /proc/PID/stat (comm may contain spaces and parentheses).
std::optional<ProcStat> parse_proc_stat(std::string_view text);
// Reads and parses /proc/PID/stat; nullopt when the process is gone or unreadable.
std::optional<ProcStat> read_proc_stat(pid_t pid, const char* proc_root = "/proc");
// Children of every thread of PID (/proc/PID/task/*/children).
std::vector<pid_t> read_children(pid_t pid, const char* proc_root = "/proc");
// Children of PID's main thread only (/proc/PID/task/PID/children): all of its children
// when it has a single thread, at less than half the cost of read_children.
std::vector<pid_t> read_main_thread_children(pid_t pid, const char* proc_root = "/proc");
// The strings of a NUL-separated argv area (/proc/PID/cmdline, the tracker's copy of it; a
// last piece without its NUL is kept). A process that rewrote its area (setproctitle, as
// PostgreSQL and nginx do) pads it with NULs to its end: with drop_padding, trailing empty
// strings are taken for that padding and dropped (an argv that really ends in "" loses it).
std::vector<std::string> split_argv_area(std::string_view area, bool drop_padding);
// argv from /proc/PID/cmdline, at most max_bytes bytes of it, padding dropped.
std::vector<std::string> read_cmdline(pid_t pid, size_t max_bytes = 4096,
                                      const char* proc_root = "/proc");
// A short human description: "pid (comm) args..." for reports.
std::string describe_process(pid_t pid);
// Parses a whitespace-separated list of pids ("12 34 \n").
std::vector<pid_t> parse_pid_list(std::string_view text);

}  // namespace progeny
