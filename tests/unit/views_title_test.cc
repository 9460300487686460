// Process titles (issue 13, "Names that mean something"): a process that rewrote its argv area
// shows that title in every view, folds apart from a sibling with another title, and its
// title is escaped and redacted like argv. A title that is only its argv is not news.
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

// The tracker's exit record of pid, with its title.
void titled_exit(LogWriter& w, int pid, double ms, std::vector<std::string> title) {
  w.add("exit", "bpf", pid, ms).update({{"code", 0}, {"title", title}});
}

// progeny 100 → postgres 101 (COMMAND) → forked, never exec'd: 102 the checkpointer, 103 and
// 104 two walwriters, 105 a child that kept the postmaster's argv; and 106, an nginx that
// exec'd and then retitled itself.
LogWriter postgres_log() {
  LogWriter w;
  w.start(100, {"progeny", "run", "--", "postgres", "-D", "/tmp/db"});
  w.fork("launcher", 101, 100, 0.1, "fork");
  w.exec("shim", 101, 0.2, "/usr/lib/postgresql/17/bin/postgres", {"postgres", "-D", "/tmp/db"}, 100);
  for (int pid : {102, 103, 104, 105}) w.fork("shim", pid, 101, 1 + (pid - 102) * 0.1, "fork");
  w.fork("shim", 106, 101, 2, "fork");
  w.exec("shim", 106, 2.1, "/usr/sbin/nginx", {"nginx", "-g", "daemon off;"}, 101);
  titled_exit(w, 102, 5, {"postgres: checkpointer "});
  titled_exit(w, 103, 5.1, {"postgres: walwriter "});
  titled_exit(w, 104, 5.2, {"postgres: walwriter "});
  titled_exit(w, 105, 5.3, {"postgres", "-D", "/tmp/db"});
  titled_exit(w, 106, 5.4, {"nginx: master process nginx -g daemon off;"});
  titled_exit(w, 101, 6, {"postgres", "-D", "/tmp/db"});
  w.exit_code("launcher", 101, 6.1, 0);
  return w;
}

std::string text(const Lineage& lin, const FoldSpec& fold = {}) {
  std::ostringstream out;
  render_text(lin, fold_lineage(lin, {}, fold), out, {false, false});
  return out.str();
}

nlohmann::json node(const nlohmann::json& doc, int pid) {
  for (const auto& p : doc["processes"])
    if (p["pid"] == pid) return p;
  return nullptr;
}

// The JSON inside the page's data element.
nlohmann::json html_data(const Lineage& lin) {
  std::ostringstream out;
  render_html(lin, out);
  std::string page = out.str();
  const std::string open = "<script type=\"application/json\" id=\"progeny-data\">";
  size_t from = page.find(open) + open.size();
  return nlohmann::json::parse(page.substr(from, page.find("</script>", from) - from));
}

TEST(ViewsTitle, TextShowsTheTitleAndTheImageAndFoldsByTitle) {
  std::string t = text(postgres_log().lineage());
  EXPECT_NE(line_with(t, "102 postgres: checkpointer {postgres}"), "") << t;
  // The two walwriters are one row; the checkpointer is not folded with them.
  EXPECT_NE(line_with(t, "2 × postgres: walwriter {postgres}"), "") << t;
  EXPECT_EQ(line_with(t, "checkpointer").find("×"), std::string::npos) << t;
  // A title that is the postmaster's argv says nothing: the image alone, as before.
  EXPECT_NE(line_with(t, "105 {postgres}"), "") << t;
  EXPECT_EQ(line_with(t, "101 ").find("{"), std::string::npos) << t;
  // Exec'd and retitled: the title, then what it ran.
  EXPECT_NE(line_with(t, "106 nginx: master process").find("(nginx -g 'daemon off;')"),
            std::string::npos) << t;
  // Expanded, each walwriter is its own row with its title.
  std::string x = text(postgres_log().lineage(), {true, SortKey::kStart});
  EXPECT_NE(line_with(x, "104 postgres: walwriter {postgres}"), "") << x;
}

TEST(ViewsTitle, JsonCarriesTheTitleOnlyWhenItIsNews) {
  std::ostringstream out;
  render_json(postgres_log().lineage(), out);
  auto doc = nlohmann::json::parse(out.str());
  EXPECT_EQ(node(doc, 102)["title"], nlohmann::json::array({"postgres: checkpointer "}));
  EXPECT_EQ(node(doc, 106)["title"][0], "nginx: master process nginx -g daemon off;");
  EXPECT_TRUE(node(doc, 105)["title"].is_null());
  EXPECT_TRUE(node(doc, 101)["title"].is_null());
}

TEST(ViewsTitle, HtmlShowsSearchesAndFoldsByTitle) {
  auto data = html_data(postgres_log().lineage());
  auto proc = [&](int pid) {
    for (const auto& p : data["procs"])
      if (p["pid"] == pid) return p;
    return nlohmann::json();
  };
  // `line` is what the page shows and searches.
  EXPECT_NE(proc(102)["line"].get<std::string>().find("postgres: checkpointer"), std::string::npos);
  EXPECT_NE(proc(102)["key"], proc(103)["key"]);
  EXPECT_EQ(proc(103)["key"], proc(104)["key"]);
  EXPECT_NE(proc(106)["key"].get<std::string>().find("nginx: master process"), std::string::npos);
}

TEST(ViewsTitle, HostileTitleIsEscapedInEveryMarkup) {
  LogWriter w = postgres_log();
  titled_exit(w, 105, 5.35, {"</script><img src=x onerror=alert(1)>", "\x1b]0;pwned\x07"});
  Lineage lin = w.lineage();
  std::ostringstream html, svg, dot, txt;
  render_html(lin, html);
  FoldedTree tree = fold_lineage(lin, {}, {});
  render_svg(lin, tree, svg, {false, true});
  render_dot(lin, tree, dot, {false, true});
  render_text(lin, tree, txt, {false, true});
  auto count = [](const std::string& s, const std::string& needle) {
    size_t n = 0;
    for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count(html.str(), "</script>"), 2U);  // the page's own two
  EXPECT_EQ(count(html.str(), "<img"), 0U);
  EXPECT_EQ(count(svg.str(), "<img"), 0U);
  EXPECT_NE(svg.str().find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos) << svg.str();
  EXPECT_EQ(dot.str().find('\x1b'), std::string::npos);
  EXPECT_EQ(txt.str().find('\x1b'), std::string::npos);
  EXPECT_NE(txt.str().find("\\x1b]0;pwned\\x07"), std::string::npos) << txt.str();
}

TEST(ViewsTitle, RedactionHidesSecretsInTitles) {
  LogWriter w = postgres_log();
  titled_exit(w, 105, 5.35, {"postgres: alice password=hunter2 idle"});
  Lineage lin = w.lineage();
  redact_argv(&lin, {"password="});
  std::string s = test::every_view(lin);
  EXPECT_EQ(s.find("hunter2"), std::string::npos);
  EXPECT_NE(s.find("postgres: alice [redacted]"), std::string::npos);
}

}  // namespace
}  // namespace progeny
