#include "launcher/doctor/doctor_probes.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "launcher/contain/cgroup.h"
#include "launcher/members/signal_gate.h"
#include "launcher/os/sys.h"

namespace progeny {

namespace {

std::string err(int e) { return std::string(strerrorname_np(e) ? strerrorname_np(e) : "?") + " (" + strerror(e) + ")"; }

// Runs fn in a forked child (so probes that change process state — subreaper, namespaces —
// leave progeny untouched) and returns its exit code: 0 = works, else an errno; -1 if the
// child could not run or died.
int in_child(const std::function<int()>& fn) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) ::_exit(fn() & 0xff);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string child_err(int rc) { return rc < 0 ? "the probe process died" : err(rc); }

Probe probe_subreaper() {
  Probe p{"subreaper", false, "", ""};
  int rc = in_child([] {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) return errno;
    int on = 0;
    if (::prctl(PR_GET_CHILD_SUBREAPER, &on) != 0) return errno;
    return on == 1 ? 0 : EINVAL;
  });
  p.ok = rc == 0;
  p.detail = p.ok ? "PR_SET_CHILD_SUBREAPER works" : "PR_SET_CHILD_SUBREAPER: " + child_err(rc);
  p.consequence = p.ok ? "orphans (double forks, setsid escapees) reparent to progeny"
                       : "orphans reparent to init and leave the tree: progeny run cannot "
                         "contain double-forking programs";
  return p;
}

Probe probe_pidfd() {
  Probe p{"pidfd", false, "", ""};
  if (int e = signal_gate::probe()) {
    p.detail = "pidfd_open / pidfd_send_signal: " + err(e);
  } else {
    p.ok = true;
    p.detail = "pidfd_open and pidfd_send_signal work";
  }
  p.consequence = p.ok ? "every signal goes through a pidfd: a reused pid is never hit"
                       : "progeny run and kill cannot signal safely and refuse to run";
  return p;
}

Probe probe_pidfd_exit() {
  Probe p{"pidfd_exit", false, "", ""};
  p.consequence = "exit status of descendants that progeny did not reap itself is recorded";
  pid_t pid = ::fork();
  if (pid < 0) {
    p.detail = "fork: " + err(errno);
    return p;
  }
  if (pid == 0) ::_exit(7);
  Fd fd = open_pidfd(pid);  // the unreaped child is still there, as a zombie at worst
  int open_errno = errno;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  PidfdInfo info{};
  info.mask = kPidfdInfoExit;
  if (!fd) {
    p.detail = "pidfd_open: " + err(open_errno);
  } else if (::ioctl(fd.get(), kPidfdGetInfo, &info) != 0) {
    p.detail = "PIDFD_GET_INFO: " + err(errno) + " (needs Linux 6.13+)";
  } else if (!(info.mask & kPidfdInfoExit)) {
    p.detail = "PIDFD_INFO_EXIT not reported (needs Linux 6.15+)";
  } else if (info.exit_code != (7 << 8)) {
    p.detail = "PIDFD_INFO_EXIT gave status " + std::to_string(info.exit_code) + ", not 7<<8";
  } else {
    p.ok = true;
    p.detail = "PIDFD_INFO_EXIT returns a reaped process's exit status";
  }
  if (!p.ok) p.consequence = "exits of processes reaped by someone else show as unknown";
  return p;
}

