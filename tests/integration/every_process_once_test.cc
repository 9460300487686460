// Every process once, with its exit, in every mode and every view (issue 10), each on a real
// run in the sandbox: make of 200 and 2000 targets (the truth is make plus one process per
// target), a static COMMAND without the tracker, COMMAND in a PID namespace and under
// `progeny watch`, Python pools judged by --fail-on-runaway, a leak under --timeout named with
// its creator, --trace once per event, and argv no JSON reader could read before.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "launcher/os/fd.h"
#include "launcher/os/proc.h"
#include "launcher/os/sys.h"
#include "schema/protocol.h"
#include "schema/record.h"
#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace progeny::test {
namespace {

using json = nlohmann::json;

std::string temp_dir(const char* name) {
  std::string tmpl = std::string("/tmp/progeny-") + name + "-XXXXXX";
  return ::mkdtemp(tmpl.data()) ? tmpl : "/tmp";
}

void remove_tree(const std::string& dir) { run_command({"/bin/rm", "-rf", dir}); }

// A run mode: progeny's flags, and whether it needs the tracker.
struct Mode {
  const char* name;
  std::vector<std::string> flags;
  bool tracker;
};

const std::vector<Mode>& every_mode() {
  static const std::vector<Mode> modes = {
      {"shim_only", {"--contain", "none", "--bpf", "off"}, false},
      {"cgroup_shim", {"--contain", "cgroup", "--bpf", "off"}, false},
      {"pidns_shim", {"--contain", "pidns", "--bpf", "off"}, false},
      {"tracker_shim", {"--contain", "none", "--bpf", "on"}, true},
      {"tracker_only", {"--contain", "none", "--bpf", "on", "--no-preload"}, true},
      {"pidns_tracker", {"--contain", "pidns", "--bpf", "on"}, true},
      {"default", {}, true},  // as root: cgroup, tracker and shim
  };
  return modes;
}

std::vector<std::string> progeny_run(const Mode& m, std::vector<std::string> extra,
                                     const std::vector<std::string>& command) {
  std::vector<std::string> argv = {progeny_bin(), "run"};
  argv.insert(argv.end(), m.flags.begin(), m.flags.end());
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

// The log as every reader must see it: each line strict JSON (nlohmann rejects invalid UTF-8)
// within the size limit, and a schema-1 record for progeny's own reader.
struct Log {
  std::vector<Record> records;
  std::vector<std::string> problems;
};

Log read_log(const std::string& path) {
  Log log;
  std::istringstream in(read_file(path));
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    std::string where = "line " + std::to_string(n) + ": ";
    if (line.size() + 1 > PROGENY_MAX_RECORD)
      log.problems.push_back(where + std::to_string(line.size() + 1) + " bytes");
    try {
      json parsed = json::parse(line);
      if (!parsed.is_object()) log.problems.push_back(where + "not an object");
    } catch (const std::exception& e) {
      log.problems.push_back(where + "not JSON (" + e.what() + ")");
    }
    std::string why;
    if (auto r = parse_record(line, &why)) log.records.push_back(std::move(*r));
    else log.problems.push_back(where + "not a record (" + why + ")");
  }
  return log;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "\n  " + s;
  return out;
}

// One exit per (process, source): the log's promise.
std::vector<std::string> repeated_exits(const Log& log) {
  std::map<std::pair<uint64_t, std::string>, int> exits;
  std::vector<std::string> out;
  for (const Record& r : log.records)
    if (r.event == "exit" && r.ino && ++exits[{*r.ino, r.source}] == 2)
      out.push_back(std::to_string(r.pid) + " from " + r.source);
  return out;
}

// `progeny tree --format json LOG`, and the nodes of COMMAND's subtree (COMMAND included).
struct TreeView {
  json doc;
  std::vector<const json*> subtree;
};

TreeView tree_of(Scenario& s, const std::string& log) {
  TreeView v;
  std::string out = log + ".tree.json";
  int st = run_command({"/bin/sh", "-c", progeny_bin() + " tree --format json '" + log + "' >'" +
                                             out + "'"});
  s.expect(exited_with(st, 0), "progeny tree gave " + status_text(st));
  try {
    v.doc = json::parse(read_file(out));
  } catch (const std::exception& e) {
    s.fail(std::string("the tree is not JSON: ") + e.what());
    return v;
  }
  ::unlink(out.c_str());
  if (!v.doc["command"].is_number()) {
    s.fail("the tree names no COMMAND");
    return v;
  }
  const json& procs = v.doc["processes"];
  std::vector<size_t> todo = {v.doc["command"].get<size_t>()};
  while (!todo.empty()) {
    size_t id = todo.back();
    todo.pop_back();
    v.subtree.push_back(&procs[id]);
    for (const auto& c : procs[id]["children"]) todo.push_back(c.get<size_t>());
  }
  return v;
}

std::string summary_of(const std::string& log) {
  std::string out = log + ".summary";
  run_command({progeny_bin(), "summary", log}, out);
  std::string text = read_file(out);
  ::unlink(out.c_str());
  return text;
}

void skip_unless_root() {
  if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root";
}

// --- make of N targets: make plus N processes, each once, each with its exit ---

struct MakeCase {
  Mode mode;
  int targets;
};

class MakeTargets : public ::testing::TestWithParam<MakeCase> {};

TEST_P(MakeTargets, EveryProcessOnceWithItsExit) {
  skip_unless_root();
  const MakeCase& c = GetParam();
  if (c.mode.tracker) REQUIRE_TRACKER();
  std::string dir = temp_dir("make");
  {
    // Recipes without shell syntax: make runs each one directly, so the truth is 1 + N.
    std::ofstream mk(dir + "/Makefile");
    mk << "all:";
    for (int i = 0; i < c.targets; ++i) mk << " t" << i;
    mk << "\n";
    for (int i = 0; i < c.targets; ++i) mk << "t" << i << ":\n\t@/bin/true\n";
  }
  std::string log = dir + "/run.jsonl";
  SandboxOptions opts;
  opts.timeout_s = 240;
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        int st = run_command(progeny_run(c.mode, {"-q", "--log", log},
                                         {"/usr/bin/make", "-s", "-j4", "-C", dir}),
                             dir + "/out");
        s.expect(exited_with(st, 0), "progeny gave " + status_text(st) + ": " + read_file(dir + "/out"));
        expect_nothing_left(s);
        Log l = read_log(log);
        s.expect(l.problems.empty(), "unreadable log lines:" + joined(l.problems));
        auto repeats = repeated_exits(l);
        s.expect(repeats.empty(), "exits written twice:" + joined(repeats));
        size_t truth = static_cast<size_t>(c.targets) + 1;
        TreeView v = tree_of(s, log);
        s.expect(v.subtree.size() == truth, "the tree shows " + std::to_string(v.subtree.size()) +
                                                " processes under COMMAND, the truth is " +
                                                std::to_string(truth));
        size_t unknown = 0, nonzero = 0, trues = 0;
        for (const json* p : v.subtree) {
          const json& e = (*p)["exit"];
          if (e["how"] != "exited") ++unknown;
          else if (e["code"] != 0) ++nonzero;
          if (!(*p)["exec"].empty() && (*p)["exec"].back()["path"] == "/bin/true") ++trues;
        }
        s.expect(unknown == 0, std::to_string(unknown) + " processes without an observed exit");
        s.expect(nonzero == 0, std::to_string(nonzero) + " processes with a non-zero exit");
        s.expect(trues == static_cast<size_t>(c.targets),
                 std::to_string(trues) + " of " + std::to_string(c.targets) + " recipes seen exec'd");
        std::string sum = summary_of(log);
        s.expect(sum.find("Processes: " + std::to_string(truth) + " ") != std::string::npos,
                 "the summary disagrees:\n" + sum);
        s.expect(sum.find(" 0 exits unobserved") != std::string::npos, "exits unobserved:\n" + sum);
        return 0;
      },
      opts);
  remove_tree(dir);
  EXPECT_TRUE(r.ok()) << r.describe();
}

