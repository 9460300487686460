// libFuzzer target: arbitrary bytes as a lineage log, through the reader, the tree model,
// every rendering, the summary and the --trace formatter. Any crash, leak or sanitizer
// report is a bug: a truncated or hostile log must never take the views down. Each line is
// also judged by nlohmann's parser: the record reader must call it invalid JSON exactly when
// nlohmann does (and always when it holds a NUL, where nlohmann stops reading).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>

#include "launcher/views/logread.h"
#include "launcher/views/lineage.h"
#include "launcher/views/log_text.h"
#include "launcher/views/summary.h"
#include "launcher/views/trace_format.h"
#include "launcher/views/tree_views.h"
#include "schema/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::istringstream in(text);
  progeny::LogContents c = progeny::read_log(in);
  progeny::TraceFormatter tf;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::string why;
    auto r = progeny::parse_record(line, &why);
    if (r) (void)tf.format(*r);
    std::string_view json = line;
    while (!json.empty() && (json.back() == '\n' || json.back() == '\r')) json.remove_suffix(1);
    bool said_invalid = !r && why == "not valid JSON (truncated or garbled)";
    // A raw NUL is never valid JSON (not whitespace; a control character in a string), but
    // nlohmann's lexer takes it for the end of its input and judges only what came before.
    if (json.find('\0') != std::string_view::npos) {
      if (!said_invalid) __builtin_trap();
    } else if (json.size() <= (1 << 20) && said_invalid == nlohmann::json::accept(json)) {
      __builtin_trap();
    }
  }
  // The views' own path: the text read from a descriptor, parsed once in time order.
  int fd = memfd_create("log", MFD_CLOEXEC);
  if (fd >= 0 && write(fd, data, size) == static_cast<ssize_t>(size) && lseek(fd, 0, SEEK_SET) == 0) {
    std::string why;
    if (auto t = progeny::LogText::read(fd, &why)) {
      std::vector<progeny::LogProblem> problems;
      progeny::Lineage read = progeny::read_lineage(std::move(*t), &problems);
      if (read.procs.size() != progeny::build_lineage(c.events, c.problems.size()).procs.size())
        __builtin_trap();
    }
  }
  if (fd >= 0) close(fd);
  progeny::Lineage lin = progeny::build_lineage(c.events, c.problems.size());
  std::ostringstream out;
  progeny::FoldedTree folded = progeny::fold_lineage(lin, {}, {});
  progeny::FoldedTree expanded = progeny::fold_lineage(lin, {}, {true, progeny::SortKey::kStart});
  progeny::render_text(lin, folded, out, {true, true});
  progeny::render_json(lin, out);
  progeny::render_dot(lin, expanded, out, {});
  progeny::render_perfetto(lin, out);
  progeny::render_svg(lin, folded, out, {});
  progeny::FilterSpec every_filter;
  every_filter.failures = true;
  every_filter.match = "a";
  every_filter.max_depth = 3;
  progeny::render_text(lin, progeny::fold_lineage(lin, every_filter, {false, progeny::SortKey::kLifetime}),
                       out, {false, false});
  progeny::render_html(lin, out);
  (void)progeny::summarize(lin);
  return 0;
}
