// `progeny run --report FILE`: the verdict's file. Opened before anything else the run does,
// by the lineage log's own opener (launcher/os/log_file.h: no planted symlink, never another
// user's file), so that every later failure of progeny still ends up in it; written once, at
// the very end, in the format asked for.
#pragma once
#include <optional>
#include <string>

#include "launcher/cli/run_options.h"
#include "launcher/os/fd.h"
#include "launcher/views/verdict.h"

namespace progeny {

class ReportFile {
 public:
  // nullopt and a one-line *why when the file is refused.
  static std::optional<ReportFile> open(const std::string& path, ReportFormat format,
                                        std::string* why);
  // The whole document; false and *why when it could not be written whole.
  bool write(const Verdict& v, std::string* why);

 private:
  ReportFile(Fd fd, ReportFormat format) : fd_(std::move(fd)), format_(format) {}
  Fd fd_;
  ReportFormat format_;
};

// A usage error of `progeny run` that came after --report FILE: its verdict (125 and the
// line printed), so a caller reading the report can tell progeny's 125 from COMMAND's.
void report_usage_error(const RunOptions& opts, const std::string& line);

}  // namespace progeny
