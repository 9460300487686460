// ShimSocket without process trees: the test process itself is the peer (its parent stands
// in for the launcher, so it descends from it).
#include "launcher/collect/shim_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "launcher/os/pidfs.h"
#include "launcher/os/proc.h"
#include "launcher/os/sys.h"

namespace progeny {
namespace {

int connect_to(const ShimSocket& sock) {
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path + 1, sock.name().data(), sock.name().size());
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + sock.name().size());
  EXPECT_EQ(::connect(s, reinterpret_cast<sockaddr*>(&sa), len), 0);
  return s;
}

void send_str(int fd, const std::string& s) {
  ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
}

uint64_t ino_of(pid_t pid) {
  Fd fd = open_pidfd(pid);
  return pidfd_ino(fd.get());
}

std::string exec_line(pid_t pid, const std::string& identity, const std::string& extra = "") {
  return "{\"v\":1,\"event\":\"exec\",\"source\":\"shim\",\"pid\":" + std::to_string(pid) +
         ",\"time_ns\":1" + identity + ",\"ppid\":" + std::to_string(::getppid()) +
         ",\"path\":\"/x\",\"argv\":[\"x\"]" + extra + "}\n";
}

std::string own_identity() { return ",\"ino\":" + std::to_string(ino_of(::getpid())); }

struct Collected {
  std::vector<Record> records;
  std::vector<pid_t> members;
};

std::unique_ptr<ShimSocket> open_socket(Collected* c) {
  ShimSocket::Options o;
  o.launcher = ::getppid();
  o.on_record = [c](Record&& r) { c->records.push_back(std::move(r)); };
  o.on_member = [c](VerifiedProcess&& p, pid_t, uint64_t, uint64_t) { c->members.push_back(p.pid()); };
  std::string err;
  auto s = ShimSocket::open(std::move(o), &err);
  EXPECT_TRUE(s) << err;
  return s;
}

TEST(ShimSocket, DeliversTypedRecordsWithTheirProvenProcess) {
  Collected got;
  auto sock = open_socket(&got);
  int c = connect_to(*sock);
  // Split in two sends: the socket must keep the partial line until its newline arrives.
  std::string line = exec_line(::getpid(), own_identity());
  send_str(c, line.substr(0, 20));
  sock->on_readable();
  send_str(c, line.substr(20));
  sock->on_readable();
  sock->drain();
  ASSERT_EQ(got.records.size(), 1U);
  const Record& r = got.records[0];
  EXPECT_EQ(r.event, "exec");
  EXPECT_EQ(r.pid, ::getpid());
  EXPECT_EQ(r.ino, ino_of(::getpid()));
  auto st = read_proc_stat(::getpid());
  ASSERT_TRUE(st);
  EXPECT_EQ(r.start_time, st->start_time);  // filled in from the proven process
  // The peer at accept, and the record's process: both this process.
  ASSERT_GE(got.members.size(), 1U);
  EXPECT_EQ(got.members[0], ::getpid());
  EXPECT_EQ(sock->refused(), 0U);
  ::close(c);
}

TEST(ShimSocket, RefusesARecordWithoutIdentityOrOfAnotherProcess) {
  Collected got;
  auto sock = open_socket(&got);
  int c = connect_to(*sock);
  send_str(c, exec_line(::getpid(), ""));  // names nobody it can prove
  // A live process that does not descend from the "launcher" (our parent): our grandparent.
  auto parent = read_proc_stat(::getppid());
  ASSERT_TRUE(parent);
  pid_t foreign = parent->ppid;
  send_str(c, exec_line(foreign, ",\"ino\":" + std::to_string(ino_of(foreign))));
  // A pid whose identity is another process's: never taken for it.
  send_str(c, exec_line(::getpid(), ",\"ino\":" + std::to_string(ino_of(foreign))));
  sock->on_readable();
  sock->drain();
  EXPECT_EQ(got.records.size(), 0U);
  EXPECT_EQ(sock->refused(), 3U);
  ::close(c);
}

