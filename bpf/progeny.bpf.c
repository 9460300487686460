/* progeny's in-kernel descendant tracker (docs/bpf.md).
 *
 * One loaded instance of this object is one session: its members map holds every process
 * created, directly or not, by the root (the launcher), keyed by host tgid and checked by
 * start time. Nested and concurrent launchers each load their own instance, so sessions never
 * share state, and an outer session tracks an inner launcher's tree simply because the inner
 * launcher is one of its members. Nothing is pinned: the maps and links die with the fds. */
#include "bpf/vmlinux_min.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf/progeny_bpf.h"

#define SIGKILL 9
#define SIGNAL_GROUP_EXIT 0x00000004 /* include/linux/sched/signal.h */

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load. */
const volatile __u64 tick_ns = 10000000;      /* NSEC_PER_SEC / sysconf(_SC_CLK_TCK) */
const volatile bool kill_on_root_exit = true; /* false for `progeny watch` */
/* Wake the reader only once this many bytes wait (0: on every event). Waking a reader per
 * event cost ~20% on a fork loop here; batching keeps it to the programs' own few µs. */
const volatile __u64 wake_bytes = 0;
/* `--limit pids=N` without a cgroup backend: a member's child born while more than N
 * processes are tracked is killed at birth (0: no cap). */
const volatile __u32 pids_cap = 0;

/* Set by the seed program (from the caller's context) before the tracepoints are attached. */
__u64 target_ns;    /* the caller's struct pid_namespace *, 0 until seeded */
__u32 target_level; /* its nesting level */
__u32 root_tgid;    /* host tgid of the root */
__u64 root_ticks;
/* Non-zero once the session stops: a member's new child is killed at birth. Written by user
 * space (mmap'd .bss) and by the root's exit. 64-bit because the default BPF CPU (v1) has
 * only 64-bit atomic add. */
__u64 stopping;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384); /* user space resizes before load */
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, __u32);
  __type(value, struct progeny_member);
} members SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20); /* user space resizes before load */
} events SEC(".maps");

/* Where an exec event is built before the part of it that is used is copied to the ring
 * (bpf_ringbuf_reserve needs a constant size). Per CPU: the programs run with migration off. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct progeny_exec_event);
} exec_scratch SEC(".maps");

/* The same for an exit event. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct progeny_exit_event);
} exit_scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, PROGENY_CNT_MAX);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

/* Strong (not __weak) references: an object that cannot resolve them must fail to load, and
 * the user side reports why, rather than run without the in-kernel kill. */
extern int bpf_send_signal_task(struct task_struct *task, int sig, enum pid_type type,
                                __u64 value) __ksym;
