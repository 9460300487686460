#include "launcher/doctor/doctor_options.h"

#include "launcher/cli/option_kinds.h"

namespace progeny {

cli::CommandLine doctor_command_line(DoctorOptions* o) {
  cli::CommandLine cmd;
  cmd.name = "doctor";
  cmd.header = R"(
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
)";
  cmd.footer = "Exit status: 0 (whatever is missing) unless a --require fails: 1; 125 usage error.\n";
  // The names of the probes (launcher/doctor/doctor_probes.cc) and the "bpf" shorthand.
  cmd.options = {
      {"require", 0, "CHECK", "exit 1 unless CHECK is ok (repeatable, or comma-separated)",
       cli::each_of(&o->required, {"subreaper", "pidfd", "pidfd_exit", "preload", "btf", "tp_btf",
                                   "tracepoint", "bpf_lsm", "cgroup", "pidns", "userns", "bpf"}),
       /*repeatable=*/true},
  };
  return cmd;
}

}  // namespace progeny
