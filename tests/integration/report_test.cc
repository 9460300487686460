// `progeny run --report FILE`: the verdict of real runs, as JSON that validates against
// docs/report.schema.json (Debian's python3-jsonschema) and as a JUnit file that parses
// (python3's xml.etree), written however the run ends: a leak, a clean run, COMMAND's own
// failure, a timeout, progeny's own error.
#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace {

using progeny::test::exited_with;
using progeny::test::expect_nothing_left;
using progeny::test::fixture;
using progeny::test::progeny_bin;
using progeny::test::read_file;
using progeny::test::run_command;
using progeny::test::run_in_sandbox;
using progeny::test::Scenario;
using progeny::test::status_text;

const std::string kSchema = std::string(PROGENY_SOURCE_DIR) + "/docs/report.schema.json";

// An argument no output may carry raw: a terminal escape, a control byte, invalid UTF-8,
// quotes and markup.
const std::string kHostile = "x\x1b[2J\x01\xff\"<&>'";

class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root (PID namespace, pids cgroup)";
  }
  std::string path(const std::string& what) {
    return "/tmp/progeny-report-test." + std::to_string(::getpid()) + "." + what;
  }
};

// python3 validates `file` against the schema; "" or what it said.
std::string schema_errors(const std::string& file) {
  std::string out = file + ".check";
  int st = run_command({"/usr/bin/python3", "-c",
                        "import json, sys, jsonschema\n"
                        "jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))\n",
                        file, kSchema}, out);
  std::string said = exited_with(st, 0) ? "" : "invalid (" + status_text(st) + "): " + read_file(out);
  ::unlink(out.c_str());
  return said;
}

// python3's xml.etree reads `file`: "failures=N" of its one test case, or why it did not parse.
std::string junit_failures(const std::string& file) {
  std::string out = file + ".check";
  int st = run_command({"/usr/bin/python3", "-c",
                        "import sys, xml.etree.ElementTree as ET\n"
                        "root = ET.parse(sys.argv[1]).getroot()\n"
                        "cases = root.findall('./testsuite/testcase')\n"
                        "assert len(cases) == 1, cases\n"
                        "print('failures=%d' % len(cases[0].findall('failure')), end='')\n",
                        file}, out);
  std::string said = read_file(out);
  ::unlink(out.c_str());
  return exited_with(st, 0) ? said : "did not parse (" + status_text(st) + "): " + said;
}

nlohmann::json load(const std::string& file) {
  return nlohmann::json::parse(read_file(file), nullptr, /*allow_exceptions=*/false);
}

TEST_F(Report, ALeakIsNamedWithIdentityAndEscapeAndValidates) {
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string rep = path("leak.json");
    int st = run_command({progeny_bin(), "run", "-q", "--report", rep, "--", fixture("escapee"),
                          "setsid", "1", "exit", kHostile}, "/dev/null");
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st));
    std::string bad = schema_errors(rep);
    s.expect(bad.empty(), bad);
    auto doc = load(rep);
    s.expect(doc["exit"]["outcome"] == "command_exited" && doc["exit"]["status"] == 0,
             "outcome: " + doc["exit"].dump());
    s.expect(doc["stop"]["why"] == "outlived", "stop: " + doc["stop"].dump());
    s.expect(doc["command"].size() == 5, "command: " + doc["command"].dump());
    auto& left = doc["leftovers"];
    s.expect(left.is_array() && left.size() == 2, "two leftovers expected: " + left.dump());
    bool setsid_named = false;
    for (const auto& l : left) {
      s.expect(l["ino"].is_number() && l["start_time"].is_number(), "no identity: " + l.dump());
      s.expect(l["argv"].is_array() && !l["argv"].empty(), "no argv: " + l.dump());
      s.expect(!l["creator"].is_null(), "no creator: " + l.dump());
      setsid_named |= l["escape"]["kind"] == "setsid";
    }
    s.expect(setsid_named, "the setsid escape is not named: " + left.dump());
    ::unlink(rep.c_str());
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_F(Report, JunitFailsOnALeakAndPassesWithout) {
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string leak = path("leak.xml"), clean = path("clean.xml");
    run_command({progeny_bin(), "run", "-q", "--report", leak, "--report-format", "junit", "--",
                 "/bin/sh", "-c", "(setsid sleep 60 &); exit 0", kHostile}, "/dev/null");
    s.expect(junit_failures(leak) == "failures=1", "leak: " + junit_failures(leak) + "\n" + read_file(leak));
    int st = run_command({progeny_bin(), "run", "--report", clean, "--report-format", "junit", "--",
                          "/bin/sh", "-c", "/bin/true & wait", kHostile}, "/dev/null");
    s.expect(exited_with(st, 0), "clean run gave " + status_text(st));
    s.expect(junit_failures(clean) == "failures=0", "clean: " + junit_failures(clean) + "\n" + read_file(clean));
    ::unlink(leak.c_str());
    ::unlink(clean.c_str());
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// Every way a run ends has its report, and progeny's own 125 is told from COMMAND's.
TEST_F(Report, WrittenHoweverTheRunEnds) {
  struct Case {
    const char* name;
    std::vector<std::string> args;
    int status;
    const char* outcome;
  };
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string rep = path("end.json");
    std::vector<Case> cases = {
        {"command fails", {"--", "/bin/sh", "-c", "exit 125"}, 125, "command_exited"},
        {"timeout", {"-t", "300ms", "--", "/bin/sleep", "30"}, 124, "timeout"},
        {"not found", {"--", "/nonexistent/command"}, 127, "command_not_found"},
        {"own error", {"--log", "/nonexistent/dir/log", "--", "/bin/true"}, 125, "progeny_error"},
        {"usage error", {"--timeout", "soon", "--", "/bin/true"}, 125, "progeny_error"},
    };
    for (const auto& c : cases) {
      std::vector<std::string> argv = {progeny_bin(), "run", "-q", "--report", rep};
      argv.insert(argv.end(), c.args.begin(), c.args.end());
      int st = run_command(argv, "/dev/null");
      s.expect(exited_with(st, c.status), std::string(c.name) + ": progeny gave " + status_text(st));
      std::string bad = schema_errors(rep);
      s.expect(bad.empty(), std::string(c.name) + ": " + bad);
      auto doc = load(rep);
      s.expect(doc["exit"]["outcome"] == c.outcome && doc["exit"]["status"] == c.status,
               std::string(c.name) + ": " + doc["exit"].dump());
      bool own = std::string(c.outcome) == "progeny_error";
      s.expect(own == doc["exit"]["error"].is_string(), std::string(c.name) + ": error " + doc["exit"].dump());
      ::unlink(rep.c_str());
    }
    expect_nothing_left(s);
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

// The report's file is opened like the log: never through a link planted by another user,
// and when it cannot be opened progeny says so in one line and runs nothing.
TEST_F(Report, RefusedFileIsOneLineAnd125) {
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string out = path("refused.out"), marker = path("ran");
    int st = run_command({progeny_bin(), "run", "--report", "/tmp", "--", "/bin/touch", marker}, out);
    std::string said = read_file(out);
    s.expect(exited_with(st, 125), "progeny gave " + status_text(st));
    s.expect(said.rfind("progeny run: --report /tmp: ", 0) == 0 && said.find('\n') == said.size() - 1,
             "not one line: " + said);
    s.expect(::access(marker.c_str(), F_OK) != 0, "COMMAND ran although the report was refused");
    ::unlink(out.c_str());
    ::unlink(marker.c_str());
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