extern struct task_struct *bpf_task_from_pid(__s32 pid) __ksym;
extern struct task_struct *bpf_task_from_vpid(__s32 vpid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

static __always_inline void count(__u32 slot) {
  __u64 *c = bpf_map_lookup_elem(&counters, &slot);
  if (c) *c += 1; /* per-CPU slot: no other writer */
}

/* /proc/PID/stat field 22: the thread group's start in clock ticks since boot. */
static __always_inline __u64 start_ticks(struct task_struct *t) {
  __u64 ns = BPF_CORE_READ(t, group_leader, start_boottime);
  return tick_ns ? ns / tick_ns : 0;
}

/* The number of pid as seen from the tracker's PID namespace, 0 when it has none there
 * (a process in a sibling or ancestor namespace). */
static __always_inline __u32 vnr(struct pid *pid) {
  if (!pid) return 0;
  __u32 lvl = target_level;
  if (lvl > BPF_CORE_READ(pid, level) || lvl > 31) return 0;
  struct upid up = {};
  if (bpf_probe_read_kernel(&up, sizeof(up), __builtin_preserve_access_index(&pid->numbers[lvl])))
    return 0;
  if ((__u64)up.ns != target_ns) return 0;
  return (__u32)up.nr;
}

/* The process's pidfs inode: the identity user space opens it by (0 before Linux 6.9). */
static __always_inline __u64 pid_ino(struct task_struct *t) {
  struct pid *pid = BPF_CORE_READ(t, group_leader, thread_pid);
  if (!pid || !bpf_core_field_exists(pid->ino)) return 0;
  return BPF_CORE_READ(pid, ino);
}

static __always_inline __u32 vtgid(struct task_struct *t) {
  return vnr(BPF_CORE_READ(t, group_leader, thread_pid));
}

static __always_inline bool is_root(struct task_struct *t) {
  return (__u32)BPF_CORE_READ(t, tgid) == root_tgid && start_ticks(t) == root_ticks;
}

/* The members entry for t's process when t belongs to this session (pid and start time). */
static __always_inline struct progeny_member *member_of(struct task_struct *t) {
  __u32 key = (__u32)BPF_CORE_READ(t, tgid);
  struct progeny_member *m = bpf_map_lookup_elem(&members, &key);
  if (m && m->start_ticks == start_ticks(t)) return m;
  return 0;
}

/* Wake the reader, unless batching and fewer than wake_bytes wait (this record's included). */
static __always_inline __u64 wake_flags(__u64 size) {
  if (wake_bytes && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + size < wake_bytes)
    return BPF_RB_NO_WAKEUP;
  return BPF_RB_FORCE_WAKEUP;
}

static __always_inline void submit(void *e) { bpf_ringbuf_submit(e, wake_flags(0)); }

static __always_inline void fill_hdr(struct progeny_event_hdr *h, __u32 kind, __u32 pid,
                                     __u64 ticks, __u64 ino) {
  h->kind = kind;
  h->pid = pid;
  h->start_ticks = ticks;
  h->ino = ino;
  h->time_ns = bpf_ktime_get_ns();
}

/* Where the cap's walk counts. A map value, not a stack variable the callback increments:
 * the verifier tracks a stack counter's exact value through the callback's loop and never
 * converges (1M instructions), a map value is just a number to it. Per CPU: the programs
 * run with migration off, and the same program never nests on one CPU. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} cap_count SEC(".maps");

static long count_one(void *map, __u32 *key, struct progeny_member *m, void *ctx) {
  __u32 zero = 0;
  __u64 *n = bpf_map_lookup_elem(&cap_count, &zero);
  if (n) *n += 1;
  return 0;
}

/* The pids cap, after the child's insert: the count includes it, so of two members forking
 * at once on two CPUs past the cap both children die, never both live. The parent's fork
 * has succeeded already (unlike pids.max's EAGAIN): the child dies before its first
 * instruction, and its creator is named to user space. Counting walks the map: O(cap) per
 * fork, only with a cap set. */
static __always_inline void cap_members(struct task_struct *creator, struct task_struct *child,
                                        struct progeny_member *m) {
  __u32 zero = 0;
  __u64 *counted = bpf_map_lookup_elem(&cap_count, &zero);
  if (!counted) return;
  *counted = 0;
  bpf_for_each_map_elem(&members, count_one, 0, 0);
  __u64 n = *counted;
  if (n <= pids_cap) return;
  bpf_send_signal_task(child, SIGKILL, PIDTYPE_TGID, 0);
  count(PROGENY_CNT_CAPPED);
  if (!m->vpid) return;
  struct progeny_cap_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count(PROGENY_CNT_LOST);
    return;
  }
  fill_hdr(&e->hdr, PROGENY_EV_CAP, m->vpid, m->start_ticks, m->ino);
  e->parent_ino = pid_ino(creator);
  e->ppid = vtgid(creator);
  e->members = (__u32)n;
  submit(e);
}

/* The creator (current, the forking thread) decides membership, not the child's parent: with
 * CLONE_PARENT the parent may be outside the session while the creator is inside. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *creator, struct task_struct *child) {
  if (!target_ns) return 0;
  if (child->pid != child->tgid) return 0; /* a new thread, not a new process */
  if (!is_root(creator) && !member_of(creator)) return 0;

  __u32 key = (__u32)child->tgid;
  struct progeny_member m = {
      .start_ticks = start_ticks(child), .ino = pid_ino(child), .vpid = vnr(BPF_CORE_READ(child, thread_pid))};
  if (bpf_map_update_elem(&members, &key, &m, BPF_ANY)) count(PROGENY_CNT_UNTRACKED);
  /* Read `stopping` only after the insert is visible (a locked add is a full barrier on x86,
   * the only target the build supports): either this program sees the flag set by a stopping
   * sweep, or that sweep sees the new member. No child slips between the two. */
  __sync_fetch_and_add(&stopping, 0);
  if (*(volatile __u64 *)&stopping)
    bpf_send_signal_task(child, SIGKILL, PIDTYPE_TGID, 0);
  else if (pids_cap)
    cap_members(creator, child, &m);

  if (!m.vpid) return 0;
  struct progeny_fork_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count(PROGENY_CNT_LOST);
    return 0;
  }
  fill_hdr(&e->hdr, PROGENY_EV_FORK, m.vpid, m.start_ticks, m.ino);
  e->parent_ino = pid_ino(creator);
  e->ppid = vtgid(creator);
  e->tid = vnr(BPF_CORE_READ(creator, thread_pid));
  e->pgid = vnr(BPF_CORE_READ(child, signal, pids[PIDTYPE_PGID]));
  e->sid = vnr(BPF_CORE_READ(child, signal, pids[PIDTYPE_SID]));
  submit(e);
  return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) {
  if (!target_ns) return 0;
  struct progeny_member *m = member_of(p);
  if (!is_root(p) && !m) return 0;
  if (m) m->execed = 1;
  __u32 vpid = vtgid(p);
  if (!vpid) return 0;
  __u32 zero = 0;
  struct progeny_exec_event *e = bpf_map_lookup_elem(&exec_scratch, &zero);
  if (!e) return 0;
  fill_hdr(&e->hdr, PROGENY_EV_EXEC, vpid, start_ticks(p), pid_ino(p));
  e->ppid = vtgid(BPF_CORE_READ(p, real_parent));
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  long n = bpf_probe_read_kernel_str(e->data, PROGENY_PATH_LEN, BPF_CORE_READ(bprm, filename));
  __u32 path_len = n > 0 ? (__u32)(n - 1) & (PROGENY_PATH_LEN - 1) : 0; /* without its NUL */
  /* The new image's argv block, straight from its stack (current is the exec'ing task),
   * right after the path. */
  unsigned long start = BPF_CORE_READ(p, mm, arg_start);
  unsigned long end = BPF_CORE_READ(p, mm, arg_end);
  __u64 len = end > start ? end - start : 0;
  e->argv_truncated = len > PROGENY_ARGV_LEN;
  if (len > PROGENY_ARGV_LEN) len = PROGENY_ARGV_LEN;
  if (len && bpf_probe_read_user(e->data + path_len, len, (const void *)start)) len = 0;
  e->path_len = (__u16)path_len;
  e->argv_len = (__u16)len;
  __u64 size = PROGENY_EXEC_FIXED + path_len + len;
  if (bpf_ringbuf_output(&events, e, size, wake_flags(size))) count(PROGENY_CNT_LOST);
  return 0;
}

