// `progeny doctor`: which containment and tracking mechanisms this host offers, as a table.
#include <cstdio>
#include <string>
#include <vector>

#include "launcher/doctor/commands.h"
#include "launcher/doctor/doctor_options.h"
#include "launcher/os/exit_codes.h"
#include "launcher/doctor/doctor_probes.h"

namespace progeny {

namespace {

bool probe_ok(const std::vector<Probe>& probes, const std::string& name) {
  for (const auto& p : probes)
    if (p.name == name) return p.ok;
  return false;
}

bool requirement_met(const std::vector<Probe>& probes, const std::string& name) {
  if (name == "bpf")
    return probe_ok(probes, "btf") &&
           (probe_ok(probes, "tp_btf") || probe_ok(probes, "tracepoint"));
  return probe_ok(probes, name);
}

}  // namespace

int doctor_main(int argc, char** argv) {
  DoctorOptions opts;
  if (auto status = cli::parse_main_args(doctor_command_line(&opts), argc, argv)) return *status;

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
  for (const auto& name : opts.required) {
    if (!requirement_met(probes, name)) {
      std::fprintf(stderr, "progeny doctor: required check '%s' is missing\n", name.c_str());
      status = 1;
    }
  }
  return status;
}

}  // namespace progeny