// `make test`: 200 targets in every mode, 2000 in the default one; `make test-long` (CI runs
// both) the 2000 in every other mode, about 40 s each on a loaded 2-core machine.
std::vector<MakeCase> make_cases(bool long_run) {
  std::vector<MakeCase> out;
  for (const Mode& m : every_mode()) {
    bool is_default = std::string(m.name) == "default";
    if (!long_run) out.push_back({m, 200});
    if (long_run != is_default) out.push_back({m, 2000});
  }
  return out;
}

std::string make_case_name(const ::testing::TestParamInfo<MakeCase>& info) {
  return std::string(info.param.mode.name) + "_" + std::to_string(info.param.targets);
}

INSTANTIATE_TEST_SUITE_P(Modes, MakeTargets, ::testing::ValuesIn(make_cases(false)), make_case_name);
INSTANTIATE_TEST_SUITE_P(Long, MakeTargets, ::testing::ValuesIn(make_cases(true)), make_case_name);

// --- COMMAND is COMMAND: static without the tracker, in a PID namespace, under watch ---

class Command : public ::testing::Test {
 protected:
  void SetUp() override { skip_unless_root(); }
};

// A static busybox: only the launcher knows COMMAND; its setsid child is found by the walk.
// The summary counts what stderr said was stopped, and how it escaped, and its creator is not
// made up.
TEST_F(Command, StaticWithoutTheTrackerIsNamedAndItsRunawayCounted) {
  for (const char* contain : {"none", "cgroup"}) {
    std::string dir = temp_dir("static");
    std::string log = dir + "/run.jsonl";
    auto r = run_in_sandbox([&](Scenario& s) {
      int st = run_command({progeny_bin(), "run", "--contain", contain, "--bpf", "off", "--log",
                            log, "--", "/bin/busybox", "sh", "-c",
                            "busybox setsid busybox sleep 60 & busybox sleep 0.2; exit 0"},
                           dir + "/err");
      std::string err = read_file(dir + "/err");
      s.expect(exited_with(st, 0), "progeny gave " + status_text(st) + ": " + err);
      s.expect(err.find("1 process outlived COMMAND") != std::string::npos, "stderr:\n" + err);
      s.expect(err.find("creator unknown") != std::string::npos,
               "an adopted orphan's creator is made up:\n" + err);
      expect_nothing_left(s);
      std::string sum = summary_of(log);
      s.expect(sum.find("Runaways (still running when progeny's stop began): 1\n") != std::string::npos,
               "the summary does not count the runaway:\n" + sum);
      // Without the tracker an exit is timed when the launcher sees it: an upper bound.
      s.expect(sum.find("Max alive at once: 2 at most (") != std::string::npos ||
                   sum.find("Max alive at once: 1 at most (") != std::string::npos,
               "max alive out of range, or not marked an upper bound:\n" + sum);
      s.expect(sum.find("COMMAND ") != std::string::npos &&
                   sum.find("/bin/busybox sh -c") != std::string::npos,
               "COMMAND is not named:\n" + sum);
      s.expect(sum.find("(creator unknown; adopted by progeny)") != std::string::npos,
               "the runaway's creator is made up:\n" + sum);
      // No shim ran in it: its setsid is what /proc said at the stop, written by the launcher,
      // so the views count the escape stderr reported.
      s.expect(sum.find("Escapes: 1 called setsid, 0 called setpgid") != std::string::npos,
               "the views miss the escape the stop reported:\n" + sum);
      s.expect(read_file(log).find("\"event\":\"setsid\",\"source\":\"launcher\"") !=
                   std::string::npos,
               "no launcher setsid record in the log");
      TreeView v = tree_of(s, log);
      s.expect(v.subtree.size() == 1, "COMMAND's subtree should be COMMAND alone (its child was "
                                      "adopted before anyone saw it)");
      return 0;
    });
    remove_tree(dir);
    EXPECT_TRUE(r.ok()) << contain << ": " << r.describe();
  }
}

