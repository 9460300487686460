#include "launcher/doctor/doctor_probes.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bpf/tracker.h"
#include "launcher/collect/shim_path.h"
#include "launcher/contain/containment.h"
#include "launcher/contain/limits.h"
#include "launcher/members/signal_gate.h"
#include "launcher/os/subreaper.h"
#include "launcher/os/sys.h"

namespace progeny {

namespace {

std::string err(int e) {
  return std::string(strerrorname_np(e) ? strerrorname_np(e) : "?") + " (" + strerror(e) + ")";
}

// Runs check in a forked child, for checks that change the calling process (the subreaper
// flag stays for life), so the doctor, or a test calling it, is left untouched. The child's
// one-line reason comes back on a pipe.
bool in_child(bool (*check)(std::string*), std::string* why) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    *why = "pipe: " + err(errno);
    return false;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string reason;
    bool ok = check(&reason);
    (void)!::write(fds[1], reason.data(), reason.size());
    ::_exit(ok ? 0 : 1);
  }
  ::close(fds[1]);
  std::string reason;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) reason.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  *why = pid < 0 ? "fork: " + err(errno) : !reason.empty() ? reason : "the check's process died";
  return false;
}

Probe probe_subreaper() {
  Probe p;
  p.ok = in_child(become_child_subreaper, &p.detail);
  if (p.ok) {
    p.detail = "PR_SET_CHILD_SUBREAPER works";
    p.consequence = "orphans (double forks, setsid escapees) reparent to progeny";
    p.with_defaults = "child subreaper";
  } else {
    p.consequence = "progeny run exits 125: orphans would reparent to init and leave the tree";
    p.with_defaults = "no subreaper: exits 125";
  }
  return p;
}

Probe probe_pidfd() {
  Probe p;
  p.ok = signal_gate::available(&p.detail);
  if (p.ok) {
    p.detail = "pidfd_open and pidfd_send_signal work";
    p.consequence = "every signal goes through a pidfd: a reused pid is never hit";
    p.with_defaults = "pidfds";
  } else {
    p.consequence = "progeny run exits 125: nothing could be signalled safely";
    p.with_defaults = "no pidfds: exits 125";
  }
  return p;
}

// Informational: no run refuses to start without it. The check asks pidfd_exit_status, the
// call the membership makes for members it did not reap, on a child the doctor reaped.
Probe probe_pidfd_exit() {
  Probe p;
  pid_t pid = ::fork();
  if (pid < 0) {
    p.detail = "fork: " + err(errno);
  } else {
    if (pid == 0) ::_exit(7);
    Fd fd = open_pidfd(pid);  // the unreaped child is still there, as a zombie at worst
    int open_errno = errno;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!fd) {
      p.detail = "pidfd_open: " + err(open_errno);
    } else if (!pidfd_exit_status(fd.get(), &status)) {
      p.detail = "PIDFD_INFO_EXIT not reported (needs Linux 6.15+)";
    } else if (status != (7 << 8)) {
      p.detail = "PIDFD_INFO_EXIT gave status " + std::to_string(status) + ", not 7<<8";
    } else {
      p.ok = true;
      p.detail = "PIDFD_INFO_EXIT returns a reaped process's exit status";
    }
  }
  p.consequence = p.ok ? "exit status of descendants that progeny did not reap itself is recorded"
                       : "exits of processes reaped by someone else show as unknown";
  return p;
}

Probe probe_preload() {
  Probe p;
  std::string path;
  p.ok = find_shim(&path, &p.detail);
  if (p.ok) {
    p.detail = "shim found at " + path;
    p.consequence = "descendants record their lineage and get parent-death handling";
    p.with_defaults = "shim";
  } else {
    p.consequence = "progeny run exits 125 unless --no-preload (then no lineage from "
                    "descendants, no parent-death handling in them)";
    p.with_defaults = "no shim: exits 125 (use --no-preload)";
  }
  return p;
}

