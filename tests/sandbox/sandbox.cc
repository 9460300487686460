#include "tests/sandbox/sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "launcher/os/fd.h"
#include "launcher/os/proc.h"
#include "launcher/os/sys.h"

extern char** environ;

namespace progeny::test {
namespace {

// Report lines travel over one pipe (each well under PIPE_BUF, so never interleaved):
// "F<text>" failure, "N<text>" note, "S<text>" survivor, "Z" zombie survivor, "X<status>".
void send_line(int fd, char kind, const std::string& text) {
  std::string line(1, kind);
  line += text.substr(0, 3000);
  for (char& c : line)
    if (c == '\n') c = ' ';
  line.push_back('\n');
  ssize_t ignored = ::write(fd, line.data(), line.size());
  (void)ignored;
}

std::vector<pid_t> pids_in_proc() {
  std::vector<pid_t> pids;
  DIR* d = ::opendir("/proc");
  if (!d) return pids;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long p = std::strtol(e->d_name, &end, 10);
    if (end && *end == '\0' && p > 0) pids.push_back(static_cast<pid_t>(p));
  }
  ::closedir(d);
  return pids;
}

bool write_file(const std::string& path, const std::string& value) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  return fd && ::write(fd.get(), value.data(), value.size()) == static_cast<ssize_t>(value.size());
}

[[noreturn]] void die(int report_fd, const char* what) {
  send_line(report_fd, 'E', std::string(what) + ": " + std::strerror(errno));
  ::_exit(120);
}

// PID 1 of the sandbox: reaps everything, runs the scenario as PID 2, reports survivors,
// then exits, which makes the kernel kill whatever is left in the namespace.
[[noreturn]] void sandbox_init(const std::function<int(Scenario&)>& fn, const SandboxOptions& opts,
                               int report_fd) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) die(report_fd, "prctl");
  // Private first: a fresh /proc must not propagate over the host's.
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) die(report_fd, "mount private");
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    die(report_fd, "mount /proc");
  pid_t scenario = ::fork();
  if (scenario < 0) die(report_fd, "fork scenario");
  if (scenario == 0) {
    if (opts.uid != 0) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(opts.gid, opts.gid, opts.gid) != 0 ||
          ::setresuid(opts.uid, opts.uid, opts.uid) != 0)
        die(report_fd, "drop privileges");
    }
    Scenario sc(report_fd);
    ::_exit(fn(sc));
  }
  int status = 0;
  for (;;) {
    int st = 0;
    pid_t p = ::waitpid(-1, &st, 0);
    if (p == scenario) {
      status = st;
      break;
    }
    if (p < 0 && errno != EINTR) break;
  }
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  for (pid_t p : pids_in_proc()) {
    if (p == 1) continue;
    auto st = read_proc_stat(p);
    if (!st) continue;
    if (st->state == 'Z') send_line(report_fd, 'Z', "");
    send_line(report_fd, 'S', describe_process(p) + " [state " + st->state + "]");
  }
  send_line(report_fd, 'X', std::to_string(status));
  ::_exit(0);
}

std::atomic<int> sandbox_counter{0};

std::string first_line(const std::string& path, size_t max = 200) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line.substr(0, max);
}

// Every process below `outer` (the sandbox's namespace), for a timed-out sandbox: state, what
// it waits on, its current syscall and its kernel stack, so the failure says what was stuck.
std::vector<std::string> describe_stuck(pid_t outer) {
  std::vector<std::string> out;
  std::set<pid_t> below{outer};
  bool grew = true;
  std::vector<pid_t> all = pids_in_proc();
  while (grew) {
    grew = false;
    for (pid_t p : all) {
      if (below.count(p)) continue;
      auto st = read_proc_stat(p);
      if (st && below.count(st->ppid)) grew = below.insert(p).second || grew;
    }
  }
  for (pid_t p : below) {
    if (p == outer) continue;
    auto st = read_proc_stat(p);
    if (!st) continue;
    std::string d = "stuck? " + describe_process(p).substr(0, 160) + " [state " + st->state +
                    "] ppid " + std::to_string(st->ppid) + " wchan " +
                    first_line("/proc/" + std::to_string(p) + "/wchan") + " syscall " +
                    first_line("/proc/" + std::to_string(p) + "/syscall", 60);
    std::ifstream stack("/proc/" + std::to_string(p) + "/stack");
    for (std::string frame; std::getline(stack, frame) && d.size() < 900;) d += " | " + frame;
    out.push_back(d);
    if (out.size() >= 40) break;
  }
  return out;
}

