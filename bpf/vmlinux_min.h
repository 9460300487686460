/* The few kernel types progeny's BPF program reads, hand-written instead of a generated
 * vmlinux.h (see docs/bpf.md): libbpf relocates every field access against the running
 * kernel's BTF (CO-RE, preserve_access_index), so only the names and types of these fields
 * must match the kernel, never their offsets. The object stays small and the build does not
 * depend on the build machine's kernel. */
#ifndef PROGENY_VMLINUX_MIN_H
#define PROGENY_VMLINUX_MIN_H

typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
typedef int pid_t;
#define true 1
#define false 0

/* UAPI values (stable ABI, from linux/bpf.h) that bpf_helpers.h users need. */
enum bpf_map_type {
  BPF_MAP_TYPE_HASH = 1,
  BPF_MAP_TYPE_PERCPU_ARRAY = 6,
  BPF_MAP_TYPE_RINGBUF = 27,
};
enum { BPF_ANY = 0, BPF_NOEXIST = 1 };
enum { BPF_F_NO_PREALLOC = 1 };
enum { BPF_RB_NO_WAKEUP = 1, BPF_RB_FORCE_WAKEUP = 2 };
enum { BPF_RB_AVAIL_DATA = 0 };

enum pid_type { PIDTYPE_PID, PIDTYPE_TGID, PIDTYPE_PGID, PIDTYPE_SID, PIDTYPE_MAX };

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct pid_namespace;

struct upid {
  int nr;
  struct pid_namespace *ns;
};

/* `ino` sits in an anonymous struct in the kernel's definition; CO-RE matches it by name. */
struct pid {
  unsigned int level;
  __u64 ino;
  struct upid numbers[1];
};

/* The group's cost fields: what its dead threads used (folded in when each is released) and
 * the high-water mark of every address space it had (at each exec, and at the group's exit
 * before sched_process_exit fires). */
struct signal_struct {
  unsigned int flags;
  int group_exit_code;
  struct pid *pids[PIDTYPE_MAX];
  __u64 utime;
  __u64 stime;
  unsigned long long sum_sched_runtime;
  unsigned long maxrss;
};

struct sched_entity {
  __u64 sum_exec_runtime;
};

struct mm_struct {
  unsigned long arg_start;
  unsigned long arg_end;
};

struct task_struct {
  pid_t pid;
  pid_t tgid;
  int exit_code;
  __u64 start_boottime;
  __u64 utime;
  __u64 stime;
  struct sched_entity se;
  char comm[16];
  struct task_struct *real_parent;
  struct task_struct *group_leader;
  struct pid *thread_pid;
  struct signal_struct *signal;
  struct mm_struct *mm;
};

struct linux_binprm {
  const char *filename;
};

#pragma clang attribute pop

#endif
