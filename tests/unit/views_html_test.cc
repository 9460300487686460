// `progeny tree --format html`: the page's data element on generated logs. That hostile argv
// can neither end the element nor break JSON.parse, that the data carries every process with
// the runaway report's judgement of how each runaway escaped, and that the page loads
// nothing. (The script itself is checked in chromium: tests/integration/html_report_test.cc.)
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "launcher/views/tree_views.h"
#include "tests/unit/views_log.h"

namespace progeny {
namespace {

using test::fixture_log;
using test::LogWriter;

std::string html_of(const Lineage& lin) {
  std::ostringstream out;
  render_html(lin, out);
  return out.str();
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The JSON inside <script type="application/json" id="progeny-data">.
nlohmann::json data_of(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"progeny-data\">";
  size_t from = page.find(open);
  if (from == std::string::npos) return nullptr;
  from += open.size();
  return nlohmann::json::parse(page.substr(from, page.find("</script>", from) - from));
}

const nlohmann::json* proc_with_pid(const nlohmann::json& data, int pid) {
  for (const auto& p : data["procs"])
    if (p["pid"] == pid) return &p;
  return nullptr;
}

const std::vector<std::string> kHostile = {
    "evil", "</script><img src=x onerror=alert(1)>", "<!--", "--><script>alert(2)</script>",
    "\"quoted\" 'single' `back`", "line\xe2\x80\xa8sep\xe2\x80\xa9para", "bad\xff\xfe utf8",
    "</SCRIPT >", "\x1b]0;pwned\x07"};

// The log reader turns invalid UTF-8 into valid text (\u00XX is Latin-1), so the raw bytes a
// foreign writer could leave are put into the lineage directly.
Lineage hostile_lineage() {
  LogWriter w;
  w.start(100, {"progeny", "run", "--", "x"});
  w.fork("launcher", 101, 100, 1, "fork");
  w.exec("shim", 101, 2, "/bin/</script>", {"placeholder"});
  w.exit_code("launcher", 101, 3, 0);
  Lineage lin = w.lineage();
  for (auto& p : lin.procs)
    if (p.pid == 101 && !p.execs.empty()) p.execs.back().argv = kHostile;
  return lin;
}

TEST(ViewsHtml, HostileArgvCannotLeaveTheDataElement) {
  std::string page = html_of(hostile_lineage());
  // The page's own two script elements end; nothing in the data ends one or opens a comment.
  EXPECT_EQ(count(page, "</script>"), 2U);
  EXPECT_EQ(count(page, "</SCRIPT"), 0U);
  EXPECT_EQ(count(page, "<!--"), 0U);
  EXPECT_EQ(count(page, "<img"), 0U);
  // U+2028/U+2029 end lines in older JavaScript readers: escaped, never raw.
  EXPECT_EQ(page.find("\xe2\x80\xa8"), std::string::npos);
  EXPECT_EQ(page.find("\xe2\x80\xa9"), std::string::npos);
  EXPECT_EQ(page.find('\xff'), std::string::npos);
}

TEST(ViewsHtml, HostileArgvReadsBackAsWritten) {
  nlohmann::json data = data_of(html_of(hostile_lineage()));
  ASSERT_TRUE(data.is_object());
  const nlohmann::json* p = proc_with_pid(data, 101);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ((*p)["execs"].size(), 1U);
  const auto& argv = (*p)["execs"][0]["argv"];
  ASSERT_EQ(argv.size(), kHostile.size());
  // Valid text comes back byte for byte; bytes that are not (invalid UTF-8, controls) come
  // back as the \xNN every other view shows, and the separators that break lines as \uXXXX.
  for (size_t k : {1, 2, 3, 4, 7}) EXPECT_EQ(argv[k], kHostile[k]) << k;
  EXPECT_EQ(argv[5], "line\\u2028sep\\u2029para");
  EXPECT_EQ(argv[6], "bad\\xff\\xfe utf8");
  EXPECT_EQ(argv[8], "\\x1b]0;pwned\\x07");
  EXPECT_EQ((*p)["execs"][0]["path"], "/bin/</script>");
  EXPECT_NE((*p)["line"].get<std::string>().find("<img src=x onerror=alert(1)>"), std::string::npos);
}

TEST(ViewsHtml, DataCarriesEveryProcessAndHowEachRunawayEscaped) {
  Lineage lin = fixture_log().lineage();
  nlohmann::json data = data_of(html_of(lin));
  ASSERT_TRUE(data.is_object());
  ASSERT_EQ(data["procs"].size(), lin.procs.size());
  for (size_t i = 0; i < lin.procs.size(); ++i) {
    const auto& p = data["procs"][i];
    EXPECT_EQ(p["pid"], lin.procs[i].pid);
    EXPECT_EQ(p["kids"].size(), lin.procs[i].children.size());
    EXPECT_EQ(p["escape"].is_null(), !lin.procs[i].runaway) << lin.procs[i].pid;
  }
  const nlohmann::json* daemon = proc_with_pid(data, 103);   // double fork, then setsid
  const nlohmann::json* group = proc_with_pid(data, 105);    // setpgid
  const nlohmann::json* command = proc_with_pid(data, 101);
  ASSERT_TRUE(daemon && group && command);
  EXPECT_EQ((*daemon)["escape"]["kind"], "setsid");
  EXPECT_EQ((*daemon)["escape"]["text"], "called setsid");
  EXPECT_EQ((*group)["escape"]["kind"], "setpgid");
  EXPECT_EQ((*command)["command"], true);
  EXPECT_EQ((*command)["exit"], "exit 0");
  EXPECT_EQ((*command)["class"], "ok");
  EXPECT_EQ((*proc_with_pid(data, 108))["class"], "fail");  // exit 3
  EXPECT_EQ((*command)["cost"]["lifetime_ns"], 9'900'000);  // forked at 0.1 ms, exited at 10
}

TEST(ViewsHtml, SiblingsRunningTheSameProgramShareAFoldKey) {
  LogWriter w;
  w.start(100, {"progeny", "run", "--", "make"});
  w.fork("launcher", 101, 100, 1, "fork");
  w.exec("shim", 101, 1.1, "/usr/bin/make", {"make", "-j4"});
  for (int pid : {102, 103, 104}) {
    w.fork("shim", pid, 101, 2, "vfork");
    w.exec("shim", pid, 2.1, "/usr/bin/g++", {"g++", "-c", "f" + std::to_string(pid) + ".cc"});
    w.exit_code("launcher", pid, 3, 0);
  }
  nlohmann::json data = data_of(html_of(w.lineage()));
  ASSERT_TRUE(data.is_object());
  EXPECT_EQ((*proc_with_pid(data, 102))["key"], "g++");
  EXPECT_EQ((*proc_with_pid(data, 102))["key"], (*proc_with_pid(data, 104))["key"]);
  EXPECT_NE((*proc_with_pid(data, 102))["line"], (*proc_with_pid(data, 104))["line"]);
  EXPECT_NE((*proc_with_pid(data, 101))["key"], (*proc_with_pid(data, 102))["key"]);
}

TEST(ViewsHtml, ThePageLoadsNothing) {
  std::string page = html_of(fixture_log().lineage());
  for (const char* ref : {"src=", "href=", "url(", "@import", "http:", "https:", "<link", "<iframe"})
    EXPECT_EQ(page.find(ref), std::string::npos) << ref;
  // An empty log still makes a page with its data.
  EXPECT_TRUE(data_of(html_of(Lineage{})).is_object());
}

// The page ranks siblings by the figures --sort uses (fold.h's sort_value) and opens with the
// command line's filters and order in its fragment.
TEST(ViewsHtml, CarriesTheSortFiguresAndTheCommandLinesStart) {
  Lineage lin = fixture_log().lineage();
  nlohmann::json plain = data_of(html_of(lin));
  ASSERT_TRUE(plain.is_object());
  EXPECT_TRUE(plain["start"].empty()) << plain["start"];
  for (size_t i = 0; i < lin.procs.size(); ++i)
    for (const SortName& s : kSortNames) {
      auto v = sort_value(lin.procs[i], s.key);
      const auto& got = plain["procs"][i]["rank"][s.name];
      if (v) EXPECT_EQ(got, *v) << i << " " << s.name;
      else EXPECT_TRUE(got.is_null()) << i << " " << s.name;
    }
  FilterSpec filter;
  filter.failures = true;
  filter.match = "</script>";
  filter.subtree = 101;
  filter.max_depth = 2;
  std::ostringstream out;
  render_html(lin, out, filter, {true, SortKey::kCpu});
  nlohmann::json start = data_of(out.str())["start"];
  EXPECT_EQ(start, nlohmann::json({{"filter", "failures"}, {"argv", "</script>"}, {"pid", "101"},
                                   {"depth", "2"}, {"expand", "all"}, {"sort", "cpu"}}));
}

}  // namespace
}  // namespace progeny
