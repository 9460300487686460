// The record reader's JSON cursor judged against nlohmann's parser, the reader it replaced:
// the same verdict (valid or not) on hand-made edge cases and on ~20,000 random mutations of
// real record lines, and the same decoded strings and numbers where both accept.
#include "schema/json_cursor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "schema/record.h"

namespace progeny {
namespace {

bool cursor_accepts(std::string_view s) {
  JsonCursor c(s);
  return c.skip() && c.at_end();
}

const char* const kEdgeCases[] = {
    "", " ", "{}", "[]", "{ }", "[ ]", "{\"a\":1}", "{\"a\":1,}", "[1,]", "[,1]", "{,}",
    "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{1:2}", "[1 2]", "1", "-", "-0", "-01", "01", "0.",
    ".5", "1.5e", "1e+", "1e-5", "1E5", "-1.0e+10", "1e309", "-1e309", "1e308",
    "123456789012345678901234567890", "18446744073709551615", "18446744073709551616",
    "-9223372036854775808", "-9223372036854775809", "true", "tru", "truex", "false", "null",
    "nul", "nulls", "\"\"", "\"a\"", "\"\\\"\"", "\"\\/\"", "\"\\x\"", "\"\\u0041\"",
    "\"\\u004\"", "\"\\u00zz\"", "\"\\u0000\"", "\"\\ud83d\\ude00\"", "\"\\ud83d\"",
    "\"\\ude00\"", "\"\\ud83dx\"", "\"\\ud83d\\u0041\"", "\"\\uDBFF\\uDFFF\"", "\"\t\"",
    "\"\x01\"", "\"\x7f\"", "\"\xc3\xa9\"", "\"\xc3\"", "\"\xc0\x80\"", "\"\xe0\x80\x80\"",
    "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xf0\x9f\x98\x80\"", "\"\xff\"",
    "\"unterminated", "\xEF\xBB\xBF{}", "\xEF\xBB{}", "{}\xEF\xBB\xBF", "{} x", "{}{}",
    "[[[[[[[[]]]]]]]]", "[[[[[[[[]]]]]]]", "{\"a\":{\"b\":[1,{\"c\":null}]}}",
    "{\"a\":{\"b\":[1,{\"c\":null}]}", "{\"a\":[}", "[{]", "\t\r\n{}\t\r\n", "\f{}", "{}\0",
};

TEST(JsonCursor, JudgesEdgeCasesAsNlohmannDoes) {
  for (const char* s : kEdgeCases) {
    std::string_view text(s);
    EXPECT_EQ(cursor_accepts(text), nlohmann::json::accept(text)) << "[" << text << "]";
  }
  // A depth no recursive reader would survive.
  std::string deep = std::string(200000, '[') + std::string(200000, ']');
  EXPECT_TRUE(cursor_accepts(deep));
  EXPECT_FALSE(cursor_accepts(deep.substr(1)));
}

TEST(JsonCursor, DecodesStringsAsNlohmannDoes) {
  for (const char* s : {"\"plain\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u0041\\u00e9\\u2028\"",
                        "\"\\ud83d\\ude00 \xf0\x9f\x98\x80\"", "\"\\u0000x\"", "\"\xc3\xa9t\xc3\xa9\""}) {
    JsonCursor c(s);
    std::string out;
    ASSERT_TRUE(c.string(&out)) << s;
    EXPECT_EQ(out, nlohmann::json::parse(s).get<std::string>()) << s;
  }
}

// Real record lines, each mutated many times: a byte replaced, inserted or removed, a piece
// repeated. Both readers must agree on every one, and the record reader must say "not valid
// JSON" exactly when nlohmann refuses the text.
TEST(JsonCursor, AgreesWithNlohmannOnRandomMutationsOfRecords) {
  Record r = make_record("exec", "shim", 4242, 123456789);
  r.ino = 77;
  r.ppid = 1;
  r.path = "/usr/bin/caf\xc3\xa9";
  r.argv = {"sh", "-c", "echo \"\\u2028\" \xe2\x80\xa8 \x01 \xff", ""};
  Record e = make_record("exit", "bpf", 9, 5);
  e.code = -1;
  e.cpu_user_ns = 18446744073709551615ULL;
  std::vector<std::string> seeds = {to_line(r), to_line(e),
                                    "{\"v\":1,\"event\":\"x\",\"pid\":1,\"time_ns\":2,"
                                    "\"n\":{\"a\":[1.5e3,-0,true,false,null,{}]},\"s\":\"\\ud83d\\ude00\"}"};
  const std::string alphabet = "{}[]\":,\\ -+.0123456789eEtrufalsn\x01\x7f\xc3\xa9\xed\xa0\xf0\x9f\xffu";
  std::mt19937 rng(20261202);
  size_t agreed = 0, valid = 0;
  for (std::string seed : seeds) {
    if (!seed.empty() && seed.back() == '\n') seed.pop_back();
    for (int round = 0; round < 7000; ++round) {
      std::string s = seed;
      for (int k = 0, edits = 1 + static_cast<int>(rng() % 3); k < edits && !s.empty(); ++k) {
        size_t at = rng() % s.size();
        char ch = alphabet[rng() % alphabet.size()];
        switch (rng() % 4) {
          case 0: s[at] = ch; break;
          case 1: s.insert(s.begin() + static_cast<long>(at), ch); break;
          case 2: s.erase(at, 1); break;
          default: s.insert(at, s.substr(at, rng() % 8)); break;
        }
      }
      bool reference = nlohmann::json::accept(s);
      ASSERT_EQ(cursor_accepts(s), reference) << "[" << s << "]";
      std::string why;
      auto rec = parse_record(s, &why);
      bool said_invalid = !rec && why == "not valid JSON (truncated or garbled)";
      ASSERT_EQ(said_invalid, !reference) << "[" << s << "] " << why;
      if (rec) {  // and what it read is what the document says
        auto doc = nlohmann::json::parse(s);
        EXPECT_EQ(rec->event, doc["event"].get<std::string>()) << s;
        EXPECT_EQ(rec->pid, doc["pid"].get<int64_t>()) << s;
        if (doc.contains("argv") && doc["argv"].is_array()) {
          std::vector<std::string> strings;
          for (const auto& a : doc["argv"])
            if (a.is_string()) strings.push_back(a.get<std::string>());
          EXPECT_EQ(rec->argv, strings) << s;
        }
      }
      valid += reference;
      ++agreed;
    }
  }
  EXPECT_EQ(agreed, seeds.size() * 7000);
  EXPECT_GT(valid, 1000u);  // the mutations leave enough valid lines to compare their fields
}

}  // namespace
}  // namespace progeny
