#include "launcher/collect/lineage_log.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "launcher/os/log_file.h"

namespace progeny {
namespace {

constexpr size_t kFlushAt = 64 * 1024;
constexpr size_t kMaxOrigins = 1 << 20;

bool names_a_process(const std::string& event) {
  return event == "fork" || event == "exec" || event == "exec_failed" || event == "setsid" ||
         event == "setpgid" || event == "exit";
}

}  // namespace

std::unique_ptr<LineageLog> LineageLog::open(Options opts, std::string* why) {
  std::unique_ptr<LineageLog> log(new LineageLog());
  if (!opts.path.empty()) {
    log->fd_ = open_log_file(opts.path, opts.append ? LogOpen::kAppend : LogOpen::kReplace, why);
    if (!log->fd_) return nullptr;
  } else if (opts.to_stdout) {
    log->fd_.reset(::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0));
    if (!log->fd_) {
      *why = std::string("cannot write the log to standard output: ") + std::strerror(errno);
      return nullptr;
    }
  }
  log->opts_ = std::move(opts);
  return log;
}

std::optional<LineageLog::Key> LineageLog::key_of(const Record& r) {
  if (r.ino) return Key{*r.ino, 0, 0};
  if (r.start_time) return Key{0, r.pid, *r.start_time};
  return std::nullopt;
}

const LineageLog::Origin* LineageLog::origin(uint64_t ino) const {
  auto it = origins_.find(ino);
  return it == origins_.end() ? nullptr : &it->second;
}

std::vector<LineageLog::Creator> LineageLog::top_creators(size_t n) const {
  std::map<uint64_t, Creator> by_ino;
  for (const auto& [ino, o] : origins_) {
    if (!o.creator_ino || o.creator == opts_.launcher) continue;
    Creator& c = by_ino[o.creator_ino];
    c.pid = o.creator;
    c.ino = o.creator_ino;
    ++c.created;
  }
  std::vector<Creator> out;
  for (auto& [ino, c] : by_ino) {
    if (const Origin* o = origin(ino)) c.name = o->name;
    out.push_back(std::move(c));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Creator& a, const Creator& b) { return a.created > b.created; });
  if (out.size() > n) out.resize(n);
  return out;
}

void LineageLog::account(const Record& r) {
  if (!names_a_process(r.event)) return;
  if (r.ino && (r.event == "fork" || r.event == "exec") && origins_.size() < kMaxOrigins) {
    Origin& o = origins_[*r.ino];
    // A creator from a fork record wins over an exec's parent (the parent may be an adopter).
    bool from_fork = r.event == "fork" && r.via != "proc";
    if (r.ppid && *r.ppid > 0 && (from_fork || !o.creator)) {
      o.creator = static_cast<pid_t>(*r.ppid);
      o.creator_ino = r.parent_ino.value_or(0);
      o.creator_from_fork = from_fork;
    }
    if (r.via && r.via != "bpf" && r.via != "proc") o.via = *r.via;
    if (r.path) {
      size_t slash = r.path->rfind('/');
      o.name = slash == std::string::npos ? *r.path : r.path->substr(slash + 1);
    }
  }
  if (r.ino && (r.event == "setsid" || r.event == "setpgid")) {
    if (auto it = origins_.find(*r.ino); it != origins_.end())
      (r.event == "setsid" ? it->second.setsid : it->second.setpgid) = true;
  }
  auto key = key_of(r);
  if (!key) return;
  Seen& s = seen_[*key];
  s.pid = r.pid;
  if (r.start_time) s.start_time = *r.start_time;
  if (r.event == "exit") s.exited = true;
}

void LineageLog::write(const Record& r) {
  if (r.event == "exit") {
    // One exit per (process, source); an exit of nobody in particular is kept as is.
    if (auto key = key_of(r); key && !exits_.insert({*key, r.source}).second) return;
  }
  account(r);
  out_ += to_line(r);
  if (opts_.tap) opts_.tap(r);
  if (out_.size() >= kFlushAt) flush();
}

void LineageLog::flush() {
  if (out_.empty()) return;
  if (!fd_) {
    out_.clear();
    return;
  }
  size_t off = 0;
  if (!error_) {
    while (off < out_.size()) {
      ssize_t n = ::write(fd_.get(), out_.data() + off, out_.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = n < 0 ? errno : EIO;
        break;
      }
      off += static_cast<size_t>(n);
    }
    if (error_) {
      // The log ends at the last whole record (a record cut by a full disk is taken back).
      size_t whole = off ? out_.rfind('\n', off - 1) : std::string::npos;
      size_t kept = whole == std::string::npos ? 0 : whole + 1;
      if (kept < off && ::ftruncate(fd_.get(), static_cast<off_t>(bytes_ + kept)) != 0)
        kept = off;  // cannot take the cut record back: it stays, still counted below
      off = kept;
    }
    bytes_ += off;
  }
  unwritten_ += static_cast<uint64_t>(std::count(out_.begin() + static_cast<long>(off), out_.end(), '\n'));
  out_.clear();
}

void LineageLog::finish() {
  uint64_t now = monotonic_ns();
  for (const auto& [key, s] : seen_) {
    if (s.exited || !opts_.every_process_ends) continue;
    Record r = exit_record("launcher", s.pid, key.ino, s.start_time, nullptr, now);
    out_ += to_line(r);
    if (opts_.tap) opts_.tap(r);
    ++unknown_exits_;
  }
  if (unknown_exits_) {
    Record r = make_record("lost", "launcher", opts_.launcher, now);
    r.what = "exit";
    r.count = unknown_exits_;
    out_ += to_line(r);
    if (opts_.tap) opts_.tap(r);
  }
  flush();
  if (error_ && fd_) {
    // One last try, all or nothing: room may have come back (and the record is small).
    Record r = make_record("lost", "launcher", opts_.launcher, now);
    r.what = "log";
    r.count = unwritten_;
    r.error = error_;
    std::string line = to_line(r);
    if (::write(fd_.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()) &&
        ::ftruncate(fd_.get(), static_cast<off_t>(bytes_)) != 0) {
      // Nothing more can be done for the file; stderr says what happened.
    }
  }
}

}  // namespace progeny
