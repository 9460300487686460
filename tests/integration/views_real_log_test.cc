// The audit views on real lineage logs: `progeny run --log` on the fixture programs (in the
// sandbox), then every `progeny tree` format and `progeny summary` on what it wrote.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/sandbox/sandbox.h"

namespace {

using progeny::test::build_path;
using progeny::test::fixture;
using progeny::test::read_file;
using progeny::test::run_command;
using progeny::test::run_in_sandbox;
using progeny::test::SandboxOptions;
using progeny::test::Scenario;

bool exited_0(int st) { return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0; }

// Runs the fixture under `progeny run --log`, then checks the views of the log; `check`
// gets the parsed `tree --format json` and `summary --format json` documents.
void views_of(const std::vector<std::string>& command,
              const std::function<void(Scenario&, const nlohmann::json&, const nlohmann::json&)>&
                  check) {
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string dir = "/tmp/progeny-views-it-" + std::to_string(getpid());
    std::string log = dir + ".log", out = dir + ".out";
    std::vector<std::string> argv = {build_path("bin/progeny"), "run", "-q", "-k", "300ms",
                                     "--log", log, "--"};
    argv.insert(argv.end(), command.begin(), command.end());
    s.expect(exited_0(run_command(argv, "/dev/null")), "progeny run failed");
    auto view = [&](std::vector<std::string> args) {
      args.insert(args.begin(), build_path("bin/progeny"));
      args.push_back(log);
      int st = run_command(args, out);
      std::string text = read_file(out);
      s.expect(exited_0(st), args[1] + " " + args[2] + " failed: " + text.substr(0, 500));
      return text;
    };
    std::string tree = view({"tree", "--format", "json"});
    std::string summary = view({"summary", "--format", "json"});
    bool parsed = nlohmann::json::accept(tree) && nlohmann::json::accept(summary);
    s.expect(parsed, "tree/summary JSON does not parse:\n" + tree.substr(0, 500));
    if (parsed) check(s, nlohmann::json::parse(tree), nlohmann::json::parse(summary));
    s.expect(nlohmann::json::accept(view({"tree", "--format", "perfetto"})), "perfetto");
    std::string text = view({"tree"});
    s.expect(text.find("[COMMAND]") != std::string::npos, "text tree lacks COMMAND:\n" + text);
    view({"tree", "--format", "svg"});
    int svg_ok = run_command({"/usr/bin/python3", "-c",
                              "import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])",
                              out}, "/dev/null");
    s.expect(exited_0(svg_ok), "svg is not well-formed XML");
    std::string dot = view({"tree", "--format", "dot"});
    if (access("/usr/bin/dot", X_OK) == 0)
      s.expect(exited_0(run_command({"/usr/bin/dot", "-Tsvg", "-o", "/dev/null", out})),
               "dot rejects the graph:\n" + dot.substr(0, 500));
    unlink(log.c_str());
    unlink(out.c_str());
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

size_t count_marked(const nlohmann::json& tree, const std::string& mark) {
  size_t n = 0;
  for (const auto& p : tree["processes"])
    for (const auto& m : p["marks"]) n += m == mark;
  return n;
}

TEST(ViewsRealLog, DoubleForkDaemonsAreSetsidRunawaysUnderTheirCreators) {
  views_of({fixture("double_fork"), "3", "exit"},
           [](Scenario& s, const nlohmann::json& tree, const nlohmann::json& summary) {
             s.expect(!tree["command"].is_null(), "no COMMAND found");
             s.expect(count_marked(tree, "runaway") == 3,
                      "runaways: " + std::to_string(count_marked(tree, "runaway")));
             s.expect(count_marked(tree, "setsid") == 3,
                      "setsid: " + std::to_string(count_marked(tree, "setsid")));
             s.expect(summary["runaways"].size() == 3, "summary runaways");
             s.expect(summary["max_depth"] == 3, "max depth " + summary["max_depth"].dump());
             for (const auto& p : tree["processes"]) {
               bool daemon = false;
               for (const auto& m : p["marks"]) daemon = daemon || m == "runaway";
               if (!daemon) continue;
               // Its creator is the intermediate child, not COMMAND nor progeny.
               const auto& parent = tree["processes"][p["parent"].get<size_t>()];
               s.expect(parent["parent"] == tree["command"], "daemon not under intermediate");
               s.expect(!p["stopped_by_progeny"].is_null(), "daemon not stopped by progeny");
             }
           });
}

TEST(ViewsRealLog, SetpgidEscapeesAreMarked) {
  views_of({fixture("escapee"), "setpgid", "2", "exit"},
           [](Scenario& s, const nlohmann::json& tree, const nlohmann::json& summary) {
             s.expect(count_marked(tree, "setpgid") == 2,
                      "setpgid: " + std::to_string(count_marked(tree, "setpgid")));
             s.expect(count_marked(tree, "runaway") == 4,
                      "runaways: " + std::to_string(count_marked(tree, "runaway")));
             s.expect(summary["setpgid"] == 2, "summary setpgid " + summary["setpgid"].dump());
           });
}

// Every source's record of COMMAND's exec names the path the kernel was given (/bin/sh, a
// symlink to dash here; `sh` found in PATH), so the views show each exec once: the launcher
// used to name /proc/PID/exe's target, a step of its own.
TEST(ViewsRealLog, CommandsExecsShowOnceEach) {
  for (std::string sh : {"/bin/sh", "sh"})
    views_of({sh, "-c", "exec /bin/true"},
             [&](Scenario& s, const nlohmann::json& tree, const nlohmann::json&) {
               if (!s.expect(!tree["command"].is_null(), "no COMMAND found")) return;
               const auto& execs = tree["processes"][tree["command"].get<size_t>()]["exec"];
               std::string paths;
               for (const auto& e : execs) paths += " " + e["path"].get<std::string>();
               s.expect(execs.size() == 2 && paths.ends_with("/sh /bin/true"),
                        sh + ": COMMAND's exec steps:" + paths);
             });
}

// The height of a PNG, from its IHDR chunk; 0 when it is not one.
uint32_t png_height(const std::string& png) {
  if (png.size() < 24 || png.compare(1, 3, "PNG") != 0) return 0;
  uint32_t h = 0;
  for (int k = 20; k < 24; ++k) h = h << 8 | static_cast<unsigned char>(png[static_cast<size_t>(k)]);
  return h;
}

size_t line_count(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A 2000-target make (each recipe `true tN`) folds to a screen of text, and its SVG and DOT
// pictures render with rsvg-convert and dot at most 4000 px tall; --expand shows every
// process, --match finds one target's, --full-argv keeps it whole.
TEST(ViewsRealLog, A2000TargetMakeFoldsToAPicture) {
  constexpr int kTargets = 2000;
  SandboxOptions opts;
  opts.timeout_s = 240;
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        std::string dir = "/tmp/progeny-views-make-" + std::to_string(getpid());
        s.expect(run_command({"/bin/mkdir", "-p", dir}) == 0, "mkdir");
        {
          std::ofstream mk(dir + "/Makefile");
          mk << "all:";
          for (int i = 0; i < kTargets; ++i) mk << " t" << i;
          mk << "\n";
          for (int i = 0; i < kTargets; ++i) mk << "t" << i << ":\n\t@/bin/true t" << i << "\n";
        }
        std::string log = dir + "/run.jsonl", out = dir + "/out";
        int st = run_command({build_path("bin/progeny"), "run", "-q", "--log", log, "--",
                              "/usr/bin/make", "-s", "-j4", "-C", dir},
                             out);
        s.expect(exited_0(st), "progeny run make failed: " + read_file(out));
        auto view = [&](std::vector<std::string> args, const std::string& to) {
          args.insert(args.begin(), build_path("bin/progeny"));
          args.push_back(log);
          s.expect(exited_0(run_command(args, to)), args[1] + " " + args[2] + " failed");
          return read_file(to);
        };
        std::string folded = view({"tree", "--color", "never"}, out);
        s.expect(folded.find(std::to_string(kTargets) + " × /bin/true t") != std::string::npos,
                 "no folded line of the recipes:\n" + folded.substr(0, 2000));
        s.expect(line_count(folded) < 20, "folded tree has " +
                                              std::to_string(line_count(folded)) + " lines");
        std::string expanded = view({"tree", "--expand"}, out);
        s.expect(line_count(expanded) > kTargets, "expanded tree has " +
                                                      std::to_string(line_count(expanded)) + " lines");
        std::string one = view({"tree", "--match", "true t1234"}, out);
        s.expect(one.find("true t1234") != std::string::npos && one.find(" × ") == std::string::npos &&
                     line_count(one) < 10,
                 "--match found:\n" + one.substr(0, 2000));
        view({"tree", "--format", "svg"}, dir + "/tree.svg");
        if (access("/usr/bin/rsvg-convert", X_OK) == 0) {
          s.expect(exited_0(run_command({"/usr/bin/rsvg-convert", "-o", dir + "/svg.png",
                                         dir + "/tree.svg"})),
                   "rsvg-convert refuses the svg");
          uint32_t h = png_height(read_file(dir + "/svg.png"));
          s.expect(h > 0 && h <= 4000, "svg renders " + std::to_string(h) + " px tall");
        }
        view({"tree", "--format", "dot"}, dir + "/tree.dot");
        if (access("/usr/bin/dot", X_OK) == 0) {
          s.expect(exited_0(run_command({"/usr/bin/dot", "-Tpng", "-o", dir + "/dot.png",
                                         dir + "/tree.dot"})),
                   "dot refuses the graph");
          uint32_t h = png_height(read_file(dir + "/dot.png"));
          s.expect(h > 0 && h <= 4000, "dot renders " + std::to_string(h) + " px tall");
        }
        run_command({"/bin/rm", "-rf", dir});
        return 0;
      },
      opts);
  EXPECT_TRUE(r.ok()) << r.describe();
  if (access("/usr/bin/rsvg-convert", X_OK) != 0 || access("/usr/bin/dot", X_OK) != 0)
    GTEST_SKIP() << "rsvg-convert or dot not installed: the pictures were not rendered";
}

}  // namespace
