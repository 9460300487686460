#include "launcher/cli/run_options.h"

namespace progeny {

cli::CommandLine run_command_line(RunOptions* o) {
  using namespace cli;
  CommandLine cmd;
  cmd.name = "run";
  cmd.mode = Operands::kStopAtFirst;
  cmd.operand_name = "COMMAND";
  cmd.operand_synopsis = "[--] COMMAND [ARG...]";
  cmd.operand_required = true;
  cmd.max_operands = SIZE_MAX;
  cmd.operand = append(&o->command);
  cmd.brief_synopsis = true;
  cmd.header = "Runs COMMAND and makes sure no process it starts outlives it.\n";
  cmd.footer =
      "Durations: 500ms, 2s, 1.5m, 1h, bare number = seconds. Signals: TERM, SIGTERM, 15.\n"
      "Exit status: COMMAND's own; if COMMAND died of a signal, progeny dies of the same signal;\n"
      "124 timeout; 125 progeny's own error; 126 COMMAND not executable; 127 COMMAND not found;\n"
      "3 with --fail-on-runaway when COMMAND succeeded but left descendants behind;\n"
      "125 also after a stop asked on --control-fd while COMMAND ran (the report says which).\n";
  cmd.options = {
      {"timeout", 't', "DURATION", "stop the whole tree DURATION after COMMAND started, exit 124",
       duration_ms(&o->timeout_ms)},
      {"signal", 's', "SIG", "first signal of the stop sequence (default TERM)",
       signal_number(&o->stop_signal)},
      {"kill-after", 'k', "DURATION", "grace before SIGKILL in the stop sequence (default 5s)",
       duration_ms(&o->kill_after_ms)},
      {"pdeathsig", 0, "SIG|none",
       "signal the whole tree gets when progeny itself dies (default KILL;\n"
       "none: only containment or the tracker then end it)",
       signal_number(&o->pdeathsig, /*none_allowed=*/true)},
      {"parent-death", 0, "none|SIG",
       "a process killed by a signal takes its children: they get SIG\n"
       "(default none: they live on, as they would without progeny)",
       signal_number(&o->parent_death, /*none_allowed=*/true)},
      {"forward", 0, "child|group", "forward signals to COMMAND (default) or its process group",
       choice(&o->forward_group, {{"child", false}, {"group", true}})},
      {"wait", 'w', "",
       "keep running until every descendant has exited\n"
       "(for daemonizing programs; still bounded by --timeout)",
       flag(&o->wait_all)},
      {"log", 'l', "FILE", "write the lineage log (JSON Lines) to FILE", text(&o->log_path)},
      {"report", 0, "FILE",
       "write the verdict (exit status and its meaning, what was left\n"
       "and stopped, what was lost) to FILE at the end, whatever the end",
       text(&o->report_path)},
      {"report-format", 0, "json|junit",
       "--report as JSON (docs/report.schema.json, default) or as a\n"
       "JUnit test case that fails when processes outlived COMMAND",
       choice(&o->report_format, {{"json", ReportFormat::kJson}, {"junit", ReportFormat::kJunit}})},
      {"no-preload", 0, "", "do not inject libprogeny.so", flag(&o->preload, false)},
      {"no-reenv", 0, "", "honour environments scrubbed of progeny's variables",
       flag(&o->reenv, false)},
      {"bpf", 0, "auto|on|off", "in-kernel tracker (default auto: use it when it loads)",
       choice(&o->bpf, {{"auto", Tristate::kAuto}, {"on", Tristate::kOn}, {"off", Tristate::kOff}})},
      {"contain", 0, "auto|cgroup|pidns|none", "kernel containment (default auto)",
       one_of(&o->contain, {"auto", "cgroup", "pidns", "none"})},
      {"limit", 0, "KEY=VALUE[,...]",
       "hold COMMAND's tree to pids=N (processes at once), memory=SIZE\n"
       "(64M: OOM-kill past it), cpu=FRACTION (0.5: half a CPU); exit 125\n"
       "when the host cannot enforce one (progeny doctor says which)",
       limits(&o->limits), /*repeatable=*/true},
      {"limit-cgroup", 0, "DIR",
       "enforce --limit with cgroup v2 in a group made in DIR: a delegated,\n"
       "empty cgroup whose cgroup.subtree_control enables the controllers\n"
       "(default: cgroup v1 groups below progeny's own)",
       text(&o->limit_cgroup)},
      {"trace", 0, "", "print each lineage event on stderr", flag(&o->trace)},
      {"fail-on-runaway", 0, "", "exit 3 when COMMAND succeeded but left descendants running",
       flag(&o->fail_on_runaway)},
      {"settle", 0, "DURATION",
       "with --fail-on-runaway: how long descendants may take to exit\n"
       "on their own after COMMAND before they count (default 2s)",
       duration_ms(&o->settle_ms)},
      {"control-fd", 0, "N",
       "read stop requests from inherited descriptor N: a line \"stop\" runs\n"
       "the stop sequence on the whole tree, \"kill\" SIGKILLs it; EOF is no request",
       descriptor(&o->control_fd)},
      {"verbose", 'v', "", "say what progeny does (each stop step, who got which signal)",
       counter(&o->verbose)},
      {"quiet", 'q', "", "no notice when descendants had to be stopped", flag(&o->quiet)},
  };
  return cmd;
}

}  // namespace progeny
