#include "launcher/views/view_args.h"

#include <string.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "launcher/views/logread.h"

namespace progeny {

namespace {

// "--name VALUE" or "--name=VALUE" (or the short form "-x VALUE"); advances *i past it.
bool take_value(int argc, char** argv, int* i, const char* lng, const char* shrt,
                std::optional<std::string>* out, bool* missing) {
  std::string a = argv[*i];
  std::string eq = std::string(lng) + "=";
  if (a.rfind(eq, 0) == 0) {
    *out = a.substr(eq.size());
    return true;
  }
  if (a != lng && !(shrt && a == shrt)) return false;
  if (*i + 1 >= argc) {
    *missing = true;
    return true;
  }
  *out = argv[++*i];
  return true;
}

}  // namespace

std::optional<ViewArgs> parse_view_args(int argc, char** argv, const char* cmd,
                                        const std::vector<std::string>& allowed,
                                        const std::string& default_format, bool has_color) {
  ViewArgs args;
  args.format = default_format;
  std::vector<std::string> positional;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (options_done || a == "-" || a.empty() || a[0] != '-') {
      positional.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    if (a == "-h" || a == "--help") {
      args.help = true;
      return args;
    }
    std::optional<std::string> value;
    bool missing = false;
    if (take_value(argc, argv, &i, "--format", "-f", &value, &missing)) {
      if (missing) {
        std::fprintf(stderr, "progeny %s: --format needs a value\n", cmd);
        return std::nullopt;
      }
      if (std::find(allowed.begin(), allowed.end(), *value) == allowed.end()) {
        std::string list;
        for (const auto& f : allowed) list += (list.empty() ? "" : "|") + f;
        std::fprintf(stderr, "progeny %s: unknown format '%s' (one of %s)\n", cmd,
                     value->c_str(), list.c_str());
        return std::nullopt;
      }
      args.format = *value;
    } else if (has_color && take_value(argc, argv, &i, "--color", nullptr, &value, &missing)) {
      if (missing || (*value != "auto" && *value != "always" && *value != "never")) {
        std::fprintf(stderr, "progeny %s: --color takes auto, always or never\n", cmd);
        return std::nullopt;
      }
      args.color = *value;
    } else {
      std::fprintf(stderr, "progeny %s: unknown option '%s' (see progeny %s --help)\n", cmd,
                   a.c_str(), cmd);
      return std::nullopt;
    }
  }
  if (positional.size() != 1) {
    std::fprintf(stderr, "progeny %s: %s (usage: progeny %s [OPTIONS] LOG)\n", cmd,
                 positional.empty() ? "no LOG given" : "more than one LOG given", cmd);
    return std::nullopt;
  }
  args.log = positional[0];
  return args;
}

std::optional<Lineage> load_lineage(const std::string& path, const char* cmd) {
  LogContents contents;
  if (path == "-") {
    contents = read_log(std::cin);
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "progeny %s: cannot read %s: %s\n", cmd, path.c_str(),
                   strerror(errno));
      return std::nullopt;
    }
    contents = read_log(in);
    if (in.bad()) {  // e.g. a directory: opening works, reading does not
      std::fprintf(stderr, "progeny %s: cannot read %s\n", cmd, path.c_str());
      return std::nullopt;
    }
  }
  report_problems(contents.problems, path == "-" ? "<stdin>" : path, stderr);
  return build_lineage(contents.events, contents.problems.size());
}

}  // namespace progeny
