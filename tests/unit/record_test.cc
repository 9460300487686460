#include "schema/record.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace progeny {
namespace {

TEST(Record, IsOneValidJsonLine) {
  Record r("exec", "launcher", 42);
  r.add("path", "/bin/sh").add("argv", std::vector<std::string>{"sh", "-c", "echo \"hi\"\n\t\\"});
  r.add("code", -3).add_bool("argv_truncated", false);
  std::string line = r.line();
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["v"], 1);
  EXPECT_EQ(j["event"], "exec");
  EXPECT_EQ(j["source"], "launcher");
  EXPECT_EQ(j["pid"], 42);
  EXPECT_GT(j["time_ns"].get<uint64_t>(), 0u);
  EXPECT_EQ(j["argv"][2], "echo \"hi\"\n\t\\");
  EXPECT_EQ(j["code"], -3);
}

TEST(Record, InvalidUtf8StaysValidJson) {
  Record r("exec", "shim", 1);
  r.add("path", std::string("/tmp/\xff\xfe-\xc3\xa9-\x01", 12));
  auto j = nlohmann::json::parse(r.line());
  std::string path = j["path"];
  EXPECT_NE(path.find("\xc3\xa9"), std::string::npos);  // valid UTF-8 is kept as is
}

}  // namespace
}  // namespace progeny
