#include "launcher/run/leftovers.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>

#include "launcher/os/proc.h"

namespace progeny {
namespace {

// True when pid has our stdout or stderr open and it is a pipe or socket: the classic
// "the job is done but its output never ends" (a grandchild keeps the pipe). progeny never
// reads it, so it never hangs on it; the report says who holds it.
bool holds_our_output(pid_t pid) {
  struct stat ours[2];
  bool stream[2];
  for (int fd = 1; fd <= 2; ++fd) {
    stream[fd - 1] = ::fstat(fd, &ours[fd - 1]) == 0 &&
                     (S_ISFIFO(ours[fd - 1].st_mode) || S_ISSOCK(ours[fd - 1].st_mode));
  }
  if (!stream[0] && !stream[1]) return false;
  char dir_path[64];
  std::snprintf(dir_path, sizeof dir_path, "/proc/%d/fd", static_cast<int>(pid));
  DIR* dir = ::opendir(dir_path);
  if (!dir) return false;
  bool holds = false;
  while (dirent* e = ::readdir(dir)) {
    struct stat theirs;
    if (e->d_name[0] == '.' || ::fstatat(::dirfd(dir), e->d_name, &theirs, 0) != 0) continue;
    for (int k = 0; k < 2; ++k)
      holds |= stream[k] && theirs.st_dev == ours[k].st_dev && theirs.st_ino == ours[k].st_ino;
  }
  ::closedir(dir);
  return holds;
}

}  // namespace

std::vector<RunawayProcess> describe_leftovers(Membership& members, const std::set<pid_t>& skip,
                                               const LineageLog& log, size_t detailed) {
  std::vector<RunawayProcess> procs;
  for (Member* m : members.live()) {
    if (skip.count(m->pid())) continue;
    RunawayProcess r;
    r.pid = m->pid();
    r.ino = m->ino();
    r.start_time = m->start_time();
    // The lineage's creator (a fork record's), else the parent it was found under unless
    // that is the launcher (adopted: creator unknown).
    const LineageLog::Origin* o = m->ino() ? log.origin(m->ino()) : nullptr;
    if (o) r.name = o->name;
    if (o && o->creator && (o->creator_from_fork || o->creator != members.self())) {
      r.creator = o->creator;
      if (const LineageLog::Origin* c = o->creator_ino ? log.origin(o->creator_ino) : nullptr)
        r.creator_name = c->name;
    } else if (m->parent != members.self()) {
      r.creator = m->parent;
    }
    if (procs.size() < detailed) {
      r.described = true;
      r.argv = read_cmdline(m->pid(), 512);
      r.holds_output = holds_our_output(m->pid());
      if (auto st = read_proc_stat(m->pid())) {
        r.ppid = st->ppid;
        r.pgid = st->pgrp;
        r.sid = st->session;
      }
    }
    procs.push_back(std::move(r));
  }
  return procs;
}

}  // namespace progeny
