// LineageLog: the one writer keeps the log's promises (private file, one exit per process
// and source, an exit for every process, records that fit).
#include "launcher/collect/lineage_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace progeny {
namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/progeny-log-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  return d ? d : "/tmp";
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::unique_ptr<LineageLog> open_log(const std::string& path) {
  LineageLog::Options o;
  o.path = path;
  o.launcher = 1;
  std::string why;
  auto log = LineageLog::open(std::move(o), &why);
  EXPECT_TRUE(log) << why;
  return log;
}

Record fork_of(pid_t pid, uint64_t ino) {
  Record r = make_record("fork", "shim", pid);
  r.ino = ino;
  r.ppid = 1;
  return r;
}

TEST(LineageLog, IsPrivateAndRefusesSymlinks) {
  std::string dir = temp_dir();
  auto log = open_log(dir + "/log");
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  ASSERT_EQ(::symlink((dir + "/victim").c_str(), (dir + "/link").c_str()), 0);
  LineageLog::Options o;
  o.path = dir + "/link";
  std::string why;
  EXPECT_FALSE(LineageLog::open(std::move(o), &why));
  EXPECT_NE(why.find("symbolic link"), std::string::npos) << why;
  EXPECT_EQ(why.find('\n'), std::string::npos);
  EXPECT_NE(::access((dir + "/victim").c_str(), F_OK), 0) << "followed the planted symlink";
}

TEST(LineageLog, OneExitPerProcessAndSource) {
  std::string path = temp_dir() + "/log";
  auto log = open_log(path);
  int status = 0;
  log->write(fork_of(10, 1000));
  log->write(exit_record("launcher", 10, 1000, 0, &status));
  log->write(exit_record("launcher", 10, 1000, 0, &status));  // learnt twice: dropped
  log->write(exit_record("bpf", 10, 1000, 0, &status));       // another source: kept
  log->finish();
  std::string text = slurp(path);
  EXPECT_EQ(count(text, "\"event\":\"exit\""), 2U) << text;
  EXPECT_EQ(log->unknown_exits(), 0U);
}

TEST(LineageLog, EveryProcessNamedGetsAnExitUnknownIfNeeded) {
  std::string path = temp_dir() + "/log";
  auto log = open_log(path);
  log->write(fork_of(10, 1000));
  log->write(fork_of(11, 1001));
  int status = 0;
  log->write(exit_record("bpf", 11, 1001, 0, &status));
  log->finish();
  std::string text = slurp(path);
  EXPECT_EQ(log->unknown_exits(), 1U);
  EXPECT_NE(text.find("\"pid\":10,\"time_ns\""), std::string::npos);
  EXPECT_EQ(count(text, "\"unknown\":true"), 1U) << text;
  EXPECT_NE(text.find("\"what\":\"exit\""), std::string::npos) << text;
}

TEST(LineageLog, TapSeesEveryRecordWithoutAFile) {
  LineageLog::Options o;
  size_t seen = 0;
  o.tap = [&](const Record&) { ++seen; };
  std::string why;
  auto log = LineageLog::open(std::move(o), &why);
  ASSERT_TRUE(log) << why;
  log->write(fork_of(10, 1000));
  log->finish();  // + the unknown exit and its lost count
  EXPECT_EQ(seen, 3U);
}

// The verdict's cost list: who created the most, by identity, the launcher's own spawn left out.
TEST(LineageLog, TopCreatorsMostFirstWithoutTheLauncher) {
  LineageLog::Options o;
  o.launcher = 1;
  std::string why;
  auto log = LineageLog::open(std::move(o), &why);
  ASSERT_TRUE(log) << why;
  auto child_of = [&](pid_t pid, uint64_t ino, pid_t creator, uint64_t creator_ino) {
    Record r = fork_of(pid, ino);
    r.ppid = creator;
    r.parent_ino = creator_ino;
    log->write(r);
  };
  child_of(10, 1000, 1, 1);  // COMMAND, spawned by the launcher
  Record exec = make_record("exec", "shim", 10);
  exec.ino = 1000;
  exec.path = "/usr/bin/make";
  log->write(exec);
  child_of(11, 1001, 10, 1000);
  child_of(12, 1002, 10, 1000);
  child_of(13, 1003, 10, 1000);
  child_of(14, 1004, 11, 1001);
  auto top = log->top_creators(5);
  ASSERT_EQ(top.size(), 2U);
  EXPECT_EQ(top[0].pid, 10);
  EXPECT_EQ(top[0].ino, 1000U);
  EXPECT_EQ(top[0].name, "make");
  EXPECT_EQ(top[0].created, 3U);
  EXPECT_EQ(top[1].pid, 11);
  EXPECT_EQ(top[1].created, 1U);
  EXPECT_EQ(log->top_creators(1).size(), 1U);
}

}  // namespace
}  // namespace progeny
