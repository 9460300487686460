// `progeny run --report FILE --report-format junit`: the verdict as one JUnit test case, so
// any CI shows a leak as a failed test. Every string goes through xml_escape (control bytes and
// invalid UTF-8 as \xNN, then the entities): XML 1.0 cannot carry them even as references.
#include <cstdio>

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

// What fails the test case: the leftovers (the stderr report's own lines) and what could not
// be stopped; empty when nothing was left.
std::string failure_of(const Verdict& v, std::string* message) {
  if (v.leftovers.empty() && v.survivors.empty()) return "";
  std::string body = format_runaway_report(v.leftovers, v.stop, 100);
  for (const auto& s : v.survivors) body += "progeny: could not be stopped: " + s + "\n";
  *message = body.substr(0, body.find('\n'));
  if (message->starts_with("progeny: ")) *message = message->substr(9);
  return body;
}

}  // namespace

std::string verdict_junit(const Verdict& v) {
  std::string message;
  std::string failure = failure_of(v, &message);
  bool error = v.outcome == Verdict::Outcome::kProgenyError;
  std::string counts = attr("tests", "1") + attr("failures", failure.empty() ? "0" : "1") +
                       attr("errors", error ? "1" : "0") + attr("time", seconds(v.duration_ns));
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites" + attr("name", "progeny") + counts + ">\n";
  out += "  <testsuite" + attr("name", "progeny run") + counts + attr("skipped", "0") + ">\n";
  out += "    <properties>\n";
  out += "      <property" + attr("name", "exit_status") + attr("value", std::to_string(v.exit_status)) + "/>\n";
  out += "      <property" + attr("name", "outcome") + attr("value", outcome_name(v.outcome)) + "/>\n";
  out += "    </properties>\n";
  std::string name = v.command.empty() ? "COMMAND" : command_text(v.command, 120);
  out += "    <testcase" + attr("classname", "progeny.run") + attr("name", name) +
         attr("time", seconds(v.duration_ns)) + ">\n";
  if (error)
    out += "      <error" + attr("type", "progeny_error") + attr("message", v.error) + "/>\n";
  if (!failure.empty())
    out += "      <failure" + attr("type", "leak") + attr("message", message) + ">" +
           xml_lines(failure) + "</failure>\n";
  out += "      <system-out>" + xml_escape(outcome_meaning(v)) + "</system-out>\n";
  out += "    </testcase>\n  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace progeny
