// EventSink without processes: the test process itself is the peer (its parent stands in for
// the launcher, so it descends from it).
#include "launcher/collect/event_sink.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "launcher/os/pidfs.h"
#include "launcher/os/proc.h"
#include "launcher/os/sys.h"

namespace progeny {
namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/progeny-sink-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  return d ? d : "/tmp";
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int connect_to(const EventSink& sink) {
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path + 1, sink.socket_name().data(), sink.socket_name().size());
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + sink.socket_name().size());
  EXPECT_EQ(::connect(s, reinterpret_cast<sockaddr*>(&sa), len), 0);
  return s;
}

void send_str(int fd, const std::string& s) {
  ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
}

std::unique_ptr<EventSink> open_sink(const std::string& log, std::string* err) {
  EventSink::Options o;
  o.log_path = log;
  o.launcher = ::getppid();
  o.pdeathsig = 0;
  return EventSink::open(o, err);
}

// The pidfs identity of a live process, as the shim reports it.
uint64_t ino_of(pid_t pid) {
  Fd fd = open_pidfd(pid);
  return pidfd_ino(fd.get());
}

std::string exec_line(pid_t pid, const std::string& extra = "") {
  return "{\"v\":1,\"event\":\"exec\",\"source\":\"shim\",\"pid\":" + std::to_string(pid) +
         ",\"time_ns\":1,\"ino\":" + std::to_string(ino_of(pid)) +
         ",\"ppid\":" + std::to_string(::getppid()) +
         ",\"path\":\"/x\",\"argv\":[\"x\"]" + extra + "}\n";
}

TEST(EventSink, AppendsRecordsFillsStartTimeAndTracksMember) {
  std::string dir = temp_dir(), log = dir + "/log.jsonl", err;
  auto sink = open_sink(log, &err);
  ASSERT_TRUE(sink) << err;
  int c = connect_to(*sink);
  // Split in two sends: the sink must keep the partial line until its newline arrives.
  std::string line = exec_line(::getpid());
  send_str(c, line.substr(0, 20));
  sink->on_readable();
  send_str(c, line.substr(20));
  sink->on_readable();
  sink->drain();
  auto st = read_proc_stat(::getpid());
  ASSERT_TRUE(st);
  std::string text = slurp(log);
  EXPECT_NE(text.find("\"event\":\"exec\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"start_time\":" + std::to_string(st->start_time) + "}"),
            std::string::npos)
      << text;
  auto members = sink->members();
  ASSERT_EQ(members.size(), 1U);
  EXPECT_EQ(members[0].pid, ::getpid());
  EXPECT_EQ(members[0].start_time, st->start_time);
  EXPECT_EQ(sink->refused(), 0U);
  ::close(c);
}

TEST(EventSink, LogIsPrivateAndSymlinksAreRefused) {
  std::string dir = temp_dir(), err;
  auto sink = open_sink(dir + "/log", &err);
  ASSERT_TRUE(sink) << err;
  struct stat st;
  ASSERT_EQ(::stat((dir + "/log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);

  ASSERT_EQ(::symlink((dir + "/victim").c_str(), (dir + "/link").c_str()), 0);
  auto refused = open_sink(dir + "/link", &err);
  EXPECT_FALSE(refused);
  EXPECT_NE(err.find("symbolic link"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos);
  EXPECT_NE(::access((dir + "/victim").c_str(), F_OK), 0) << "followed the planted symlink";
}

TEST(EventSink, CountsLostRecordsAndRefusedLines) {
  std::string dir = temp_dir(), log = dir + "/log", err;
  auto sink = open_sink(log, &err);
  ASSERT_TRUE(sink) << err;
  int c = connect_to(*sink);
  send_str(c, exec_line(::getpid(), ",\"lost\":3"));
  send_str(c, "not json\n");
  sink->on_readable();
  sink->drain();
  EXPECT_EQ(sink->lost(), 3U);
  EXPECT_EQ(sink->refused(), 1U);
  std::string text = slurp(log);
  EXPECT_NE(text.find("\"event\":\"lost\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"count\":3"), std::string::npos) << text;
  ::close(c);
}

TEST(EventSink, DropsAConnectionThatSendsAnOverlongLine) {
  std::string dir = temp_dir(), log = dir + "/log", err;
  auto sink = open_sink(log, &err);
  ASSERT_TRUE(sink) << err;
  int c = connect_to(*sink);
  send_str(c, std::string(5000, 'x'));
  sink->on_readable();
  EXPECT_EQ(sink->refused(), 1U);
  sink->drain();
  EXPECT_EQ(slurp(log).find("xxxx"), std::string::npos);
  ::close(c);
}

TEST(EventSink, WritesLauncherRecords) {
  std::string dir = temp_dir(), log = dir + "/log", err;
  auto sink = open_sink(log, &err);
  ASSERT_TRUE(sink) << err;
  sink->write(Record("start", "launcher", ::getpid()).add("version", "x"));
  EXPECT_NE(slurp(log).find("\"event\":\"start\""), std::string::npos);
}

TEST(EventSink, WithoutLogStillTracksMembers) {
  std::string err;
  auto sink = open_sink("", &err);
  ASSERT_TRUE(sink) << err;
  int c = connect_to(*sink);
  sink->on_readable();
  ASSERT_EQ(sink->members().size(), 1U);  // the connection alone makes its peer a member
  ::close(c);
}

TEST(ParseShimLine, ReadsTheFieldsTheSinkNeeds) {
  ShimLine f;
  ASSERT_TRUE(parse_shim_line(
      "{\"v\":1,\"event\":\"fork\",\"source\":\"shim\",\"pid\":12,\"time_ns\":5,\"ppid\":7,"
      "\"lost\":2}",
      &f));
  EXPECT_EQ(f.event, "fork");
  EXPECT_EQ(f.pid, 12);
  EXPECT_EQ(f.ppid, 7);
  EXPECT_EQ(f.lost, 2);
  EXPECT_FALSE(f.has_identity());
  EXPECT_FALSE(parse_shim_line("{\"event\":\"fork\"}", &f));  // no pid
  EXPECT_FALSE(parse_shim_line("{\"event\":\"fork\",\"pid\":1", &f));
  // A key inside an argv string is escaped and not taken for a field.
  ASSERT_TRUE(parse_shim_line(
      "{\"event\":\"exec\",\"argv\":[\"\\\"pid\\\":99\"],\"pid\":3}", &f));
  EXPECT_EQ(f.pid, 3);
}

}  // namespace
}  // namespace progeny