constexpr const char* kUnified = "/sys/fs/cgroup/unified";

// Every cgroup below dir (its path relative to dir), deepest last.
std::vector<std::string> cgroups_below(const std::string& dir, const std::string& rel = "") {
  std::vector<std::string> out;
  DIR* d = ::opendir((dir + "/" + rel).c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    std::string sub = rel.empty() ? e->d_name : rel + "/" + e->d_name;
    out.push_back(sub);
    for (auto& deeper : cgroups_below(dir, sub)) out.push_back(deeper);
  }
  ::closedir(d);
  return out;
}

// Removes dir and the cgroups below it once they are empty (their tasks may still be
// exiting for a moment after the namespace died).
void remove_cgroup_dirs(const std::string& dir) {
  auto below = cgroups_below(dir);
  for (int tries = 0; tries < 200; ++tries) {
    bool all = true;
    for (auto it = below.rbegin(); it != below.rend(); ++it)
      all &= ::rmdir((dir + "/" + *it).c_str()) == 0 || errno == ENOENT;
    if (all && (::rmdir(dir.c_str()) == 0 || errno == ENOENT)) return;
    ::usleep(5000);
  }
}

// A directory of the sandbox's own in `controller`'s v1 hierarchy, under this process's
// cgroup there, so the limit groups progeny makes land in it and any it leaves is found.
// Empty when the host has no such hierarchy (or it is not ours to write).
std::string make_v1_dir(const char* controller, const std::string& name) {
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string list = "," + line.substr(a + 1, b - a - 1) + ",";
    if (list.find("," + std::string(controller) + ",") == std::string::npos) continue;
    std::string own = line.substr(b + 1);
    std::string dir = std::string("/sys/fs/cgroup/") + controller + (own == "/" ? "" : own) + "/" + name;
    return ::mkdir(dir.c_str(), 0755) == 0 ? dir : "";
  }
  return "";
}

// Reports every cgroup left below `path` and removes them with it.
struct LeakCheck {
  std::string path;
  SandboxResult* result;
  ~LeakCheck() {
    if (path.empty()) return;
    for (const auto& leaf : cgroups_below(path)) result->leaked_cgroups.push_back(path + "/" + leaf);
    remove_cgroup_dirs(path);
  }
};

}  // namespace

void Scenario::fail(const std::string& what) { send_line(report_fd_, 'F', what); }
void Scenario::note(const std::string& what) { send_line(report_fd_, 'N', what); }
bool Scenario::expect(bool cond, const std::string& what) {
  if (!cond) fail(what);
  return cond;
}
std::vector<std::string> Scenario::others() const {
  std::vector<std::string> out;
  pid_t self = ::getpid();
  for (pid_t p : pids_in_proc())
    if (p != 1 && p != self) out.push_back(describe_process(p));
  return out;
}

std::string SandboxResult::describe() const {
  std::ostringstream os;
  if (!ran) os << "sandbox setup failed: " << setup_error << "\n";
  os << "scenario status: " << scenario_status << "\n";
  for (const auto& f : failures) os << "FAIL: " << f << "\n";
  for (const auto& n : notes) os << "note: " << n << "\n";
  for (const auto& s : survivors) os << "survivor: " << s << "\n";
  for (const auto& c : leaked_cgroups) os << "leaked cgroup: " << c << "\n";
  return os.str();
}

