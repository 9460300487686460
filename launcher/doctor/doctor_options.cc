#include "launcher/doctor/doctor_options.h"

#include "launcher/cli/option_kinds.h"
#include "launcher/doctor/doctor_probes.h"

namespace progeny {

cli::CommandLine doctor_command_line(DoctorOptions* o) {
  cli::CommandLine cmd;
  cmd.name = "doctor";
  cmd.header = R"(
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
  pids        a cgroup v1 pids group can be made and set (--limit pids=N)
  memory      a cgroup v1 memory group can be made and set (--limit memory=SIZE)
  cpu         a cgroup v1 cpu group can be made and set (--limit cpu=FRACTION)

One line per check: ok or missing, what was found or why not, then what follows for
progeny; last, what progeny run with its defaults will use.
)";
  cmd.footer = "Exit status: 0 (whatever is missing) unless a --require fails: 1; 125 usage error.\n";
  // The checks are the probes' own names (launcher/doctor/doctor_probes.cc).
  cmd.options = {
      {"require", 0, "CHECK", "exit 1 unless CHECK is ok (repeatable, or comma-separated)",
       cli::each_of(&o->required, probe_names()), /*repeatable=*/true},
  };
  return cmd;
}

}  // namespace progeny
