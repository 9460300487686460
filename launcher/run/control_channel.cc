#include "launcher/run/control_channel.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace progeny {
namespace {

// A line longer than this is no request: kept short so a runaway writer costs no memory.
constexpr size_t kMaxLine = 64;

}  // namespace

std::optional<ControlChannel> ControlChannel::adopt(int fd, std::string* why) {
  // Above the standard streams, so a later dup2 onto 0-2 in a child cannot clash with it.
  Fd own(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
  if (!own) {
    *why = std::strerror(errno);
    return std::nullopt;
  }
  ::close(fd);
  return ControlChannel(std::move(own));
}

ControlChannel::Request ControlChannel::read(std::vector<std::string>* unknown) {
  char buf[512];
  ssize_t n = ::read(fd_.get(), buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return Request::kNone;
  if (n <= 0) {
    fd_.reset();
    return Request::kNone;
  }
  Request strongest = Request::kNone;
  for (ssize_t i = 0; i < n; ++i) {
    if (buf[i] != '\n') {
      if (partial_.size() <= kMaxLine) partial_ += buf[i];
      continue;
    }
    std::string line = std::exchange(partial_, {});
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "kill") strongest = Request::kKill;
    else if (line == "stop") strongest = std::max(strongest, Request::kStop);
    else if (!line.empty()) unknown->push_back(line);
  }
  return strongest;
}

}  // namespace progeny