SandboxResult run_in_sandbox(const std::function<int(Scenario&)>& fn, const SandboxOptions& opts) {
  SandboxResult result;
  // A pids cgroup (v1 controller) caps everything the scenario can create.
  std::string cg = "/sys/fs/cgroup/pids/progeny-test." + std::to_string(::getpid()) + "." +
                   std::to_string(sandbox_counter++);
  if (::mkdir(cg.c_str(), 0755) != 0 && errno != EEXIST) {
    result.setup_error = "cannot create pids cgroup " + cg + ": " + std::strerror(errno) +
                         " (the sandbox needs root and the v1 pids controller)";
    return result;
  }
  struct CgroupRemover {
    std::string path;
    ~CgroupRemover() {
      // The namespace is gone by now, but exiting tasks may linger for a moment.
      for (int i = 0; i < 200 && ::rmdir(path.c_str()) != 0 && errno == EBUSY; ++i) ::usleep(5000);
    }
  } remover{cg};
  // A cgroup v2 directory of the sandbox's own, so the leaves progeny makes under "its own
  // cgroup" land here and any it leaves behind is found (and removed) below.
  std::string v2 = std::string(kUnified) + "/progeny-test." + std::to_string(::getpid()) + "." +
                   std::to_string(sandbox_counter.load());
  bool have_v2 = ::mkdir(v2.c_str(), 0755) == 0;
  LeakCheck leak_check{have_v2 ? v2 : "", &result};
  // --limit's v1 groups: under the sandbox's pids cgroup, and its own memory and cpu ones.
  std::string tag = "progeny-test." + std::to_string(::getpid()) + "." + std::to_string(sandbox_counter.load());
  std::string mem = make_v1_dir("memory", tag), cpu = make_v1_dir("cpu", tag);
  LeakCheck pids_check{cg, &result}, mem_check{mem, &result}, cpu_check{cpu, &result};
  if (!write_file(cg + "/pids.max", std::to_string(opts.pids_max))) {
    result.setup_error = "cannot set pids.max in " + cg;
    return result;
  }
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) {
    result.setup_error = "pipe failed";
    return result;
  }
  Fd rd(pipefd[0]), wr(pipefd[1]);
  pid_t outer = ::fork();
  if (outer < 0) {
    result.setup_error = std::string("fork: ") + std::strerror(errno);
    return result;
  }
  if (outer == 0) {
    rd.reset();
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) die(wr.get(), "prctl");
    if (!write_file(cg + "/cgroup.procs", "0")) die(wr.get(), "join pids cgroup");
    if (have_v2 && !write_file(v2 + "/cgroup.procs", "0")) die(wr.get(), "join the v2 cgroup");
    if (!mem.empty() && !write_file(mem + "/cgroup.procs", "0")) die(wr.get(), "join the memory cgroup");
    if (!cpu.empty() && !write_file(cpu + "/cgroup.procs", "0")) die(wr.get(), "join the cpu cgroup");
    if (::unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) die(wr.get(), "unshare");
    pid_t init = ::fork();
    if (init < 0) die(wr.get(), "fork init");
    if (init == 0) sandbox_init(fn, opts, wr.get());
    int st = 0;
    while (::waitpid(init, &st, 0) < 0 && errno == EINTR) {
    }
    ::_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 121);
  }
  wr.reset();
  Fd outer_pidfd = open_pidfd(outer);
  std::string buf;
  int timeout_ms = opts.timeout_s * 1000;
  for (;;) {
    pollfd pfd{rd.get(), POLLIN, 0};
    int n = ::poll(&pfd, 1, timeout_ms);
    if (n == 0) {
      result.failures.push_back("sandbox timed out after " + std::to_string(opts.timeout_s) + "s");
      for (const auto& line : describe_stuck(outer)) result.failures.push_back(line);
      // The outer process is our own child: its death takes the init (PDEATHSIG) and with it
      // the whole namespace.
      signal_pidfd(outer_pidfd.get(), SIGKILL);
      break;
    }
    if (n < 0 && errno == EINTR) continue;
    char chunk[4096];
    ssize_t r = ::read(rd.get(), chunk, sizeof chunk);
    if (r <= 0) break;
    buf.append(chunk, static_cast<size_t>(r));
  }
  int outer_status = 0;
  while (::waitpid(outer, &outer_status, 0) < 0 && errno == EINTR) {
  }
  std::istringstream lines(buf);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    std::string text = line.substr(1);
    switch (line[0]) {
      case 'F': result.failures.push_back(text); break;
      case 'N': result.notes.push_back(text); break;
      case 'S': result.survivors.push_back(text); break;
      case 'Z': result.zombies++; break;
      case 'X': result.scenario_status = std::atoi(text.c_str()); result.ran = true; break;
      case 'E': result.setup_error = text; break;
      default: break;
    }
  }
  if (!result.ran && result.setup_error.empty())
    result.setup_error = "sandbox ended without a result (status " + std::to_string(outer_status) + ")";
  return result;
}

