#include "launcher/views/view_util.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace progeny {

namespace {

// Length of the valid UTF-8 sequence at s[i] (overlong and surrogate forms rejected), 0 if
// invalid.
size_t utf8_seq(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  size_t n = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >> 4) == 0xE ? 3
           : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(k) >> 6) != 0x2) return 0;
  if (n == 3 && ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) >= 0xA0))) return 0;
  if (n == 4 && ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) >= 0x90))) return 0;
  return n;
}

void append_hex(std::string* out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  out->append(buf);
}

// The code point of one valid UTF-8 sequence of 2 to 4 bytes.
uint32_t code_point(std::string_view seq) {
  auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(seq[k])); };
  if (seq.size() == 2) return (b(0) & 0x1F) << 6 | (b(1) & 0x3F);
  if (seq.size() == 3) return (b(0) & 0x0F) << 12 | (b(1) & 0x3F) << 6 | (b(2) & 0x3F);
  return (b(0) & 0x07) << 18 | (b(1) & 0x3F) << 12 | (b(2) & 0x3F) << 6 | (b(3) & 0x3F);
}

// Characters that move or hide text without showing themselves: the line and paragraph
// separators (a line end for JavaScript and some editors) and the bidirectional controls,
// with which an argv can make a terminal show its words in another order ("Trojan Source").
bool invisible_format(uint32_t cp) {
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x2028 && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

bool safe_shell_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
}

// Cuts s to at most max characters (code points), ending in "…" when cut.
std::string cut(const std::string& s, size_t max) {
  size_t chars = 0, i = 0;
  while (i < s.size() && chars < max) {
    size_t n = utf8_seq(s, i);
    i += n ? n : 1;
    ++chars;
  }
  if (i >= s.size()) return s;
  // Make room for the ellipsis by dropping one more character.
  size_t j = 0, kept = 0;
  while (j < s.size() && kept + 1 < max) {
    size_t n = utf8_seq(s, j);
    j += n ? n : 1;
    ++kept;
  }
  return s.substr(0, j) + "…";
}

}  // namespace

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = utf8_seq(s, i);
    if (n == 0 || c < 0x20 || c == 0x7F) {
      append_hex(&out, c);
      ++i;
      continue;
    }
    if (n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {  // C1 controls
      append_hex(&out, static_cast<unsigned char>(s[i + 1]));
      i += 2;
      continue;
    }
    if (uint32_t cp = n >= 2 ? code_point(s.substr(i, n)) : 0; invisible_format(cp)) {
      char u[8];
      std::snprintf(u, sizeof u, "\\u%04x", static_cast<unsigned>(cp));
      out += u;
      i += n;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string quote_arg(std::string_view arg) {
  bool plain = !arg.empty();
  for (char c : arg) plain = plain && safe_shell_char(c);
  if (plain) return std::string(arg);
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') out += "'\\''";
    else out.push_back(c);
  }
  out.push_back('\'');
  return printable(out);
}

std::string command_text(const std::vector<std::string>& argv, size_t max_chars) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out.push_back(' ');
    out += quote_arg(a);
    if (out.size() > 4 * max_chars) break;  // no need to quote what will be cut anyway
  }
  if (char_count(out) <= max_chars || argv.size() < 2) return cut(out, max_chars);
  // The program (its base name: /usr/lib/gcc/x86_64-linux-gnu/12/cc1 would leave no room),
  // "…", and the last arguments that fit whole.
  std::string head = quote_arg(base_name(argv[0])) + " …", tail;
  size_t room = max_chars > char_count(head) ? max_chars - char_count(head) : 0;
  for (size_t k = argv.size(); k-- > 1;) {
    std::string arg = " " + quote_arg(argv[k]);
    if (char_count(arg) + char_count(tail) > room) break;
    tail.insert(0, arg);
  }
  return tail.empty() ? cut(out, max_chars) : head + tail;
}

size_t char_count(std::string_view s) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++chars) {
    size_t n = utf8_seq(s, i);
    i += n ? n : 1;
  }
  return chars;
}

// A step's program: its path, unless that is an alias of an open file (/proc/self/exe when
// busybox re-executes itself, /dev/fd/N after fexecve), where argv[0] says more.
static std::string step_name(const ExecStep& step) {
  bool alias = step.path.rfind("/proc/", 0) == 0 || step.path.rfind("/dev/fd/", 0) == 0;
  return base_name(alias && !step.argv.empty() ? step.argv[0] : step.path);
}

// The programs alone, without the process title.
static std::string untitled_program_chain(const Lineage& lin, size_t proc) {
  const ProcessNode& p = lin.procs[proc];
  if (p.is_launcher) return "progeny";
  if (p.is_progeny_helper()) return "progeny (" + printable(p.role) + ")";
  if (p.execs.empty()) return "{" + printable(base_name(p.inherited_image)) + "}";
  std::string out;
  for (const auto& e : p.execs) out += (out.empty() ? "" : " → ") + printable(step_name(e));
  return out;
}

