// `progeny doctor`: which containment and tracking mechanisms this host offers, as a table.
#include <algorithm>
#include <cstdio>
#include <string>

#include "launcher/doctor/commands.h"
#include "launcher/os/exit_codes.h"
#include "launcher/doctor/doctor_probes.h"

namespace progeny {

namespace {

constexpr const char* kDoctorHelp = R"(Usage: progeny doctor [--require CHECK[,CHECK...]]...

Asks each mechanism progeny run can use, through the very code the run uses to decide,
whether it works here:
  subreaper   PR_SET_CHILD_SUBREAPER (orphans reparent to progeny; run needs it)
  pidfd       pidfd_open / pidfd_send_signal (race-free signalling; run needs it)
  pidfd_exit  PIDFD_INFO_EXIT (exit status of processes someone else reaped; informational)
  preload     the shim at <dir of progeny>/../lib/progeny/libprogeny.so (run needs it
              unless --no-preload)
  bpf         the BPF tracker loads and attaches (--bpf on; --bpf auto uses it)
  cgroup      a cgroup v2 leaf and its watchdog can be made (--contain cgroup; auto uses it)
  pidns       a PID namespace, with a user namespace if not root (--contain pidns)

One line per check: ok or missing, what was found or why not, then what follows for
progeny; last, what progeny run with its defaults will use.

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
  const auto& names = probe_names();
  return std::find(names.begin(), names.end(), name) != names.end();
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

  std::printf("\n%s\n", defaults_line(probes).c_str());

  int status = 0;
  for (const auto& name : required) {
    if (!probe_ok(probes, name)) {
      std::fprintf(stderr, "progeny doctor: required check '%s' is missing\n", name.c_str());
      status = 1;
    }
  }
  return status;
}

}  // namespace progeny
