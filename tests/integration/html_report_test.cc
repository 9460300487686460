// `progeny tree --format html` on a real log, checked in Debian's chromium: a `make -j4` of
// 200 targets (one of them failing, ignored) run by a shell whose argv is hostile, under
// progeny in the sandbox; then chromium --headless --dump-dom (after the page's script ran)
// on the report with fragments that fold, expand, search and filter. Chromium runs in the
// sandbox too (it is a process tree), not under progeny.
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "tests/integration/run_helpers.h"
#include "tests/sandbox/sandbox.h"

namespace progeny::test {
namespace {

constexpr const char* kChromium = "/usr/bin/chromium";
constexpr int kTargets = 200;

// What the page left in the DOM: the attributes of <body> and the serialized document
// without its script elements (the data and the script, which name everything).
struct Dom {
  std::string text;
  std::map<std::string, std::string> body;
  size_t count(const std::string& needle) const {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  }
  std::string attr(const std::string& name) const {
    auto it = body.find(name);
    return it == body.end() ? "(absent)" : it->second;
  }
};

// chromium --dump-dom of file://PAGE#FRAGMENT, bounded (its start on a loaded 2-core machine
// can take 10+ s), with a profile of its own.
Dom dump_dom(Scenario& s, const std::string& dir, const std::string& page, const std::string& fragment) {
  Dom dom;
  std::string out = dir + "/dom.html";
  int st = run_command({"/usr/bin/timeout", "-k", "10", "120", kChromium, "--headless",
                        "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-breakpad",
                        "--user-data-dir=" + dir + "/chromium-profile", "--dump-dom",
                        "file://" + page + "#" + fragment},
                       out);
  std::string raw = read_file(out);
  s.expect(exited_with(st, 0), "chromium gave " + status_text(st) + " for #" + fragment + ":\n" +
                                   raw.substr(0, 2000));
  for (size_t at = 0; at < raw.size();) {
    size_t open = raw.find("<script", at);
    dom.text += raw.substr(at, open == std::string::npos ? std::string::npos : open - at);
    size_t close = open == std::string::npos ? open : raw.find("</script>", open);
    at = close == std::string::npos ? raw.size() : close + 9;
  }
  std::smatch m;
  if (std::regex_search(dom.text, m, std::regex("<body([^>]*)>"))) {
    std::string attrs = m[1];
    std::regex one("([a-z-]+)=\"([^\"]*)\"");
    for (auto it = std::sregex_iterator(attrs.begin(), attrs.end(), one); it != std::sregex_iterator(); ++it)
      dom.body[(*it)[1]] = (*it)[2];
  }
  return dom;
}

size_t number(const std::string& s) { return s.empty() || s.find_first_not_of("0123456789") != std::string::npos ? SIZE_MAX : std::stoul(s); }

TEST(HtmlReport, ChromiumShowsTheFoldedTreeSearchesFiltersAndEscapes) {
  if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root";
  if (::access(kChromium, X_OK) != 0) GTEST_SKIP() << kChromium << " is not installed (make deps)";
  char tmpl[] = "/tmp/progeny-html-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  {
    // Recipes without shell syntax (make runs them directly): one `true` per target with a
    // name of its own to search for, and one `false` whose failure make ignores.
    std::ofstream mk(dir + "/Makefile");
    mk << "all:";
    for (int i = 0; i < kTargets; ++i) mk << " t" << i;
    mk << "\n";
    for (int i = 0; i < kTargets; ++i)
      mk << "t" << i << ":\n\t" << (i == 7 ? "-@/bin/false failing-7.o" : "@/bin/true target-" + std::to_string(i) + ".o") << "\n";
  }
  const std::string hostile = "</script><img src=x onerror=alert(1)>";
  std::string log = dir + "/run.jsonl", page = dir + "/run.html";
  SandboxOptions opts;
  opts.timeout_s = 600;
  auto r = run_in_sandbox(
      [&](Scenario& s) {
        // COMMAND is a shell whose argv carries what must stay text; make is its child.
        int st = run_command({progeny_bin(), "run", "-q", "--log", log, "--", "/bin/sh", "-c",
                              "/usr/bin/make -s -j4 -C \"$1\"; exit 0", "sh", dir, hostile,
                              "<!--", "\"q\" 'q'", "sep\xe2\x80\xa8", "bad\xff"},
                             dir + "/out");
        if (!s.expect(exited_with(st, 0), "progeny gave " + status_text(st) + ": " + read_file(dir + "/out")))
          return 1;
        st = run_command({"/bin/sh", "-c", progeny_bin() + " tree --format html '" + log + "' >'" + page + "'"});
        if (!s.expect(exited_with(st, 0), "progeny tree --format html gave " + status_text(st))) return 1;
        st = run_command({"/bin/sh", "-c", progeny_bin() + " tree --format json '" + log + "' >'" + dir + "/tree.json'"});
        size_t truth = nlohmann::json::parse(read_file(dir + "/tree.json"))["processes"].size();
        s.expect(truth >= kTargets + 3, "the tree has " + std::to_string(truth) + " processes");

        // Folded (the default): the 199 `true` siblings are one row; the script ran and timed itself.
        Dom folded = dump_dom(s, dir, page, "");
        s.expect(folded.attr("data-processes") == std::to_string(truth),
                 "data-processes " + folded.attr("data-processes") + ", the log has " + std::to_string(truth));
        s.expect(number(folded.attr("data-rows")) < 12, "folded rows: " + folded.attr("data-rows"));
        s.expect(folded.count("data-count=\"" + std::to_string(kTargets - 1) + "\"") == 1,
                 "no row folding the " + std::to_string(kTargets - 1) + " true siblings");
        s.expect(std::regex_match(folded.attr("data-render-ms"), std::regex("[0-9]+\\.[0-9]")),
                 "render time not recorded: " + folded.attr("data-render-ms"));
        s.note("first render of " + std::to_string(truth) + " processes, folded: " +
               folded.attr("data-render-ms") + " ms");
        // Hostile argv: text in the row, no element made of it, the data still parsed.
        s.expect(folded.count("&lt;img src=x onerror=alert(1)&gt;") >= 1, "the hostile argv is not shown as text");
        s.expect(folded.count("<img") == 0, "an <img> element was injected");
        s.expect(folded.count("<script>alert") == 0 && folded.count("<!--") == 0, "markup leaked from argv");

        // Expanded: one row per process.
        Dom all = dump_dom(s, dir, page, "expand=all");
        s.expect(all.attr("data-rows") == std::to_string(truth), "expanded rows " + all.attr("data-rows") +
                                                                     ", processes " + std::to_string(truth));
        s.expect(all.count("<div class=\"row ") == truth, "row elements: " + std::to_string(all.count("<div class=\"row ")));

        // A search that finds one process, shown with its ancestors and its full argv.
        Dom one = dump_dom(s, dir, page, "q=target-123.o");
        s.expect(one.attr("data-matches") == "1", "q=target-123.o matches " + one.attr("data-matches"));
        s.expect(one.count("class=\"row ok hit") == 1 && one.count("target-123.o") >= 2,
                 "the match is not highlighted with its argv in the details");
        s.expect(one.count("<li>target-123.o</li>") == 1, "the details do not list its argv");
        s.expect(number(one.attr("data-rows")) == 4, "launcher, sh, make and the match: " + one.attr("data-rows"));

        // The failures filter: only the ignored `false`.
        Dom failed = dump_dom(s, dir, page, "filter=failures");
        s.expect(failed.attr("data-matches") == "1", "filter=failures matches " + failed.attr("data-matches"));
        s.expect(failed.count("failing-7.o") >= 1, "the failing target is not shown");
        s.expect(failed.count("target-") == 0, "a succeeding target is shown under filter=failures");

        // Sorted by lifetime, expanded: make's children come longest first, by the figure
        // `--sort lifetime` uses; `--sort lifetime --expand` on the command line opens so.
        auto tree = nlohmann::json::parse(read_file(dir + "/tree.json"));
        std::map<size_t, uint64_t> life;  // make's children by id
        for (const auto& p : tree["processes"]) {
          bool is_make = false;
          for (const auto& e : p["exec"]) is_make |= e["path"].get<std::string>().ends_with("/make");
          if (!is_make) continue;
          for (const auto& k : p["children"]) {
            const auto& c = tree["processes"][k.get<size_t>()];
            uint64_t from = c["born_ns"].is_null() ? c["first_seen_ns"].get<uint64_t>() : c["born_ns"].get<uint64_t>();
            uint64_t to = c["ended_ns"].is_null() ? c["last_seen_ns"].get<uint64_t>() : c["ended_ns"].get<uint64_t>();
            life[k.get<size_t>()] = to - std::min(from, to);
          }
        }
        s.expect(life.size() >= kTargets, "make has " + std::to_string(life.size()) + " children");
        auto order_of = [&](const Dom& d) {
          std::vector<size_t> ids;
          std::regex row("class=\"row [^\"]*\" data-id=\"([0-9]+)\"");
          for (auto it = std::sregex_iterator(d.text.begin(), d.text.end(), row); it != std::sregex_iterator(); ++it)
            if (size_t id = std::stoul((*it)[1]); life.count(id)) ids.push_back(id);
          return ids;
        };
        Dom sorted = dump_dom(s, dir, page, "expand=all&sort=lifetime");
        std::vector<size_t> ids = order_of(sorted);
        s.expect(ids.size() == life.size(), "rows of make's children: " + std::to_string(ids.size()));
        bool longest_first = true;
        for (size_t k = 1; k < ids.size(); ++k) longest_first &= life[ids[k - 1]] >= life[ids[k]];
        s.expect(longest_first, "make's children are not longest first under sort=lifetime");
        Dom by_start = dump_dom(s, dir, page, "expand=all");
        s.expect(order_of(by_start) != ids, "sort=lifetime changed nothing");
        std::string page2 = dir + "/sorted.html";
        st = run_command({"/bin/sh", "-c", progeny_bin() + " tree --format html --sort lifetime --expand '" +
                                               log + "' >'" + page2 + "'"});
        s.expect(exited_with(st, 0), "progeny tree --format html --sort lifetime gave " + status_text(st));
        s.expect(order_of(dump_dom(s, dir, page2, "")) == ids, "--sort lifetime --expand does not open so");
        return 0;
      },
      opts);
  EXPECT_TRUE(r.ok()) << r.describe();
  for (const auto& n : r.notes) std::printf("%s\n", n.c_str());
  run_command({"/bin/rm", "-rf", dir});
}

}  // namespace
}  // namespace progeny::test
