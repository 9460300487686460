#include "launcher/run/terminal.h"

#include <fcntl.h>
#include <unistd.h>

namespace progeny {

Terminal Terminal::open_if_foreground() {
  Terminal t;
  Fd fd(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!fd) return t;
  pid_t own = ::getpgrp();
  if (::tcgetpgrp(fd.get()) != own) return t;
  if (::tcgetattr(fd.get(), &t.saved_) != 0) return t;
  t.own_pgrp_ = own;
  t.fd_ = std::move(fd);
  return t;
}

// SIGTTOU is blocked in the launcher, so tcsetpgrp/tcsetattr work from the background too.
void Terminal::give_to(pid_t pgrp) {
  if (!active()) return;
  ::tcsetpgrp(fd_.get(), pgrp);
  given_to_ = pgrp;
}

void Terminal::take_back() {
  if (!active() || given_to_ == 0) return;
  ::tcsetpgrp(fd_.get(), own_pgrp_);
  ::tcsetattr(fd_.get(), TCSADRAIN, &saved_);
  given_to_ = 0;
}

void Terminal::save_job_modes() {
  if (active()) have_job_ = ::tcgetattr(fd_.get(), &job_) == 0;
}

void Terminal::restore_job_modes() {
  if (active() && have_job_) ::tcsetattr(fd_.get(), TCSADRAIN, &job_);
}

}  // namespace progeny
