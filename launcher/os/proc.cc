#include "launcher/os/proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

#include "launcher/os/fd.h"

namespace progeny {
namespace {

// Reads a small /proc file whole. /proc files report size 0, so read until EOF.
bool read_small_file(const char* path, std::string* out, size_t limit = 1 << 16) {
  Fd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  out->clear();
  char buf[4096];
  while (out->size() < limit) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return false;
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  return true;
}

template <typename T>
bool parse_number(std::string_view s, T* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  ProcStat st;
  size_t open = text.find('(');
  size_t close = text.rfind(')');  // comm may itself contain ')'
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return std::nullopt;
  if (!parse_number(text.substr(0, open > 0 ? open - 1 : 0), &st.pid)) return std::nullopt;
  st.comm = std::string(text.substr(open + 1, close - open - 1));
  // Fields after comm, numbered from 3 (state).
  std::vector<std::string_view> fields;
  std::string_view rest = text.substr(close + 1);
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\n')) ++i;
    size_t j = i;
    while (j < rest.size() && rest[j] != ' ' && rest[j] != '\n') ++j;
    if (j > i) fields.push_back(rest.substr(i, j - i));
    i = j;
  }
  auto field = [&](int n) -> std::string_view { return fields[static_cast<size_t>(n - 3)]; };
  if (fields.size() < 20 || field(3).size() != 1) return std::nullopt;
  st.state = field(3)[0];
  if (!parse_number(field(4), &st.ppid) || !parse_number(field(5), &st.pgrp) ||
      !parse_number(field(6), &st.session) || !parse_number(field(20), &st.num_threads) ||
      !parse_number(field(22), &st.start_time))
    return std::nullopt;
  if (fields.size() >= 50) parse_number(field(52), &st.exit_code);
  return st;
}

std::optional<ProcStat> read_proc_stat(pid_t pid, const char* proc_root) {
  char path[96];
  std::snprintf(path, sizeof path, "%s/%d/stat", proc_root, static_cast<int>(pid));
  std::string text;
  if (!read_small_file(path, &text)) return std::nullopt;
  return parse_proc_stat(text);
}

std::vector<pid_t> parse_pid_list(std::string_view text) {
  std::vector<pid_t> pids;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n')) ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\n') ++j;
    pid_t p = 0;
    if (j > i && parse_number(text.substr(i, j - i), &p) && p > 0) pids.push_back(p);
    i = j;
  }
  return pids;
}

std::vector<pid_t> read_children(pid_t pid, const char* proc_root) {
  std::vector<pid_t> out;
  char path[96];
  std::snprintf(path, sizeof path, "%s/%d/task", proc_root, static_cast<int>(pid));
  DIR* dir = ::opendir(path);
  if (!dir) return out;
  std::string text;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    char cpath[512];
    std::snprintf(cpath, sizeof cpath, "%s/%s/children", path, e->d_name);
    if (!read_small_file(cpath, &text, 1 << 22)) continue;
    for (pid_t c : parse_pid_list(text)) out.push_back(c);
  }
  ::closedir(dir);
  return out;
}

std::vector<pid_t> read_main_thread_children(pid_t pid, const char* proc_root) {
  char path[96];
  std::snprintf(path, sizeof path, "%s/%d/task/%d/children", proc_root, static_cast<int>(pid),
                static_cast<int>(pid));
  std::string text;
  if (!read_small_file(path, &text, 1 << 22)) return {};
  return parse_pid_list(text);
}

std::vector<std::string> read_cmdline(pid_t pid, size_t max_bytes, const char* proc_root) {
  char path[96];
  std::snprintf(path, sizeof path, "%s/%d/cmdline", proc_root, static_cast<int>(pid));
  std::string text;
  if (!read_small_file(path, &text, max_bytes)) return {};
  return split_argv_area(text, true);
}

std::vector<std::string> split_argv_area(std::string_view area, bool drop_padding) {
  std::vector<std::string> argv;
  for (size_t i = 0; i < area.size();) {
    size_t j = area.find('\0', i);
    if (j == std::string_view::npos) j = area.size();
    argv.emplace_back(area.substr(i, j - i));
    i = j + 1;
  }
  while (drop_padding && !argv.empty() && argv.back().empty()) argv.pop_back();
  return argv;
}

std::string describe_process(pid_t pid) {
  std::string out = std::to_string(pid);
  auto st = read_proc_stat(pid);
  if (st) out += " (" + st->comm + ")";
  auto argv = read_cmdline(pid, 200);
  for (const auto& a : argv) out += " " + a;
  return out;
}

}  // namespace progeny
