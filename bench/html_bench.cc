// `make bench`: the HTML report of a generated 10,000-process log (a make whose every target
// is sh → g++ → cc1, with failures and setsid runaways among them): how long `progeny tree
// --format html` takes and how big the page is, then the page's own first-render time
// (performance.now() around it, left in <body data-render-ms>) in headless chromium, folded
// and with every row expanded. Aim: first render of 10,000 processes ≤ 1 s.
// Usage: html_bench PROGENY [PROCESSES]. Chromium runs in the test sandbox.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "bench/bench_util.h"
#include "tests/sandbox/sandbox.h"

namespace {

using bench::now_ms;

// Writes a log of about `target` processes under launcher 100 and COMMAND 101 (make).
size_t write_log(const std::string& path, size_t target) {
  std::ofstream out(path);
  uint64_t t = 1'000'000'000;
  auto emit = [&](nlohmann::json r) {
    r["v"] = 1;
    r["time_ns"] = t += 20'000;
    out << r.dump() << '\n';
  };
  auto proc = [&](int pid, int ppid, const char* path, nlohmann::json argv) {
    emit({{"event", "fork"}, {"source", "shim"}, {"pid", pid}, {"start_time", pid}, {"ppid", ppid},
          {"tid", ppid}, {"via", "vfork"}, {"pgid", 101}, {"sid", 100}});
    emit({{"event", "exec"}, {"source", "shim"}, {"pid", pid}, {"start_time", pid}, {"path", path},
          {"argv", argv}, {"ppid", ppid}});
  };
  auto exit = [&](int pid, int code) {
    emit({{"event", "exit"}, {"source", "launcher"}, {"pid", pid}, {"start_time", pid}, {"code", code}});
  };
  emit({{"event", "start"}, {"source", "launcher"}, {"pid", 100}, {"start_time", 1},
        {"wall_ns", 1'700'000'000'000'000'000ULL}, {"argv", {"progeny", "run", "--", "make", "-j4"}}});
  proc(101, 100, "/usr/bin/make", {"make", "-j4"});
  size_t n = 2;
  int pid = 102;
  std::vector<int> runaways;
  for (int k = 0; n + 3 <= target; ++k, n += 3) {
    std::string file = "src/module" + std::to_string(k) + ".cc";
    int sh = pid++, gxx = pid++, cc1 = pid++;
    proc(sh, 101, "/bin/sh", {"sh", "-c", "g++ -O2 -c " + file});
    proc(gxx, sh, "/usr/bin/g++", {"g++", "-O2", "-c", file, "-o", file + ".o"});
    proc(cc1, gxx, "/usr/lib/gcc/cc1plus", {"cc1plus", "-quiet", file, "-O2"});
    if (k % 50 == 49) {  // a daemon that outlives the build
      emit({{"event", "setsid"}, {"source", "shim"}, {"pid", cc1}, {"start_time", cc1}, {"sid", cc1}});
      runaways.push_back(cc1);
    } else {
      exit(cc1, k % 97 == 13 ? 1 : 0);
    }
    exit(gxx, k % 97 == 13 ? 1 : 0);
    exit(sh, k % 97 == 13 ? 1 : 0);
  }
  exit(101, 0);
  for (int r : runaways) {
    emit({{"event", "signal"}, {"source", "launcher"}, {"pid", 100}, {"signal", "TERM"},
          {"target_pid", r}, {"reason", "stop"}});
    emit({{"event", "exit"}, {"source", "launcher"}, {"pid", r}, {"start_time", r}, {"signal", 15},
          {"core", false}});
  }
  return n;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// data-render-ms of the page in chromium, "-" when it could not be read.
std::string render_ms(const std::string& dir, const std::string& page, const std::string& fragment) {
  std::string out = dir + "/dom-" + (fragment.empty() ? "folded" : "expanded") + ".html";
  progeny::test::run_in_sandbox([&](progeny::test::Scenario&) {
    return progeny::test::run_command(
        {"/usr/bin/timeout", "-k", "10", "180", "/usr/bin/chromium", "--headless", "--no-sandbox",
         "--disable-gpu", "--no-first-run", "--user-data-dir=" + dir + "/profile", "--dump-dom",
         "file://" + page + "#" + fragment},
        out);
  }, {.timeout_s = 240});
  std::smatch m;
  std::string dom = read_all(out);
  std::string body = dom.substr(0, dom.find("<body") == std::string::npos ? 0 : dom.find('>', dom.find("<body")));
  if (std::regex_search(body, m, std::regex("data-render-ms=\"([0-9.]+)\""))) return m[1];
  if (std::regex_search(body, m, std::regex("data-rows=\"([0-9]+)\""))) return "rows " + std::string(m[1]);
  return "-";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: html_bench PROGENY [PROCESSES]\n");
    return 125;
  }
  size_t target = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 10000;
  char tmpl[] = "/tmp/progeny-html-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) return 1;
  std::string dir = tmpl, log = dir + "/run.jsonl", page = dir + "/run.html";
  size_t procs = write_log(log, target);

  double start = now_ms();
  int st = progeny::test::run_command(
      {"/bin/sh", "-c", std::string(argv[1]) + " tree --format html '" + log + "' >'" + page + "'"});
  double tree_ms = now_ms() - start;
  struct stat sb {};
  ::stat(page.c_str(), &sb);

  std::printf("\n## HTML report (issue 13): %zu processes\n\n", procs);
  std::printf("| step | result |\n| --- | --- |\n");
  std::printf("| `progeny tree --format html` | %s %.0f ms, page %.1f MB |\n",
              WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "" : "FAILED", tree_ms,
              static_cast<double>(sb.st_size) / 1e6);
  if (::access("/usr/bin/chromium", X_OK) != 0) {
    std::printf("| first render in chromium | skipped: /usr/bin/chromium not installed |\n");
  } else {
    std::printf("| first render in chromium, folded | %s ms |\n", render_ms(dir, page, "").c_str());
    std::printf("| first render in chromium, `#expand=all` | %s ms |\n",
                render_ms(dir, page, "expand=all").c_str());
  }
  if (!std::getenv("KEEP")) progeny::test::run_command({"/bin/rm", "-rf", dir});
  else std::printf("\n(kept %s)\n", dir.c_str());
  return 0;
}
