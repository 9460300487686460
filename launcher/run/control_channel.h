// `progeny run --control-fd N`: a descriptor the caller inherited to progeny, on which it asks
// for the whole tree to be stopped. Signals cannot say that: every signal progeny gets is
// COMMAND's (forwarded), so a language binding needs a channel of its own.
//
// The protocol is lines of text: "stop" asks for the stop sequence (--signal, --kill-after
// grace, SIGKILL, of every member); "kill" for SIGKILL at once (during a stop: skip what is
// left of the grace). End of file asks for nothing: the caller may close its end (or die)
// without ending the run, since the run's life is COMMAND's, not the caller's.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "launcher/os/fd.h"

namespace progeny {

class ControlChannel {
 public:
  enum class Request { kNone, kStop, kKill };  // in increasing strength

  // Takes fd over: moved to a close-on-exec descriptor, so COMMAND never inherits it.
  // nullopt and *why when fd is not an open descriptor.
  static std::optional<ControlChannel> adopt(int fd, std::string* why);

  int fd() const { return fd_.get(); }
  bool open() const { return fd_.valid(); }
  // After poll said readable: reads once (so it cannot block), returns the strongest request
  // among the complete lines; lines that are neither request go to *unknown. Closes the
  // channel at end of file or on a read error.
  Request read(std::vector<std::string>* unknown);

 private:
  explicit ControlChannel(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
  std::string partial_;  // a line not ended yet
};

}  // namespace progeny
