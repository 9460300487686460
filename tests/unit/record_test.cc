// The one record: every field written and read back through the one table, the 4 KiB limit
// from every writer, and argv as hostile input (every line valid JSON whatever the bytes).
#include "schema/record.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "schema/protocol.h"

namespace progeny {
namespace {

Record full() {
  Record r = make_record("exec", "launcher", 42, 7);
  r.ino = 1001;
  r.start_time = 55;
  r.ns_pid = 3;
  r.ppid = 41;
  r.parent_ino = 1000;
  r.parent_start_time = 54;
  r.tid = 41;
  r.via = "vfork";
  r.role = "command";
  r.pgid = 40;
  r.sid = 39;
  r.path = "/bin/sh";
  r.comm = "sh";
  r.argv = {"sh", "-c", "echo \"hi\"\n\t\\"};
  r.error = 2;
  r.code = -3;
  r.signal = "TERM";
  r.core = true;
  r.unknown = true;
  r.target_pid = 9;
  r.target_ino = 999;
  r.target_start_time = 8;
  r.reason = "stop";
  r.cause = "parent_killed";
  r.parent = 7;
  r.wall_ns = 123;
  r.version = "0.1.0";
  r.mechanisms = {"subreaper", "shim"};
  r.after_ms = 500;
  r.phase = "begin";
  r.members = 4;
  r.survivors = 0;
  r.count = 2;
  r.what = "bpf";
  r.refused = 1;
  r.untracked = 0;
  r.lost = 6;
  r.cpu_user_ns = 1500000000;
  r.cpu_system_ns = 20000000;
  r.peak_rss_kb = 102400;
  r.lifetime_ns = 9000000000;
  r.inclusive_cpu_user_ns = 1600000000;
  r.inclusive_cpu_system_ns = 30000000;
  r.inclusive_peak_rss_kb = 204800;
  r.title = {"postgres: checkpointer", "</script>\"x\""};
  return r;
}

TEST(Record, IsOneValidJsonLineAndReadsBackFieldForField) {
  Record r = full();
  std::string line = to_line(r);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["v"], PROGENY_SCHEMA_VERSION);
  EXPECT_EQ(j["argv"][2], "echo \"hi\"\n\t\\");
  EXPECT_EQ(j[PROGENY_F_TITLE], nlohmann::json::array({"postgres: checkpointer", "</script>\"x\""}));
  std::string why;
  auto back = parse_record(line, &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->title, r.title);
  // Written again from what was read: the same line, so no field was lost on the way.
  EXPECT_EQ(to_line(*back), line);
}

// The cost fields by their documented names and units; absent when no source had them.
TEST(Record, CostFieldsAreNamedNumbersOnExitAndAbsentWhenUnknown) {
  const int status = 0;
  Record r = exit_record("launcher", 42, 1001, 55, &status, 7);
  std::string bare = to_line(r);
  for (const char* f : {PROGENY_F_CPU_USER_NS, PROGENY_F_CPU_SYSTEM_NS, PROGENY_F_PEAK_RSS_KB,
                        PROGENY_F_LIFETIME_NS, PROGENY_F_INCLUSIVE_CPU_USER_NS,
                        PROGENY_F_INCLUSIVE_CPU_SYSTEM_NS, PROGENY_F_INCLUSIVE_PEAK_RSS_KB})
    EXPECT_FALSE(nlohmann::json::parse(bare).contains(f)) << f;
  std::string why;
  auto none = parse_record(bare, &why);
  ASSERT_TRUE(none) << why;
  EXPECT_FALSE(none->cpu_user_ns || none->peak_rss_kb || none->inclusive_cpu_user_ns);

  struct rusage ru {};
  ru.ru_utime = {2, 500000};  // 2.5 s
  ru.ru_stime = {0, 1234};
  ru.ru_maxrss = 102400;  // KiB
  set_inclusive_cost(&r, ru);
  auto j = nlohmann::json::parse(to_line(r));
  EXPECT_EQ(j[PROGENY_F_INCLUSIVE_CPU_USER_NS], 2500000000ULL);
  EXPECT_EQ(j[PROGENY_F_INCLUSIVE_CPU_SYSTEM_NS], 1234000ULL);
  EXPECT_EQ(j[PROGENY_F_INCLUSIVE_PEAK_RSS_KB], 102400);
  auto back = parse_record(to_line(r), &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->inclusive_cpu_user_ns, 2500000000ULL);
  EXPECT_EQ(back->inclusive_peak_rss_kb, 102400U);
  EXPECT_FALSE(back->cpu_user_ns);  // inclusive figures never pose as self ones

  // A negative or fractional figure is not a cost: the reader leaves the field unknown.
  auto odd = parse_record(R"({"v":1,"event":"exit","source":"bpf","pid":5,"time_ns":1,)"
                          R"("cpu_user_ns":-1,"peak_rss_kb":1.5,"lifetime_ns":77})", &why);
  ASSERT_TRUE(odd) << why;
  EXPECT_FALSE(odd->cpu_user_ns);
  EXPECT_FALSE(odd->peak_rss_kb);
  EXPECT_EQ(odd->lifetime_ns, 77U);
}

TEST(Record, ReaderRefusesWhatIsNotARecord) {
  std::string why;
  EXPECT_FALSE(parse_record("not json", &why));
  EXPECT_FALSE(parse_record("[1,2]", &why));
  EXPECT_FALSE(parse_record("{\"event\":\"fork\",\"time_ns\":1}", &why));  // no pid
  EXPECT_FALSE(parse_record("{\"v\":2,\"event\":\"fork\",\"pid\":1,\"time_ns\":1}", &why));
  EXPECT_FALSE(parse_record("{\"event\":\"fork\",\"pid\":-4,\"time_ns\":1}", &why));
  // Ill-typed fields are ignored, unknown ones too; old writers' signal numbers are named.
  auto r = parse_record(
      "{\"event\":\"exit\",\"pid\":3,\"time_ns\":1,\"code\":\"x\",\"signal\":15,\"new\":[1]}", &why);
  ASSERT_TRUE(r) << why;
  EXPECT_FALSE(r->code);
  EXPECT_EQ(r->signal, "TERM");
}

// Bytes that are not UTF-8, in the forms strict decoders reject: every line still parses.
TEST(Record, InvalidUtf8IsEscapedByTheDocumentedRule) {
  const std::string hostile[] = {
      std::string("\xc0\x80", 2),          // overlong NUL
      std::string("\xe0\x80\xaf", 3),      // overlong '/'
      std::string("\xed\xa0\x80", 3),      // a surrogate
      std::string("\xf4\x90\x80\x80", 4),  // beyond U+10FFFF
      std::string("\xf5\xff\xfe", 3),      // never valid
      std::string("cut \xe2\x82", 6),      // a sequence cut short
      std::string("\x01\x7f\x1b[2J", 6),   // controls, an escape sequence
  };
  for (const auto& h : hostile) {
    Record r = make_record("exec", "shim", 1, 1);
    r.argv = {h};
    std::string line = to_line(r);
    EXPECT_NO_THROW(nlohmann::json::parse(line)) << line;
    std::string why;
    auto back = parse_record(line, &why);
    ASSERT_TRUE(back) << why << ": " << line;
    ASSERT_EQ(back->argv.size(), 1U);
    // \u00XX of each invalid byte: it reads back as the Latin-1 character of that value.
    for (unsigned char c : h)
      if (c >= 0x80 && h != std::string("\xc3\xa9")) {
        char esc[8];
        std::snprintf(esc, sizeof esc, "\\u00%02x", c);
        EXPECT_NE(line.find(esc), std::string::npos) << line;
      }
  }
  Record r = make_record("exec", "shim", 1, 1);
  r.path = "caf\xc3\xa9 \xe2\x80\xa8 line";  // valid UTF-8 kept, U+2028 escaped for JavaScript
  std::string line = to_line(r);
  EXPECT_NE(line.find("caf\xc3\xa9"), std::string::npos);
  EXPECT_NE(line.find("\\u2028"), std::string::npos);
}

TEST(Record, EveryRecordFitsTheLimitAndACutArgvSaysSo) {
  Record r = make_record("start", "launcher", 1, 1);
  for (int i = 0; i < 100000; ++i) r.argv.push_back("argument-" + std::to_string(i));
  std::string line = to_line(r);
  EXPECT_LE(line.size(), static_cast<size_t>(PROGENY_MAX_RECORD));
  std::string why;
  auto back = parse_record(line, &why);
  ASSERT_TRUE(back) << why;
  EXPECT_TRUE(back->argv_truncated);
  EXPECT_GT(back->argv.size(), 100U);  // as many as fit, not none
  EXPECT_LT(back->argv.size(), 100000U);
  EXPECT_EQ(back->argv[0], "argument-0");
  uint64_t bytes = 0;
  for (const auto& a : r.argv) bytes += a.size() + 1;
  EXPECT_EQ(back->argv_bytes, bytes);

  Record p = make_record("exec", "shim", 1, 1);
  p.path = std::string(9000, 'p');  // one long string alone is cut too
  p.argv = {std::string(9000, 'a')};
  line = to_line(p);
  EXPECT_LE(line.size(), static_cast<size_t>(PROGENY_MAX_RECORD));
  back = parse_record(line, &why);
  ASSERT_TRUE(back) << why;
  EXPECT_TRUE(back->argv_truncated);
}

// The reader sorts a log by this peek before it parses: a wrong time would put a record out of
// order, a missed one costs a full parse, never a wrong answer.
TEST(Record, PeekFindsTheTopLevelTimeWhateverSurroundsIt) {
  EXPECT_EQ(peek_time_ns(R"({"v":1,"event":"exec","pid":3,"time_ns":42})"), 42u);
  EXPECT_EQ(peek_time_ns(R"( { "time_ns" : 7 , "pid" : 3 } )"), 7u);
  // Strings and nested values that spell the key, quotes and brackets inside strings.
  EXPECT_EQ(peek_time_ns(R"({"argv":["\"time_ns\":1","}]{["],"x":{"time_ns":2},"time_ns":3})"), 3u);
  EXPECT_EQ(peek_time_ns(R"({"path":"a\\","time_ns":5,"argv":["\\\""]})"), 5u);
  // The last one counts, as in parse_record.
  EXPECT_EQ(peek_time_ns(R"({"time_ns":1,"time_ns":9})"), 9u);
  auto parsed = [](const char* line) {
    std::string why;
    auto r = parse_record(line, &why);
    return r ? std::optional<uint64_t>(r->time_ns) : std::nullopt;
  };
  const char* refused[] = {R"({"v":1,"event":"exit","source":"bpf","pid":9,"time_ns":18446744073709551615})",
                        R"({"v":1,"event":"exit","source":"bpf","pid":9,"time_ns":-4})",
                        R"({"v":1,"event":"exit","source":"bpf","pid":9,"time_ns":1.5})",
                        R"({"v":1,"event":"exit","source":"bpf","pid":9,"time_ns":"12"})",
                        R"({"v":1,"event":"exit","source":"bpf","pid":9,"time_ns":12)",
                        R"({"v":1,"event":"exit","source":"bpf","pid":9,"time_ns":12,"argv":["x)",
                        R"([{"time_ns":12}])", "", "{}"};
  // What the peek cannot vouch for, it leaves to the parser: never a time the parser refuses.
  for (const char* line : refused) {
    EXPECT_FALSE(peek_time_ns(line)) << line;
    EXPECT_FALSE(parsed(line)) << line;
  }
  EXPECT_EQ(peek_time_ns(R"({"v":1,"event":"exit","source":"bpf","pid":9,"time_ns":12})"),
            parsed(R"({"v":1,"event":"exit","source":"bpf","pid":9,"time_ns":12})"));
}

}  // namespace
}  // namespace progeny
