// `progeny run --report FILE --report-format junit`: the verdict as one JUnit test case, so
// any CI shows a leak, or a limit that refused or killed, as a failed test. Every string goes through xml_escape (control bytes and
// invalid UTF-8 as \xNN, then the entities): XML 1.0 cannot carry them even as references.
#include <cstdio>
#include <vector>

#include "launcher/views/verdict.h"
#include "launcher/views/view_util.h"

namespace progeny {

namespace {

std::string seconds(uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ns) / 1e9);
  return buf;
}

std::string attr(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + xml_escape(value) + "\"";
}

// Element text of several lines: each line escaped, the line ends kept.
std::string xml_lines(std::string_view text) {
  std::string out;
  for (size_t at = 0; at < text.size();) {
    size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) nl = text.size();
    out += xml_escape(text.substr(at, nl - at));
    if (nl < text.size()) out += '\n';
    at = nl + 1;
  }
  return out;
}

// A limit that fails the test case: the cap refused or killed a process creation, or the
// memory limit OOM-killed a member. CPU throttling is what a cpu limit is for, and reclaim at
// the memory limit harms nobody: those are only properties.
bool limit_fails(const Verdict::Limit& l) {
  if (!l.hit) return false;
  if (l.name == "pids") return true;
  if (l.name != "memory") return false;
  for (const auto& [k, n] : l.counts)
    if (k == "oom_kill" && n > 0) return true;
  return false;
}

// "pid (name)" of each process a limit named, or "unknown".
std::string named_text(const Verdict::Limit& l) {
  if (l.named.empty()) return "unknown";
  std::string out;
  for (const auto& p : l.named) {
    if (!out.empty()) out += ", ";
    out += std::to_string(p.pid) + (p.name.empty() ? "" : " (" + p.name + ")");
  }
  return out;
}

// What fails the test case: the leftovers (the stderr report's own lines), what could not
// be stopped, and the limits that refused or killed (their stderr lines, naming whom);
// empty when none of these happened. *type: "leak" when anything was left, else "limit".
std::string failure_of(const Verdict& v, std::string* message, std::string* type) {
  std::vector<Verdict::Limit> failed;
  for (const auto& l : v.limits)
    if (limit_fails(l)) failed.push_back(l);
  if (v.leftovers.empty() && v.survivors.empty() && failed.empty()) return "";
  *type = v.leftovers.empty() && v.survivors.empty() ? "limit" : "leak";
  std::string body;
  if (!v.leftovers.empty() || !v.survivors.empty())
    body = format_runaway_report(v.leftovers, v.stop, 100);
  for (const auto& s : v.survivors) body += "progeny: could not be stopped: " + s + "\n";
  body += format_limit_report(failed);
  *message = body.substr(0, body.find('\n'));
  if (message->starts_with("progeny: ")) *message = message->substr(9);
  return body;
}

}  // namespace

std::string verdict_junit(const Verdict& v) {
  std::string message, type;
  std::string failure = failure_of(v, &message, &type);
  bool error = v.outcome == Verdict::Outcome::kProgenyError;
  std::string counts = attr("tests", "1") + attr("failures", failure.empty() ? "0" : "1") +
                       attr("errors", error ? "1" : "0") + attr("time", seconds(v.duration_ns));
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites" + attr("name", "progeny") + counts + ">\n";
  out += "  <testsuite" + attr("name", "progeny run") + counts + attr("skipped", "0") + ">\n";
  out += "    <properties>\n";
  out += "      <property" + attr("name", "exit_status") + attr("value", std::to_string(v.exit_status)) + "/>\n";
  out += "      <property" + attr("name", "outcome") + attr("value", outcome_name(v.outcome)) + "/>\n";
  // Every limit, hit or not: limit.NAME = "VALUE BACKEND hit|held", and whom it named.
  for (const auto& l : v.limits) {
    out += "      <property" + attr("name", "limit." + l.name) +
           attr("value", l.value + " " + l.backend + (l.hit ? " hit" : " held")) + "/>\n";
    if (!l.role.empty())
      out += "      <property" + attr("name", "limit." + l.name + "." + l.role) +
             attr("value", named_text(l)) + "/>\n";
  }
  out += "    </properties>\n";
  std::string name = v.command.empty() ? "COMMAND" : command_text(v.command, 120);
  out += "    <testcase" + attr("classname", "progeny.run") + attr("name", name) +
         attr("time", seconds(v.duration_ns)) + ">\n";
  if (error)
    out += "      <error" + attr("type", "progeny_error") + attr("message", v.error) + "/>\n";
  if (!failure.empty())
    out += "      <failure" + attr("type", type) + attr("message", message) + ">" +
           xml_lines(failure) + "</failure>\n";
  out += "      <system-out>" + xml_escape(outcome_meaning(v)) + "</system-out>\n";
  out += "    </testcase>\n  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace progeny