Probe probe_bpf() {
  Probe p;
  p.ok = bpf::tracker_available(&p.detail);
  if (p.ok) {
    p.detail = "the tracker loads and attaches";
    p.consequence = "--bpf on works; --bpf auto keeps the tree by creator in the kernel";
    p.with_defaults = "--bpf auto → tracker on";
  } else {
    p.consequence = "--bpf on exits 125; --bpf auto goes on without the tracker";
    p.with_defaults = "--bpf auto → off";
  }
  return p;
}

Probe probe_cgroup() {
  Probe p;
  p.ok = Containment::available(ContainMode::cgroup, &p.detail);
  if (p.ok) {
    p.detail = "a cgroup v2 leaf and its watchdog can be made (and were removed)";
    p.consequence = "--contain cgroup works: atomic stop, nothing escapes by forking";
    p.with_defaults = "--contain auto → cgroup";
  } else {
    p.consequence = "--contain cgroup exits 125; --contain auto falls back to none";
    p.with_defaults = "--contain auto → none";
  }
  return p;
}

// Not in the defaults line: --contain auto never chooses it.
Probe probe_pidns() {
  Probe p;
  p.ok = Containment::available(ContainMode::pidns, &p.detail);
  if (p.ok) {
    p.detail = ::geteuid() == 0 ? "a new PID namespace can be made"
                                : "a new PID namespace can be made, inside a new user namespace";
    p.consequence = "--contain pidns works: the tree dies with its init";
  } else {
    p.consequence = "--contain pidns exits 125";
  }
  return p;
}

// --limit KEY=...: made for real (a group of that controller, configured, removed), as a run
// would (the same values as `--limit pids=1000`, `memory=1G`, `cpu=1`, so a refusal's reason
// is word for word the run's). Not in the defaults line: no limit applies unless asked for.
Probe probe_limit(const char* key, const char* what) {
  Probe p;
  p.ok = LimitGroups::available(key, &p.detail);
  if (p.ok) {
    p.detail += " (a group was made and removed)";
    p.consequence = std::string("--limit ") + key + "=... works: " + what;
  } else {
    p.consequence = std::string("--limit ") + key + "=... exits 125";
  }
  return p;
}
// pids: without a cgroup for it, a run falls back to the tracker (bpf/tracker.h pids_cap), so
// the check does too, with the tracker's own start as the answer.
Probe probe_limit_pids() {
  Probe p = probe_limit("pids", "forks past N fail with EAGAIN, the forker is named");
  if (p.ok) return p;
  std::string why;
  if (!bpf::tracker_available(&why)) {
    p.detail = no_pids_backend(p.detail, why);
    return p;
  }
  p.ok = true;
  p.detail = "tracker (no cgroup: " + p.detail + ")";
  p.consequence = "--limit pids=... works: by the tracker, a child born past N processes is "
                  "killed at birth (the fork succeeds), the forker is named";
  return p;
}
Probe probe_limit_memory() { return probe_limit("memory", "the tree is OOM-killed past SIZE, the victim is named"); }
Probe probe_limit_cpu() { return probe_limit("cpu", "the tree is throttled to FRACTION of a CPU"); }

struct Check {
  const char* name;
  Probe (*run)();
};
constexpr Check kChecks[] = {{"subreaper", probe_subreaper}, {"pidfd", probe_pidfd},
                             {"pidfd_exit", probe_pidfd_exit}, {"preload", probe_preload},
                             {"bpf", probe_bpf},             {"cgroup", probe_cgroup},
                             {"pidns", probe_pidns},          {"pids", probe_limit_pids},
                             {"memory", probe_limit_memory},  {"cpu", probe_limit_cpu}};

}  // namespace

const std::vector<std::string>& probe_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const Check& c : kChecks) out.emplace_back(c.name);
    return out;
  }();
  return names;
}

std::vector<Probe> run_probes() {
  std::vector<Probe> out;
  for (const Check& c : kChecks) {
    out.push_back(c.run());
    out.back().name = c.name;
  }
  return out;
}

std::string defaults_line(const std::vector<Probe>& probes) {
  std::string line = "progeny run with defaults will use:";
  const char* sep = " ";
  for (const Probe& p : probes) {
    if (p.with_defaults.empty()) continue;
    line += sep + p.with_defaults;
    sep = "; ";
  }
  return line;
}

}  // namespace progeny
