#include "launcher/trace_format.h"

#include <string.h>

#include <cstdio>

#include "launcher/lineage.h"
#include "launcher/logread.h"
#include "launcher/view_util.h"

namespace progeny {

std::string TraceFormatter::format(std::string_view json_line) {
  std::string line(json_line);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  std::string why;
  auto ev = parse_log_line(line, &why);
  if (!ev) return "progeny: unreadable record (" + why + "): " + printable(line.substr(0, 80));
  if (!t0_) t0_ = ev->time_ns;
  char when[32];
  std::snprintf(when, sizeof when, "+%.3fs",
                static_cast<double>(ev->time_ns - std::min(ev->time_ns, *t0_)) / 1e9);
  const auto& r = ev->rec;
  auto name_of = [&](pid_t pid) {
    auto it = names_.find(pid);
    return it == names_.end() ? std::string() : " (" + it->second + ")";
  };
  std::string who = std::to_string(ev->pid);
  std::string text;
  if (ev->event == "fork") {
    pid_t ppid = static_cast<pid_t>(field_int(r, "ppid").value_or(0));
    text = who + " fork from " + std::to_string(ppid) + name_of(ppid);
    if (auto via = field_str(r, "via")) text += " via " + printable(*via);
    if (auto it = names_.find(ppid); it != names_.end()) names_[ev->pid] = it->second;
  } else if (ev->event == "exec") {
    std::string path = field_str(r, "path").value_or("?");
    auto argv = field_strings(r, "argv");
    text = who + " exec " + command_text(argv.empty() ? std::vector<std::string>{path} : argv, 72);
    names_[ev->pid] = printable(base_name(path));
  } else if (ev->event == "exec_failed") {
    auto e = field_int(r, "errno").value_or(0);
    const char* ename = e > 0 && e < 4096 ? strerrorname_np(static_cast<int>(e)) : nullptr;
    text = who + name_of(ev->pid) + " exec failed " +
           printable(field_str(r, "path").value_or("?")) + ": " +
           (ename ? ename : "errno " + std::to_string(e));
  } else if (ev->event == "setsid") {
    text = who + name_of(ev->pid) + " setsid (new session " +
           std::to_string(field_int(r, "sid").value_or(ev->pid)) + ")";
  } else if (ev->event == "setpgid") {
    text = who + name_of(ev->pid) + " setpgid " + std::to_string(field_int(r, "pgid").value_or(0));
  } else if (ev->event == "exit") {
    std::string how = field_bool(r, "unknown") ? "unknown"
                      : field_signal(r, "signal") ? "signal " + printable(*field_signal(r, "signal"))
                                                  : std::to_string(field_int(r, "code").value_or(0));
    text = who + name_of(ev->pid) + " exit " + how + (field_bool(r, "core") ? " (core)" : "");
    names_.erase(ev->pid);
  } else if (ev->event == "signal") {
    pid_t target = static_cast<pid_t>(field_int(r, "target_pid").value_or(ev->pid));
    text = "progeny sends " + printable(field_signal(r, "signal").value_or("?")) + " to " +
           std::to_string(target) + name_of(target) + " (" +
           printable(field_str(r, "reason").value_or("?")) + ")";
  } else if (ev->event == "start") {
    text = "progeny " + who + " started: " + command_text(field_strings(r, "argv"), 72);
    auto mech = field_strings(r, "mechanisms");
    if (!mech.empty()) text += " [" + command_text(mech, 60) + "]";
  } else if (ev->event == "timeout") {
    text = "progeny timeout after " + std::to_string(field_int(r, "after_ms").value_or(0)) + "ms";
  } else if (ev->event == "lost") {
    text = "progeny lost " + std::to_string(field_int(r, "count").value_or(0)) + " " +
           printable(field_str(r, "what").value_or("?")) + " events";
  } else if (ev->event == "stop") {
    text = "progeny stop " + printable(field_str(r, "phase").value_or("?"));
    if (auto m = field_int(r, "members")) text += ": " + std::to_string(*m) + " members";
    if (auto s = field_int(r, "survivors")) text += ", " + std::to_string(*s) + " survivors";
  } else {
    text = who + " " + printable(ev->event);
  }
  std::string out = "progeny: " + std::string(when) + " " + text;
  if (ev->source == "bpf") out += " [bpf]";
  return out;
}

}  // namespace progeny
