// path_search: the file execvp would run, for the launcher's record of COMMAND's exec.
#include "launcher/os/path_search.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace {

class PathSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/progeny-path-search.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    const char* path = std::getenv("PATH");
    saved_ = path ? path : "";
    had_path_ = path != nullptr;
  }
  void TearDown() override {
    if (had_path_) ::setenv("PATH", saved_.c_str(), 1);
    else ::unsetenv("PATH");
    for (const char* f : {"/a/tool", "/b/tool", "/a", "/b"}) ::remove((dir_ + f).c_str());
    ::rmdir(dir_.c_str());
  }
  void make(const std::string& rel, mode_t mode) {
    ::mkdir((dir_ + rel.substr(0, rel.rfind('/'))).c_str(), 0700);
    std::ofstream(dir_ + rel) << "#!/bin/sh\n";
    ::chmod((dir_ + rel).c_str(), mode);
  }
  std::string dir_, saved_;
  bool had_path_ = false;
};

TEST_F(PathSearch, FirstExecutableRegularFileInPathOrder) {
  make("/a/tool", 0600);  // not executable: skipped, as execvp goes on past EACCES
  make("/b/tool", 0700);
  ::setenv("PATH", (dir_ + "/missing:" + dir_ + "/a:" + dir_ + "/b").c_str(), 1);
  EXPECT_EQ(progeny::path_search("tool"), dir_ + "/b/tool");
}

TEST_F(PathSearch, NamesWithASlashAndUnknownNamesAreKept) {
  ::setenv("PATH", dir_.c_str(), 1);
  EXPECT_EQ(progeny::path_search("./tool"), "./tool");
  EXPECT_EQ(progeny::path_search("/bin/sh"), "/bin/sh");  // not resolved to the link's target
  EXPECT_EQ(progeny::path_search("no-such-tool"), "no-such-tool");
}

TEST_F(PathSearch, UnsetPathMeansBinAndUsrBin) {
  ::unsetenv("PATH");
  std::string found = progeny::path_search("sh");
  EXPECT_TRUE(found == "/bin/sh" || found == "/usr/bin/sh") << found;
}

}  // namespace
