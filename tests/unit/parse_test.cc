#include "launcher/os/parse.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace progeny {
namespace {

TEST(Duration, UnitsAndBareSeconds) {
  EXPECT_EQ(parse_duration_ms("500ms"), 500);
  EXPECT_EQ(parse_duration_ms("2s"), 2000);
  EXPECT_EQ(parse_duration_ms("2"), 2000);
  EXPECT_EQ(parse_duration_ms("1.5m"), 90000);
  EXPECT_EQ(parse_duration_ms("1h"), 3600000);
  EXPECT_EQ(parse_duration_ms("0.25"), 250);
  EXPECT_EQ(parse_duration_ms("0"), 0);
}

TEST(Duration, RejectsGarbage) {
  for (const char* bad : {"", "s", "1x", "-1", "1.2.3", ".5", "5.", "1 s", "ms", "1e3", "inf"})
    EXPECT_FALSE(parse_duration_ms(bad).has_value()) << bad;
}

TEST(Signal, NamesNumbersAndPrefixes) {
  EXPECT_EQ(parse_signal("TERM"), SIGTERM);
  EXPECT_EQ(parse_signal("SIGTERM"), SIGTERM);
  EXPECT_EQ(parse_signal("term"), SIGTERM);
  EXPECT_EQ(parse_signal("15"), SIGTERM);
  EXPECT_EQ(parse_signal("KILL"), SIGKILL);
  EXPECT_EQ(parse_signal("SIGRTMIN+2"), SIGRTMIN + 2);
  EXPECT_EQ(parse_signal("RTMAX-1"), SIGRTMAX - 1);
}

TEST(Signal, RejectsUnknown) {
  for (const char* bad : {"", "0", "65", "FOO", "SIG", "RTMIN+99", "15x", "-9"})
    EXPECT_FALSE(parse_signal(bad).has_value()) << bad;
}

TEST(Signal, NamesRoundTrip) {
  for (int s = 1; s < NSIG; ++s) {
    if (s > 31 && s < SIGRTMIN) continue;  // glibc's reserved real-time signals
    EXPECT_EQ(parse_signal(signal_name(s)), s) << signal_name(s);
  }
}

}  // namespace
}  // namespace progeny
