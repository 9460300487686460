// Reading progeny's own sources, for the tests that check rules about them (the signal gate,
// the folder dependency rule). PROGENY_SOURCE_DIR is set by the Makefile for these tests.
#pragma once
#include <dirent.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace progeny::test {

inline const std::string kSourceDir = PROGENY_SOURCE_DIR;

// The folders that hold code, each a unit of the dependency rule (docs/CONTRACT.md).
inline const std::vector<std::string> kCodeFolders = {
    "launcher/os",      "schema",           "launcher/cli",   "launcher/members",
    "launcher/contain", "bpf",              "launcher/collect", "launcher/views",
    "launcher/run",     "launcher/doctor",  "launcher",       "shim"};

// C and C++ files directly in `dir` (relative to the source tree); BPF programs excluded.
inline std::vector<std::string> sources_in(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir((kSourceDir + "/" + dir).c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    bool code = n.ends_with(".cc") || n.ends_with(".h") || (n.ends_with(".c") && !n.ends_with(".bpf.c"));
    if (code) out.push_back(dir + "/" + n);
  }
  ::closedir(d);
  return out;
}

inline std::string read_source(const std::string& rel) {
  std::ifstream in(kSourceDir + "/" + rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The text without comments and with string literals emptied, so prose and messages do not
// count while every call does.
inline std::string code_only(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "//") == 0) {
      while (i < text.size() && text[i] != '\n') ++i;
      out.push_back('\n');
    } else if (text.compare(i, 2, "/*") == 0) {
      size_t end = text.find("*/", i + 2);
      for (size_t k = i; k < (end == std::string::npos ? text.size() : end + 2); ++k)
        if (text[k] == '\n') out.push_back('\n');
      i = end == std::string::npos ? text.size() : end + 1;
    } else if (text[i] == '"') {
      out.push_back('"');
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\') ++i;
      out.push_back('"');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace progeny::test
