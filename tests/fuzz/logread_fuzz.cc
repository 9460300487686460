// libFuzzer target: arbitrary bytes as a lineage log, through the reader, the tree model,
// every rendering, the summary and the --trace formatter. Any crash, leak or sanitizer
// report is a bug: a truncated or hostile log must never take the views down.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "launcher/views/logread.h"
#include "launcher/views/lineage.h"
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
  for (std::string line; std::getline(lines, line);)
    if (std::string why; auto r = progeny::parse_record(line, &why)) (void)tf.format(*r);
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