// In a PID namespace, COMMAND is PID 3 under progeny's init and intermediate: the views mark
// COMMAND (not the init), by its host pid, and -v names that pid.
TEST_F(Command, InAPidNamespaceIsTheProgramNotTheInit) {
  for (bool tracker : {false, true}) {
    if (tracker && !tracker_unavailable().empty()) continue;  // the shim-only pass still ran
    std::string dir = temp_dir("pidns-cmd");
    std::string log = dir + "/run.jsonl";
    auto r = run_in_sandbox([&](Scenario& s) {
      int st = run_command({progeny_bin(), "run", "-v", "--contain", "pidns", "--bpf",
                            tracker ? "on" : "off", "--log", log, "--", "/bin/sh", "-c",
                            "/bin/true; exit 5"},
                           dir + "/err");
      std::string err = read_file(dir + "/err");
      s.expect(exited_with(st, 5), "progeny gave " + status_text(st) + ": " + err);
      TreeView v = tree_of(s, log);
      if (v.subtree.empty()) return 0;
      const json& cmd = *v.subtree.front();
      s.expect(!cmd["exec"].empty() && cmd["exec"].front()["argv"][0] == "/bin/sh",
               "COMMAND is not /bin/sh: " + cmd.dump());
      s.expect(cmd["exit"]["how"] == "exited" && cmd["exit"]["code"] == 5,
               "COMMAND's exit is not its own: " + cmd["exit"].dump());
      std::string pid = std::to_string(cmd["pid"].get<int>());
      s.expect(err.find("started /bin/sh as pid " + pid + " ") != std::string::npos,
               "-v does not name COMMAND's pid " + pid + ":\n" + err);
      std::string text = log + ".txt";
      run_command({progeny_bin(), "tree", log}, text);
      std::string tree = read_file(text);
      ::unlink(text.c_str());
      size_t marked = tree.find("[COMMAND]");
      size_t line = tree.rfind('\n', marked);
      s.expect(marked != std::string::npos &&
                   tree.substr(line + 1, marked - line).find(pid + " /bin/sh -c") != std::string::npos,
               "the text tree marks another process as COMMAND:\n" + tree);
      return 0;
    });
    remove_tree(dir);
    EXPECT_TRUE(r.ok()) << (tracker ? "tracker: " : "shim: ") << r.describe();
  }
}

