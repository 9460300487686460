// Real programs under progeny, with and without the shim: the same output and exit status,
// nothing left behind, and a daemonizing server (nginx) that starts, serves and is stopped.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/sandbox/sandbox.h"

namespace {

using progeny::test::build_path;
using progeny::test::read_file;
using progeny::test::run_command;
using progeny::test::run_in_sandbox;
using progeny::test::Scenario;

struct Outcome {
  int status;
  std::string output;
};

// Runs argv under `progeny run` (with or without the shim) and returns status and output.
Outcome under_progeny(const std::vector<std::string>& argv, bool shim, const std::string& tag) {
  std::vector<std::string> full = {build_path("bin/progeny"), "run", "-q", "--contain", "none"};
  if (!shim) full.push_back("--no-preload");
  full.push_back("--");
  full.insert(full.end(), argv.begin(), argv.end());
  std::string out = "/tmp/progeny-transparency." + tag + (shim ? ".shim" : ".bare");
  int st = run_command(full, out);
  Outcome o{st, read_file(out)};
  ::unlink(out.c_str());
  return o;
}

class Transparency : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root (PID namespace, pids cgroup)";
  }
  void same_with_and_without_shim(const std::vector<std::string>& argv, const std::string& tag) {
    auto r = run_in_sandbox([&](Scenario& s) {
      Outcome bare = under_progeny(argv, false, tag);
      Outcome shim = under_progeny(argv, true, tag);
      s.expect(bare.status == shim.status, "status differs: " + std::to_string(bare.status) +
                                               " without the shim, " + std::to_string(shim.status) +
                                               " with it");
      s.expect(bare.output == shim.output,
               "output differs:\n--- without the shim\n" + bare.output + "--- with it\n" + shim.output);
      s.expect(!bare.output.empty(), "no output at all");
      s.expect(s.others().empty(), "processes left behind");
      return 0;
    });
    EXPECT_TRUE(r.ok()) << r.describe();
  }
};

const char kShellScript[] =
    "for i in 1 2 3; do echo $i | tr 123 abc; done; (sleep 0.01 &); x=$(echo sub); echo $x; "
    "cat /proc/self/status | grep -c ^Pid; ( exec /bin/echo exec'd ); "
    "sh -c 'exit 3'; echo status $?; trap 'echo trapped' USR1; kill -USR1 $$; "
    "echo $((6 * 7)); exit 4";

TEST_F(Transparency, Bash) { same_with_and_without_shim({"/bin/bash", "-c", kShellScript}, "bash"); }
TEST_F(Transparency, Dash) { same_with_and_without_shim({"/bin/sh", "-c", kShellScript}, "dash"); }

TEST_F(Transparency, ParallelMake) {
  std::string dir = "/tmp/progeny-make." + std::to_string(::getpid());
  ::mkdir(dir.c_str(), 0755);
  std::ofstream(dir + "/Makefile") << "all: a b c d e f\n\t@echo done\n"
                                      "a b c d e f:\n\t@sleep 0.0$$((RANDOM % 5)) 2>/dev/null; "
                                      "echo $@ | tr a-f A-F > $@.out\n"
                                      "clean:\n\t@rm -f *.out\n";
  // Parallel order varies: compare the files made and the final line.
  same_with_and_without_shim(
      {"/bin/sh", "-c", "make -s -C " + dir + " clean && make -s -j4 -C " + dir +
                            " all && cat " + dir + "/*.out | sort"},
      "make");
  run_command({"/bin/rm", "-rf", dir});
}

TEST_F(Transparency, PythonSubprocessAndMultiprocessing) {
  // In a file, all under the main guard: "spawn" workers import the main module.
  std::string script = "/tmp/progeny-transparency." + std::to_string(::getpid()) + ".py";
  std::ofstream(script)
      << "import subprocess, multiprocessing as mp\n"
         "def sq(x): return x * x\n"
         "if __name__ == '__main__':\n"
         "    print(subprocess.run(['echo', 'hi'], capture_output=True).stdout)\n"
         "    print(subprocess.check_output('echo a | tr a b', shell=True))\n"
         "    print(subprocess.run(['sh', '-c', 'exit 5']).returncode)\n"
         "    p = subprocess.Popen(['cat'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)\n"
         "    print(p.communicate(b'piped')[0])\n"
         "    for method in ('fork', 'spawn', 'forkserver'):\n"
         "        with mp.get_context(method).Pool(3) as pool:\n"
         "            print(method, pool.map(sq, range(6)), flush=True)\n";
  same_with_and_without_shim({"/usr/bin/python3", script}, "python");
  ::unlink(script.c_str());
}

// HTTP GET / on 127.0.0.1:port; the body, or "" when nothing answers.
std::string http_get(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const char req[] = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (::write(fd, req, sizeof req - 1) == static_cast<ssize_t>(sizeof req - 1)) {
      char buf[1024];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) reply.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  size_t body = reply.find("\r\n\r\n");
  return body == std::string::npos ? "" : reply.substr(body + 4);
}

TEST_F(Transparency, NginxDaemonizesServesAndIsStoppedCleanly) {
  if (::access("/usr/sbin/nginx", X_OK) != 0) GTEST_SKIP() << "nginx is not installed (make deps)";
  int port = 20000 + ::getpid() % 20000;
  auto r = run_in_sandbox([&](Scenario& s) {
    std::string dir = "/tmp/progeny-nginx." + std::to_string(port);
    ::mkdir(dir.c_str(), 0755);
    std::ofstream(dir + "/nginx.conf")
        << "daemon on; worker_processes 2; pid " << dir << "/nginx.pid;\n"
        << "error_log " << dir << "/error.log;\n"
        << "events {}\nhttp { access_log off; client_body_temp_path " << dir << ";\n"
        << "  server { listen 127.0.0.1:" << port << "; location / { return 200 \"hello\\n\"; } } }\n";
    for (bool shim : {false, true}) {
      std::vector<std::string> argv = {build_path("bin/progeny"), "run", "-q", "--wait", "--timeout", "60s"};
      if (!shim) argv.push_back("--no-preload");
      argv.insert(argv.end(), {"--", "/usr/sbin/nginx", "-c", dir + "/nginx.conf"});
      auto c = progeny::test::start_command(argv);
      std::string body;
      for (int i = 0; i < 500 && body.empty(); ++i) {
        body = http_get(port);
        if (body.empty()) ::usleep(10000);
      }
      s.expect(body == "hello\n", std::string(shim ? "with" : "without") +
                                      " the shim nginx did not serve: '" + body + "' " +
                                      read_file(dir + "/error.log"));
      int alive = progeny::test::wait_status(c.pid, 0);
      s.expect(alive == -1, "progeny --wait ended while the daemon ran");
      ::kill(c.pid, SIGTERM);  // progeny, our child: the daemon is stopped with the tree
      int st = progeny::test::wait_status(c.pid, 20000);
      s.expect(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
               "progeny ended with status " + std::to_string(st));
      s.expect(s.others().empty(), "nginx processes left behind");
      s.expect(http_get(port).empty(), "nginx still answers");
      ::close(c.out_fd);
    }
    run_command({"/bin/rm", "-rf", dir});
    return 0;
  });
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
