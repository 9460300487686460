#include "launcher/views/log_text.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace progeny {

namespace {
// Regions grow from a small first one (most logs are a few kilobytes; populating 16 MB for
// them would cost more than reading them) to kRegion; a regular file's first region is its
// size (plus room for what is appended while it is read).
constexpr size_t kFirstRegion = size_t{64} << 10, kRegion = size_t{16} << 20;
}

bool LogText::add_region(size_t capacity) {
  void* p = mmap(nullptr, capacity, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) return false;
  regions_.push_back({static_cast<char*>(p), capacity, 0});
  return true;
}

void LogText::release(Region& r) {
  if (!r.base) return;
  munmap(r.base, r.capacity);
  r.base = nullptr;
}

LogText::LogText(LogText&& o) noexcept
    : regions_(std::move(o.regions_)), lines_(std::move(o.lines_)) {
  o.regions_.clear();
}

LogText::~LogText() {
  for (Region& r : regions_) release(r);
}

std::optional<LogText> LogText::read(int fd, std::string* why) {
  LogText t;
  // Fill regions; a region ends at its last newline, and the unfinished line after it moves
  // to the next region (a region at least twice as large when that line fills half of one).
  size_t carry = 0;  // bytes of an unfinished line at the end of the last region
  size_t next = kFirstRegion;
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    next = std::clamp(static_cast<size_t>(st.st_size) + 4096, kFirstRegion, kRegion);
  for (bool eof = false; !eof; next = std::min(next * 2, kRegion)) {
    size_t need = std::max(next, carry * 2);
    if (!t.add_region(need)) {
      *why = strerror(errno);
      return std::nullopt;
    }
    Region& r = t.regions_.back();
    if (carry) {
      Region& prev = t.regions_[t.regions_.size() - 2];
      std::memcpy(r.base, prev.base + prev.size, carry);
      r.size = carry;
    }
    while (r.size < r.capacity) {
      ssize_t n = ::read(fd, r.base + r.size, r.capacity - r.size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        *why = strerror(errno);
        return std::nullopt;
      }
      if (n == 0) {
        eof = true;
        break;
      }
      r.size += static_cast<size_t>(n);
    }
    std::string_view all(r.base, r.size);
    size_t end = eof ? all.size() : all.rfind('\n') + 1;  // npos + 1 == 0: no newline at all
    carry = all.size() - end;
    r.size = end;
  }
  // Cut the regions into lines.
  size_t number = 0;
  for (size_t i = 0; i < t.regions_.size(); ++i) {
    std::string_view all(t.regions_[i].base, t.regions_[i].size);
    for (size_t at = 0; at < all.size();) {
      size_t nl = all.find('\n', at);
      size_t stop = nl == std::string_view::npos ? all.size() : nl;
      t.lines_.push_back({all.substr(at, stop - at), ++number, i});
      ++t.regions_[i].pending;
      at = stop + 1;
    }
    if (!t.regions_[i].pending) t.release(t.regions_[i]);
  }
  return t;
}

void LogText::done(const Line& l) {
  Region& r = regions_[l.region];
  if (--r.pending == 0) release(r);
}

}  // namespace progeny
