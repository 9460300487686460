// What each process cost, in the views: the lineage keeps self and inclusive figures apart,
// `progeny tree --format json` carries both per process, and `progeny summary`'s top lists
// rank by self figures only and name each process with its argv cut in the middle.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "launcher/views/commands.h"
#include "launcher/views/summary.h"
#include "launcher/views/tree_views.h"
#include "tests/unit/call_main.h"
#include "tests/unit/views_log.h"

namespace progeny {
namespace {

using test::LogWriter;

// make (101) builds with three compilers; 102 uses the most CPU of its own, 103 the most
// memory; 104 fails; the launcher reaped make, so make's inclusive figures hold them all.
LogWriter build_log() {
  LogWriter w;
  w.start(100, {"progeny", "run", "--", "make"});
  w.add("fork", "launcher", 101, 0.1).update({{"ppid", 100}, {"via", "spawn"}, {"role", "command"}});
  w.exec("bpf", 101, 0.2, "/usr/bin/make", {"make", "-j4"}, 100);
  const char* files[] = {"alpha.cc", "beta.cc", "gamma.cc"};
  for (int i = 0; i < 3; ++i) {
    int pid = 102 + i;
    w.fork("bpf", pid, 101, 1 + i, "bpf");
    w.exec("bpf", pid, 1.1 + i, "/usr/bin/g++",
           {"g++", "-O2", "-g", "-std=c++20", "-Wall", "-Wextra", "-Werror", "-MMD", "-MP",
            "-I.", "-Ibuild/bpf", "-c", std::string("src/") + files[i], "-o", "build/x.o"},
           101);
  }
  w.add("exit", "bpf", 102, 50).update({{"code", 0}, {"cpu_user_ns", 9000000000ULL},
                                         {"cpu_system_ns", 500000000ULL}, {"peak_rss_kb", 1000},
                                         {"lifetime_ns", 49000000ULL}});
  w.add("exit", "bpf", 103, 60).update({{"code", 0}, {"cpu_user_ns", 2000000000ULL},
                                         {"cpu_system_ns", 100000000ULL}, {"peak_rss_kb", 900000},
                                         {"lifetime_ns", 58000000ULL}});
  w.add("exit", "bpf", 104, 70).update({{"code", 2}, {"cpu_user_ns", 1000000ULL},
                                         {"cpu_system_ns", 0}, {"peak_rss_kb", 2000},
                                         {"lifetime_ns", 67000000ULL}});
  w.add("exit", "bpf", 101, 80).update({{"code", 2}, {"cpu_user_ns", 10000000ULL},
                                         {"cpu_system_ns", 5000000ULL}, {"peak_rss_kb", 3000},
                                         {"lifetime_ns", 79900000ULL}});
  w.add("exit", "launcher", 101, 81).update({{"code", 2}, {"inclusive_cpu_user_ns", 11011000000ULL},
                                              {"inclusive_cpu_system_ns", 605000000ULL},
                                              {"inclusive_peak_rss_kb", 900000}});
  return w;
}

TEST(ViewsCost, LineageKeepsSelfAndInclusiveApart) {
  Lineage lin = build_log().lineage();
  const ProcessNode& make = lin.procs[*lin.command];
  EXPECT_EQ(make.cost.self.cpu_ns(), 15000000U);
  EXPECT_EQ(make.cost.inclusive.cpu_ns(), 11616000000U);
  EXPECT_EQ(make.cost.self.peak_rss_kb, 3000U);
  EXPECT_EQ(make.cost.inclusive.peak_rss_kb, 900000U);
  EXPECT_EQ(make.cost.lifetime_ns, 79900000U);
}

TEST(ViewsCost, TopListsRankBySelfFiguresOnly) {
  Lineage lin = build_log().lineage();
  Summary s = summarize(lin);
  auto pids = [&](const std::vector<Ranked>& list) {
    std::vector<pid_t> out;
    for (const Ranked& r : list) out.push_back(lin.procs[r.proc].pid);
    return out;
  };
  // make's inclusive 11.6 s would top the list; its own 15 ms puts it below two compilers.
  EXPECT_EQ(pids(s.top.most_cpu), (std::vector<pid_t>{102, 103, 101, 104}));
  EXPECT_EQ(s.top.most_cpu[0].value, 9500000000U);
  EXPECT_EQ(pids(s.top.largest_rss), (std::vector<pid_t>{103, 101, 104, 102}));
  EXPECT_EQ(pids(s.top.longest_lived), (std::vector<pid_t>{101, 104, 103, 102}));
  EXPECT_EQ(pids(s.top.most_children), (std::vector<pid_t>{101}));
  EXPECT_EQ(s.top.most_children[0].value, 3U);
  EXPECT_EQ(s.top.failure_count, 2U);  // 104 and make, by the time they exited
  ASSERT_EQ(s.top.failures.size(), 2U);
  EXPECT_EQ(lin.procs[s.top.failures[0]].pid, 104);
  EXPECT_EQ(s.top.no_cpu, 0U);
}

TEST(ViewsCost, TopListsSkipProcessesWithoutFiguresAndSaySo) {
  LogWriter w;
  w.start(100, {"progeny", "run", "--", "sh"});
  w.add("fork", "launcher", 101, 0.1).update({{"ppid", 100}, {"via", "spawn"}, {"role", "command"}});
  w.fork("shim", 102, 101, 1, "fork");
  w.exit_code("launcher", 102, 3, 0);  // no tracker: no self figures
  w.add("exit", "launcher", 101, 5).update({{"code", 0}, {"inclusive_cpu_user_ns", 7000000ULL},
                                             {"inclusive_cpu_system_ns", 0},
                                             {"inclusive_peak_rss_kb", 5000}});
  Summary s = summarize(w.lineage());
  EXPECT_TRUE(s.top.most_cpu.empty());  // the inclusive figure is never ranked
  EXPECT_TRUE(s.top.largest_rss.empty());
  EXPECT_EQ(s.top.no_cpu, 2U);
  EXPECT_EQ(s.top.no_rss, 2U);
  // Lifetimes from the fork and exit records still rank (the launcher's COMMAND record is a
  // fork record too).
  ASSERT_FALSE(s.top.longest_lived.empty());
  EXPECT_EQ(s.top.longest_lived[0].value, 4900000U);
}

TEST(ViewsCost, TreeJsonCarriesBothKindsAndNullWhenUnknown) {
  Lineage lin = build_log().lineage();
  std::ostringstream out;
  render_json(lin, out);
  auto doc = nlohmann::json::parse(out.str());
  const auto& make = doc["processes"][doc["command"].get<size_t>()]["cost"];
  EXPECT_EQ(make["self"]["cpu_user_ns"], 10000000U);
  EXPECT_EQ(make["self"]["lifetime_ns"], 79900000U);
  EXPECT_EQ(make["inclusive"]["cpu_user_ns"], 11011000000ULL);
  EXPECT_EQ(make["inclusive"]["peak_rss_kb"], 900000);
  const auto& launcher = doc["processes"][doc["launcher"].get<size_t>()]["cost"];
  EXPECT_TRUE(launcher["self"]["cpu_user_ns"].is_null());
  EXPECT_TRUE(launcher["inclusive"]["peak_rss_kb"].is_null());
}

// The text names each process by its argv cut in the middle (the file a compile works on is at
// its end), and explains every column of the executables table, `?` included.
TEST(ViewsCost, SummaryTextNamesProcessesAndExplainsColumns) {
  std::string log = "/tmp/progeny-views-cost-" + std::to_string(getpid()) + ".log";
  LogWriter w = build_log();
  w.exec("shim", 105, 90, "/bin/true", {"true"}, 101);  // no fork record says which call
  std::ofstream(log) << w.text();
  test::Result r = test::call(summary_main, {"summary", log});
  ::unlink(log.c_str());
  EXPECT_EQ(r.status, 0);
  std::istringstream in(r.out);
  std::string cpu_top;
  for (std::string line; std::getline(in, line);)
    if (line.find("Most CPU") == 0) std::getline(in, cpu_top);
  EXPECT_NE(cpu_top.find("9.50s"), std::string::npos) << r.out;
  EXPECT_NE(cpu_top.find("g++ -O2"), std::string::npos) << cpu_top;
  EXPECT_NE(cpu_top.find("…"), std::string::npos) << cpu_top;
  EXPECT_NE(cpu_top.find("src/alpha.cc -o build/x.o"), std::string::npos) << cpu_top;
  EXPECT_NE(r.out.find("Failures (non-zero exit, or a signal progeny did not send): 2"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("each process's own figures, never wait4's inclusive ones"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  ?: no record says which call"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  bpf: seen only by the tracker"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  spawn: started by progeny's launcher"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("THREAD: created from a thread"), std::string::npos) << r.out;

  std::ofstream(log) << build_log().text();
  test::Result j = test::call(summary_main, {"summary", "--format", "json", log});
  ::unlink(log.c_str());
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["top"]["most_cpu"][0]["pid"], 102);
  EXPECT_EQ(doc["top"]["most_cpu"][0]["cpu_ns"], 9500000000ULL);
  EXPECT_EQ(doc["top"]["largest_rss"][0]["peak_rss_kb"], 900000);
  EXPECT_EQ(doc["top"]["failure_count"], 2);
}

// make (101) runs, in this order of start: sh (no figures), two g++ that fold (6 s + 5 s of
// their own CPU, 1000 and 5000 KiB), ld (10 s, 4000 KiB of its own, but wait4's inclusive
// 100 s and 900000 KiB, as if it had waited for a big subtree) and as (0.5 s, 6000 KiB).
LogWriter sort_log() {
  LogWriter w;
  w.start(100, {"progeny", "run", "--", "make"});
  w.add("fork", "launcher", 101, 0.1).update({{"ppid", 100}, {"via", "spawn"}, {"role", "command"}});
  w.exec("bpf", 101, 0.2, "/usr/bin/make", {"make"}, 100);
  struct Child { int pid; const char* path; const char* arg; uint64_t cpu_ms, rss_kb; };
  const Child kids[] = {{105, "/bin/sh", "-c", 0, 0}, {102, "/usr/bin/g++", "a.cc", 6000, 1000},
                        {103, "/usr/bin/g++", "b.cc", 5000, 5000}, {104, "/usr/bin/ld", "a.o", 10000, 4000},
                        {106, "/usr/bin/as", "a.s", 500, 6000}};
  double at = 1;
  for (const Child& c : kids) {
    w.fork("bpf", c.pid, 101, at, "bpf");
    w.exec("bpf", c.pid, at + 0.1, c.path, {base_name(c.path), c.arg}, 101);
    auto& exit = w.add("exit", "bpf", c.pid, at + 10);
    exit["code"] = 0;
    if (c.cpu_ms)
      exit.update({{"cpu_user_ns", c.cpu_ms * 900000}, {"cpu_system_ns", c.cpu_ms * 100000},
                   {"peak_rss_kb", c.rss_kb}});
    at += 1;
  }
  w.add("exit", "launcher", 104, 20).update({{"code", 0}, {"inclusive_cpu_user_ns", 100000000000ULL},
                                             {"inclusive_cpu_system_ns", 0},
                                             {"inclusive_peak_rss_kb", 900000}});
  w.exit_code("launcher", 101, 30, 0);
  return w;
}

// The pids of make's children as the tree orders them (a folded group by its first member).
std::vector<pid_t> order_under_make(SortKey key, bool expand) {
  Lineage lin = sort_log().lineage();
  FoldedTree tree = fold_lineage(lin, {}, {expand, key});
  for (const Group& g : tree.groups) {
    if (lin.procs[g.members.front()].pid != 101) continue;
    std::vector<pid_t> out;
    for (size_t c : g.children) out.push_back(lin.procs[tree.groups[c].members.front()].pid);
    return out;
  }
  return {};
}

TEST(ViewsCost, SortByCpuAndRssUsesSelfFiguresLargestFirstUnknownLast) {
  EXPECT_EQ(order_under_make(SortKey::kStart, true), (std::vector<pid_t>{105, 102, 103, 104, 106}));
  EXPECT_EQ(order_under_make(SortKey::kCpu, true), (std::vector<pid_t>{104, 102, 103, 106, 105}));
  EXPECT_EQ(order_under_make(SortKey::kRss, true), (std::vector<pid_t>{106, 103, 104, 102, 105}));
  // Folded, the two g++ are one group: 11 s of CPU in all puts it before ld's 10 s (by ld's
  // inclusive 100 s it would come first); by RSS their larger, 5000 KiB, sits between as and ld.
  // Within a group the members keep the key's order too: the first is the largest.
  EXPECT_EQ(order_under_make(SortKey::kCpu, false), (std::vector<pid_t>{102, 104, 106, 105}));
  EXPECT_EQ(order_under_make(SortKey::kRss, false), (std::vector<pid_t>{106, 103, 104, 105}));
}

TEST(ViewsCost, TreeSortOptionReachesTheTextView) {
  std::string log = "/tmp/progeny-views-sort-" + std::to_string(getpid()) + ".log";
  std::ofstream(log) << sort_log().text();
  test::Result cpu = test::call(tree_main, {"tree", "--sort", "cpu", "--expand", log});
  test::Result rss = test::call(tree_main, {"tree", "--sort=rss", log});
  test::Result bad = test::call(tree_main, {"tree", "--sort", "inclusive", log});
  ::unlink(log.c_str());
  EXPECT_EQ(cpu.status, 0) << cpu.err;
  EXPECT_LT(cpu.out.find("104 ld"), cpu.out.find("102 g++")) << cpu.out;
  EXPECT_LT(cpu.out.find("106 as"), cpu.out.find("105 sh")) << cpu.out;
  EXPECT_EQ(rss.status, 0) << rss.err;
  EXPECT_LT(rss.out.find("106 as"), rss.out.find("2 × g++")) << rss.out;
  EXPECT_LT(rss.out.find("2 × g++"), rss.out.find("104 ld")) << rss.out;
  EXPECT_EQ(bad.status, 125);
}

}  // namespace
// The HTML report carries every figure of the exit records under the log's names, self and
// inclusive apart, "unknown" where no record had one (the page's units and folding go by name).
TEST(ViewsCost, HtmlReportCarriesEveryFigureSelfAndInclusiveApart) {
  std::ostringstream page;
  render_html(build_log().lineage(), page);
  const std::string open = "<script type=\"application/json\" id=\"progeny-data\">";
  size_t from = page.str().find(open);
  ASSERT_NE(from, std::string::npos);
  from += open.size();
  auto data = nlohmann::json::parse(page.str().substr(from, page.str().find("</script>", from) - from));
  auto cost_of = [&](int pid) {
    for (const auto& p : data["procs"])
      if (p["pid"] == pid) return p["cost"];
    return nlohmann::json();
  };
  auto make = cost_of(101), cc = cost_of(103), launcher = cost_of(100);
  EXPECT_EQ(make["cpu_user_ns"], 10000000U);
  EXPECT_EQ(make["cpu_system_ns"], 5000000U);
  EXPECT_EQ(make["peak_rss_kb"], 3000U);
  EXPECT_EQ(make["lifetime_ns"], 79900000U);
  EXPECT_EQ(make["inclusive_cpu_user_ns"], 11011000000ULL);
  EXPECT_EQ(make["inclusive_peak_rss_kb"], 900000U);
  EXPECT_EQ(cc["peak_rss_kb"], 900000U);
  EXPECT_EQ(cc["inclusive_cpu_user_ns"], "unknown");  // the tracker's exit only: not reaped
  EXPECT_EQ(launcher["cpu_user_ns"], "unknown");
}

}  // namespace progeny
