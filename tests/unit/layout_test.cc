// The folder dependency rule of docs/CONTRACT.md, checked on every #include: each folder may
// include only the folders listed for it, so the graph has no loop and reads from the bottom
// (os) to the top (launcher/main.cc).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "tests/unit/source_tree.h"

namespace {

using progeny::test::kCodeFolders;
using progeny::test::read_source;
using progeny::test::sources_in;

// folder -> the folders it may include (besides itself). Keep in step with docs/CONTRACT.md.
const std::map<std::string, std::set<std::string>> kMayInclude = {
    {"launcher/os", {}},
    {"schema", {"launcher/os"}},
    {"launcher/cli", {"launcher/os"}},
    {"launcher/members", {"launcher/os", "schema"}},
    {"launcher/contain", {"launcher/os", "schema", "launcher/members"}},
    {"bpf", {"launcher/os", "schema"}},
    {"launcher/collect", {"launcher/os", "schema", "launcher/members", "launcher/contain", "bpf"}},
    {"launcher/views", {"launcher/os", "schema", "launcher/cli"}},
    {"launcher/run",
     {"launcher/os", "schema", "launcher/cli", "launcher/members", "launcher/contain", "bpf",
      "launcher/collect", "launcher/views"}},
    {"launcher/doctor",
     {"launcher/os", "schema", "launcher/cli", "launcher/members", "launcher/contain", "bpf",
      "launcher/collect"}},
    {"launcher", {"launcher/os", "launcher/run", "launcher/views", "launcher/doctor"}},
    // The shim runs inside other programs: only the schema's freestanding C headers.
    {"shim", {"schema"}},
};

std::string folder_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

TEST(Layout, EveryIncludeFollowsTheDependencyRule) {
  std::vector<std::string> broken;
  size_t seen = 0;
  for (const auto& dir : kCodeFolders) {
    ASSERT_TRUE(kMayInclude.count(dir)) << dir << " has no rule";
    for (const auto& f : sources_in(dir)) {
      std::string text = read_source(f);
      for (size_t at = text.find("#include \""); at != std::string::npos;
           at = text.find("#include \"", at + 1)) {
        size_t start = at + 10, close = text.find('"', start);
        if (close == std::string::npos) break;
        std::string target = text.substr(start, close - start);
        if (target.find('/') == std::string::npos) continue;  // generated (progeny.skel.h)
        ++seen;
        std::string to = folder_of(target);
        if (to == dir) continue;
        if (!kMayInclude.at(dir).count(to)) broken.push_back(f + " includes " + target);
      }
    }
  }
  ASSERT_GT(seen, 100U) << "includes not found under " << progeny::test::kSourceDir;
  std::string all;
  for (const auto& b : broken) all += "\n  " + b;
  EXPECT_TRUE(broken.empty()) << "includes against docs/CONTRACT.md's rule:" << all;
}

// The shim may include only headers that need no C++ library (they compile as C).
TEST(Layout, TheShimIncludesOnlyFreestandingSchemaHeaders) {
  for (const auto& f : sources_in("shim")) {
    std::string text = read_source(f);
    for (const char* banned : {"schema/record.h", "<string>", "<vector>", "<memory>", "<map>",
                               "<functional>", "<optional>", "<iostream>"})
      EXPECT_EQ(text.find(banned), std::string::npos) << f << " includes " << banned;
  }
}

}  // namespace
