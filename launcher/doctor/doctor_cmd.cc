// `progeny doctor`: which containment and tracking mechanisms this host offers, as a table.
#include <cstdio>
#include <set>
#include <string>

#include "launcher/doctor/commands.h"
#include "launcher/os/exit_codes.h"
#include "launcher/doctor/doctor_probes.h"

namespace progeny {

namespace {

constexpr const char* kDoctorHelp = R"(Usage: progeny doctor [--require CHECK[,CHECK...]]...

Checks, by trying each for real, which mechanisms this host offers and what progeny will use:
  subreaper   PR_SET_CHILD_SUBREAPER (orphans reparent to progeny)
  pidfd       pidfd_open / pidfd_send_signal (race-free signalling)
  pidfd_exit  PIDFD_INFO_EXIT (exit status of processes someone else reaped)
  preload     the shim <dir of progeny>/../lib/progeny/libprogeny.so loads with LD_PRELOAD
  btf         kernel BTF (/sys/kernel/btf/vmlinux) for the CO-RE tracker
  tp_btf      tp_btf tracing programs load (the tracker's program type)
  tracepoint  classic tracepoint programs load
  bpf_lsm     "bpf" is an active LSM (informational: progeny does not need it)
  cgroup      a cgroup v2 leaf with cgroup.kill can be created (--contain cgroup)
  pidns       a PID namespace can be created, with a user namespace if not root
  userns      a user namespace can be created
  bpf         shorthand for --require: btf and (tp_btf or tracepoint)

One line per check: ok or missing, what was found or why not, and what follows for progeny.

  --require CHECK  exit 1 unless CHECK is ok (repeatable, or comma-separated)
  -h, --help       this help

Exit status: 0 (whatever is missing) unless a --require fails: 1; 125 usage error.
)";

bool probe_ok(const std::vector<Probe>& probes, const std::string& name) {
  for (const auto& p : probes)
    if (p.name == name) return p.ok;
  return false;
}

bool known(const std::string& name) {
  static const std::set<std::string> names{"subreaper", "pidfd",   "pidfd_exit", "preload",
                                           "btf",       "tp_btf",  "tracepoint", "bpf_lsm",
                                           "cgroup",    "pidns",   "userns",     "bpf"};
  return names.count(name) != 0;
}

bool requirement_met(const std::vector<Probe>& probes, const std::string& name) {
  if (name == "bpf")
    return probe_ok(probes, "btf") &&
           (probe_ok(probes, "tp_btf") || probe_ok(probes, "tracepoint"));
  return probe_ok(probes, name);
}

}  // namespace

int doctor_main(int argc, char** argv) {
  std::vector<std::string> required;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kDoctorHelp, stdout);
      return 0;
    }
    std::string list;
    if (a == "--require" && i + 1 < argc) list = argv[++i];
    else if (a.rfind("--require=", 0) == 0) list = a.substr(10);
    else {
      std::fprintf(stderr, "progeny doctor: %s '%s' (see progeny doctor --help)\n",
                   a == "--require" ? "missing value for" : "unknown argument", a.c_str());
      return kExitProgenyError;
    }
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = list.find(',', start);
      std::string name = list.substr(start, comma == std::string::npos ? comma : comma - start);
      if (!known(name)) {
        std::fprintf(stderr, "progeny doctor: unknown check '%s' (see progeny doctor --help)\n",
                     name.c_str());
        return kExitProgenyError;
      }
      required.push_back(name);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }

  std::vector<Probe> probes = run_probes();
  std::printf("%-11s %-8s %s\n", "CHECK", "STATUS", "DETAIL / CONSEQUENCE");
  for (const auto& p : probes)
    std::printf("%-11s %-8s %s\n%-20s → %s\n", p.name.c_str(), p.ok ? "ok" : "missing",
                p.detail.c_str(), "", p.consequence.c_str());

  const char* contain = probe_ok(probes, "cgroup") ? "cgroup" : "none";
  bool bpf = requirement_met(probes, "bpf");
  std::printf("\nprogeny run with defaults will use: --contain auto → %s; --bpf auto → %s; "
              "shim %s; %s\n",
              contain, bpf ? "tracker on" : "off", probe_ok(probes, "preload") ? "on" : "off",
              probe_ok(probes, "subreaper") ? "child subreaper" : "no subreaper");

  int status = 0;
  for (const auto& name : required) {
    if (!requirement_met(probes, name)) {
      std::fprintf(stderr, "progeny doctor: required check '%s' is missing\n", name.c_str());
      status = 1;
    }
  }
  return status;
}

}  // namespace progeny