TEST(ShimSocket, CountsLostRecordsAndRefusedLines) {
  Collected got;
  auto sock = open_socket(&got);
  int c = connect_to(*sock);
  send_str(c, exec_line(::getpid(), own_identity(), ",\"lost\":3"));
  send_str(c, "not json\n");
  sock->on_readable();
  sock->drain();
  EXPECT_EQ(sock->lost(), 3U);
  EXPECT_EQ(sock->refused(), 1U);
  ASSERT_EQ(got.records.size(), 1U);
  EXPECT_FALSE(got.records[0].lost) << "the count is the socket's, not the record's";
  ::close(c);
}

TEST(ShimSocket, DropsAConnectionThatSendsAnOverlongLine) {
  Collected got;
  auto sock = open_socket(&got);
  int c = connect_to(*sock);
  send_str(c, std::string(5000, 'x'));
  sock->on_readable();
  EXPECT_EQ(sock->refused(), 1U);
  sock->drain();
  EXPECT_TRUE(got.records.empty());
  ::close(c);
}

// A shim sends one message per connection: read whole, the connection is done at once, not
// when the peer's EOF arrives (which would cost the launcher another wake-up).
TEST(ShimSocket, AConnectionIsClosedAsSoonAsItsOneMessageIsRead) {
  Collected got;
  auto sock = open_socket(&got);
  int c = connect_to(*sock);
  send_str(c, exec_line(::getpid(), own_identity()));
  sock->on_readable();
  ASSERT_EQ(got.records.size(), 1U);
  char byte;
  EXPECT_EQ(::recv(c, &byte, 1, MSG_DONTWAIT), 0) << "the launcher kept the connection open";
  ::close(c);
}

TEST(ShimSocket, TheConnectionAloneMakesItsPeerAMember) {
  Collected got;
  auto sock = open_socket(&got);
  int c = connect_to(*sock);
  sock->on_readable();
  ASSERT_EQ(got.members.size(), 1U);
  EXPECT_EQ(got.members[0], ::getpid());
  ::close(c);
}

// Arms one end of a lifeline pipe as the shim does: SIGKILL to this process at any release
// of the other end.
bool arm_for_self(int end) {
  f_owner_ex owner{F_OWNER_PID, ::getpid()};
  return ::fcntl(end, F_SETOWN_EX, &owner) == 0 && ::fcntl(end, F_SETSIG, SIGKILL) == 0 &&
         ::fcntl(end, F_SETFL, O_ASYNC) == 0;
}

// In a fork child: what its shim sends, its own birth record with its lifeline (both ends of
// a pipe, armed for itself when `armed`) and its own pidfd in one message.
bool send_own_birth(const ShimSocket& sock, uint64_t parent_ino, uint64_t* ino, bool armed = false) {
  int c = connect_to(sock);
  int self = static_cast<int>(sys_pidfd_open(::getpid(), 0));
  int lifeline[2];
  if (self < 0 || ::pipe2(lifeline, O_CLOEXEC) != 0) return false;
  if (armed && !(arm_for_self(lifeline[0]) && arm_for_self(lifeline[1]))) return false;
  *ino = pidfd_ino(self);
  std::string line = "{\"v\":1,\"event\":\"fork\",\"source\":\"shim\",\"pid\":" +
                     std::to_string(::getpid()) + ",\"time_ns\":1,\"ino\":" + std::to_string(*ino) +
                     ",\"ppid\":" + std::to_string(::getppid()) +
                     ",\"parent_ino\":" + std::to_string(parent_ino) + ",\"via\":\"fork\"}\n";
  int fds[3] = {lifeline[0], lifeline[1], self};
  iovec iov{line.data(), line.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof fds)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof fds);
  std::memcpy(CMSG_DATA(cm), fds, sizeof fds);
  bool sent = ::sendmsg(c, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(line.size());
  // Sent, the ends live on in the socket's queue: closing ours releases nothing.
  ::close(lifeline[0]);
  ::close(lifeline[1]);
  ::close(self);
  ::close(c);
  return sent;
}

