// Every `progeny tree` format on the fixture log: text marks, JSON and Perfetto that parse,
// DOT that Graphviz accepts, SVG that an XML parser accepts.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "launcher/views/summary.h"
#include "launcher/views/tree_views.h"
#include "launcher/views/view_util.h"
#include "tests/unit/views_log.h"

namespace progeny {
namespace {

using test::line_with;

using test::fixture_log;
using test::LogWriter;

std::string render(void (*fn)(const Lineage&, std::ostream&), const Lineage& lin) {
  std::ostringstream out;
  fn(lin, out);
  return out.str();
}

// The folded views, with everything shown (as `progeny tree` does without options).
std::string render(void (*fn)(const Lineage&, const FoldedTree&, std::ostream&, const TreeLook&),
                   const Lineage& lin, const FoldSpec& fold = {}, const TreeLook& look = {}) {
  std::ostringstream out;
  fn(lin, fold_lineage(lin, {}, fold), out, look);
  return out.str();
}

std::string text_of(const Lineage& lin, bool color) {
  return render(render_text, lin, {}, {color, false});
}

// Writes `content` to a temporary file and runs `cmd FILE`; returns the exit status.
int run_on_file(const std::string& cmd, const std::string& content) {
  char path[] = "/tmp/progeny-views-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  FILE* f = fdopen(fd, "w");
  fwrite(content.data(), 1, content.size(), f);
  fclose(f);
  int status = std::system((cmd + " " + path + " >/dev/null 2>&1").c_str());
  unlink(path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Writes `content` to a temporary file and returns what `cmd FILE` prints.
std::string run_and_capture(const std::string& cmd, const std::string& content) {
  char path[] = "/tmp/progeny-views-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return "";
  FILE* f = fdopen(fd, "w");
  fwrite(content.data(), 1, content.size(), f);
  fclose(f);
  std::string out;
  if (FILE* p = popen((cmd + " " + path + " 2>/dev/null").c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    pclose(p);
  }
  unlink(path);
  return out;
}

// A log whose argv carries what must never reach a terminal or break XML/DOT raw.
Lineage hostile_lineage() {
  LogWriter w;
  w.start(100, {"progeny", "run", "--", "x"});
  w.fork("launcher", 101, 100, 1, "fork");
  w.exec("shim", 101, 2, "/bin/evil", {"placeholder"});
  w.exit_code("launcher", 101, 3, 0);
  Lineage lin = w.lineage();
  // Put straight into the lineage: raw bytes a foreign writer could leave (the log's reader
  // would already have made invalid UTF-8 valid).
  for (auto& p : lin.procs)
    if (p.pid == 101 && !p.execs.empty())
      p.execs.back().argv = {"evil", "\x1b]0;pwned\x07", "<a href=\"&\">", "\\\"}",
                             "</script><img src=x onerror=alert(1)>", "--><script>alert(2)</script>",
                             "\"double\" 'single'", "line\xe2\x80\xa8sep\xe2\x80\xa9para",
                             "bad\xff\xfe utf8 \xc3", "\x1b[31mred"};
  return lin;
}

// No element, attribute or comment of an argv survives into an XML document: every < of the
// argv is text, so the only elements are the view's own.
void expect_no_injected_markup(const std::string& xml) {
  for (const char* raw : {"<img", "<script", "<a href", "--><", "\x1b", "\xff"})
    EXPECT_EQ(xml.find(raw), std::string::npos) << raw;
  EXPECT_NE(xml.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
}

TEST(ViewsText, ShowsTheEscapesAndRunawaysOfEachScenario) {
  std::string t = text_of(fixture_log().lineage(), false);
  std::string daemon = line_with(t, "103 sleep 100");
  EXPECT_NE(daemon.find("[setsid]"), std::string::npos) << t;
  EXPECT_NE(daemon.find("[runaway]"), std::string::npos) << t;
  EXPECT_NE(daemon.find("[outlived parent]"), std::string::npos) << t;
  EXPECT_NE(daemon.find("stopped by progeny (TERM)"), std::string::npos) << t;
  EXPECT_NE(line_with(t, "104 ").find("stopped by progeny (KILL)"), std::string::npos) << t;
  EXPECT_NE(line_with(t, "105 ").find("[setpgid]"), std::string::npos) << t;
  EXPECT_EQ(line_with(t, "106 ").find("[runaway]"), std::string::npos) << t;
  EXPECT_NE(line_with(t, "107 ").find("sh → env → sleep 1"), std::string::npos) << t;
  EXPECT_NE(line_with(t, "108 ").find("[bpf only]"), std::string::npos) << t;
  EXPECT_NE(line_with(t, "101 ").find("[COMMAND]"), std::string::npos) << t;
  // The tree nests the daemon under the intermediate child that created it.
  EXPECT_NE(line_with(t, "103 ").find("│  └─ 103"), std::string::npos) << t;
  EXPECT_NE(t.find("3 runaways"), std::string::npos) << t;
  EXPECT_NE(t.find("2 unreadable log lines"), std::string::npos) << t;
}

TEST(ViewsText, ColourOnlyWhenAsked) {
  Lineage lin = fixture_log().lineage();
  EXPECT_EQ(text_of(lin, false).find('\x1b'), std::string::npos);
  EXPECT_NE(text_of(lin, true).find("\x1b[1;31m[runaway]"), std::string::npos);
}

TEST(ViewsText, ControlCharactersInArgvAreEscaped) {
  std::string t = render(render_text, hostile_lineage(), {}, {false, true});  // whole argv
  EXPECT_EQ(t.find('\x1b'), std::string::npos);
  EXPECT_EQ(t.find('\x07'), std::string::npos);
  EXPECT_NE(t.find("\\x1b]0;pwned\\x07"), std::string::npos) << t;
}

// Characters that reorder or break what a terminal shows are named, not passed through; the
// rest of Unicode is left as it is.
TEST(ViewsText, SeparatorsAndBidiControlsAreNamed) {
  EXPECT_EQ(printable("a\u2028b\u2029c"), "a\\u2028b\\u2029c");
  EXPECT_EQ(printable("ls \u202e\u2066txt.exe\u2069\u200f\u061c"),
            "ls \\u202e\\u2066txt.exe\\u2069\\u200f\\u061c");
  EXPECT_EQ(printable("caf\u00e9 \u2027 \u202f \U0001f600"), "caf\u00e9 \u2027 \u202f \U0001f600");
  std::string t = render(render_text, hostile_lineage(), {}, {false, true});
  EXPECT_EQ(t.find("\u2028"), std::string::npos) << t;
}

TEST(ViewsText, DeepChainsKeepLinesShort) {
  LogWriter w;
  for (int i = 2; i < 2002; ++i) w.fork("shim", i, i - 1, i, "fork");
  std::string t = text_of(w.lineage(), false);
  std::istringstream in(t);
  size_t longest = 0;
  for (std::string line; std::getline(in, line);) longest = std::max(longest, line.size());
  EXPECT_LT(longest, 400u);
  EXPECT_NE(t.find("[depth 1999]"), std::string::npos);
}

TEST(ViewsJson, ParsesAndCarriesTheTree) {
  auto doc = nlohmann::json::parse(render(render_json, fixture_log().lineage()));
  EXPECT_EQ(doc["schema"], "progeny-tree/1");
  EXPECT_EQ(doc["unreadable_lines"], 2);
  auto& procs = doc["processes"];
  ASSERT_EQ(procs.size(), 9u);
  const nlohmann::json* daemon = nullptr;
  for (const auto& p : procs)
    if (p["pid"] == 103) daemon = &p;
  ASSERT_NE(daemon, nullptr);
  EXPECT_EQ(procs[(*daemon)["parent"].get<size_t>()]["pid"], 102);
  EXPECT_EQ((*daemon)["stopped_by_progeny"], "TERM");
  EXPECT_EQ((*daemon)["exit"]["how"], "signaled");
  auto marks = (*daemon)["marks"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(marks.begin(), marks.end(), "runaway"), marks.end());
  EXPECT_EQ(procs[doc["command"].get<size_t>()]["pid"], 101);
}

TEST(ViewsJson, HostileArgvStaysValidJson) {
  auto doc = nlohmann::json::parse(render(render_json, hostile_lineage()));
  EXPECT_EQ(doc["processes"][1]["exec"][0]["argv"][1], "\x1b]0;pwned\x07");
}

TEST(ViewsPerfetto, ParsesWithOneLifetimeSlicePerProcess) {
  Lineage lin = fixture_log().lineage();
  auto doc = nlohmann::json::parse(render(render_perfetto, lin));
  size_t slices = 0, flows = 0, names = 0;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == "X") {
      ++slices;
      EXPECT_GE(e["dur"].get<double>(), 0.0);
    }
    flows += e["ph"] == "s";
    names += e["ph"] == "M" && e["name"] == "process_name";
  }
  EXPECT_EQ(slices, lin.procs.size());
  EXPECT_EQ(names, lin.procs.size());
  EXPECT_EQ(flows, lin.procs.size() - 1);  // every process but the launcher has a creator
}

TEST(ViewsPerfetto, ReusedPidsGetDistinctTracks) {
  LogWriter w;
  w.fork("shim", 50, 1, 1, "fork");
  w.exit_code("launcher", 50, 2, 0);
  w.add("fork", "shim", 50, 3, 777)["ppid"] = 1;
  auto doc = nlohmann::json::parse(render(render_perfetto, w.lineage()));
  std::set<int64_t> tracks;
  for (const auto& e : doc["traceEvents"])
    if (e["ph"] == "X") tracks.insert(e["pid"].get<int64_t>());
  EXPECT_EQ(tracks.size(), 3u);
}

TEST(ViewsSvg, IsWellFormedXml) {
  const char* check = "python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])'";
  ASSERT_EQ(run_on_file(check, "<svg><unclosed></svg>"), 1) << "the checker must reject bad XML";
  std::string svg = render(render_svg, fixture_log().lineage());
  EXPECT_EQ(run_on_file(check, svg), 0) << svg.substr(0, 2000);
  EXPECT_NE(svg.find("COMMAND exited"), std::string::npos);
  std::string hostile = render(render_svg, hostile_lineage(), {}, {false, true});
  EXPECT_EQ(run_on_file(check, hostile), 0) << hostile;
  expect_no_injected_markup(hostile);
  EXPECT_EQ(run_on_file(check, render(render_svg, Lineage{})), 0);
}

TEST(ViewsDot, GraphvizAcceptsIt) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) GTEST_SKIP() << "graphviz not installed";
  ASSERT_NE(run_on_file("dot -Tsvg", "digraph { a -> }"), 0) << "dot must reject bad input";
  std::string dot = render(render_dot, fixture_log().lineage());
  EXPECT_EQ(run_on_file("dot -Tsvg", dot), 0) << dot;
  // 103 hangs under 102, which created it.
  auto node_of = [&](const std::string& label) {
    size_t at = dot.rfind("\n", dot.find("[label=\"" + label));
    return dot.substr(at + 3, dot.find(' ', at + 3) - at - 3);
  };
  EXPECT_NE(dot.find(node_of("102 ") + " -> " + node_of("103 ")), std::string::npos) << dot;
  std::string hostile = render(render_dot, hostile_lineage(), {}, {false, true});
  EXPECT_EQ(run_on_file("dot -Tsvg", hostile), 0) << hostile;
  // Graphviz's own picture of it is XML with the argv as text.
  std::string picture = run_and_capture("dot -Tsvg", hostile);
  EXPECT_EQ(run_on_file("python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])'",
                        picture), 0) << picture;
  expect_no_injected_markup(picture);
}

// Two children one after the other: the first ended at 2 ms by the kernel's clock, but the
// launcher saw it only at 4 ms, after the second's birth at 3 ms. Without the tracker the
// summary can only say "at most 3"; the tracker's exit times make it exact.
TEST(ViewsSummary, MaxAliveIsMarkedAnUpperBoundWhenExitsAreNotKernelTimed) {
  auto sequential = [](bool tracker) {
    LogWriter w;
    w.start(100, {"sh"}).fork("launcher", 101, 100, 1, "spawn");
    w.fork("shim", 102, 101, 1.5, "fork").fork("shim", 103, 101, 3, "fork");
    if (tracker) w.exit_code("bpf", 102, 2, 0).exit_code("bpf", 103, 5, 0);
    w.exit_code("launcher", 102, 4, 0).exit_code("launcher", 103, 6, 0);
    if (tracker) w.exit_code("bpf", 101, 7, 0);
    w.exit_code("launcher", 101, 8, 0);
    return summarize(w.lineage());
  };
  Summary seen = sequential(false), timed = sequential(true);
  EXPECT_EQ(seen.max_alive, 3u);
  EXPECT_TRUE(seen.max_alive_at_most);
  EXPECT_EQ(timed.max_alive, 2u);
  EXPECT_FALSE(timed.max_alive_at_most);
}

TEST(ViewsSummary, CountsMatchTheFixtureShape) {
  Lineage lin = fixture_log().lineage();
  Summary s = summarize(lin);
  EXPECT_EQ(s.processes, 8u);
  EXPECT_EQ(s.max_depth, 3u);   // COMMAND → 102 → 103
  EXPECT_EQ(s.max_alive, 7u);   // everything but 102, which exited at 2.5 ms
  EXPECT_EQ(s.setsid, 2u);
  EXPECT_EQ(s.setpgid, 1u);
  EXPECT_EQ(s.runaways.size(), 3u);
  EXPECT_EQ(s.unreadable_lines, 2u);
  EXPECT_EQ(s.no_creation_record, 0u);
  ASSERT_FALSE(s.executables.empty());
  const ExecutableStats& sh = s.executables[0];
  EXPECT_EQ(sh.path, "/bin/sh");
  EXPECT_EQ(sh.created, 6u);  // 102, 103 (by the forked sh), 104, 105, 106, 107
  EXPECT_EQ(sh.via.at("fork"), 4u);
  EXPECT_EQ(sh.via.at("vfork"), 1u);
  EXPECT_EQ(sh.via.at("posix_spawn"), 1u);
  EXPECT_EQ(sh.setsid, 2u);
  bool env_found = false;
  for (const auto& e : s.executables)
    if (e.path == "/usr/bin/env") {
      env_found = true;
      EXPECT_EQ(e.via.at("bpf"), 1u);
    }
  EXPECT_TRUE(env_found);
}

TEST(ViewsSummary, LostEventsAndThreadForksAreCounted) {
  LogWriter w;
  w.start(100, {"progeny"});
  w.add("fork", "shim", 101, 1).update({{"ppid", 100}, {"tid", 100}, {"via", "fork"}});
  w.add("fork", "shim", 102, 2).update({{"ppid", 101}, {"tid", 150}, {"via", "clone"}});
  w.add("lost", "launcher", 100, 3).update({{"count", 4}, {"what", "shim"}});
  w.add("lost", "launcher", 100, 4).update({{"count", 2}, {"what", "bpf"}});
  Summary s = summarize(w.lineage());
  EXPECT_EQ(s.thread_forks, 1u);
  EXPECT_EQ(s.lost_shim, 4u);
  EXPECT_EQ(s.lost_bpf, 2u);
  EXPECT_EQ(s.unknown_exits, 2u);
}

}  // namespace
}  // namespace progeny

namespace progeny {
namespace {

// busybox re-executes itself through /proc/self/exe: the chain names the applets (argv[0]).
TEST(ViewsText, ExecThroughAnAliasIsNamedByArgv0) {
  test::LogWriter w;
  w.start(100, {"progeny", "run", "--", "busybox"});
  w.fork("bpf", 101, 100, 1, "bpf");
  w.exec("bpf", 101, 2, "/proc/self/exe", {"setsid", "sh", "-c", "x"});
  w.exec("bpf", 101, 3, "/proc/self/exe", {"sh", "-c", "x"});
  w.exec("bpf", 101, 4, "/bin/sleep", {"sleep", "5"});
  w.exit_code("bpf", 101, 5, 0);
  std::string text = text_of(w.lineage(), false);
  EXPECT_NE(text.find("setsid → sh → sleep 5"), std::string::npos) << text;
}

}  // namespace
}  // namespace progeny