Probe probe_preload() {
  Probe p{"preload", false, "", ""};
  std::string shim = shim_path_for_self();
  p.consequence = "descendants record their lineage and get parent-death handling";
  if (::access(shim.c_str(), R_OK) != 0) {
    p.detail = "shim not found at " + shim + ": " + err(errno);
    p.consequence = "no shim: lineage only from the launcher (and BPF), no parent-death "
                    "handling in descendants";
    return p;
  }
  // Load it into /bin/true for real: the dynamic loader reports a shim it cannot preload on
  // stderr and still runs the program, so success is exit 0 with nothing on stderr. The
  // child gets none of progeny's variables, so the shim stays inert.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    p.detail = "pipe: " + err(errno);
    return p;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDERR_FILENO);
    for (const char* v : {"PROGENY_SOCK", "PROGENY_LAUNCHER", "PROGENY_PDEATHSIG",
                          "PROGENY_SHIM", "PROGENY_OPTS"})
      ::unsetenv(v);
    ::setenv("LD_PRELOAD", shim.c_str(), 1);
    ::execl("/bin/true", "true", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string errtext;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) errtext.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && errtext.empty()) {
    p.ok = true;
    p.detail = "shim " + shim + " preloads into /bin/true";
  } else {
    while (!errtext.empty() && errtext.back() == '\n') errtext.pop_back();
    p.detail = "preloading " + shim + " failed" + (errtext.empty() ? "" : ": " + errtext);
    p.consequence = "progeny run must be used with --no-preload";
  }
  return p;
}

// A trivial program: r0 = 0; exit.
const bpf_insn kReturnZero[] = {
    {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
    {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
};

int silent_print(enum libbpf_print_level, const char*, va_list) { return 0; }

Probe probe_btf(bool* have, int* btf_id) {
  Probe p{"btf", false, "", ""};
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) {
    p.detail = "no kernel BTF (/sys/kernel/btf/vmlinux): " + err(errno);
    p.consequence = "the CO-RE tracker cannot load: no BPF tracking";
  } else {
    *btf_id = btf__find_by_name_kind(vmlinux, "btf_trace_sched_process_fork", BTF_KIND_TYPEDEF);
    btf__free(vmlinux);
    p.ok = true;
    p.detail = "kernel BTF at /sys/kernel/btf/vmlinux";
    p.consequence = "the CO-RE tracker can relocate against this kernel";
  }
  *have = p.ok;
  return p;
}

Probe probe_tp_btf(bool have_btf, int btf_id) {
  Probe p{"tp_btf", false, "", ""};
  p.consequence = "the tracker attaches to sched_process_fork/exec/exit as tp_btf programs";
  if (!have_btf || btf_id <= 0) {
    p.detail = have_btf ? "btf_trace_sched_process_fork not in kernel BTF" : "needs BTF";
    p.consequence = "the tracker must use classic tracepoints, or cannot run";
    return p;
  }
  bpf_prog_load_opts opts{};
  opts.sz = sizeof opts;
  opts.expected_attach_type = BPF_TRACE_RAW_TP;
  opts.attach_btf_id = static_cast<__u32>(btf_id);
  int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "progeny_probe", "GPL", kReturnZero, 2, &opts);
  if (fd < 0) {
    p.detail = "loading a tp_btf program: " + err(-fd);
    p.consequence = "the tracker must use classic tracepoints, or cannot run";
  } else {
    ::close(fd);
    p.ok = true;
    p.detail = "a tp_btf/sched_process_fork program loads";
  }
  return p;
}

Probe probe_tracepoint() {
  Probe p{"tracepoint", false, "", ""};
  int rc = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, nullptr);
  p.ok = rc == 1;
  p.detail = p.ok ? "a tracepoint program loads"
                  : rc == 0 ? "tracepoint programs not supported"
                            : "probing tracepoint programs: " + err(-rc);
  p.consequence = p.ok ? "classic tracepoints are a fallback for the tracker"
                       : "no fallback to classic tracepoints";
  return p;
}

Probe probe_bpf_lsm() {
  Probe p{"bpf_lsm", false, "", ""};
  std::ifstream in("/sys/kernel/security/lsm");
  std::string lsms;
  if (!in || !std::getline(in, lsms)) {
    p.detail = "cannot read /sys/kernel/security/lsm (securityfs not mounted?)";
  } else {
    std::stringstream ss(lsms);
    std::string one;
    while (std::getline(ss, one, ','))
      if (one == "bpf") p.ok = true;
    p.detail = (p.ok ? "\"bpf\" is an active LSM: " : "\"bpf\" not among active LSMs: ") + lsms;
  }
  p.consequence = "none: progeny's tracker uses tracepoints, not LSM programs";
  return p;
}

