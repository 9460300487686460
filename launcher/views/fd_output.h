// An ostream onto a file descriptor with a large buffer: the tree views write documents of
// hundreds of megabytes (a 1,000,000-event log), which must stream to stdout as they are
// made rather than be built in memory first, and std::cout's per-piece synchronisation with
// stdio costs more than the rendering.
#pragma once
#include <ostream>
#include <streambuf>
#include <vector>

namespace progeny {

class FdOutput : public std::streambuf {
 public:
  explicit FdOutput(int fd) : fd_(fd), buf_(1 << 16) { setp(buf_.data(), buf_.data() + buf_.size()); }
  FdOutput(const FdOutput&) = delete;
  FdOutput& operator=(const FdOutput&) = delete;
  ~FdOutput() override { drain(); }
  // Everything written so far reached the descriptor.
  bool ok() { return drain() && ok_; }

 protected:
  int_type overflow(int_type c) override;
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain();
  int fd_;  // not owned: stdout
  std::vector<char> buf_;
  bool ok_ = true;
};

}  // namespace progeny