// What a fork child's shim sends: its own birth record, with its lifeline and its own pidfd in
// one message. The child exits and is reaped before the socket reads anything: the pidfd that
// came along beside the lifeline still names it, so its exit can be learnt.
TEST(ShimSocket, AForkChildsOwnRecordBesideItsLifelineBringsAPidfdThatOutlivesItsReap) {
  std::vector<Record> records;
  std::vector<uint64_t> ended;
  ShimSocket::Options o;
  o.launcher = ::getppid();
  o.on_record = [&](Record&& r) { records.push_back(std::move(r)); };
  o.on_ended = [&](Fd fd, const Record&) { ended.push_back(pidfd_ino(fd.get())); };
  std::string err;
  auto sock = ShimSocket::open(std::move(o), &err);
  ASSERT_TRUE(sock) << err;
  uint64_t parent_ino = ino_of(::getpid());
  sock->vouch(parent_ino);  // the parent is a member: it vouches for its child's late record
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    uint64_t ino = 0;
    bool sent = send_own_birth(*sock, parent_ino, &ino);
    (void)!::write(report[1], &ino, sizeof ino);
    ::_exit(sent ? 0 : 3);
  }
  ::close(report[1]);
  uint64_t child_ino = 0;
  ASSERT_EQ(::read(report[0], &child_ino, sizeof child_ino), static_cast<ssize_t>(sizeof child_ino));
  ::close(report[0]);
  int st = 0;
  ASSERT_EQ(::waitpid(child, &st, 0), child);  // reaped: opening it by identity finds nothing
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  sock->on_readable();
  sock->drain();
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].pid, child);
  EXPECT_EQ(ended, std::vector<uint64_t>{child_ino});
  EXPECT_EQ(sock->refused(), 0U);
}

// A fork child of ours (vouched for as a member) that sends its own birth record
// (send_own_birth, its lifeline armed when `armed`), which the socket then reads, and stays
// alive until finish() (bounded by an alarm). reported: it told its identity.
struct LiveChild {
  pid_t pid = -1;
  uint64_t ino = 0;
  bool reported = false;
  int release = -1;
  // Lets it exit and reaps it: its wait status, or -1.
  int finish() {
    ::close(release);
    int st = 0;
    return pid > 0 && ::waitpid(pid, &st, 0) == pid ? st : -1;
  }
};

LiveChild live_child_handing_in(ShimSocket& sock, bool armed) {
  uint64_t parent_ino = ino_of(::getpid());
  sock.vouch(parent_ino);  // the parent is a member: it vouches for its child's record
  LiveChild c;
  int report[2], release[2];
  if (::pipe(report) != 0) return c;
  if (::pipe(release) != 0) {
    ::close(report[0]);
    ::close(report[1]);
    return c;
  }
  c.pid = ::fork();
  if (c.pid == 0) {
    ::close(release[1]);
    ::alarm(60);  // bounded whatever happens to the test
    uint64_t ino = 0;
    bool sent = send_own_birth(sock, parent_ino, &ino, armed);
    (void)!::write(report[1], &ino, sizeof ino);
    char b;
    (void)!::read(release[0], &b, 1);  // until the test is done (or gone)
    ::_exit(sent ? 0 : 3);
  }
  ::close(report[1]);
  ::close(release[0]);
  if (c.pid > 0)
    c.reported = ::read(report[0], &c.ino, sizeof c.ino) == static_cast<ssize_t>(sizeof c.ino);
  ::close(report[0]);
  c.release = release[1];
  if (c.reported) {
    sock.on_readable();
    sock.drain();
  }
  return c;
}

// The same from a live child: its lifeline is handed on once, and its birth record (which
// came with it) is not handed to the keeper a second time by its pidfd.
TEST(ShimSocket, ALiveForkChildIsHeldOnceByTheLifelineItsBirthRecordBrought) {
  std::vector<Record> records;
  int holds = 0, holds_with_lifeline = 0;
  ShimSocket::Options o;
  o.launcher = ::getppid();
  o.on_record = [&](Record&& r) { records.push_back(std::move(r)); };
  o.on_hold = [&](const Fd& lifeline, const Fd&, uint64_t) {
    ++holds;
    if (lifeline) ++holds_with_lifeline;
    return true;
  };
  std::string err;
  auto sock = ShimSocket::open(std::move(o), &err);
  ASSERT_TRUE(sock) << err;
  LiveChild child = live_child_handing_in(*sock, false);
  ASSERT_GT(child.pid, 0);
  int st = child.finish();
  ASSERT_TRUE(child.reported);
  ASSERT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].ino, child.ino);
  EXPECT_EQ(holds_with_lifeline, 1);
  EXPECT_EQ(holds, 1) << "held again by its pidfd";
}

