#include "launcher/views/trace_format.h"

#include <string.h>

#include <cstdio>

#include "launcher/views/lineage.h"
#include "launcher/views/logread.h"
#include "launcher/views/view_util.h"

namespace progeny {

std::string TraceFormatter::format(std::string_view json_line) {
  std::string line(json_line);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  std::string why;
  FlatRecord r;
  std::optional<LogEvent> ev;
  if (r.parse(line, &why)) ev = event_from_record(r, &why);
  if (!ev) return "progeny: unreadable record (" + why + "): " + printable(line.substr(0, 80));
  if (!t0_) t0_ = ev->time_ns;
  char when[32];
  std::snprintf(when, sizeof when, "+%.3fs",
                static_cast<double>(ev->time_ns - std::min(ev->time_ns, *t0_)) / 1e9);
  auto name_of = [&](pid_t pid) {
    auto it = names_.find(pid);
    return it == names_.end() ? std::string() : " (" + it->second + ")";
  };
  std::string who = std::to_string(ev->pid);
  std::string text;
  if (ev->event == "fork") {
    pid_t ppid = static_cast<pid_t>(r.integer("ppid").value_or(0));
    text = who + " fork from " + std::to_string(ppid) + name_of(ppid);
    if (auto via = r.str("via")) text += " via " + printable(*via);
    if (auto it = names_.find(ppid); it != names_.end()) names_[ev->pid] = it->second;
  } else if (ev->event == "exec") {
    std::string path = r.str("path").value_or("?");
    auto argv = r.strings("argv");
    text = who + " exec " + command_text(argv.empty() ? std::vector<std::string>{path} : argv, 72);
    names_[ev->pid] = printable(base_name(path));
  } else if (ev->event == "exec_failed") {
    auto e = r.integer("errno").value_or(0);
    const char* ename = e > 0 && e < 4096 ? strerrorname_np(static_cast<int>(e)) : nullptr;
    text = who + name_of(ev->pid) + " exec failed " +
           printable(r.str("path").value_or("?")) + ": " +
           (ename ? ename : "errno " + std::to_string(e));
  } else if (ev->event == "setsid") {
    text = who + name_of(ev->pid) + " setsid (new session " +
           std::to_string(r.integer("sid").value_or(ev->pid)) + ")";
  } else if (ev->event == "setpgid") {
    text = who + name_of(ev->pid) + " setpgid " + std::to_string(r.integer("pgid").value_or(0));
  } else if (ev->event == "exit") {
    std::string how = r.flag("unknown") ? "unknown"
                      : r.signal("signal") ? "signal " + printable(*r.signal("signal"))
                                                  : std::to_string(r.integer("code").value_or(0));
    text = who + name_of(ev->pid) + " exit " + how + (r.flag("core") ? " (core)" : "");
    names_.erase(ev->pid);
  } else if (ev->event == "signal") {
    pid_t target = static_cast<pid_t>(r.integer("target_pid").value_or(ev->pid));
    text = "progeny sends " + printable(r.signal("signal").value_or("?")) + " to " +
           std::to_string(target) + name_of(target) + " (" +
           printable(r.str("reason").value_or("?")) + ")";
  } else if (ev->event == "start") {
    text = "progeny " + who + " started: " + command_text(r.strings("argv"), 72);
    auto mech = r.strings("mechanisms");
    if (!mech.empty()) text += " [" + command_text(mech, 60) + "]";
  } else if (ev->event == "timeout") {
    text = "progeny timeout after " + std::to_string(r.integer("after_ms").value_or(0)) + "ms";
  } else if (ev->event == "lost") {
    text = "progeny lost " + std::to_string(r.integer("count").value_or(0)) + " " +
           printable(r.str("what").value_or("?")) + " events";
  } else if (ev->event == "stop") {
    text = "progeny stop " + printable(r.str("phase").value_or("?"));
    if (auto m = r.integer("members")) text += ": " + std::to_string(*m) + " members";
    if (auto s = r.integer("survivors")) text += ", " + std::to_string(*s) + " survivors";
  } else {
    text = who + " " + printable(ev->event);
  }
  std::string out = "progeny: " + std::string(when) + " " + text;
  if (ev->source == "bpf") out += " [bpf]";
  return out;
}

}  // namespace progeny