// `progeny watch PID`: the watched process is COMMAND (with its own argv, not progeny's), and
// children that ended before it are no runaways.
TEST_F(Command, UnderWatchIsTheWatchedProcess) {
  REQUIRE_TRACKER();
  std::string dir = temp_dir("watch");
  std::string log = dir + "/watch.jsonl";
  auto r = run_in_sandbox([&](Scenario& s) {
    // The watched shell starts its children once the watcher is attached (a line on stdin).
    int go[2];
    if (!s.expect(::pipe2(go, O_CLOEXEC) == 0, "pipe")) return 1;
    pid_t target = ::fork();
    if (target == 0) {
      ::dup2(go[0], 0);
      ::execl("/bin/sh", "/bin/sh", "-c", "read x; for i in 1 2 3; do /bin/true; done; exit 0",
              nullptr);
      ::_exit(127);
    }
    ::close(go[0]);
    auto watcher = start_command({progeny_bin(), "watch", "--log", log, std::to_string(target)});
    bool attached = false;
    for (int i = 0; i < 4000 && !attached; ++i) {
      attached = read_file(log).find("\"role\":\"command\"") != std::string::npos;
      if (!attached) ::usleep(5000);
    }
    s.expect(attached, "watch never named its process");
    s.expect(::write(go[1], "go\n", 3) == 3, "write go");
    ::close(go[1]);
    int st = wait_status(target, 20000);
    s.expect(exited_with(st, 0), "the watched shell gave " + status_text(st));
    st = wait_status(watcher.pid, 20000);
    s.expect(exited_with(st, 0), "watch gave " + status_text(st));
    TreeView v = tree_of(s, log);
    if (v.subtree.empty()) return 0;
    const json& cmd = *v.subtree.front();
    s.expect(cmd["pid"] == target, "COMMAND is " + cmd["pid"].dump() + ", not the watched " +
                                       std::to_string(target));
    s.expect(v.subtree.size() == 4, "the watched tree has " + std::to_string(v.subtree.size()) +
                                        " processes, the truth is 4");
    std::string sum = summary_of(log);
    s.expect(sum.find("Runaways (alive after COMMAND exited): 0\n") != std::string::npos,
             "fake runaways:\n" + sum);
    std::string text = log + ".txt";
    run_command({progeny_bin(), "tree", log}, text);
    std::string tree = read_file(text);
    ::unlink(text.c_str());
    size_t marked = tree.find("[COMMAND]");
    size_t line = marked == std::string::npos ? 0 : tree.rfind('\n', marked);
    s.expect(marked != std::string::npos &&
                 tree.substr(line + 1, marked - line).find(std::to_string(target) + " /bin/sh -c") !=
                     std::string::npos,
             "the watched process is not drawn as COMMAND:\n" + tree);
    expect_nothing_left(s);
    return 0;
  });
  remove_tree(dir);
  EXPECT_TRUE(r.ok()) << r.describe();
}

// --- Honest CI verdicts ---

class Verdict : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    skip_unless_root();
    if (GetParam().tracker) REQUIRE_TRACKER();
  }
};

// Well-behaved Python pools: their helpers (the resource tracker, the forkserver) exit on their
// own just after the main process; the settle lets them, so a clean program never fails CI.
// 20 runs take about 50 s on a loaded machine: the default mode in `make test`, the others
// in `make test-long`.
class Pools : public Verdict {};

TEST_P(Pools, PythonPoolsPassFailOnRunawayEveryTime) {
  std::string dir = temp_dir("pools");
  {
    std::ofstream py(dir + "/pool.py");
    py << "import multiprocessing as mp, sys\n"
          "def square(x):\n    return x * x\n"
          "if __name__ == '__main__':\n"
          "    with mp.get_context(sys.argv[1]).Pool(3) as pool:\n"
          "        assert sum(pool.map(square, range(50))) == 40425\n";
  }
  SandboxOptions opts;
  opts.timeout_s = 300;
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        int passed = 0;
        std::string failures;
        for (int i = 0; i < 20; ++i) {
          const char* method = i % 2 ? "forkserver" : "spawn";
          int st = run_command(progeny_run(GetParam(), {"--fail-on-runaway"},
                                           {"/usr/bin/python3", dir + "/pool.py", method}),
                               dir + "/err");
          if (exited_with(st, 0)) ++passed;
          else failures += std::string("\n  ") + method + ": " + status_text(st) + ": " + read_file(dir + "/err");
        }
        s.expect(passed == 20, std::to_string(passed) + " of 20 runs exited 0:" + failures);
        expect_nothing_left(s);
        return 0;
      },
      opts);
  remove_tree(dir);
  EXPECT_TRUE(r.ok()) << r.describe();
}

