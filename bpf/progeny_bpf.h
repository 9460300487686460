/* The contract between progeny's BPF program (bpf/progeny.bpf.c) and its user side
 * (bpf/tracker.cc): ring-buffer event layouts, map values, counter slots and the seed
 * program's argument. Plain C with fixed-width types so both compilers lay it out alike. */
#ifndef PROGENY_BPF_H
#define PROGENY_BPF_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define PROGENY_COMM_LEN 16
#define PROGENY_PATH_LEN 256
/* Bytes of the NUL-separated argv block copied per exec; a power of two so the verifier
 * can bound the copy with a mask. */
#define PROGENY_ARGV_LEN 1024
/* Bytes of the process title (its argv area, as setproctitle() rewrote it) copied per exit;
 * a power of two for the same reason. Titles are short: a name, not a command line. */
#define PROGENY_TITLE_LEN 256

/* members map: key = the process's host tgid (what the BPF side sees). An entry lives from
 * the process's birth (or seeding) to its last thread's exit. */
struct progeny_member {
  __u64 start_ticks; /* start time in clock ticks since boot, /proc/PID/stat field 22 */
  __u64 ino;         /* pidfs inode (task->thread_pid->ino, Linux 6.9+), 0 without pidfs */
  __u32 vpid;        /* pid in the tracker's PID namespace, 0 when not visible there */
  __u32 execed;      /* 1 once it exec'd: its title is then not read at its exit */
};

/* counters: a per-CPU array, one slot each, summed by user space. */
enum progeny_counter {
  PROGENY_CNT_LOST = 0,      /* ring-buffer reserves that failed: events lost */
  PROGENY_CNT_UNTRACKED = 1, /* members-map inserts that failed: membership holes */
  PROGENY_CNT_CAPPED = 2,    /* children killed at birth past pids_cap */
  PROGENY_CNT_MAX = 3,
};

enum progeny_event_kind {
  PROGENY_EV_FORK = 1,
  PROGENY_EV_EXEC = 2,
  PROGENY_EV_EXIT = 3,
  PROGENY_EV_CAP = 4, /* a child killed at birth: the session was at its pids cap */
  PROGENY_EV_OOM = 5, /* the kernel chose a member as an OOM victim (mark_victim) */
};

/* Every event starts with this; pids are as seen from the tracker's PID namespace. */
struct progeny_event_hdr {
  __u32 kind;
  __u32 pid;
  __u64 start_ticks;
  __u64 ino;     /* pidfs inode of the process, 0 without pidfs */
  __u64 time_ns; /* bpf_ktime_get_ns: CLOCK_MONOTONIC */
};

struct progeny_fork_event {
  struct progeny_event_hdr hdr; /* the new process */
  __u64 parent_ino;             /* pidfs inode of the creator */
  __u32 ppid;                   /* the creating process (not the parent under CLONE_PARENT) */
  __u32 tid;                    /* the thread that created it */
  __u32 pgid;
  __u32 sid;
};

/* Variable length: only PROGENY_EXEC_FIXED + path_len + argv_len bytes are sent, so the
 * ring's capacity goes by what an exec really carries, not by the largest one. */
struct progeny_exec_event {
  struct progeny_event_hdr hdr;
  __u32 ppid;
  __u16 path_len;       /* bytes of path at the start of data (no NUL) */
  __u16 argv_len;       /* bytes of argv right after it (NUL-separated, last NUL-terminated) */
  __u8 argv_truncated;  /* the argv block was longer than PROGENY_ARGV_LEN */
  __u8 pad[7];
  char comm[PROGENY_COMM_LEN];
  char data[PROGENY_PATH_LEN + PROGENY_ARGV_LEN];
};
#define PROGENY_EXEC_FIXED 64 /* offsetof(struct progeny_exec_event, data) */

/* What the process cost, read at its last thread's exit (README "Lineage log"), and its
 * process title. Variable length: only PROGENY_EXIT_FIXED + title_len bytes are sent. */
struct progeny_exit_event {
  struct progeny_event_hdr hdr;
  __s32 status;       /* wait(2) encoding, as the parent will see it */
  __u32 maxrss_pages; /* peak resident set of all its images (signal->maxrss), in pages */
  __u64 cpu_ns;       /* run time of all its threads (sum_exec_runtime): exact */
  __u64 utime_ns;     /* tick-sampled user and system time: only their ratio is used, to */
  __u64 stime_ns;     /* split cpu_ns as getrusage() and wait4() do (cputime_adjust) */
  __u64 lifetime_ns;  /* from its birth (start_boottime) to this exit, CLOCK_BOOTTIME */
  __u16 title_len;    /* bytes of title: its argv area as it was at exit, NUL-separated; 0
                       * when it has no mm (an older kernel's tracepoint runs after exit_mm) */
  __u8 pad[6];
  char title[PROGENY_TITLE_LEN];
};
#define PROGENY_EXIT_FIXED 80 /* offsetof(struct progeny_exit_event, title) */

struct progeny_cap_event {
  struct progeny_event_hdr hdr; /* the child killed at birth */
  __u64 parent_ino;             /* pidfs inode of its creator, the forker named */
  __u32 ppid;                   /* its creator */
  __u32 members;                /* processes tracked at that moment, the child included */
};

/* hdr names the victim; nothing else to say (the memory.events counters say how often). */
struct progeny_oom_event {
  struct progeny_event_hdr hdr;
};

/* Argument of the `seed` syscall program, run by user space through BPF_PROG_TEST_RUN so the
 * kernel resolves pids in the caller's own PID namespace. */
struct progeny_seed_args {
  __u32 caller_vpid; /* getpid() of the caller: names its PID namespace */
  __u32 vpid;        /* the process to track, in that namespace */
  __u64 start_ticks; /* its /proc start time, so a reused pid is refused */
  __u32 as_root;     /* 1: vpid is the root (owner), 0: an existing descendant */
  __u32 pad;
};

/* Return values of `seed`. */
enum progeny_seed_result {
  PROGENY_SEED_OK = 0,
  PROGENY_SEED_GONE = 1,     /* no such process, or its start time differs (pid reused) */
  PROGENY_SEED_NO_NS = 2,    /* the caller's PID namespace could not be determined */
  PROGENY_SEED_MAP_FULL = 3, /* the members map refused the insert */
};

#endif