std::string build_path(const std::string& rel) {
  const char* env = std::getenv("PROGENY_BUILD");
  std::string base;
  if (env && *env) {
    base = env;
  } else {
    // build/tests/<binary> -> build
    char exe[4096];
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    base = n > 0 ? std::string(exe, static_cast<size_t>(n)) : std::string("build/tests/x");
    base = base.substr(0, base.rfind('/'));
    base = base.substr(0, base.rfind('/'));
  }
  return base + "/" + rel;
}

std::string fixture(const std::string& name) { return build_path("tests/fixtures/" + name); }

namespace {

// In a forked child: the extra environment, then exec; 127 if the exec fails.
[[noreturn]] void exec_child(const std::vector<std::string>& argv,
                             const std::vector<std::string>& extra_env) {
  for (const auto& e : extra_env) ::putenv(const_cast<char*>(e.c_str()));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

}  // namespace

int run_command(const std::vector<std::string>& argv, const std::string& out_path,
                const std::vector<std::string>& extra_env) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!out_path.empty()) {
      int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
    }
    exec_child(argv, extra_env);
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return st;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Started start_command(const std::vector<std::string>& argv,
                      const std::vector<std::string>& extra_env) {
  Started s;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return s;
  s.pid = ::fork();
  if (s.pid == 0) {
    ::dup2(p[1], 1);
    exec_child(argv, extra_env);
  }
  ::close(p[1]);
  s.out_fd = p[0];
  return s;
}

bool wait_for_line(int fd, const std::string& line, int timeout_ms, std::string* seen) {
  std::string buf;
  for (int waited = 0; waited <= timeout_ms;) {
    size_t pos = 0, nl;
    while ((nl = buf.find('\n', pos)) != std::string::npos) {
      if (buf.compare(pos, nl - pos, line) == 0) {
        if (seen) *seen += buf;
        return true;
      }
      pos = nl + 1;
    }
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 50) > 0) {
      char chunk[1024];
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
    } else {
      waited += 50;
    }
  }
  if (seen) *seen += buf;
  return false;
}

void signal_pidfd(int pidfd, int sig) { ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0); }

void kill_in_sandbox(pid_t pid) {
  Fd fd = open_pidfd(pid);
  if (fd) signal_pidfd(fd.get(), SIGKILL);
}

int wait_status(pid_t pid, int timeout_ms) {
  for (int waited = 0;; waited += 5) {
    int st = 0;
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) return st;
    if (r < 0 && errno != EINTR) return -1;
    if (waited >= timeout_ms) return -1;
    ::usleep(5000);
  }
}

}  // namespace progeny::test
