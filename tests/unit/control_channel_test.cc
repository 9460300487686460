// The --control-fd protocol on a real pipe: whole lines only, the strongest request of a
// read, unknown lines handed back, end of file closes the channel and asks for nothing, and
// the descriptor is taken over close-on-exec.
#include "launcher/run/control_channel.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace progeny {
namespace {

using Request = ControlChannel::Request;

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    r = p[0];
    w = p[1];
  }
  ~Pipe() {
    if (w >= 0) ::close(w);
  }
  void say(const std::string& s) { ASSERT_EQ(::write(w, s.data(), s.size()), static_cast<ssize_t>(s.size())); }
};

TEST(ControlChannel, TakesTheDescriptorOverCloseOnExec) {
  Pipe p;
  std::string why;
  auto ch = ControlChannel::adopt(p.r, &why);
  ASSERT_TRUE(ch) << why;
  EXPECT_EQ(::fcntl(p.r, F_GETFD), -1) << "the inherited number stays open";
  EXPECT_EQ(::fcntl(ch->fd(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_FALSE(ControlChannel::adopt(p.r, &why));
  EXPECT_FALSE(why.empty());
}

TEST(ControlChannel, WholeLinesOnlyAndKillBeatsStop) {
  Pipe p;
  std::string why;
  auto ch = ControlChannel::adopt(p.r, &why);
  ASSERT_TRUE(ch) << why;
  std::vector<std::string> unknown;
  p.say("st");
  EXPECT_EQ(ch->read(&unknown), Request::kNone);
  p.say("op\n");
  EXPECT_EQ(ch->read(&unknown), Request::kStop);
  p.say("stop\nkill\nstop\r\n");
  EXPECT_EQ(ch->read(&unknown), Request::kKill);
  p.say("halt\n\nSTOP\n");
  EXPECT_EQ(ch->read(&unknown), Request::kNone);
  EXPECT_EQ(unknown, (std::vector<std::string>{"halt", "STOP"}));
  EXPECT_TRUE(ch->open());
}

TEST(ControlChannel, EndOfFileClosesAndAsksForNothing) {
  Pipe p;
  std::string why;
  auto ch = ControlChannel::adopt(p.r, &why);
  ASSERT_TRUE(ch) << why;
  p.say("sto");  // cut by the end: no request
  ::close(p.w);
  p.w = -1;
  std::vector<std::string> unknown;
  EXPECT_EQ(ch->read(&unknown), Request::kNone);
  EXPECT_EQ(ch->read(&unknown), Request::kNone);
  EXPECT_FALSE(ch->open());
  EXPECT_TRUE(unknown.empty());
}

}  // namespace
}  // namespace progeny
