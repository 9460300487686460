#include "launcher/views/fd_output.h"

#include <errno.h>
#include <unistd.h>

namespace progeny {

std::streambuf::int_type FdOutput::overflow(int_type c) {
  if (!drain()) return traits_type::eof();
  if (!traits_type::eq_int_type(c, traits_type::eof())) {
    *pptr() = traits_type::to_char_type(c);
    pbump(1);
  }
  return traits_type::not_eof(c);
}

bool FdOutput::drain() {
  const char* p = pbase();
  while (ok_ && p < pptr()) {
    ssize_t n = ::write(fd_, p, static_cast<size_t>(pptr() - p));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ok_ = false;
    else p += n;
  }
  setp(buf_.data(), buf_.data() + buf_.size());
  return ok_;
}

}  // namespace progeny