enum class Keeper { kNone, kGone, kTakesIt };

// A live child hands in an armed lifeline pair. Without a keeper (lifelines off) the launcher
// disarms the ends before it closes them, and the child lives. Taken, the keeper's end is
// kept by the "keeper" here: when the keeper lets it go, the launcher's end, armed by the
// child, kills the child. With the keeper gone (killed), the tree fails closed: the launcher
// releases the pair armed, and the child dies at once, the launcher still alive.
void hand_in_armed_pair(Keeper keeper) {
  bool keeper_takes_it = keeper == Keeper::kTakesIt;
  std::optional<Fd> keeper_copy;
  ShimSocket::Options o;
  o.launcher = ::getppid();
  if (keeper != Keeper::kNone)
    o.on_hold = [&](const Fd& lifeline, const Fd&, uint64_t) {
      if (!keeper_takes_it || !lifeline) return false;
      keeper_copy.emplace(::fcntl(lifeline.get(), F_DUPFD_CLOEXEC, 0));
      return true;
    };
  std::string err;
  auto sock = ShimSocket::open(std::move(o), &err);
  ASSERT_TRUE(sock) << err;
  LiveChild child = live_child_handing_in(*sock, true);
  ASSERT_GT(child.pid, 0);
  bool held = keeper_copy.has_value();
  keeper_copy.reset();  // the keeper lets its end go (it dies, say)
  int st = child.finish();
  ASSERT_NE(st, -1);
  ASSERT_TRUE(child.reported);
  EXPECT_EQ(held, keeper_takes_it);
  if (keeper != Keeper::kNone)
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << "the lifeline did not fire: " << st;
  else
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "a refused lifeline killed its member: " << st;
}

TEST(ShimSocket, ALifelineWithoutAKeeperIsDisarmedBeforeItCloses) {
  hand_in_armed_pair(Keeper::kNone);
}

TEST(ShimSocket, ALifelineTheKilledKeeperCannotTakeKillsItsMember) {
  hand_in_armed_pair(Keeper::kGone);
}

TEST(ShimSocket, AHeldLifelineKillsItsMemberWhenTheKeepersEndGoes) {
  hand_in_armed_pair(Keeper::kTakesIt);
}

// A member that exited needs no lifeline: the launcher closes its end as soon as it learns the
// exit, without waiting for the keeper to drop its own (one wake-up fewer per process).
TEST(ShimSocket, AnExitedMembersLifelineEndIsClosedAtOnce) {
  std::optional<Fd> keeper_copy;
  ShimSocket::Options o;
  o.launcher = ::getppid();
  o.on_hold = [&](const Fd& lifeline, const Fd&, uint64_t) {
    if (lifeline) keeper_copy.emplace(::fcntl(lifeline.get(), F_DUPFD_CLOEXEC, 0));
    return true;
  };
  std::string err;
  auto sock = ShimSocket::open(std::move(o), &err);
  ASSERT_TRUE(sock) << err;
  LiveChild child = live_child_handing_in(*sock, false);
  ASSERT_GT(child.pid, 0);
  int st = child.finish();
  ASSERT_TRUE(child.reported);
  ASSERT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  ASSERT_TRUE(keeper_copy.has_value());
  auto writer_gone = [&] {
    pollfd p{keeper_copy->get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
  };
  EXPECT_FALSE(writer_gone()) << "the launcher's end closed before the exit was known";
  sock->exited(child.ino);
  EXPECT_TRUE(writer_gone()) << "the launcher still holds the exited member's end";
}

}  // namespace
}  // namespace progeny
