// Hostile shapes the views must stay linear on: a 200,000-deep fork chain without exec
// records (each process's image is inherited from the top: walking the ancestors per process
// would take 2·10^10 steps), and one pid reused 100,000 times. Logs are generated as events,
// not text, so the test spends its time in the views, not in writing JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <streambuf>

#include "launcher/views/summary.h"
#include "launcher/views/tree_views.h"
#include "launcher/views/view_util.h"

namespace progeny {
namespace {

// Counts what a view writes, without keeping it.
class CountingBuf : public std::streambuf {
 public:
  size_t bytes = 0;

 protected:
  int_type overflow(int_type c) override {
    ++bytes;
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char*, std::streamsize n) override {
    bytes += static_cast<size_t>(n);
    return n;
  }
};

LogEvent event(const char* what, pid_t pid, uint64_t t, std::optional<uint64_t> start_time) {
  LogEvent e;
  e.event = what;
  e.source = "shim";
  e.pid = pid;
  e.time_ns = t;
  e.start_time = start_time;
  return e;
}

// Every view on the lineage; the bytes each wrote.
std::vector<size_t> every_view(const Lineage& lin) {
  std::vector<size_t> out;
  FoldedTree tree = fold_lineage(lin, {}, {});
  for (int v = 0; v < 5; ++v) {
    CountingBuf buf;
    std::ostream os(&buf);
    if (v == 0) render_text(lin, tree, os, {});
    if (v == 1) render_svg(lin, tree, os, {});
    if (v == 2) render_dot(lin, tree, os, {});
    if (v == 3) render_json(lin, os);
    if (v == 4) render_perfetto(lin, os);
    out.push_back(buf.bytes);
  }
  return out;
}

TEST(ViewsScale, DeepChainWithoutExecsInheritsTheTopImage) {
  constexpr int kDepth = 200'000;
  std::vector<LogEvent> events;
  events.push_back(event("exec", 2, 1, 20));
  events.back().path = "/bin/sh";
  events.back().argv = {"sh", "-c", "fork forever"};
  for (int i = 3; i < kDepth + 3; ++i) {
    events.push_back(event("fork", i, static_cast<uint64_t>(i) * 10, static_cast<uint64_t>(i) * 10));
    events.back().ppid = i - 1;
    events.back().via = "fork";
  }
  Lineage lin = build_lineage(events);
  ASSERT_EQ(lin.procs.size(), static_cast<size_t>(kDepth + 1));
  EXPECT_EQ(exec_chain_text(lin, lin.procs.size() - 1), "{sh}");
  EXPECT_EQ(image_at(lin, lin.procs.size() - 1, UINT64_MAX), "/bin/sh");
  auto bytes = every_view(lin);
  for (size_t b : bytes) EXPECT_GT(b, static_cast<size_t>(kDepth));  // each shows each level
  Summary s = summarize(lin);
  EXPECT_EQ(s.max_depth, static_cast<size_t>(kDepth + 1));
  ASSERT_FALSE(s.executables.empty());
  EXPECT_EQ(s.executables[0].path, "/bin/sh");
  EXPECT_EQ(s.executables[0].created, static_cast<size_t>(kDepth));
}

TEST(ViewsScale, OnePidReusedHundredThousandTimes) {
  constexpr int kReuses = 100'000;
  std::vector<LogEvent> events;
  uint64_t t = 1;
  for (int k = 0; k < kReuses; ++k) {
    // Old logs: no ino, no start_time; only the order of birth and exit tells them apart.
    events.push_back(event("fork", 5000, t++, std::nullopt));
    events.back().ppid = 2;
    events.back().via = "fork";
    events.push_back(event("exec", 5000, t++, std::nullopt));
    events.back().path = "/bin/true";
    events.push_back(event("exit", 5000, t++, std::nullopt));
    events.back().code = k % 2;
  }
  Lineage lin = build_lineage(events);
  ASSERT_EQ(lin.procs.size(), static_cast<size_t>(kReuses + 1));  // and their parent
  size_t one_exec_each = 0;
  for (const auto& p : lin.procs) one_exec_each += p.pid == 5000 && p.execs.size() == 1;
  EXPECT_EQ(one_exec_each, static_cast<size_t>(kReuses));
  FoldedTree tree = fold_lineage(lin, {}, {});
  // The parent, and its children in two groups: exit 0 and exit 1.
  EXPECT_EQ(tree.groups.size(), 3u);
  every_view(lin);
  EXPECT_EQ(summarize(lin).processes, static_cast<size_t>(kReuses + 1));
}

}  // namespace
}  // namespace progeny