// The exec chain, without the process title.
static std::string untitled_chain_text(const Lineage& lin, size_t proc, size_t max_chars) {
  const ProcessNode& p = lin.procs[proc];
  if (p.execs.empty()) {
    if (p.is_launcher) {
      // The start record's argv is the launcher's own, or (as the launcher writes it now)
      // COMMAND's: either way the line says it is progeny.
      const auto& argv = lin.launcher_argv;
      if (!argv.empty() && base_name(argv[0]) == "progeny") return command_text(argv, max_chars);
      return cut("progeny run -- " + command_text(argv, max_chars), max_chars);
    }
    return untitled_program_chain(lin, proc);
  }
  std::string out;
  for (size_t i = 0; i + 1 < p.execs.size(); ++i)
    out += printable(step_name(p.execs[i])) + " → ";
  const ExecStep& last = p.execs.back();
  // The last command gets what the chain leaves, so its distinguishing tail survives.
  size_t used = char_count(out);
  size_t room = max_chars == SIZE_MAX ? max_chars : std::max<size_t>(max_chars, used + 24) - used;
  std::string tail = command_text(last.argv.empty() ? std::vector<std::string>{last.path}
                                                    : last.argv, room);
  if (last.argv_truncated)
    tail += last.argv_bytes ? " …[" + std::to_string(*last.argv_bytes) + " bytes]" : " …";
  return cut(out + tail, max_chars);
}

std::string title_text(const ProcessNode& p) {
  std::string out;
  for (const auto& piece : p.title) out += (out.empty() ? "" : " ") + printable(piece);
  // PostgreSQL leaves a space for the activity it appends ("postgres: checkpointer ").
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// A titled process: its title first (what it calls itself), then what it ran, "{postgres}"
// when it never exec'd, "(nginx -g …)" when it did. The title gets at most half the room.
std::string exec_chain_text(const Lineage& lin, size_t proc, size_t max_chars) {
  const ProcessNode& p = lin.procs[proc];
  if (p.title.empty()) return untitled_chain_text(lin, proc, max_chars);
  std::string title = cut(title_text(p), max_chars == SIZE_MAX ? max_chars : max_chars / 2);
  if (p.execs.empty()) return cut(title + " " + untitled_program_chain(lin, proc), max_chars);
  size_t used = char_count(title) + 3;
  size_t room = max_chars == SIZE_MAX ? max_chars : std::max<size_t>(max_chars, used + 12) - used;
  return cut(title + " (" + untitled_chain_text(lin, proc, room) + ")", max_chars);
}

std::string program_chain(const Lineage& lin, size_t proc) {
  const ProcessNode& p = lin.procs[proc];
  std::string chain = untitled_program_chain(lin, proc);
  if (p.title.empty()) return chain;
  return title_text(p) + " " + (p.execs.empty() ? chain : "(" + chain + ")");
}

std::string format_duration(uint64_t ns) {
  char buf[32];
  double s = static_cast<double>(ns) / 1e9;
  if (ns < 1'000'000) std::snprintf(buf, sizeof buf, "%.2fms", static_cast<double>(ns) / 1e6);
  else if (ns < 1'000'000'000) std::snprintf(buf, sizeof buf, "%lums", ns / 1'000'000UL);
  else if (s < 60) std::snprintf(buf, sizeof buf, "%.2fs", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lum%02lus", ns / 60'000'000'000UL, (ns / 1'000'000'000UL) % 60);
  else
    std::snprintf(buf, sizeof buf, "%luh%02lum", ns / 3'600'000'000'000UL,
                  (ns / 60'000'000'000UL) % 60);
  return buf;
}

std::string lifetime_text(const ProcessNode& p) {
  uint64_t from = p.born_ns.value_or(p.first_seen_ns);
  // Born before anything saw it (found in /proc): at least this long.
  if (p.ended_ns)
    return (p.born_ns ? "" : "≥") + format_duration(*p.ended_ns - std::min(from, *p.ended_ns));
  if (p.last_seen_ns > from) return "≥" + format_duration(p.last_seen_ns - from);
  return "?";
}

std::string end_text(const ProcessNode& p) {
  std::string status;
  if (p.end == EndKind::kExited) status = "exit " + std::to_string(p.exit_code);
  else if (p.end == EndKind::kSignaled)
    status = "signal " + printable(p.exit_signal) + (p.core ? " (core)" : "");
  if (auto sig = p.stopped_by_progeny()) {
    std::string s = "stopped by progeny (" + printable(*sig) + ")";
    if (p.end == EndKind::kExited) s += ", " + status;
    else if (p.end == EndKind::kUnknown) s += ", exit unknown";
    return s;
  }
  if (p.is_launcher && p.end == EndKind::kUnknown) return "";
  return status.empty() ? "exit unknown" : status;
}

std::vector<std::string> marks_of(const ProcessNode& p) {
  std::vector<std::string> m;
  if (p.called_setsid) m.push_back("setsid");
  if (p.called_setpgid) m.push_back("setpgid");
  if (p.reparented) m.push_back("reparented");
  if (p.outlived_parent) m.push_back("outlived parent");
  if (p.runaway) m.push_back("runaway");
  if (p.bpf_only) m.push_back("bpf only");
  return m;
}

std::string xml_escape(std::string_view s) {
  std::string in = printable(s), out;
  out.reserve(in.size());
  for (char c : in) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace progeny
