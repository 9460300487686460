// The tracker's ring-buffer events become lineage records of the contract's schema.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <string>

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

static_assert(offsetof(progeny_exec_event, data) == PROGENY_EXEC_FIXED,
              "the kernel side sends PROGENY_EXEC_FIXED bytes before the path");

// An exec event as the kernel side sends it: the path, then the argv block, and only as many
// bytes of data as they take.
struct SentExec {
  progeny_exec_event e{};
  size_t size = PROGENY_EXEC_FIXED;
  SentExec(__u32 pid, const std::string& path, const std::string& argv) {
    e.hdr = hdr(PROGENY_EV_EXEC, pid);
    std::memcpy(e.data, path.data(), path.size());
    std::memcpy(e.data + path.size(), argv.data(), argv.size());
    e.path_len = static_cast<__u16>(path.size());
    e.argv_len = static_cast<__u16>(argv.size());
    size += path.size() + argv.size();
  }
};

TEST(BpfEvent, ExecSplitsArgvAndKeepsPathAndComm) {
  SentExec x(30, "/bin/busybox", std::string("sh\0-c\0echo hi\0", 14));
  x.e.ppid = 3;
  std::strcpy(x.e.comm, "busybox");
  auto r = progeny::bpf::event_to_record(&x.e, x.size);
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
  std::string argv(PROGENY_ARGV_LEN, 'a');
  argv[1] = '\0';
  SentExec x(31, "/x", argv);
  x.e.argv_truncated = 1;
  auto r = progeny::bpf::event_to_record(&x.e, x.size);
  ASSERT_TRUE(r);
  json j = parse(*r);
  EXPECT_EQ(j["path"], "/x");
  ASSERT_EQ(j["argv"].size(), 2u);
  EXPECT_EQ(j["argv"][0], "a");
  EXPECT_EQ(j["argv"][1].get<std::string>().size(), size_t{PROGENY_ARGV_LEN} - 2);
  EXPECT_EQ(j["argv_truncated"], true);
}

TEST(BpfEvent, UnterminatedCommAndLongestPathStayInsideTheirFields) {
  SentExec x(32, std::string(PROGENY_PATH_LEN - 1, 'p'), "");
  std::memset(x.e.comm, 'c', sizeof x.e.comm);
  auto r = progeny::bpf::event_to_record(&x.e, x.size);
  ASSERT_TRUE(r);
  json j = parse(*r);
  EXPECT_EQ(j["comm"].get<std::string>(), std::string(sizeof x.e.comm, 'c'));
  EXPECT_EQ(j["path"].get<std::string>(), std::string(PROGENY_PATH_LEN - 1, 'p'));
  EXPECT_FALSE(j.contains("argv"));  // an empty list is left out, as every absent field
}

TEST(BpfEvent, ExecLengthsBeyondWhatWasSentAreRejected) {
  SentExec x(33, "/bin/true", std::string("true\0", 5));
  EXPECT_TRUE(progeny::bpf::event_to_record(&x.e, x.size));
  EXPECT_FALSE(progeny::bpf::event_to_record(&x.e, x.size - 1));
  x.e.path_len = PROGENY_PATH_LEN;  // longer than the kernel side ever sends
  EXPECT_FALSE(progeny::bpf::event_to_record(&x.e, sizeof x.e));
  x.e.path_len = 9;
  x.e.argv_len = PROGENY_ARGV_LEN + 1;
  EXPECT_FALSE(progeny::bpf::event_to_record(&x.e, sizeof x.e));
}

TEST(BpfEvent, RecordSizesAreWhatTheRingHolds) {
  // The ring's 8-byte header, and every record rounded up to 8.
  EXPECT_EQ(progeny::bpf::kForkRecordBytes, sizeof(progeny_fork_event) + 8);
  EXPECT_EQ(progeny::bpf::exit_record_bytes(0), size_t{PROGENY_EXIT_FIXED} + 8);
  EXPECT_EQ(progeny::bpf::exit_record_bytes(10), size_t{PROGENY_EXIT_FIXED} + 8 + 16);
  EXPECT_EQ(progeny::bpf::exit_record_bytes(100000), size_t{PROGENY_EXIT_FIXED} + 8 + 256);
  EXPECT_EQ(progeny::bpf::exec_record_bytes(9, 10), size_t{PROGENY_EXEC_FIXED} + 8 + 24);
  // Cut as the kernel side cuts: a path of at most 255 bytes, an argv block of 1 KiB.
  EXPECT_EQ(progeny::bpf::exec_record_bytes(100000, 100000),
            progeny::bpf::exec_record_bytes(PROGENY_PATH_LEN - 1, PROGENY_ARGV_LEN));
  EXPECT_EQ(progeny::bpf::exec_record_bytes(PROGENY_PATH_LEN - 1, PROGENY_ARGV_LEN),
            size_t{PROGENY_EXEC_FIXED} + 8 + 1280);
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

static_assert(offsetof(progeny_exit_event, title) == PROGENY_EXIT_FIXED,
              "the kernel side sends PROGENY_EXIT_FIXED bytes before the title");

// A title written over the argv area (PostgreSQL's way): one string, then NULs to the area's
// end, which are padding; a process that never rewrote it has its argv as its title.
TEST(BpfEvent, ExitTitleIsTheArgvAreaWithoutItsPadding) {
  progeny_exit_event e{};
  e.hdr = hdr(PROGENY_EV_EXIT, 41);
  std::string area("postgres: checkpointer \0\0\0\0\0\0", 29);
  std::memcpy(e.title, area.data(), area.size());
  e.title_len = static_cast<__u16>(area.size());
  size_t sent = PROGENY_EXIT_FIXED + area.size();
  auto r = progeny::bpf::event_to_record(&e, sent);
  ASSERT_TRUE(r);
  json j = parse(*r);
  EXPECT_EQ(j["title"], json::array({"postgres: checkpointer "}));
  EXPECT_EQ(j["code"], 0);

  std::string argv("sleep\0\0" "10\0", 9);  // an empty argument in the middle stays
  std::memcpy(e.title, argv.data(), argv.size());
  e.title_len = static_cast<__u16>(argv.size());
  r = progeny::bpf::event_to_record(&e, PROGENY_EXIT_FIXED + argv.size());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->title, (std::vector<std::string>{"sleep", "", "10"}));

  e.title_len = 0;  // no mm at the tracepoint (before Linux 6.16): no title at all
  r = progeny::bpf::event_to_record(&e, PROGENY_EXIT_FIXED);
  ASSERT_TRUE(r);
  EXPECT_FALSE(parse(*r).contains("title"));

  e.title_len = 9;  // claims more than was sent, or more than the kernel side ever sends
  EXPECT_FALSE(progeny::bpf::event_to_record(&e, PROGENY_EXIT_FIXED + 8));
  e.title_len = PROGENY_TITLE_LEN + 1;
  EXPECT_FALSE(progeny::bpf::event_to_record(&e, sizeof e));
  EXPECT_FALSE(progeny::bpf::event_to_record(&e, PROGENY_EXIT_FIXED - 1));
}

