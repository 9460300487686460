// CPython's own test modules (Debian's libpython3.11-testsuite) give the same pass/skip/fail
// set under `progeny run`, default policy, as bare, in every containment x tracker mode
// (issue 12). tests/cpython/run_suites.py runs and compares them, here inside the sandbox,
// which bounds and ends whatever a module leaves. `Quick/` (test_subprocess) is part of
// `make test`; `CPython/` (all six modules) is `make test-cpython`.
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace progeny::test {
namespace {

const std::string kRunner = std::string(PROGENY_SOURCE_DIR) + "/tests/cpython/run_suites.py";
const std::string kTestDir = "/usr/lib/python3.11/test/";

// Extra flags for every progeny run, e.g. PROGENY_CPYTHON_FLAGS=--parent-death=KILL to see
// what the other policy breaks (make test-cpython CPYTHON_FLAGS=...).
std::vector<std::string> extra_flags() {
  std::vector<std::string> out;
  const char* env = std::getenv("PROGENY_CPYTHON_FLAGS");
  std::istringstream in(env ? env : "");
  for (std::string f; in >> f;) out.push_back("--progeny-flag=" + f);
  return out;
}

struct Suites {
  const char* name;
  std::vector<std::string> modules;
};

class CPythonSuites : public ::testing::TestWithParam<Suites> {};

TEST_P(CPythonSuites, SameOutcomesAsBareInEveryMode) {
  REQUIRE_TRACKER();  // also: root, for the sandbox
  for (const auto& m : GetParam().modules)
    if (::access((kTestDir + m + ".py").c_str(), R_OK) != 0)
      GTEST_SKIP() << kTestDir << m << ".py is missing (make deps installs libpython3.11-testsuite)";
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        char dir[] = "/tmp/progeny-cpython-XXXXXX";
        if (!s.expect(::mkdtemp(dir) != nullptr, "mkdtemp")) return 1;
        // Every (mode, module) run at once: most of a module's time is spent waiting.
        std::vector<std::string> argv = {"/usr/bin/python3", kRunner, "--progeny", progeny_bin(),
                                         "--out-dir", dir, "--jobs", "7"};
        for (const auto& f : extra_flags()) argv.push_back(f);
        argv.insert(argv.end(), GetParam().modules.begin(), GetParam().modules.end());
        std::string report = std::string(dir) + "/comparison.txt";
        int st = run_command(argv, report);
        std::istringstream lines(read_file(report));
        for (std::string l; std::getline(lines, l);) s.note(l);  // a note is one line
        s.expect(exited_with(st, 0), "not the same as bare (" + status_text(st) + ")");
        run_command({"/bin/rm", "-rf", dir});
        return 0;
      },
      // The runner bounds each module to 30 minutes; 7 modes x 6 modules go 7 at a time, and on
      // a loaded 2-core machine forkserver alone reached that bound (measured), so the
      // sandbox's own bound must outlast several rounds of it.
      {.timeout_s = 4 * 3600});
  EXPECT_TRUE(r.ok()) << r.describe();
  // The comparison is the measurement: shown on success too.
  for (const auto& n : r.notes) std::cout << n << "\n";
}

INSTANTIATE_TEST_SUITE_P(Quick, CPythonSuites,
                         ::testing::Values(Suites{"subprocess", {"test_subprocess"}}),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(CPython, CPythonSuites,
                         ::testing::Values(Suites{"all",
                                                  {"test_subprocess", "test_os", "test_signal",
                                                   "test_pty", "test_concurrent_futures",
                                                   "test_multiprocessing_forkserver"}}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace progeny::test
