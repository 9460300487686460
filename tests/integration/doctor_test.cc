// `progeny doctor` against `progeny run`, with each mechanism failing for real: the doctor
// says "missing" for a mechanism exactly when the run that needs it exits 125, with the run's
// own reason, and its defaults line says what a run with defaults then does. The failures
// are induced, never simulated: the unprivileged user nobody (no BPF, no cgroup), a copy of
// the binary without its shim next to it, and seccomp filters that make one kernel call fail
// the way a container's profile or an older kernel would. Root with nothing denied is the
// positive case.
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/deny_syscalls.h"
#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace {

using progeny::test::Denial;
using progeny::test::exited_with;
using progeny::test::progeny_bin;
using progeny::test::read_file;
using progeny::test::run_command;
using progeny::test::run_in_sandbox;
using progeny::test::SandboxOptions;
using progeny::test::Scenario;
using progeny::test::status_text;

// A check, and the run that needs that mechanism and nothing else besides what every run
// needs. The shim's run is the one with defaults (-v says what it chose), so the defaults
// line is checked against it.
struct Mechanism {
  const char* check;
  std::vector<std::string> run_args;
};
const std::vector<std::string> kBare = {"--no-preload", "--contain", "none", "--bpf", "off"};
const Mechanism kMechanisms[] = {
    {"subreaper", kBare},
    {"pidfd", kBare},
    {"preload", {"-v"}},
    {"bpf", {"--bpf", "on", "--no-preload", "--contain", "none"}},
    {"cgroup", {"--contain", "cgroup", "--no-preload", "--bpf", "off"}},
    {"pidns", {"--contain", "pidns", "--no-preload", "--bpf", "off"}},
    // The tracker is pids' fallback backend: the run may load it, as the check may.
    {"pids", {"--limit", "pids=1000", "--no-preload", "--contain", "none"}},
    {"memory", {"--limit", "memory=1G", "--no-preload", "--contain", "none", "--bpf", "off"}},
    {"cpu", {"--limit", "cpu=1", "--no-preload", "--contain", "none", "--bpf", "off"}},
};
// What every run asks first, in the run's order.
const std::vector<std::string> kEveryRunNeeds = {"subreaper", "pidfd"};

struct Verdict {
  bool ok = false;
  std::string detail;
};

// The doctor's table: "NAME STATUS DETAIL" in fixed columns, each followed by its
// "→ consequence" line; the defaults line last.
struct Doctor {
  std::map<std::string, Verdict> checks;
  std::string defaults;
};

Doctor parse_doctor(const std::string& out) {
  Doctor d;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("progeny run with defaults will use:")) d.defaults = line;
    std::istringstream words(line);
    std::string name, status;
    words >> name >> status;
    if (status == "ok" || status == "missing")
      d.checks[name] = {status == "ok", line.size() > 21 ? line.substr(21) : ""};
  }
  return d;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// One way to make mechanisms fail, and the verdicts it must produce (checks not named here
// are only held to the agreement with the run).
struct Induced {
  const char* name;
  uid_t uid = 0;
  bool without_shim = false;  // run a copy of progeny with no ../lib/progeny/libprogeny.so
  std::vector<Denial> denials;
  std::map<std::string, bool> expected;
};

// gtest names the case in failure messages by this.
void PrintTo(const Induced& c, std::ostream* os) { *os << c.name; }

bool userns_allowed() {
  std::ifstream in("/proc/sys/user/max_user_namespaces");
  long n = 0;
  return in >> n && n > 0;
}

// Root's tracker must load where CI says so; elsewhere the agreement alone is checked.
std::map<std::string, bool> root_all_ok() {
  std::map<std::string, bool> e = {{"subreaper", true}, {"pidfd", true}, {"preload", true},
                                   {"cgroup", true},    {"pidns", true}};
  if (std::getenv("PROGENY_BPF_MUST_WORK")) e["bpf"] = true;
  return e;
}