// A real leak under --wait and a timeout: the timeout's status, and the report says what was
// left and who created it (a child of COMMAND that exited, not "progeny").
TEST_P(Verdict, LeakUnderATimeoutIsReportedWithItsCreator) {
  std::string dir = temp_dir("leak");
  std::string log = dir + "/run.jsonl";
  auto r = run_in_sandbox([&](Scenario& s) {
    int st = run_command(progeny_run(GetParam(), {"--wait", "-t", "1s", "--fail-on-runaway", "--log", log},
                                     {"/bin/sh", "-c", "(setsid sleep 300 &); exit 0"}),
                         dir + "/err");
    std::string err = read_file(dir + "/err");
    s.expect(exited_with(st, 124), "progeny gave " + status_text(st) + ":\n" + err);
    expect_nothing_left(s);
    size_t at = err.find("sleep 300");
    s.expect(err.find("timeout after") != std::string::npos && at != std::string::npos,
             "the leak is not reported:\n" + err);
    if (at == std::string::npos) return 0;
    std::string line = err.substr(at, err.find('\n', at) - at);
    // The truth from the log: the sleep's creator is the subshell, COMMAND's child.
    Log l = read_log(log);
    pid_t command = 0;
    for (const Record& rec : l.records)
      if (rec.event == "fork" && rec.role == "command") command = rec.pid;
    std::set<pid_t> children_of_command;
    for (const Record& rec : l.records)
      if (rec.event == "fork" && rec.ppid == command) children_of_command.insert(rec.pid);
    size_t by = line.find("created by ");
    pid_t creator = by == std::string::npos ? 0 : std::atoi(line.c_str() + by + 11);
    s.expect(children_of_command.count(creator) == 1,
             "the creator named is not COMMAND's child (COMMAND " + std::to_string(command) +
                 "): " + line);
    return 0;
  });
  remove_tree(dir);
  EXPECT_TRUE(r.ok()) << r.describe();
}

std::string mode_name(const ::testing::TestParamInfo<Mode>& info) { return info.param.name; }

std::vector<Mode> modes_where(bool is_default) {
  std::vector<Mode> out;
  for (const Mode& m : every_mode())
    if ((std::string(m.name) == "default") == is_default) out.push_back(m);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Modes, Verdict, ::testing::ValuesIn(every_mode()), mode_name);

// --- Fork children gone before the launcher reads a word of theirs ---

// COMMAND forks 50 children that exit 7 at once and reaps each, all while the launcher is
// stopped: when it reads their records they are reaped, so only a pidfd that came with a
// record (a fork child passes its own with its birth record) still tells their exits. Each
// must be in the log once with its code 7, none unknown.
class ReapedUnread : public ::testing::TestWithParam<Mode> {};

