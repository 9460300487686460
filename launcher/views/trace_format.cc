#include "launcher/views/trace_format.h"

#include <string.h>

#include <cstdio>

#include "launcher/views/lineage.h"
#include "launcher/views/view_util.h"

namespace progeny {

std::string TraceFormatter::format(const Record& r) {
  if (!t0_) t0_ = r.time_ns;
  char when[32];
  std::snprintf(when, sizeof when, "+%.3fs",
                static_cast<double>(r.time_ns - std::min(r.time_ns, *t0_)) / 1e9);
  auto name_of = [&](pid_t pid) {
    auto it = names_.find(pid);
    return it == names_.end() ? std::string() : " (" + it->second + ")";
  };
  std::string who = std::to_string(r.pid);
  std::string text;
  if (r.event == "fork") {
    auto ppid = static_cast<pid_t>(r.ppid.value_or(0));
    text = who + " fork from " + std::to_string(ppid) + name_of(ppid);
    if (r.via) text += " via " + printable(*r.via);
    if (r.role) text += " [" + printable(*r.role) + "]";
    if (auto it = names_.find(ppid); it != names_.end()) names_[r.pid] = it->second;
  } else if (r.event == "exec") {
    std::string path = r.path.value_or("?");
    text = who + " exec " +
           command_text(r.argv.empty() ? std::vector<std::string>{path} : r.argv, 72);
    names_[r.pid] = printable(base_name(path));
  } else if (r.event == "exec_failed") {
    auto e = r.error.value_or(0);
    const char* ename = e > 0 && e < 4096 ? strerrorname_np(static_cast<int>(e)) : nullptr;
    text = who + name_of(r.pid) + " exec failed " + printable(r.path.value_or("?")) + ": " +
           (ename ? ename : "errno " + std::to_string(e));
  } else if (r.event == "setsid") {
    text = who + name_of(r.pid) + " setsid (new session " + std::to_string(r.sid.value_or(r.pid)) + ")";
  } else if (r.event == "setpgid") {
    text = who + name_of(r.pid) + " setpgid " + std::to_string(r.pgid.value_or(0));
  } else if (r.event == "exit") {
    std::string how = r.unknown ? "unknown"
                      : r.signal ? "signal " + printable(*r.signal)
                                 : std::to_string(r.code.value_or(0));
    text = who + name_of(r.pid) + " exit " + how + (r.core ? " (core)" : "");
    names_.erase(r.pid);
  } else if (r.event == "signal") {
    auto target = static_cast<pid_t>(r.target_pid.value_or(r.pid));
    text = "progeny sends " + printable(r.signal.value_or("?")) + " to " + std::to_string(target) +
           name_of(target) + " (" + printable(r.reason.value_or("?")) + ")";
  } else if (r.event == "start") {
    text = "progeny " + who + " started: " + command_text(r.argv, 72);
    if (!r.mechanisms.empty()) text += " [" + command_text(r.mechanisms, 60) + "]";
  } else if (r.event == "timeout") {
    text = "progeny timeout after " + std::to_string(r.after_ms.value_or(0)) + "ms";
  } else if (r.event == "lost") {
    text = "progeny lost " + std::to_string(r.count.value_or(0)) + " " +
           printable(r.what.value_or("?")) + " events";
  } else if (r.event == "stop") {
    text = "progeny stop " + printable(r.phase.value_or("?"));
    if (r.members) text += ": " + std::to_string(*r.members) + " members";
    if (r.survivors) text += ", " + std::to_string(*r.survivors) + " survivors";
  } else {
    text = who + " " + printable(r.event);
  }
  std::string out = "progeny: " + std::string(when) + " " + text;
  if (r.source == "bpf") out += " [bpf]";
  return out;
}

}  // namespace progeny
