// Folding, filters, sorting, full argv and redaction of the tree views on generated logs of a
// build's shape: each test fails if the feature it names breaks.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "launcher/views/redact.h"
#include "launcher/views/tree_views.h"
#include "tests/unit/views_log.h"

namespace progeny {
namespace {

using test::line_with;

using test::LogWriter;

constexpr int kCompiles = 40;

std::vector<std::string> compile_argv(int k) {
  return {"g++", "-O2", "-g", "-std=c++20", "-Wall", "-Wextra", "-Werror", "-MMD", "-MP",
          "-I.", "-Ibuild/bpf", "-DPROGENY_VERSION=\"0.1.0\"", "-c",
          "src/file" + std::to_string(k) + ".cc", "-o", "obj/file" + std::to_string(k) + ".o"};
}

// progeny 100 → make 101 (COMMAND) → kCompiles × g++ (each running cc1plus and as, exit 0),
// one more g++ that exits 1, and a setsid'd sleep that outlives make (a runaway). Compile k
// lives k+1 ms, so sorting by lifetime reverses them.
LogWriter build_log() {
  LogWriter w;
  w.start(100, {"progeny", "run", "--", "make", "-j4"});
  w.fork("launcher", 101, 100, 0.1, "fork");
  w.exec("shim", 101, 0.2, "/usr/bin/make", {"make", "-j4"}, 100);
  int pid = 200;
  auto compile = [&](int k, double at, double life, int code) {
    int gxx = pid++;
    w.fork("shim", gxx, 101, at, "vfork");
    w.exec("shim", gxx, at + 0.01, "/usr/bin/g++", compile_argv(k), 101);
    for (const char* tool : {"/usr/lib/gcc/cc1plus", "/usr/bin/as"}) {
      int t = pid++;
      w.fork("shim", t, gxx, at + 0.02, "vfork");
      w.exec("shim", t, at + 0.03, tool, {base_name(tool), "x"}, gxx);
      w.exit_code("launcher", t, at + life / 2, 0);
    }
    w.exit_code("launcher", gxx, at + life, code);
  };
  for (int k = 0; k < kCompiles; ++k) compile(k, 1 + k * 0.1, k + 1, 0);
  compile(99, 2, 3, 1);
  w.fork("shim", 900, 101, 3, "fork");
  w.add("setsid", "shim", 900, 3.1)["sid"] = 900;
  w.exec("shim", 900, 3.2, "/usr/bin/sleep", {"sleep", "1000"}, 101);
  w.exit_code("launcher", 101, 100, 0);
  w.signal(100, 900, 101, "TERM", "stop");
  w.exit_signal("bpf", 900, 102, 15);
  return w;
}

std::string text(const Lineage& lin, const FilterSpec& filter = {}, const FoldSpec& fold = {},
                 bool full_argv = false) {
  std::ostringstream out;
  render_text(lin, fold_lineage(lin, filter, fold), out, {false, full_argv});
  return out.str();
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

TEST(ViewsFold, IdenticalSiblingsFoldWithTheirCount) {
  std::string t = text(build_log().lineage());
  std::string gxx = line_with(t, "40 × g++");
  EXPECT_NE(gxx.find("exit 0"), std::string::npos) << t;
  EXPECT_NE(gxx.find("pids 200, 203, 206, … 317"), std::string::npos) << t;
  // Their children fold across the whole group.
  EXPECT_NE(line_with(t, "40 × cc1plus").find("exit 0"), std::string::npos) << t;
  EXPECT_NE(line_with(t, "40 × as").find("exit 0"), std::string::npos) << t;
  // The failing compile and the runaway ended otherwise: each stays on its own.
  EXPECT_NE(line_with(t, "320 g++").find("exit 1"), std::string::npos) << t;
  EXPECT_NE(line_with(t, "900 sleep 1000").find("[runaway]"), std::string::npos) << t;
  EXPECT_EQ(count(t, "g++"), 2u) << t;
  EXPECT_NE(t.find("--expand shows each"), std::string::npos) << t;
}

// A group shows its first member's command: when the members ran different command lines
// (40 compiles of 40 files), the group says how many; when they ran the same one (40 × cc1plus
// x), it says nothing. In text, svg and dot alike (group_pids).
TEST(ViewsFold, AGroupSaysWhenItsMembersRanDifferentCommandLines) {
  Lineage lin = build_log().lineage();
  std::string t = text(lin);
  EXPECT_NE(line_with(t, "40 × g++").find("; 40 different command lines"), std::string::npos) << t;
  EXPECT_EQ(line_with(t, "40 × cc1plus").find("different command lines"), std::string::npos) << t;
  FoldedTree folded = fold_lineage(lin, {}, {});
  std::ostringstream dot, svg;
  render_dot(lin, folded, dot, {});
  render_svg(lin, folded, svg, {});
  EXPECT_NE(dot.str().find("40 different command lines"), std::string::npos);
  EXPECT_NE(svg.str().find("40 different command lines"), std::string::npos);
}

TEST(ViewsFold, ExpandShowsEveryProcess) {
  std::string t = text(build_log().lineage(), {}, {true, SortKey::kStart});
  EXPECT_EQ(count(t, " g++ "), kCompiles + 1u) << t;
  EXPECT_EQ(count(t, " cc1plus "), kCompiles + 1u) << t;
  EXPECT_EQ(t.find(" × "), std::string::npos) << t;
}

TEST(ViewsFold, SvgAndDotDrawGroups) {
  Lineage lin = build_log().lineage();
  FoldedTree folded = fold_lineage(lin, {}, {});
  FoldedTree expanded = fold_lineage(lin, {}, {true, SortKey::kStart});
  // progeny, make, g++ ×40, its cc1plus and as, the failing g++ with its two, the sleep.
  EXPECT_EQ(folded.groups.size(), 9u);
  EXPECT_EQ(expanded.groups.size(), lin.procs.size());
  EXPECT_EQ(folded.shown, lin.procs.size());
  std::ostringstream svg, big, dot;
  render_svg(lin, folded, svg, {});
  render_svg(lin, expanded, big, {});
  render_dot(lin, folded, dot, {});
  EXPECT_NE(svg.str().find("40 × g++"), std::string::npos);
  EXPECT_LT(svg.str().find("height=\""), svg.str().size());
  auto height = [](const std::string& s) {
    size_t at = s.find("height=\"") + 8;
    return std::stod(s.substr(at, s.find('"', at) - at));
  };
  EXPECT_LT(height(svg.str()) * 5, height(big.str()));  // 9 rows against 126
  EXPECT_EQ(count(dot.str(), "[label="), 9u + 8u) << dot.str();  // 9 nodes, 8 edges
  EXPECT_NE(dot.str().find("40 × g++"), std::string::npos);
}

TEST(ViewsFilter, FailuresShowTheFailingAndTheWayToIt) {
  FilterSpec f;
  f.failures = true;
  std::string t = text(build_log().lineage(), f);
  EXPECT_NE(line_with(t, "320 g++").find("exit 1"), std::string::npos) << t;
  EXPECT_NE(line_with(t, "· 101 make").find("[COMMAND]"), std::string::npos) << t;
  EXPECT_NE(line_with(t, "900 sleep").find("stopped by progeny (TERM)"), std::string::npos) << t;
  EXPECT_EQ(t.find("× g++"), std::string::npos) << t;
  EXPECT_EQ(t.find("cc1plus"), std::string::npos) << t;
}

TEST(ViewsFilter, RunawaysOnly) {
  FilterSpec f;
  f.runaways = true;
  std::string t = text(build_log().lineage(), f);
  EXPECT_NE(t.find("900 sleep 1000"), std::string::npos) << t;
  EXPECT_EQ(t.find("g++"), std::string::npos) << t;
}

TEST(ViewsFilter, MatchIsASubstringOfTheCommandLine) {
  FilterSpec f;
  f.match = "src/file17.cc";
  std::string t = text(build_log().lineage(), f);
  EXPECT_EQ(count(t, "g++"), 1u) << t;
  EXPECT_NE(line_with(t, "g++").find("file17.cc"), std::string::npos) << t;
  f.match = "file1?.cc";  // not a pattern: matches nothing
  EXPECT_EQ(text(build_log().lineage(), f).find("g++"), std::string::npos);
}

TEST(ViewsFilter, PidSubtreeAndMaxDepth) {
  FilterSpec f;
  f.subtree = 320;
  std::string t = text(build_log().lineage(), f);
  EXPECT_EQ(t.rfind("320 g++", 0), 0u) << t;  // the subtree's top is the first line
  EXPECT_NE(t.find("cc1plus"), std::string::npos) << t;
  EXPECT_EQ(t.find("make"), std::string::npos) << t;
  FilterSpec d;
  d.max_depth = 1;
  t = text(build_log().lineage(), d);
  EXPECT_NE(line_with(t, "101 make").find("(+" + std::to_string(3 * (kCompiles + 1) + 1) +
                                          " below --max-depth)"),
            std::string::npos)
      << t;
  EXPECT_EQ(t.find("g++"), std::string::npos) << t;
}

TEST(ViewsSort, ByLifetimePutsTheLongestFirst) {
  FoldSpec by_life{true, SortKey::kLifetime};
  std::string start = text(build_log().lineage(), {}, {true, SortKey::kStart});
  std::string life = text(build_log().lineage(), {}, by_life);
  EXPECT_LT(start.find("file0.cc"), start.find("file39.cc"));
  EXPECT_GT(life.find("file0.cc"), life.find("file39.cc"));
  // The runaway lived longest of make's children (3 ms to 102 ms).
  EXPECT_LT(life.find("900 sleep"), life.find("g++")) << life;
}

TEST(ViewsArgv, LongCommandsKeepTheProgramAndTheTail) {
  std::string t = text(build_log().lineage(), {}, {true, SortKey::kStart});
  std::string l = line_with(t, "file17.cc");
  EXPECT_NE(l.find("g++ … "), std::string::npos) << l;
  EXPECT_NE(l.find("-c src/file17.cc -o obj/file17.o"), std::string::npos) << l;
  EXPECT_EQ(l.find("-Wextra"), std::string::npos) << l;
  EXPECT_NE(t.find("--full-argv shows them whole"), std::string::npos) << t;
}

TEST(ViewsArgv, FullArgvWrapsEveryArgument) {
  std::string t = text(build_log().lineage(), {}, {true, SortKey::kStart}, true);
  size_t at = t.find("g++ -O2 -g -std=c++20");
  ASSERT_NE(at, std::string::npos) << t;
  // Every argument of compile 17, in order, with nothing cut.
  std::string from17 = t.substr(t.find("251 g++"));
  size_t pos = 0;
  for (const auto& a : compile_argv(17)) {
    std::string shown = a.find('"') == std::string::npos ? a : "'" + a + "'";
    size_t next = from17.find(shown, pos);
    ASSERT_NE(next, std::string::npos) << shown << " missing in\n" << from17.substr(0, 600);
    pos = next + shown.size();
  }
  std::istringstream in(t);
  for (std::string line; std::getline(in, line);) EXPECT_LE(line.size(), 200u) << line;
  EXPECT_EQ(t.find("--full-argv shows"), std::string::npos);
}

TEST(ViewsArgv, ARecordsCutShowsTheWholeSize) {
  LogWriter w;
  w.start(100, {"progeny", "run", "--", "x"});
  w.fork("launcher", 101, 100, 1, "fork");
  w.add("exec", "shim", 101, 2).update({{"path", "/bin/x"}, {"argv", {"x", "a"}},
                                        {"argv_truncated", true}, {"argv_bytes", 131072}});
  std::string t = text(w.lineage());
  EXPECT_NE(line_with(t, "101 x a").find("…[131072 bytes]"), std::string::npos) << t;
}

TEST(ViewsRedact, SecretsLeaveNoFormat) {
  LogWriter w = build_log();
  w.fork("shim", 950, 101, 4, "fork");
  w.exec("shim", 950, 4.1, "/usr/bin/curl",
         {"curl", "-H", "Authorization: Bearer s3cr3t-t0ken", "--api-token=hunter2", "x"}, 101);
  w.exit_code("launcher", 950, 5, 0);
  Lineage lin = w.lineage();
  redact_argv(&lin, {"Bearer ", "token="});
  std::string s = test::every_view(lin);
  EXPECT_EQ(s.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(s.find("hunter2"), std::string::npos);
  EXPECT_NE(s.find("Authorization: [redacted]"), std::string::npos) << s.substr(0, 3000);
  EXPECT_NE(s.find("--api-[redacted]"), std::string::npos);
  EXPECT_NE(s.find("src/file3.cc"), std::string::npos);  // the rest stays
}

}  // namespace
}  // namespace progeny
