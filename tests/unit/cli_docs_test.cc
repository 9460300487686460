// README.md's CLI section and docs/progeny.1 against the option tables: the synopsis lines are
// the generated ones, and every option of every subcommand is documented where it belongs.
#include <gtest/gtest.h>

#include <cctype>

#include "launcher/cli/run_options.h"
#include "tests/unit/cli_tables.h"
#include "tests/unit/source_tree.h"

namespace progeny {
namespace {

using test::AllOptions;
using test::every_command_line;
using test::read_source;

std::string synopsis_of(const cli::CommandLine& cmd) {
  std::string u = cli::usage(cmd);
  return u.substr(7, u.find('\n') - 7);  // after "Usage: "
}

// roff writes a dash as "\-".
std::string roff(std::string_view text) {
  std::string out;
  for (char c : text) out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out;
}

TEST(CliDocs, ReadmeSynopsisIsTheGeneratedOne) {
  std::string readme = read_source("README.md");
  size_t cli = readme.find("\n## CLI\n");
  ASSERT_NE(cli, std::string::npos);
  size_t block = readme.find("```\n", cli) + 4;
  std::string lines = readme.substr(block, readme.find("```", block) - block);
  AllOptions o;
  for (const auto& cmd : every_command_line(&o))
    EXPECT_NE(lines.find(synopsis_of(cmd) + "\n"), std::string::npos)
        << synopsis_of(cmd) << "\nnot in README.md's CLI block:\n" << lines;
}

TEST(CliDocs, ReadmeTableHasEveryRunOption) {
  std::string readme = read_source("README.md");
  RunOptions o;
  for (const auto& opt : run_command_line(&o).options) {
    std::string value;
    for (char c : opt.value_name) value += c == '|' ? std::string("\\|") : std::string(1, c);
    std::string row = "| `" + (opt.short_name ? std::string("-") + opt.short_name + ", " : "") +
                      "--" + std::string(opt.long_name) + (value.empty() ? "" : " " + value);
    EXPECT_NE(readme.find(row + "` |"), std::string::npos) << row;
  }
}

TEST(CliDocs, ManPageSectionHasEveryOption) {
  std::string man = read_source("docs/progeny.1");
  AllOptions o;
  for (const auto& cmd : every_command_line(&o)) {
    std::string title = ".SH PROGENY ";
    for (char c : cmd.name) title += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    size_t at = man.find(title + "\n");
    ASSERT_NE(at, std::string::npos) << title;
    std::string section = man.substr(at, man.find("\n.SH ", at + 1) - at);
    for (const auto& opt : cmd.options) {
      std::string entry = ".BR ";
      if (opt.short_name) entry += std::string("\\-") + opt.short_name + " \", \" ";
      entry += roff("--" + std::string(opt.long_name));
      if (section.find(entry) == std::string::npos)
        entry = ".B " + roff("--" + std::string(opt.long_name)) + "\n";  // a flag without short
      EXPECT_NE(section.find(entry), std::string::npos) << title << ": " << opt.long_name;
    }
  }
}

}  // namespace
}  // namespace progeny
