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

}  // namespace

int doctor_main(int argc, char** argv) {
  DoctorOptions opts;
  if (auto status = cli::parse_main_args(doctor_command_line(&opts), argc, argv)) return *status;

  std::vector<Probe> probes = run_probes();
  std::printf("%-11s %-8s %s\n", "CHECK", "STATUS", "DETAIL / CONSEQUENCE");
  for (const auto& p : probes)
    std::printf("%-11s %-8s %s\n%-20s → %s\n", p.name.c_str(), p.ok ? "ok" : "missing",
                p.detail.c_str(), "", p.consequence.c_str());

  std::printf("\n%s\n", defaults_line(probes).c_str());

  int status = 0;
  for (const auto& name : opts.required) {
    if (!probe_ok(probes, name)) {
      std::fprintf(stderr, "progeny doctor: required check '%s' is missing\n", name.c_str());
      status = 1;
    }
  }
  return status;
}

}  // namespace progeny
