// Runs a subcommand's main (tree_main, run_main, ...) in the test process with its stdout and
// stderr captured: what a user of that subcommand would see, and its exit status.
#pragma once
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace progeny::test {

struct Result {
  int status;
  std::string out, err;
};

inline Result call(int (*fn)(int, char**), std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  int status = fn(static_cast<int>(args.size()), argv.data());
  fflush(stdout);
  std::string out = testing::internal::GetCapturedStdout();
  std::string err = testing::internal::GetCapturedStderr();
  return {status, out, err};
}

}  // namespace progeny::test
