/* The lineage record's names and limits, and the contract between the launcher and
 * libprogeny.so (docs/CONTRACT.md, README "Lineage log"). C, freestanding: the shim includes
 * it without the C++ library, and schema/record.cc builds its field table from the same
 * names, so a field is spelled in one place. */
#ifndef PROGENY_SCHEMA_PROTOCOL_H
#define PROGENY_SCHEMA_PROTOCOL_H

#define PROGENY_ENV_SOCK "PROGENY_SOCK"
#define PROGENY_ENV_LAUNCHER "PROGENY_LAUNCHER"
#define PROGENY_ENV_PDEATHSIG "PROGENY_PDEATHSIG"
#define PROGENY_ENV_SHIM "PROGENY_SHIM"
#define PROGENY_ENV_OPTS "PROGENY_OPTS"

/* Largest record, newline included, from every writer: one send() or write(), never
 * interleaved, and a line any reader takes whole. */
#define PROGENY_MAX_RECORD 4096
#define PROGENY_SCHEMA_VERSION 1

/* What the tracker copies of each exec (bpf/tracker.cc checks it uses these): the shim,
 * told `tracked` in PROGENY_OPTS, sends its own exec record only for an exec the tracker
 * would cut (a longer argv block or path). */
#define PROGENY_TRACKER_ARGV_BYTES 1024
#define PROGENY_TRACKER_PATH_BYTES 256

/* Field names (README "Lineage log" says what each means). */
#define PROGENY_F_V "v"
#define PROGENY_F_EVENT "event"
#define PROGENY_F_SOURCE "source"
#define PROGENY_F_PID "pid"
#define PROGENY_F_TIME_NS "time_ns"
#define PROGENY_F_INO "ino"
#define PROGENY_F_START_TIME "start_time"
#define PROGENY_F_NS_PID "ns_pid"
#define PROGENY_F_PPID "ppid"
#define PROGENY_F_PARENT_INO "parent_ino"
#define PROGENY_F_PARENT_START_TIME "parent_start_time"
#define PROGENY_F_TID "tid"
#define PROGENY_F_VIA "via"
#define PROGENY_F_ROLE "role"
#define PROGENY_F_PGID "pgid"
#define PROGENY_F_SID "sid"
#define PROGENY_F_PATH "path"
#define PROGENY_F_COMM "comm"
#define PROGENY_F_ARGV "argv"
#define PROGENY_F_ARGV_TRUNCATED "argv_truncated"
#define PROGENY_F_ARGV_BYTES "argv_bytes"
#define PROGENY_F_ERRNO "errno"
/* exit: the process title (its argv area at exit, as setproctitle() left it); tracker only. */
#define PROGENY_F_TITLE "title"
#define PROGENY_F_LOST "lost"
/* What a process cost, on `exit` records (README "Lineage log": units and sources). Self
 * figures are the process's own (the tracker's, at its last thread's exit); inclusive ones
 * are wait4's for a child the launcher reaped: the child plus every descendant it waited for,
 * so they can never be summed over a tree. */
#define PROGENY_F_CPU_USER_NS "cpu_user_ns"
#define PROGENY_F_CPU_SYSTEM_NS "cpu_system_ns"
#define PROGENY_F_PEAK_RSS_KB "peak_rss_kb"
#define PROGENY_F_LIFETIME_NS "lifetime_ns"
#define PROGENY_F_INCLUSIVE_CPU_USER_NS "inclusive_cpu_user_ns"
#define PROGENY_F_INCLUSIVE_CPU_SYSTEM_NS "inclusive_cpu_system_ns"
#define PROGENY_F_INCLUSIVE_PEAK_RSS_KB "inclusive_peak_rss_kb"

#endif