TEST_P(ReapedUnread, ForkChildrenKeepTheirExits) {
  skip_unless_root();
  if (GetParam().tracker) REQUIRE_TRACKER();
  std::string dir = temp_dir("unread");
  std::string log = dir + "/run.jsonl";
  {
    std::ofstream py(dir + "/forks.py");
    py << "import os, sys, time\n"
          "d = sys.argv[1]\n"
          "open(d + '/ready', 'w').close()\n"
          "for _ in range(6000):\n"
          "    if os.path.exists(d + '/go'): break\n"
          "    time.sleep(0.01)\n"
          "for _ in range(50):\n"
          "    p = os.fork()\n"
          "    if p == 0: os._exit(7)\n"
          "    os.waitpid(p, 0)\n"
          "open(d + '/done', 'w').close()\n";
  }
  auto r = run_in_sandbox([&](Scenario& s) {
    Started c = start_command(progeny_run(GetParam(), {"-q", "--log", log},
                                          {"/usr/bin/python3", dir + "/forks.py", dir}));
    Fd launcher = open_pidfd(c.pid);
    s.expect(wait_until([&] { return exists(dir + "/ready"); }, 60000), "COMMAND never started");
    signal_pidfd(launcher.get(), SIGSTOP);
    s.expect(wait_until([&] { auto st = read_proc_stat(c.pid); return st && st->state == 'T'; }, 60000),
             "the launcher did not stop");
    ::close(::open((dir + "/go").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    s.expect(wait_until([&] { return exists(dir + "/done"); }, 60000), "the children were not all reaped");
    signal_pidfd(launcher.get(), SIGCONT);  // on every path
    int st = wait_status(c.pid, 120000);
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st));
    ::close(c.out_fd);
    // The children by identity (pids in a PID namespace name other processes in ours):
    // the fork records whose parent is the python that ran forks.py.
    Log got = read_log(log);
    std::set<uint64_t> python, kids;
    for (const Record& rec : got.records)
      if (rec.event == "exec" && rec.ino && rec.argv.size() > 1 && rec.argv[1] == dir + "/forks.py")
        python.insert(*rec.ino);
    for (const Record& rec : got.records)
      if (rec.event == "fork" && rec.ino && rec.parent_ino && python.count(*rec.parent_ino))
        kids.insert(*rec.ino);
    s.expect(kids.size() == 50, std::to_string(kids.size()) + " children in the log, not 50");
    std::map<uint64_t, std::vector<std::string>> exits;
    for (const Record& rec : got.records)
      if (rec.event == "exit" && rec.ino && kids.count(*rec.ino))
        exits[*rec.ino].push_back(rec.source + ": " +
                                  (rec.unknown ? "unknown"
                                   : rec.code  ? "code " + std::to_string(*rec.code)
                                               : "a signal"));
    // One exit per source that knows the children (the tracker when it runs, the launcher
    // when the shim does), each 7.
    const auto& flags = GetParam().flags;
    bool shim = std::find(flags.begin(), flags.end(), "--no-preload") == flags.end();
    std::vector<std::string> want;
    if (GetParam().tracker) want.push_back("bpf: code 7");
    if (shim) want.push_back("launcher: code 7");
    std::vector<std::string> wrong;
    for (uint64_t k : kids) {
      std::vector<std::string> e = exits[k];
      std::sort(e.begin(), e.end());
      if (e != want) {
        std::string all;
        for (const auto& x : e) all += " [" + x + "]";
        wrong.push_back("ino " + std::to_string(k) + ":" + (all.empty() ? " no exit" : all));
      }
    }
    s.expect(wrong.empty(), "children without their exit 7, once per source:" + joined(wrong));
    expect_nothing_left(s);
    return 0;
  });
  remove_tree(dir);
  EXPECT_TRUE(r.ok()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Modes, ReapedUnread, ::testing::ValuesIn(every_mode()), mode_name);

// --- a busy tree is read in batches (launcher/os/batch_window.h) ---

// How often a process has gone to sleep and been woken (voluntary context switches).
long wakeups_of(pid_t pid) {
  std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  const std::string key = "\nvoluntary_ctxt_switches:\t";
  size_t at = status.find(key);
  return at == std::string::npos ? -1 : std::atol(status.c_str() + at + key.size());
}

class Batched : public ::testing::TestWithParam<Mode> {};

// How often the launcher and (shim-only) the keeper wake up while COMMAND forks kChildren
// children one a millisecond (paced_forks; with life_ms each exits after that long, else only
// after the count), and that every child is in the log with its fork and its exit 0 all the same.
struct Wakes {
  long launcher = -1, keeper = -1;
  double seconds = 0;  // from the first fork to the last
};
constexpr int kChildren = 300;
// Batched, a reader wakes at most once per 5 ms window (and a few times for what is urgent),
// however long a loaded machine stretches the stream.
long batched_bound(const Wakes& w) { return static_cast<long>(w.seconds * 1000 / 5) + 20; }
Wakes wakes_for_paced_children(Scenario& s, const Mode& mode, const std::string& dir,
                               int life_ms = -1) {
  std::string log = dir + "/run.jsonl";
  std::string paced = fixture("paced_forks");
  std::vector<std::string> command = {paced, std::to_string(kChildren), "1000", dir};
  if (life_ms >= 0) command.push_back(std::to_string(life_ms));
  Started c = start_command(progeny_run(mode, {"-q", "--log", log}, command));
  Wakes w;
  s.expect(wait_until([&] { return exists(dir + "/ready"); }, 60000), "COMMAND never started");
  bool shim_only = mode.flags == every_mode()[0].flags;  // the one mode with a keeper
  pid_t keeper = shim_only ? wait_for_keeper(s) : 0;
  s.expect(!shim_only || keeper != 0, "no keeper in shim-only mode");
  long launcher_before = wakeups_of(c.pid), keeper_before = keeper ? wakeups_of(keeper) : 0;
  auto go = std::chrono::steady_clock::now();
  ::close(::open((dir + "/go").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  s.expect(wait_until([&] { return exists(dir + "/done"); }, 120000), "the children were not all made");
  w.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - go).count();
  long launcher_after = wakeups_of(c.pid), keeper_after = keeper ? wakeups_of(keeper) : 0;
  if (launcher_before >= 0 && launcher_after >= launcher_before)
    w.launcher = launcher_after - launcher_before;
  if (keeper_before >= 0 && keeper_after >= keeper_before) w.keeper = keeper_after - keeper_before;
  ::close(::open((dir + "/end").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  int st = wait_status(c.pid, 120000);
  s.expect(exited_with(st, 0), "progeny gave " + status_text(st));
  ::close(c.out_fd);
  s.note("launcher woke " + std::to_string(w.launcher) + " times, keeper " +
         std::to_string(w.keeper) + ", for " + std::to_string(kChildren) + " children");
  Log got = read_log(log);
  std::set<uint64_t> parent, kids, exited;
  for (const Record& rec : got.records)
    if (rec.event == "exec" && rec.ino && !rec.argv.empty() && rec.argv[0] == paced)
      parent.insert(*rec.ino);
  for (const Record& rec : got.records)
    if (rec.event == "fork" && rec.ino && rec.parent_ino && parent.count(*rec.parent_ino))
      kids.insert(*rec.ino);
  for (const Record& rec : got.records)
    if (rec.event == "exit" && rec.ino && kids.count(*rec.ino) && rec.code && *rec.code == 0)
      exited.insert(*rec.ino);
  s.expect(kids.size() == kChildren && exited.size() == kChildren,
           std::to_string(kids.size()) + " children in the log, " + std::to_string(exited.size()) +
               " with their exit 0, not " + std::to_string(kChildren));
  expect_nothing_left(s);
  return w;
}

// 300 children, all exiting only after the count, each reported (and handing in a lifeline in
// shim-only mode): read one at a time, the launcher and the keeper wake about once per child
// (~300 in 0.4-0.7 s); read in batches of a 5 ms window, at most once per window. The launcher batches only with the tracker (its exits carry the kernel's
// time; without it an exit learnt from a late record would be stamped late); the keeper always.
TEST_P(Batched, AStreamOfChildrenWakesTheLauncherOnlyOncePerBatch) {
  skip_unless_root();
  if (GetParam().tracker) REQUIRE_TRACKER();
  std::string dir = temp_dir("batched");
  auto r = run_in_sandbox([&](Scenario& s) {
    Wakes w = wakes_for_paced_children(s, GetParam(), dir);
    std::string in = " times in " + std::to_string(w.seconds) + " s for " +
                     std::to_string(kChildren) + " children (bound " +
                     std::to_string(batched_bound(w)) + ")";
    s.expect(w.launcher >= 0 && (!GetParam().tracker || w.launcher <= batched_bound(w)),
             "the launcher woke " + std::to_string(w.launcher) + in);
    s.expect(w.keeper >= 0 && w.keeper <= batched_bound(w),
             "the keeper woke " + std::to_string(w.keeper) + in);
    return 0;
  });
  remove_tree(dir);
  for (const auto& n : r.notes) std::printf("%s\n", n.c_str());
  EXPECT_TRUE(r.ok()) << r.describe();
}

// The same stream, each child exiting 20 ms after its birth (a member by then, its exit
// watched): with the tracker the exits wait for the batch too (the log's exit time is the
// kernel's), so the launcher still wakes at most once per two children; without it each
// exit is seen (and stamped) as it happens.
class BatchedExits : public ::testing::TestWithParam<Mode> {};

TEST_P(BatchedExits, ShortLivedChildrenWakeTheLauncherOnlyOncePerBatch) {
  skip_unless_root();
  REQUIRE_TRACKER();
  std::string dir = temp_dir("batched_exits");
  auto r = run_in_sandbox([&](Scenario& s) {
    Wakes w = wakes_for_paced_children(s, GetParam(), dir, 20);
    // 44-60 in 0.45 s here; read as they come, about one per exit (129-149).
    long bound = batched_bound(w);
    s.expect(w.launcher >= 0 && w.launcher <= bound,
             "the launcher woke " + std::to_string(w.launcher) + " times in " +
                 std::to_string(w.seconds) + " s for " + std::to_string(kChildren) +
                 " children that exited one a millisecond (bound " + std::to_string(bound) + ")");
    return 0;
  });
  remove_tree(dir);
  for (const auto& n : r.notes) std::printf("%s\n", n.c_str());
  EXPECT_TRUE(r.ok()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Modes, Batched, ::testing::ValuesIn(every_mode()), mode_name);
INSTANTIATE_TEST_SUITE_P(Modes, BatchedExits, ::testing::ValuesIn([] {
                           std::vector<Mode> out;
                           for (const Mode& m : every_mode())
                             if (m.tracker) out.push_back(m);
                           return out;
                         }()), mode_name);
INSTANTIATE_TEST_SUITE_P(Modes, Pools, ::testing::ValuesIn(modes_where(true)), mode_name);
INSTANTIATE_TEST_SUITE_P(Long, Pools, ::testing::ValuesIn(modes_where(false)), mode_name);

// --- --trace: each event once, in time order within the reorder window ---

TEST(Trace, EachEventOnceInTimeOrder) {
  skip_unless_root();
  REQUIRE_TRACKER();  // the tracker and the shim both report every fork, exec and exit
  std::string dir = temp_dir("trace");
  auto r = run_in_sandbox([&](Scenario& s) {
    int st = run_command({progeny_bin(), "run", "--trace", "--", "/bin/sh", "-c",
                          "for i in 1 2 3 4 5; do /bin/true; done; (sleep 0.05 &); sh -c 'exec /bin/true'"},
                         dir + "/err");
    std::string err = read_file(dir + "/err");
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st) + ":\n" + err);
    std::map<std::string, int> seen;
    std::vector<std::string> twice;
    double last = -1, worst_back = 0;
    std::istringstream lines(err);
    size_t events = 0;
    for (std::string l; std::getline(lines, l);) {
      if (l.rfind("progeny: +", 0) != 0) continue;
      double t = std::atof(l.c_str() + 10);
      if (last >= 0 && t < last) worst_back = std::max(worst_back, last - t);
      last = std::max(last, t);
      std::string rest = l.substr(l.find(' ', 10) + 1);
      // "PID fork ...", "PID exec ...", "PID (comm) exit ...": the event without its time.
      if (rest.find(" fork ") == std::string::npos && rest.find(" exec ") == std::string::npos &&
          rest.find(" exit ") == std::string::npos)
        continue;
      ++events;
      if (++seen[rest] == 2) twice.push_back(rest);
    }
    s.expect(events >= 20, "too few events traced (" + std::to_string(events) + "):\n" + err);
    s.expect(twice.empty(), "printed more than once:" + joined(twice) + "\n" + err);
    s.expect(worst_back == 0, "out of order by " + std::to_string(worst_back) + " s:\n" + err);
    return 0;
  });
  remove_tree(dir);
  EXPECT_TRUE(r.ok()) << r.describe();
}

// --- argv no reader could read: invalid UTF-8, 100k arguments, a shim exec record to cut ---

class HostileArgv : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    skip_unless_root();
    if (GetParam().tracker) REQUIRE_TRACKER();
  }
};

TEST_P(HostileArgv, EveryLineIsJsonWithinTheLimit) {
  std::string dir = temp_dir("argv");
  std::string log = dir + "/run.jsonl";
  // Overlong NUL, a code point past U+10FFFF, a byte that starts nothing, a lone
  // continuation, a cut sequence, U+2028 (legal, but a line break to JavaScript).
  const std::vector<std::string> bad = {"\xC0\x80", "\xF4\x90\x80\x80", "\xF5\x80", "\x80",
                                        "\xE2\x82", "\xE2\x80\xA8", "ok\"\\\n\t\x01"};
  auto r = run_in_sandbox([&](Scenario& s) {
    std::vector<std::string> cmd = {"/bin/sh", "-c",
                                    "/bin/echo \"$@\" >/dev/null; /bin/true $(seq 10000 11000)",
                                    "sh"};
    cmd.insert(cmd.end(), bad.begin(), bad.end());
    int st = run_command(progeny_run(GetParam(), {"-q", "--log", log}, cmd), dir + "/err");
    s.expect(exited_with(st, 0), "progeny gave " + status_text(st) + ": " + read_file(dir + "/err"));
    // 100,000 arguments: the start record is cut, not dropped.
    std::string big_log = dir + "/big.jsonl";
    std::vector<std::string> many = {"/bin/true"};
    for (int i = 0; i < 100000; ++i) many.push_back(std::to_string(i));
    st = run_command(progeny_run(GetParam(), {"-q", "--log", big_log}, many), dir + "/err");
    s.expect(exited_with(st, 0), "100k args: progeny gave " + status_text(st));

    Log l = read_log(log);
    s.expect(l.problems.empty(), "unreadable lines:" + joined(l.problems));
    bool echo_seen = false, cut_true_seen = false;
    for (const Record& rec : l.records) {
      if (rec.event != "exec") continue;
      if (rec.path == "/bin/echo" && rec.argv.size() == bad.size() + 1) {
        echo_seen = true;
        // Invalid bytes read back as U+00XX each (the documented rule); valid text as itself.
        s.expect(rec.argv[1] == "\u00C0\u0080", "overlong NUL read back as " + rec.argv[1]);
        s.expect(rec.argv[4] == "\u0080", "lone continuation read back as " + rec.argv[4]);
        s.expect(rec.argv[6] == "\xE2\x80\xA8", "U+2028 changed: " + rec.argv[6]);
        s.expect(rec.argv[7] == bad[6], "quotes and controls changed: " + rec.argv[7]);
      }
      if (rec.path == "/bin/true" && rec.argv_truncated) {
        cut_true_seen = true;
        // The tracker copies a fixed block and cannot tell the whole size; the shim can.
        if (rec.source == "shim")
          s.expect(rec.argv_bytes.value_or(0) > PROGENY_MAX_RECORD,
                   "a cut shim argv without its whole size");
      }
    }
    s.expect(echo_seen, "no exec record of /bin/echo with its hostile argv");
    s.expect(cut_true_seen, "no cut exec record of /bin/true with 1001 arguments");
    Log big = read_log(big_log);
    s.expect(big.problems.empty(), "100k args: unreadable lines:" + joined(big.problems));
    bool start_cut = false;
    for (const Record& rec : big.records)
      if (rec.event == "start") start_cut = rec.argv_truncated && rec.argv_bytes.value_or(0) > 500000;
    s.expect(start_cut, "the start record of 100k arguments is not cut with its size");
    std::string sum = summary_of(big_log);
    s.expect(sum.find("Processes: 1 ") != std::string::npos, "100k args summary:\n" + sum);
    return 0;
  });
  remove_tree(dir);
  EXPECT_TRUE(r.ok()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Modes, HostileArgv, ::testing::ValuesIn(every_mode()), mode_name);

}  // namespace
}  // namespace progeny::test
