// The controlling terminal, when progeny runs in its foreground process group: COMMAND's
// group gets the terminal for the run, progeny takes it back (with its settings) afterwards.
#pragma once
#include <sys/types.h>
#include <termios.h>

#include "launcher/os/fd.h"

namespace progeny {

class Terminal {
 public:
  // Active only if /dev/tty opens and its foreground group is ours (not merely "stdin is a
  // tty": run in the background, progeny leaves the terminal alone).
  static Terminal open_if_foreground();
  Terminal(Terminal&&) = default;
  Terminal& operator=(Terminal&&) = default;
  ~Terminal() { take_back(); }

  bool active() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  void give_to(pid_t pgrp);
  // Makes our group the foreground again and restores the settings saved at start
  // (COMMAND may have left the terminal raw). Idempotent.
  void take_back();
  // Job control: remember COMMAND's settings when it is suspended, put them back on resume.
  void save_job_modes();
  void restore_job_modes();

 private:
  Terminal() = default;
  Fd fd_;
  pid_t own_pgrp_ = 0;
  pid_t given_to_ = 0;
  termios saved_{};
  termios job_{};
  bool have_job_ = false;
};

}  // namespace progeny
