// The tracker's ring-buffer events become lineage records of the contract's schema.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>

#include "bpf/progeny_bpf.h"
#include "bpf/tracker.h"

namespace {

using nlohmann::json;

json parse(const progeny::Record& r) { return json::parse(progeny::to_line(r)); }

progeny_event_hdr hdr(__u32 kind, __u32 pid) {
  progeny_event_hdr h{};
  h.kind = kind;
  h.pid = pid;
  h.start_ticks = 4242;
  h.time_ns = 1;
  return h;
}

TEST(BpfEvent, ForkNamesCreatorThreadGroupAndSession) {
  progeny_fork_event e{};
  e.hdr = hdr(PROGENY_EV_FORK, 20);
  e.ppid = 10;
  e.tid = 11;
  e.pgid = 20;
  e.sid = 5;
  auto r = progeny::bpf::event_to_record(&e, sizeof e);
  ASSERT_TRUE(r);
  json j = parse(*r);
  EXPECT_EQ(j["v"], 1);
  EXPECT_EQ(j["event"], "fork");
  EXPECT_EQ(j["source"], "bpf");
  EXPECT_EQ(j["pid"], 20);
  EXPECT_EQ(j["start_time"], 4242);
  EXPECT_EQ(j["ppid"], 10);
  EXPECT_EQ(j["tid"], 11);
  EXPECT_EQ(j["via"], "bpf");
  EXPECT_EQ(j["pgid"], 20);
  EXPECT_EQ(j["sid"], 5);
}

TEST(BpfEvent, ExecSplitsArgvAndKeepsPathAndComm) {
  progeny_exec_event e{};
  e.hdr = hdr(PROGENY_EV_EXEC, 30);
  e.ppid = 3;
  std::strcpy(e.path, "/bin/busybox");
  std::strcpy(e.comm, "busybox");
  const char argv[] = "sh\0-c\0echo hi\0";
  std::memcpy(e.argv, argv, sizeof argv - 1);
  e.argv_len = sizeof argv - 1;
  auto r = progeny::bpf::event_to_record(&e, sizeof e);
  ASSERT_TRUE(r);
  json j = parse(*r);
  EXPECT_EQ(j["event"], "exec");
  EXPECT_EQ(j["path"], "/bin/busybox");
  EXPECT_EQ(j["comm"], "busybox");
  EXPECT_EQ(j["ppid"], 3);
  EXPECT_EQ(j["argv"], json::array({"sh", "-c", "echo hi"}));
  EXPECT_FALSE(j.contains("argv_truncated"));
}

TEST(BpfEvent, TruncatedExecKeepsTheCutLastArgumentAndSaysSo) {
  progeny_exec_event e{};
  e.hdr = hdr(PROGENY_EV_EXEC, 31);
  std::memset(e.argv, 'a', sizeof e.argv);
  e.argv[1] = '\0';
  e.argv_len = sizeof e.argv;
  e.argv_truncated = 1;
  auto r = progeny::bpf::event_to_record(&e, sizeof e);
  ASSERT_TRUE(r);
  json j = parse(*r);
  ASSERT_EQ(j["argv"].size(), 2u);
  EXPECT_EQ(j["argv"][0], "a");
  EXPECT_EQ(j["argv"][1].get<std::string>().size(), sizeof e.argv - 2);
  EXPECT_EQ(j["argv_truncated"], true);
}

TEST(BpfEvent, UnterminatedPathAndCommStayInsideTheirFields) {
  progeny_exec_event e{};
  e.hdr = hdr(PROGENY_EV_EXEC, 32);
  std::memset(e.comm, 'c', sizeof e.comm);
  std::memset(e.path, 'p', sizeof e.path);
  auto r = progeny::bpf::event_to_record(&e, sizeof e);
  ASSERT_TRUE(r);
  json j = parse(*r);
  EXPECT_EQ(j["comm"].get<std::string>(), std::string(sizeof e.comm, 'c'));
  EXPECT_EQ(j["path"].get<std::string>(), std::string(sizeof e.path, 'p'));
  EXPECT_FALSE(j.contains("argv"));  // an empty list is left out, as every absent field
}

TEST(BpfEvent, ExitCodeAndSignalFollowWaitStatus) {
  progeny_exit_event e{};
  e.hdr = hdr(PROGENY_EV_EXIT, 40);
  e.status = 3 << 8;
  json j = parse(*progeny::bpf::event_to_record(&e, sizeof e));
  EXPECT_EQ(j["event"], "exit");
  EXPECT_EQ(j["code"], 3);
  EXPECT_FALSE(j.contains("signal"));
  // The kernel's time of the event, not the time the record was built.
  EXPECT_EQ(j["time_ns"], e.hdr.time_ns);

  e.status = 9;  // SIGKILL
  j = parse(*progeny::bpf::event_to_record(&e, sizeof e));
  EXPECT_EQ(j["signal"], "KILL");
  EXPECT_FALSE(j.contains("code"));
  EXPECT_FALSE(j.contains("core"));  // a flag appears only when true

  e.status = 11 | 0x80;  // SIGSEGV with a core dump
  j = parse(*progeny::bpf::event_to_record(&e, sizeof e));
  EXPECT_EQ(j["signal"], "SEGV");
  EXPECT_EQ(j["core"], true);
}

TEST(BpfEvent, ShortOrUnknownEventsAreRejected) {
  progeny_fork_event e{};
  e.hdr = hdr(PROGENY_EV_FORK, 20);
  EXPECT_FALSE(progeny::bpf::event_to_record(&e, sizeof e - 1));
  EXPECT_FALSE(progeny::bpf::event_to_record(&e, sizeof(progeny_event_hdr) - 1));
  e.hdr.kind = 99;
  EXPECT_FALSE(progeny::bpf::event_to_record(&e, sizeof e));
}

}  // namespace