std::vector<Induced> inducements() {
  std::vector<Induced> out;
  out.push_back({"RootNothingDenied", 0, false, {}, root_all_ok()});
  out.push_back({"NobodyHasNoBpfNorCgroup", 65534, false, {},
                 {{"subreaper", true}, {"pidfd", true}, {"preload", true}, {"bpf", false},
                  {"cgroup", false}, {"pidns", userns_allowed()}}});
  out.push_back({"BinaryWithoutShim", 0, true, {}, {{"preload", false}, {"subreaper", true}}});
  out.push_back({"SubreaperDenied", 0, false,
                 {{SYS_prctl, EPERM, true, PR_SET_CHILD_SUBREAPER}}, {{"subreaper", false}}});
  out.push_back({"PidfdsDenied", 0, false, {{SYS_pidfd_open, ENOSYS}}, {{"pidfd", false}}});
  out.push_back({"BpfDenied", 0, false, {{SYS_bpf, EPERM}}, {{"bpf", false}}});
  // No clone3 (Docker's default profile, kernels before 5.3): no PID namespace, but cgroup
  // mode falls back to fork and moving the child in.
  out.push_back({"Clone3DeniedAsRoot", 0, false, {{SYS_clone3, ENOSYS}},
                 {{"pidns", false}, {"cgroup", true}}});
  out.push_back({"Clone3DeniedAsNobody", 65534, false, {{SYS_clone3, ENOSYS}}, {{"pidns", false}}});
  return out;
}

class DoctorAgreesWithRun : public ::testing::TestWithParam<Induced> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root (PID namespace, pids cgroup)";
    char tmpl[] = "/tmp/progeny-doctor-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr) << std::strerror(errno);
    dir_ = tmpl;
    ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);  // the scenario may run as nobody
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

// In the scenario: the doctor's verdicts, then each mechanism's run.
void expect_agreement(Scenario& s, const Induced& c, const std::string& progeny,
                      const std::string& out) {
  run_command({progeny, "doctor"}, out);
  std::string table = read_file(out);
  Doctor d = parse_doctor(table);
  s.note(c.name + std::string(":\n") + table);
  for (const auto& [check, ok] : c.expected) {
    s.expect(d.checks.count(check) && d.checks[check].ok == ok,
             std::string("doctor: ") + check + " should be " + (ok ? "ok" : "missing"));
  }
  for (const Mechanism& m : kMechanisms) {
    if (!s.expect(d.checks.count(m.check), std::string("no doctor line for ") + m.check)) continue;
    // The run refuses with the first thing it finds missing, in its own order.
    std::vector<std::string> needs = kEveryRunNeeds;
    needs.push_back(m.check);
    const Verdict* refusal = nullptr;
    for (const auto& n : needs) {
      if (!d.checks[n].ok) {
        refusal = &d.checks[n];
        break;
      }
    }
    std::vector<std::string> argv = {progeny, "run"};
    argv.insert(argv.end(), m.run_args.begin(), m.run_args.end());
    argv.insert(argv.end(), {"--", "/bin/true"});
    int st = run_command(argv, out);
    std::string said = read_file(out);
    std::string what = std::string(m.check) + ": progeny run ended with " + status_text(st);
    if (refusal) {
      s.expect(exited_with(st, 125), what + ", but the doctor said missing: " + refusal->detail);
      s.expect(has(said, refusal->detail),
               what + ": its reason is not the doctor's (" + refusal->detail + "):\n" + said);
    } else {
      s.expect(exited_with(st, 0), what + ", but the doctor said ok:\n" + said);
    }
    if (m.run_args != std::vector<std::string>{"-v"}) continue;
    // The run with defaults: refused exactly when the defaults line says so, and otherwise
    // with the containment and tracker the line named.
    s.expect(has(d.defaults, "exits 125") == (refusal != nullptr), "defaults: " + d.defaults);
    if (refusal) continue;
    s.expect(has(d.defaults, "--contain auto → cgroup") == has(said, "containment cgroup:"),
             d.defaults + "\n" + said);
    s.expect(has(d.defaults, "--bpf auto → tracker on") != has(said, "going on without BPF"),
             d.defaults + "\n" + said);
  }
  progeny::test::expect_nothing_left(s);
}

TEST_P(DoctorAgreesWithRun, VerdictIsTheRunsOwnAnswer) {
  const Induced& c = GetParam();
  std::string progeny = progeny_bin();
  if (c.without_shim) {
    ASSERT_EQ(::mkdir((dir_ + "/bin").c_str(), 0755), 0);
    progeny = dir_ + "/bin/progeny";
    std::filesystem::copy_file(progeny_bin(), progeny);
    ASSERT_EQ(::access((dir_ + "/lib/progeny/libprogeny.so").c_str(), F_OK), -1);
  }
  SandboxOptions opts;
  opts.uid = opts.gid = c.uid;
  std::string out = dir_ + "/out";
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        if (!c.denials.empty() &&
            !s.expect(progeny::test::deny_syscalls(c.denials),
                      std::string("seccomp filter: ") + std::strerror(errno)))
          return 1;
        expect_agreement(s, c, progeny, out);
        return 0;
      },
      opts);
  EXPECT_TRUE(r.ok()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Induced, DoctorAgreesWithRun, ::testing::ValuesIn(inducements()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
