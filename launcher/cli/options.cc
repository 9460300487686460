#include "launcher/cli/options.h"

#include <algorithm>
#include <cstdio>

#include "launcher/os/exit_codes.h"

namespace progeny::cli {

namespace {

// Help text starts in this column at most; a longer option/value pair gets its help on the
// next line, so one long choice list does not push every other help text to the right.
constexpr size_t kMaxHelpColumn = 30;

const Option* find_long(const CommandLine& cmd, std::string_view name) {
  for (const auto& o : cmd.options)
    if (o.long_name == name) return &o;
  return nullptr;
}

const Option* find_short(const CommandLine& cmd, char c) {
  for (const auto& o : cmd.options)
    if (o.short_name == c) return &o;
  return nullptr;
}

std::string see_help(const CommandLine& cmd) {
  return " (see progeny " + std::string(cmd.name) + " --help)";
}

std::string synopsis(const CommandLine& cmd) {
  std::string out = "progeny " + std::string(cmd.name);
  if (cmd.brief_synopsis) {
    out += " [OPTIONS]";
  } else {
    for (const auto& o : cmd.options) {
      out += o.short_name ? std::string(" [-") + o.short_name : " [--" + std::string(o.long_name);
      if (!o.value_name.empty()) out += " " + std::string(o.value_name);
      out += o.repeatable ? "]..." : "]";
    }
  }
  if (!cmd.operand_synopsis.empty()) out += " " + std::string(cmd.operand_synopsis);
  return out;
}

// Gives the value to the option's setter; its complaint gets the option's name in front.
bool apply(const Option& o, std::string_view value, std::string* error) {
  std::string why;
  if (o.set(value, &why)) return true;
  *error = "--" + std::string(o.long_name) + ": " + why;
  return false;
}

std::string needs_value(std::string_view as_written, const Option& o) {
  return "option " + std::string(as_written) + " needs a value (" + std::string(o.value_name) +
         ")";
}

// A quoted argument may hold anything, newlines included; the message must stay one line.
void one_line(std::string* text) {
  for (char& c : *text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
}

class Parser {
 public:
  Parser(const CommandLine& cmd, const std::vector<std::string>& args, std::string* error)
      : cmd_(cmd), args_(args), error_(error) {}

  Parsed run() {
    bool options_done = false;
    for (i_ = 0; i_ < args_.size(); ++i_) {
      const std::string& a = args_[i_];
      // "-" (standard input) and "" are operands, not options.
      if (options_done || a.size() < 2 || a[0] != '-') {
        if (!operand(a)) return Parsed::kError;
        if (cmd_.mode == Operands::kStopAtFirst) options_done = true;
        continue;
      }
      if (a == "--") {
        options_done = true;
        continue;
      }
      Step step = a[1] == '-' ? long_option(std::string_view(a).substr(2)) : short_options(a);
      if (step != Step::kGoOn) return step == Step::kHelp ? Parsed::kHelp : Parsed::kError;
    }
    if (cmd_.operand_required && operands_ == 0) {
      *error_ = "no " + std::string(cmd_.operand_name) + " given (usage: " + synopsis(cmd_) + ")";
      return Parsed::kError;
    }
    return Parsed::kOk;
  }

 private:
  enum class Step { kGoOn, kHelp, kError };

  bool operand(const std::string& a) {
    if (operands_ == cmd_.max_operands) {
      std::string limit = cmd_.max_operands == 1 ? "one" : std::to_string(cmd_.max_operands);
      *error_ = cmd_.max_operands == 0
                    ? "unexpected argument '" + a + "'" + see_help(cmd_)
                    : "more than " + limit + " " + std::string(cmd_.operand_name) +
                          " given (usage: " + synopsis(cmd_) + ")";
      return false;
    }
    ++operands_;
    std::string why;
    if (cmd_.operand(a, &why)) return true;
    *error_ = std::string(cmd_.operand_name) + ": " + why;
    return false;
  }

  // "--name", "--name=VALUE" or "--name VALUE".
  Step long_option(std::string_view body) {
    size_t eq = body.find('=');
    std::string_view name = body.substr(0, eq);
    std::string written = "--" + std::string(name);
    const Option* o = find_long(cmd_, name);
    if (!o && name != "help") {
      *error_ = "unknown option '" + written + "'" + see_help(cmd_);
      return Step::kError;
    }
    const bool flag = !o || o->value_name.empty();  // --help is a flag too
    if (flag && eq != std::string_view::npos) {
      *error_ = "option " + written + " takes no value";
      return Step::kError;
    }
    if (!o) return Step::kHelp;
    if (flag) return apply(*o, "", error_) ? Step::kGoOn : Step::kError;
    std::string_view value;
    if (eq != std::string_view::npos) {
      value = body.substr(eq + 1);
    } else if (i_ + 1 < args_.size()) {
      value = args_[++i_];
    } else {
      *error_ = needs_value(written, *o);
      return Step::kError;
    }
    return apply(*o, value, error_) ? Step::kGoOn : Step::kError;
  }

  // "-v", "-vq" (flags cluster), "-k5s" or "-k 5s" (an option with a value takes the rest).
  Step short_options(const std::string& a) {
    for (size_t j = 1; j < a.size(); ++j) {
      if (a[j] == 'h') return Step::kHelp;
      std::string written = std::string("-") + a[j];
      const Option* o = find_short(cmd_, a[j]);
      if (!o) {
        *error_ = "unknown option '" + written + "'" + see_help(cmd_);
        return Step::kError;
      }
      if (o->value_name.empty()) {
        if (!apply(*o, "", error_)) return Step::kError;
        continue;
      }
      std::string_view value;
      if (j + 1 < a.size()) {
        value = std::string_view(a).substr(j + 1);
      } else if (i_ + 1 < args_.size()) {
        value = args_[++i_];
      } else {
        *error_ = needs_value(written, *o);
        return Step::kError;
      }
      return apply(*o, value, error_) ? Step::kGoOn : Step::kError;
    }
    return Step::kGoOn;
  }

  const CommandLine& cmd_;
  const std::vector<std::string>& args_;
  std::string* error_;
  size_t i_ = 0;
  size_t operands_ = 0;
};

}  // namespace

Parsed parse(const CommandLine& cmd, const std::vector<std::string>& args, std::string* error) {
  Parsed result = Parser(cmd, args, error).run();
  if (result == Parsed::kError) one_line(error);
  return result;
}

std::string usage(const CommandLine& cmd) {
  struct Row {
    std::string left;
    std::string_view help;
  };
  std::vector<Row> rows;
  for (const auto& o : cmd.options) {
    std::string left = o.short_name ? std::string("  -") + o.short_name + ", " : "      ";
    left += "--" + std::string(o.long_name);
    if (!o.value_name.empty()) left += " " + std::string(o.value_name);
    rows.push_back({std::move(left), o.help});
  }
  rows.push_back({"  -h, --help", "this help"});
  // The help column is set by the rows that fit before kMaxHelpColumn (-h/--help always does).
  size_t column = 0;
  for (const auto& r : rows)
    if (r.left.size() + 2 <= kMaxHelpColumn) column = std::max(column, r.left.size() + 2);

  std::string out = "Usage: " + synopsis(cmd) + "\n" + std::string(cmd.header) + "\n";
  for (const auto& r : rows) {
    out += r.left;
    size_t used = r.left.size();
    if (used + 2 > column) {
      out += '\n';
      used = 0;
    }
    for (size_t at = 0;;) {
      size_t nl = r.help.find('\n', at);
      out += std::string(column - used, ' ');
      out += r.help.substr(at, nl - at);  // npos - at: the rest
      out += '\n';
      if (nl == std::string_view::npos) break;
      at = nl + 1;
      used = 0;
    }
  }
  out += "\n" + std::string(cmd.footer);
  return out;
}

std::optional<int> parse_main_args(const CommandLine& cmd, int argc, char** argv,
                                   std::string* error_line) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string error;
  switch (parse(cmd, args, &error)) {
    case Parsed::kOk:
      return std::nullopt;
    case Parsed::kHelp:
      std::fputs(usage(cmd).c_str(), stdout);
      return 0;
    case Parsed::kError:
      break;
  }
  std::string line = "progeny " + std::string(cmd.name) + ": " + error;
  std::fprintf(stderr, "%s\n", line.c_str());
  if (error_line) *error_line = std::move(line);
  return kExitProgenyError;
}

}  // namespace progeny::cli
