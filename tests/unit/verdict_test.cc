// The verdict of `progeny run --report`: its JSON and JUnit forms from one model, with hostile
// strings escaped. (That the JSON validates against docs/report.schema.json and the XML parses
// is checked on real runs, tests/integration/report_test.cc.)
#include "launcher/views/verdict.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace progeny {
namespace {

const std::string kHostile = "x\x1b[2J\x01\xff\"<&>'\n";

Verdict leaky() {
  Verdict v;
  v.outcome = Verdict::Outcome::kCommandExited;
  v.exit_status = 0;
  v.command_code = 0;
  v.command = {"/bin/sh", "-c", kHostile};
  v.stopped = true;
  v.stop.launcher_pid = 100;
  v.stop.command_pid = 101;
  v.stop.command_pgid = 101;
  v.stop.command_sid = 90;
  RunawayProcess p;
  p.pid = 103;
  p.ino = 7777;
  p.start_time = 42;
  p.described = true;
  p.argv = {"sleep", kHostile};
  p.ppid = 100;
  p.pgid = 103;
  p.sid = 103;
  p.creator = 102;
  p.creator_name = "sh";
  v.leftovers.push_back(p);
  RunawayProcess counted;
  counted.pid = 104;
  counted.ino = 7778;
  v.leftovers.push_back(counted);
  return v;
}

TEST(Verdict, JsonNamesEachLeftoverByIdentityAndHowItEscaped) {
  auto doc = nlohmann::json::parse(verdict_json(leaky()));
  EXPECT_EQ(doc["schema"], "progeny-report/1");
  EXPECT_EQ(doc["exit"]["status"], 0);
  EXPECT_EQ(doc["exit"]["outcome"], "command_exited");
  EXPECT_TRUE(doc["exit"]["error"].is_null());
  EXPECT_EQ(doc["stop"]["why"], "outlived");
  ASSERT_EQ(doc["leftovers"].size(), 2U);
  const auto& l = doc["leftovers"][0];
  EXPECT_EQ(l["pid"], 103);
  EXPECT_EQ(l["ino"], 7777);
  EXPECT_EQ(l["start_time"], 42);
  EXPECT_EQ(l["escape"]["kind"], "setsid");
  EXPECT_EQ(l["escape"]["text"], "called setsid");
  EXPECT_EQ(l["origin"], "adopted");
  EXPECT_EQ(l["creator"]["pid"], 102);
  EXPECT_EQ(l["creator"]["name"], "sh");
  // The hostile argument survives, escaped: the invalid byte replaced, the rest intact.
  std::string arg = l["argv"][1];
  EXPECT_EQ(arg, "x\x1b[2J\x01\xEF\xBF\xBD\"<&>'\n");
  // The one not read from /proc: its identity, nothing guessed.
  const auto& c = doc["leftovers"][1];
  EXPECT_EQ(c["ino"], 7778);
  EXPECT_TRUE(c["argv"].is_null());
  EXPECT_EQ(c["escape"]["kind"], "unknown");
}

TEST(Verdict, JsonTellsProgenysOwn125FromCommands) {
  Verdict own;
  own.error = "progeny run: --contain pidns: not here";
  auto doc = nlohmann::json::parse(verdict_json(own));
  EXPECT_EQ(doc["exit"]["status"], 125);
  EXPECT_EQ(doc["exit"]["outcome"], "progeny_error");
  EXPECT_EQ(doc["exit"]["error"], own.error);
  Verdict theirs;
  theirs.outcome = Verdict::Outcome::kCommandExited;
  theirs.exit_status = 125;
  theirs.command_code = 125;
  doc = nlohmann::json::parse(verdict_json(theirs));
  EXPECT_EQ(doc["exit"]["status"], 125);
  EXPECT_EQ(doc["exit"]["outcome"], "command_exited");
  EXPECT_EQ(doc["exit"]["command_code"], 125);
  EXPECT_TRUE(doc["exit"]["error"].is_null());
}

TEST(Verdict, JsonSaysWhichLimitHitWhomOrThatNobodyCouldBeNamed) {
  Verdict v;
  v.limits.push_back({"pids", "64", "cgroup v1", "/sys/fs/cgroup/pids/progeny-1-ab", true,
                      {{"max", 12}}, "forker", {{55, 5555, kHostile, 12}}, "shim"});
  v.limits.push_back({"memory", "67108864", "cgroup v1", "/m", true, {{"oom_kill", 1}},
                      "oom_victim", {}, ""});
  v.limits.push_back({"cpu", "0.5", "cgroup v1", "/c", false, {{"nr_throttled", 0}}, "", {}, ""});
  auto doc = nlohmann::json::parse(verdict_json(v));
  ASSERT_EQ(doc["limits"].size(), 3U);
  const auto& pids = doc["limits"][0];
  EXPECT_EQ(pids["name"], "pids");
  EXPECT_EQ(pids["hit"], true);
  EXPECT_EQ(pids["counts"]["max"], 12);
  EXPECT_EQ(pids["role"], "forker");
  EXPECT_EQ(pids["named"][0]["pid"], 55);
  EXPECT_EQ(pids["named"][0]["ino"], 5555);
  EXPECT_EQ(pids["named"][0]["count"], 12);
  EXPECT_EQ(pids["unknown"], false);
  EXPECT_EQ(pids["named_by"], "shim");
  EXPECT_TRUE(doc["limits"][1]["named_by"].is_null());
  EXPECT_EQ(doc["limits"][1]["unknown"], true);  // it OOM-killed, no record said whom
  EXPECT_TRUE(doc["limits"][2]["role"].is_null());
  EXPECT_EQ(doc["limits"][2]["unknown"], false);
}

TEST(Verdict, JunitFailsOnlyOnLeftoversAndEscapesEverything) {
  std::string leak = verdict_junit(leaky());
  EXPECT_NE(leak.find("<failure type=\"leak\" message=\"2 processes outlived COMMAND (pid 101); stopping:\">"),
            std::string::npos) << leak;
  EXPECT_NE(leak.find("failures=\"1\""), std::string::npos);
  // No raw control byte, quote or markup from argv reaches the document.
  for (char c : leak) {
    auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(c == '\n' || (u >= 0x20 && u != 0x7F && u < 0x80)) << "byte " << int(u);
  }
  EXPECT_EQ(leak.find("x\x1b"), std::string::npos);
  EXPECT_NE(leak.find("&quot;&lt;&amp;&gt;&apos;"), std::string::npos) << leak;

  Verdict clean = leaky();
  clean.leftovers.clear();
  std::string ok = verdict_junit(clean);
  EXPECT_EQ(ok.find("<failure"), std::string::npos) << ok;
  EXPECT_NE(ok.find("failures=\"0\""), std::string::npos) << ok;
  EXPECT_EQ(ok.find("<error"), std::string::npos) << ok;

  Verdict own;
  own.error = "progeny run: --bpf on: no BPF";
  std::string err = verdict_junit(own);
  EXPECT_NE(err.find("<error type=\"progeny_error\" message=\"progeny run: --bpf on: no BPF\"/>"),
            std::string::npos) << err;
}

TEST(Verdict, JunitFailsOnACapOrAnOomKillNamingWhomAndListsEveryLimit) {
  Verdict v = leaky();
  v.leftovers.clear();
  v.limits.push_back({"cpu", "0.5", "cgroup v1", "/c", true, {{"nr_throttled", 9}, {"nr_periods", 20}}, "", {}, ""});
  std::string throttled = verdict_junit(v);
  // Throttling is what a cpu limit is for: a property, not a failure.
  EXPECT_EQ(throttled.find("<failure"), std::string::npos) << throttled;
  EXPECT_NE(throttled.find("<property name=\"limit.cpu\" value=\"0.5 cgroup v1 hit\"/>"),
            std::string::npos) << throttled;

  v.limits.push_back({"memory", "67108864", "tracker", "", true, {{"oom_kill", 1}}, "oom_victim",
                      {{31, 310, "python3 <x>", 0}}, "kernel"});
  std::string oom = verdict_junit(v);
  EXPECT_NE(oom.find("<failure type=\"limit\" message=\"limit memory=67108864 hit (tracker): 1 OOM "
                     "kill(s), 0 time(s) at the limit; killed: 31 (python3 &lt;x&gt;)\">"),
            std::string::npos) << oom;
  EXPECT_NE(oom.find("<property name=\"limit.memory.oom_victim\" value=\"31 (python3 &lt;x&gt;)\"/>"),
            std::string::npos) << oom;
  EXPECT_NE(oom.find("failures=\"1\""), std::string::npos) << oom;

  // With leftovers too: one failure, of type leak, carrying both.
  Verdict both = leaky();
  both.limits.push_back({"pids", "64", "tracker", "", true, {{"killed", 3}}, "forker", {}, ""});
  std::string leak = verdict_junit(both);
  EXPECT_NE(leak.find("<failure type=\"leak\""), std::string::npos) << leak;
  EXPECT_NE(leak.find("progeny: limit pids=64 hit (tracker)"), std::string::npos) << leak;
  EXPECT_NE(leak.find("<property name=\"limit.pids.forker\" value=\"unknown\"/>"),
            std::string::npos) << leak;
}

}  // namespace
}  // namespace progeny
