// A log's whole text, held until each of its lines has been parsed. The views visit records
// in time order and a log is only nearly in it, so every line must be at hand before the
// first is parsed; a region of text is released as soon as the last line in it is.
//
// Regions are anonymous mappings filled by read(2) and populated when mapped: the kernel
// faults a region's pages in one go, not one exception per page (on this kind of virtual
// machine a page fault costs ~7 µs: 35,000 of them for a 136 MB log was a seventh of a view's
// time). A file is read, never mapped, so a log truncated while it is read cannot SIGBUS.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace progeny {

class LogText {
 public:
  struct Line {
    std::string_view text;  // without its newline (a trailing CR stays: the reader's rule)
    size_t number;          // 1-based
    size_t region;          // where its text is: a line never spans two regions
  };

  // Reads fd to its end. nullopt and *why (strerror) when a read fails.
  static std::optional<LogText> read(int fd, std::string* why);
  LogText(LogText&&) noexcept;
  LogText& operator=(LogText&&) = delete;
  LogText(const LogText&) = delete;
  ~LogText();

  // Every line, in file order, the last one also when no newline ends it.
  const std::vector<Line>& lines() const { return lines_; }
  // Marks a line of lines() done; its region is released when its last line is.
  void done(const Line& l);

 private:
  struct Region {
    char* base;
    size_t capacity, size;
    size_t pending = 0;  // its lines not done yet
  };
  LogText() = default;
  bool add_region(size_t capacity);
  void release(Region& r);
  std::vector<Region> regions_;
  std::vector<Line> lines_;
};

}  // namespace progeny