TEST(BpfEvent, AKillAtTheCapNamesTheChildAndItsForker) {
  progeny_cap_event e{};
  e.hdr = hdr(PROGENY_EV_CAP, 50);
  e.hdr.ino = 500;
  e.ppid = 49;
  e.parent_ino = 490;
  e.members = 65;
  auto r = progeny::bpf::event_to_record(&e, sizeof e);
  ASSERT_TRUE(r);
  json j = parse(*r);
  EXPECT_EQ(j["event"], "limit_kill");
  EXPECT_EQ(j["source"], "bpf");
  EXPECT_EQ(j["pid"], 50);
  EXPECT_EQ(j["ino"], 500);
  EXPECT_EQ(j["ppid"], 49);
  EXPECT_EQ(j["parent_ino"], 490);
  EXPECT_EQ(j["members"], 65);
  EXPECT_EQ(j["what"], "pids");
  EXPECT_FALSE(progeny::bpf::event_to_record(&e, sizeof e - 1));
}

TEST(BpfEvent, AnOomVictimIsNamedByIdentity) {
  progeny_oom_event e{};
  e.hdr = hdr(PROGENY_EV_OOM, 60);
  e.hdr.ino = 600;
  auto r = progeny::bpf::event_to_record(&e, sizeof e);
  ASSERT_TRUE(r);
  json j = parse(*r);
  EXPECT_EQ(j["event"], "oom_kill");
  EXPECT_EQ(j["pid"], 60);
  EXPECT_EQ(j["ino"], 600);
  EXPECT_EQ(j["start_time"], 4242);
  EXPECT_EQ(j["what"], "memory");
}

// Self figures: the exact run time split in the tick samples' ratio (as wait4 splits it), the
// peak in KiB, the lifetime as measured.
TEST(BpfEvent, ExitCarriesTheProcessOwnCost) {
  progeny_exit_event e{};
  e.hdr = hdr(PROGENY_EV_EXIT, 40);
  e.cpu_ns = 1000000000;
  e.utime_ns = 300000000;  // sampled 3:1, so the exact second splits 750 ms : 250 ms
  e.stime_ns = 100000000;
  e.maxrss_pages = 25600;
  e.lifetime_ns = 5000000000;
  auto r = progeny::bpf::event_to_record(&e, sizeof e);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cpu_user_ns, 750000000U);
  EXPECT_EQ(r->cpu_system_ns, 250000000U);
  EXPECT_EQ(r->peak_rss_kb, 25600U * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) / 1024);
  EXPECT_EQ(r->lifetime_ns, 5000000000U);
  EXPECT_FALSE(r->inclusive_cpu_user_ns);  // the tracker never claims a subtree's figures

  // No tick landed in system (or in user) time: all of it is the other kind.
  e.stime_ns = 0;
  r = progeny::bpf::event_to_record(&e, sizeof e);
  EXPECT_EQ(r->cpu_user_ns, e.cpu_ns);
  EXPECT_EQ(r->cpu_system_ns, 0U);
  e.utime_ns = 0;
  e.stime_ns = 4000000;
  r = progeny::bpf::event_to_record(&e, sizeof e);
  EXPECT_EQ(r->cpu_user_ns, 0U);
  EXPECT_EQ(r->cpu_system_ns, e.cpu_ns);
  // Hours of CPU on both sides do not overflow the split.
  e.cpu_ns = e.utime_ns = e.stime_ns = uint64_t{1} << 62;
  r = progeny::bpf::event_to_record(&e, sizeof e);
  EXPECT_EQ(r->cpu_user_ns, uint64_t{1} << 61);
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