Probe probe_cgroup() {
  Probe p{"cgroup", false, "", ""};
  std::string why;
  auto leaf = CgroupLeaf::create(&why);  // the launcher's own way to get one; removed below
  if (!leaf) {
    p.detail = why;
  } else if (int e = signal_gate::can_kill_cgroup(leaf->dirfd())) {
    p.detail = "cgroup v2 leaf under " + leaf->path() + " has no writable cgroup.kill: " +
               err(e) + " (needs Linux 5.14+)";
  } else {
    p.ok = true;
    const std::string& leaf_path = leaf->path();
    p.detail = "can create v2 leaves with cgroup.kill under " +
               leaf_path.substr(0, leaf_path.rfind('/'));
  }
  p.consequence = p.ok ? "--contain cgroup: atomic stop, nothing escapes by forking"
                       : "--contain cgroup unavailable: auto falls back to none";
  return p;
}

Probe probe_pidns() {
  Probe p{"pidns", false, "", ""};
  // A new PID namespace whose first child must be PID 1; unprivileged, it needs a user
  // namespace too.
  auto try_ns = [](int flags) {
    return in_child([flags] {
      if (::unshare(flags) != 0) return errno;
      pid_t c = ::fork();
      if (c < 0) return errno;
      if (c == 0) ::_exit(::getpid() == 1 ? 0 : EINVAL);
      int st = 0;
      ::waitpid(c, &st, 0);
      return WIFEXITED(st) ? WEXITSTATUS(st) : EINVAL;
    });
  };
  int rc = try_ns(CLONE_NEWPID);
  if (rc == 0) {
    p.ok = true;
    p.detail = "unshare(CLONE_NEWPID) works";
  } else if (int rc2 = try_ns(CLONE_NEWUSER | CLONE_NEWPID); rc2 == 0) {
    p.ok = true;
    p.detail = "unshare(CLONE_NEWPID) works inside a new user namespace";
  } else {
    p.detail = "unshare(CLONE_NEWPID): " + child_err(rc) + "; with CLONE_NEWUSER: " +
               child_err(rc2);
  }
  p.consequence = p.ok ? "--contain pidns: the tree dies with its init"
                       : "--contain pidns unavailable";
  return p;
}

Probe probe_userns() {
  Probe p{"userns", false, "", ""};
  int rc = in_child([] { return ::unshare(CLONE_NEWUSER) == 0 ? 0 : errno; });
  p.ok = rc == 0;
  p.detail = p.ok ? "unshare(CLONE_NEWUSER) works" : "unshare(CLONE_NEWUSER): " + child_err(rc);
  p.consequence = p.ok ? "a non-root user can use --contain pidns"
                       : "--contain pidns needs root";
  return p;
}

}  // namespace

std::string shim_path_for_self() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "<unknown>/../lib/progeny/libprogeny.so";
  std::string exe(buf, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/')) + "/../lib/progeny/libprogeny.so";
}

std::vector<Probe> run_probes() {
  libbpf_print_fn_t old = libbpf_set_print(silent_print);
  std::vector<Probe> out;
  out.push_back(probe_subreaper());
  out.push_back(probe_pidfd());
  out.push_back(probe_pidfd_exit());
  out.push_back(probe_preload());
  bool have_btf = false;
  int btf_id = 0;
  out.push_back(probe_btf(&have_btf, &btf_id));
  out.push_back(probe_tp_btf(have_btf, btf_id));
  out.push_back(probe_tracepoint());
  out.push_back(probe_bpf_lsm());
  out.push_back(probe_cgroup());
  out.push_back(probe_pidns());
  out.push_back(probe_userns());
  libbpf_set_print(old);
  return out;
}

}  // namespace progeny
