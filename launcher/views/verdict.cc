#include "launcher/views/verdict.h"

#include <cstring>

#include "launcher/os/parse.h"

namespace progeny {

const char* outcome_name(Verdict::Outcome o) {
  switch (o) {
    case Verdict::Outcome::kCommandExited: return "command_exited";
    case Verdict::Outcome::kCommandSignaled: return "command_signaled";
    case Verdict::Outcome::kCommandNotFound: return "command_not_found";
    case Verdict::Outcome::kNotExecutable: return "command_not_executable";
    case Verdict::Outcome::kTimeout: return "timeout";
    case Verdict::Outcome::kRunaway: return "runaway";
    case Verdict::Outcome::kStoppedOnRequest: return "stopped_on_request";
    case Verdict::Outcome::kProgenyError: return "progeny_error";
  }
  return "progeny_error";
}

std::string outcome_meaning(const Verdict& v) {
  std::string exec_error = v.exec_errno ? std::strerror(v.exec_errno) : "";
  switch (v.outcome) {
    case Verdict::Outcome::kCommandExited:
      return "COMMAND exited with " + std::to_string(v.command_code.value_or(0));
    case Verdict::Outcome::kCommandSignaled:
      return "COMMAND died of SIG" + signal_name(v.command_signal) + "; progeny died of it too";
    case Verdict::Outcome::kCommandNotFound:
      return "COMMAND not found: " + exec_error;
    case Verdict::Outcome::kNotExecutable:
      return "COMMAND not executable: " + exec_error;
    case Verdict::Outcome::kTimeout:
      return "the timeout of " + std::to_string(v.stop.timeout_ms) + " ms elapsed";
    case Verdict::Outcome::kRunaway:
      return "COMMAND succeeded but left " + std::to_string(v.leftovers.size()) +
             " process(es) running (--fail-on-runaway)";
    case Verdict::Outcome::kStoppedOnRequest:
      return "stopped on request while COMMAND still ran";
    case Verdict::Outcome::kProgenyError:
      return "progeny's own error: " + v.error;
  }
  return "";
}

}  // namespace progeny
