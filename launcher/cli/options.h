// The one option parser every subcommand uses. A subcommand describes its command line as a
// table (CommandLine); the same table drives the parsing, the error messages and --help, so
// the three cannot disagree. Nothing here throws: every failure is a one-line message.
#pragma once
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace progeny::cli {

// Stores one value (or, for a flag, records that it was given). On an invalid value it
// returns false with what is wrong in *error; the parser puts the option's name in front.
using Setter = std::function<bool(std::string_view value, std::string* error)>;

struct Option {
  std::string_view long_name;   // without the dashes: "timeout"
  char short_name = 0;          // 't'; 0 for none
  std::string_view value_name;  // "DURATION"; empty: a flag, which takes no value
  std::string_view help;        // one line; each '\n' continues it under the help column
  Setter set;                   // flags get an empty value
  bool repeatable = false;      // shown as "[...]..." in the synopsis
};

// Where the options end. progeny run must never parse COMMAND's own options, so it stops at
// the first operand; the others take options anywhere before `--`.
enum class Operands { kStopAtFirst, kMixed };

struct CommandLine {
  std::string_view name;                  // "run"
  std::vector<Option> options;            // -h/--help is implicit: every command has it
  Operands mode = Operands::kMixed;
  std::string_view operand_name;          // "PID", named in errors; empty: none accepted
  std::string_view operand_synopsis;      // "PID...", after the options in the usage line
  bool operand_required = false;          // at least one
  size_t max_operands = 0;                // SIZE_MAX: no limit
  Setter operand;                         // called for each operand, in order
  bool brief_synopsis = false;            // "[OPTIONS]" instead of every option
  std::string_view header;                // prose between the usage line and the options
  std::string_view footer;                // prose after the options
};

enum class Parsed { kOk, kHelp, kError };

// Parses the arguments after the subcommand's name. kError comes with a one-line message in
// *error (without the "progeny NAME: " prefix); kHelp when -h/--help was given.
Parsed parse(const CommandLine& cmd, const std::vector<std::string>& args, std::string* error);

// The --help text: usage line, header, the aligned option list, footer.
std::string usage(const CommandLine& cmd);

// What a subcommand's main does first: parses argv[1..]. Returns the exit status when the
// subcommand must end now (0 after printing --help on stdout, 125 after one line
// "progeny NAME: ..." on stderr), nullopt when the parsed values are ready to use.
// The usage error's line, as printed, goes to *error_line when given.
std::optional<int> parse_main_args(const CommandLine& cmd, int argc, char** argv,
                                   std::string* error_line = nullptr);

}  // namespace progeny::cli
