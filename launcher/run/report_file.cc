#include "launcher/run/report_file.h"

#include <errno.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "launcher/os/log_file.h"

namespace progeny {

std::optional<ReportFile> ReportFile::open(const std::string& path, ReportFormat format,
                                           std::string* why) {
  Fd fd = open_log_file(path, LogOpen::kReplace, why);
  if (!fd) return std::nullopt;
  return ReportFile(std::move(fd), format);
}

bool ReportFile::write(const Verdict& v, std::string* why) {
  std::string doc = format_ == ReportFormat::kJunit ? verdict_junit(v) : verdict_json(v);
  for (size_t at = 0; at < doc.size();) {
    ssize_t n = ::write(fd_.get(), doc.data() + at, doc.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *why = n < 0 ? std::strerror(errno) : "nothing written";
      return false;
    }
    at += static_cast<size_t>(n);
  }
  return true;
}

void report_usage_error(const RunOptions& opts, const std::string& line) {
  std::string why;
  auto file = ReportFile::open(opts.report_path, opts.report_format, &why);
  Verdict v;
  v.error = line;
  v.command = opts.command;
  if (!file || !file->write(v, &why))
    std::fprintf(stderr, "progeny run: --report %s: %s\n", opts.report_path.c_str(), why.c_str());
}

}  // namespace progeny