/* Signals one member, after checking in the kernel that the task behind the host pid is still
 * the process that was recorded (same tgid, same start time): a reused pid is never hit. */
static long kill_member(void *map, __u32 *key, struct progeny_member *m, void *ctx) {
  struct task_struct *t = bpf_task_from_pid((__s32)*key);
  if (!t) return 0;
  if ((__u32)t->tgid == *key && t->pid == t->tgid && start_ticks(t) == m->start_ticks)
    bpf_send_signal_task(t, SIGKILL, PIDTYPE_TGID, 0);
  bpf_task_release(t);
  return 0;
}

/* What the ending process cost. p is its last thread; the threads that died before it are in
 * signal (a thread racing p to its own release may be missed), except the group leader, which
 * stays a zombie until the group is empty and is added here when p is not the leader. */
static __always_inline void fill_cost(struct progeny_exit_event *e, struct task_struct *p) {
  e->cpu_ns = BPF_CORE_READ(p, signal, sum_sched_runtime) + BPF_CORE_READ(p, se.sum_exec_runtime);
  e->utime_ns = BPF_CORE_READ(p, signal, utime) + BPF_CORE_READ(p, utime);
  e->stime_ns = BPF_CORE_READ(p, signal, stime) + BPF_CORE_READ(p, stime);
  struct task_struct *leader = BPF_CORE_READ(p, group_leader);
  if (leader && (__u64)leader != (__u64)p) {
    e->cpu_ns += BPF_CORE_READ(leader, se.sum_exec_runtime);
    e->utime_ns += BPF_CORE_READ(leader, utime);
    e->stime_ns += BPF_CORE_READ(leader, stime);
  }
  e->maxrss_pages = (__u32)BPF_CORE_READ(p, signal, maxrss);
  __u64 born = BPF_CORE_READ(p, group_leader, start_boottime);
  __u64 now = bpf_ktime_get_boot_ns();
  e->lifetime_ns = now > born ? now - born : 0;
}

/* The process title: its argv area as the process left it (setproctitle() rewrites it in
 * place, as PostgreSQL and nginx do). p is current, the exiting task, and since Linux 6.16
 * this tracepoint fires before exit_mm(), so its mm is still there; before, mm is NULL here
 * and there is no title. Returns the bytes copied to title. */
