#include "launcher/os/proc.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace progeny {
namespace {

// A real line from /proc/PID/stat with a hostile comm (spaces and parentheses).
constexpr char kStat[] =
    "4242 (a) b (c)) S 17 4242 4240 34816 4242 4194560 120 0 0 0 1 2 0 0 20 0 1 0 987654 "
    "2400000 200 18446744073709551615 1 1 0 0 0 0 0 0 65536 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 "
    "0 0 139\n";

TEST(ProcStat, ParsesFieldsAroundAHostileComm) {
  auto st = parse_proc_stat(kStat);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->pid, 4242);
  EXPECT_EQ(st->comm, "a) b (c)");
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 17);
  EXPECT_EQ(st->pgrp, 4242);
  EXPECT_EQ(st->session, 4240);
  EXPECT_EQ(st->start_time, 987654u);
  EXPECT_EQ(st->exit_code, 139);
}

TEST(ProcStat, RejectsTruncated) {
  EXPECT_FALSE(parse_proc_stat("").has_value());
  EXPECT_FALSE(parse_proc_stat("12 (x").has_value());
  EXPECT_FALSE(parse_proc_stat("12 (x) S 1 2").has_value());
  EXPECT_FALSE(parse_proc_stat("x (y) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20").has_value());
}

TEST(ProcStat, ReadsOurselves) {
  auto st = read_proc_stat(::getpid());
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->pid, ::getpid());
  EXPECT_EQ(st->ppid, ::getppid());
  EXPECT_EQ(st->state, 'R');
  EXPECT_GT(st->start_time, 0u);
  EXPECT_FALSE(read_proc_stat(0).has_value());
}

TEST(ProcStat, PidLists) {
  EXPECT_EQ(parse_pid_list("12 34 \n"), (std::vector<pid_t>{12, 34}));
  EXPECT_EQ(parse_pid_list(""), std::vector<pid_t>{});
  EXPECT_EQ(parse_pid_list("7 x 9"), (std::vector<pid_t>{7, 9}));
}

// An argv area as the kernel shows it: a retitled process's NUL padding is not a row of empty
// arguments (the leftovers report printed `'nginx: worker process' '' '' '' …`).
TEST(ProcStat, ArgvAreaSplitsAtNulsAndDropsATitlesPadding) {
  using namespace std::string_view_literals;
  using V = std::vector<std::string>;
  EXPECT_EQ(split_argv_area("sleep\0" "30\0"sv, false), (V{"sleep", "30"}));
  EXPECT_EQ(split_argv_area("a\0\0"sv, false), (V{"a", ""}));
  EXPECT_EQ(split_argv_area("a\0cut"sv, false), (V{"a", "cut"}));
  EXPECT_EQ(split_argv_area("nginx: worker process\0\0\0\0\0"sv, true), (V{"nginx: worker process"}));
  EXPECT_EQ(split_argv_area("\0\0"sv, true), V{});
  EXPECT_EQ(split_argv_area(""sv, false), V{});
}

TEST(ProcStat, CmdlineOfOurselves) {
  auto argv = read_cmdline(::getpid());
  ASSERT_FALSE(argv.empty());
  EXPECT_NE(argv[0].find("unit_tests"), std::string::npos);
}

}  // namespace
}  // namespace progeny
