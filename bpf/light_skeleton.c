/* See bpf/light_skeleton.h. */
#include "bpf/light_skeleton.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progeny.lskel.h"

struct progeny_bpf *progeny_skel_open(const struct progeny_skel_config *config) {
  struct progeny_bpf *skel = progeny_bpf__open();
  if (!skel) return NULL;
  skel->rodata->tick_ns = config->tick_ns;
  skel->rodata->wake_bytes = config->wake_bytes;
  skel->rodata->kill_on_root_exit = config->kill_on_root_exit;
  skel->rodata->pids_cap = config->pids_cap;
  /* The loader program creates each map with these sizes instead of the object's. */
  skel->maps.events.max_entries = config->ring_bytes;
  skel->maps.members.max_entries = config->max_members;
  return skel;
}

int progeny_skel_load(struct progeny_bpf *skel, char *log, __u32 log_size) {
  if (log && log_size) {
    log[0] = 0;
    skel->ctx.log_level = 1;
    skel->ctx.log_size = log_size;
    skel->ctx.log_buf = (long)log;
  }
  return progeny_bpf__load(skel);
}

int progeny_skel_attach(struct progeny_bpf *skel) { return progeny_bpf__attach(skel); }

void progeny_skel_get_fds(const struct progeny_bpf *skel, struct progeny_skel_fds *fds) {
  fds->members = skel->maps.members.map_fd;
  fds->events = skel->maps.events.map_fd;
  fds->counters = skel->maps.counters.map_fd;
  fds->on_fork = skel->progs.on_fork.prog_fd;
  fds->on_exec = skel->progs.on_exec.prog_fd;
  fds->on_exit = skel->progs.on_exit.prog_fd;
  fds->on_oom_victim = skel->progs.on_oom_victim.prog_fd;
  fds->seed = skel->progs.seed.prog_fd;
}

__u64 *progeny_skel_stopping(struct progeny_bpf *skel) { return &skel->bss->stopping; }

void progeny_skel_destroy(struct progeny_bpf *skel) { progeny_bpf__destroy(skel); }