static __always_inline __u64 read_title(char *title, struct task_struct *p) {
  struct mm_struct *mm = BPF_CORE_READ(p, mm);
  if (!mm) return 0;
  unsigned long start = BPF_CORE_READ(mm, arg_start);
  unsigned long end = BPF_CORE_READ(mm, arg_end);
  __u64 len = end > start ? end - start : 0;
  if (len > PROGENY_TITLE_LEN) len = PROGENY_TITLE_LEN;
  if (len && bpf_probe_read_user(title, len, (const void *)start)) return 0;
  return len;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p, bool group_dead) {
  if (!target_ns || !group_dead) return 0; /* only the last thread's exit ends a process */
  bool root = is_root(p);
  if (root && kill_on_root_exit) {
    /* The launcher is gone (killed or crashed): nothing else will stop its tree. Mark the
     * session stopping first (a locked op: full barrier) so a member forking concurrently
     * kills its own child (see on_fork), then kill every verified member. */
    __sync_fetch_and_add(&stopping, 1);
    bpf_for_each_map_elem(&members, kill_member, 0, 0);
  }
  /* The title is read only for a process that never exec'd, whose only other name is its
   * creator's argv (PostgreSQL's backends, nginx's workers): reading user memory here costs
   * ~40 µs a process on this kind of machine, against ~3 µs for the rest of this program. */
  bool want_title = false;
  if (!root) {
    struct progeny_member *m = member_of(p);
    if (!m) return 0;
    want_title = !m->execed;
    /* Its last thread is gone: it can fork and exec no more, and a zombie needs no signal.
     * Every program runs in process context (none in softirq), so the delete never meets a
     * bucket this CPU already holds. */
    __u32 key = (__u32)BPF_CORE_READ(p, tgid);
    bpf_map_delete_elem(&members, &key);
  }
  __u32 vpid = vnr(BPF_CORE_READ(p, signal, pids[PIDTYPE_TGID]));
  if (!vpid) return 0;
  __u32 zero = 0;
  struct progeny_exit_event *e = bpf_map_lookup_elem(&exit_scratch, &zero);
  if (!e) return 0;
  fill_hdr(&e->hdr, PROGENY_EV_EXIT, vpid, start_ticks(p), pid_ino(p));
  /* What wait(2) will report: the group exit code when the group was taken down together. */
  if (BPF_CORE_READ(p, signal, flags) & SIGNAL_GROUP_EXIT)
    e->status = BPF_CORE_READ(p, signal, group_exit_code);
  else
    e->status = p->exit_code;
  fill_cost(e, p);
  __u64 len = want_title ? read_title(e->title, p) : 0;
  e->title_len = (__u16)len;
  __u64 size = PROGENY_EXIT_FIXED + len;
  if (bpf_ringbuf_output(&events, e, size, wake_flags(size))) count(PROGENY_CNT_LOST);
  return 0;
}

/* The OOM killer's choice, from the kernel itself: a member named as the victim of an OOM
 * kill (the memory.events counters only count). Runs in the allocating task's context, which
 * need not be the victim. */
SEC("tp_btf/mark_victim")
int BPF_PROG(on_oom_victim, struct task_struct *victim) {
  if (!target_ns || !member_of(victim)) return 0;
  __u32 vpid = vtgid(victim);
  if (!vpid) return 0;
  struct progeny_oom_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count(PROGENY_CNT_LOST);
    return 0;
  }
  fill_hdr(&e->hdr, PROGENY_EV_OOM, vpid, start_ticks(victim), pid_ino(victim));
  submit(e);
  return 0;
}

/* Run by user space (BPF_PROG_TEST_RUN), so bpf_task_from_vpid resolves pids in the caller's
 * PID namespace: the BPF side otherwise sees host pids only. */
SEC("syscall")
int seed(struct progeny_seed_args *a) {
  if (a->as_root) {
    struct task_struct *me = bpf_task_from_vpid((__s32)a->caller_vpid);
    if (!me) return PROGENY_SEED_NO_NS;
    struct pid *pid = BPF_CORE_READ(me, thread_pid);
    bpf_task_release(me);
    if (!pid) return PROGENY_SEED_NO_NS;
    __u32 lvl = BPF_CORE_READ(pid, level);
    struct upid up = {};
    if (lvl > 31 ||
        bpf_probe_read_kernel(&up, sizeof(up), __builtin_preserve_access_index(&pid->numbers[lvl])))
      return PROGENY_SEED_NO_NS;
    target_level = lvl;
    target_ns = (__u64)up.ns;
  }
  if (!target_ns) return PROGENY_SEED_NO_NS;

  struct task_struct *t = bpf_task_from_vpid((__s32)a->vpid);
  if (!t) return PROGENY_SEED_GONE;
  int rc = PROGENY_SEED_OK;
  __u32 tgid = (__u32)BPF_CORE_READ(t, tgid);
  if (BPF_CORE_READ(t, pid) != (pid_t)tgid || start_ticks(t) != a->start_ticks) {
    rc = PROGENY_SEED_GONE;
  } else if (a->as_root) {
    root_tgid = tgid;
    root_ticks = a->start_ticks;
  } else {
    struct progeny_member m = {.start_ticks = a->start_ticks, .ino = pid_ino(t), .vpid = a->vpid};
    if (bpf_map_update_elem(&members, &tgid, &m, BPF_ANY)) rc = PROGENY_SEED_MAP_FULL;
  }
  bpf_task_release(t);
  return rc;
}
