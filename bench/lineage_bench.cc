// Lineage against ground truth (issue 10): each workload runs as
//   strace -f -o TRACE -- progeny run -q -w [MODE] --log LOG -- WORKLOAD
// in the test sandbox, and the process tree progeny's views build from LOG is compared with the
// subtree of TRACE rooted at COMMAND (the log's role:"command" process; the log's pids are the
// launcher's, which are strace's, in every mode, pidns included). strace sits outside the run,
// so it is no member of it, and the run's own pids are the truth's pids.
//
// For each mode and workload it prints: truth (processes strace saw below and including
// COMMAND), recorded (processes the log shows, progeny's own helpers excepted), missing, extra
// (recorded but not in the truth, or twice), wrong parent (the log's creator is not the
// process whose clone made it), exit mismatches (the log's exit is not strace's, or unknown),
// exec mismatches (a different number of successful execs). Differences inside a documented
// blind spot of the shim (a static or setuid/setgid image and what it starts, a child made
// by a raw SYS_fork or clone3) are counted apart in the modes without the tracker; everything
// else is "unexplained" and should be 0. The same workload also runs once without strace, so
// that ptrace's effect on progeny shows as a difference in the recorded count.
//
// Usage: lineage_bench [BUILD_DIR [MODE]]: MODE runs only the modes whose title contains it.
// Root: the sandbox, the tracker and cgroups need it.
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bench/strace_truth.h"
#include "launcher/views/lineage.h"
#include "launcher/views/logread.h"
#include "tests/sandbox/sandbox.h"

using progeny::test::Scenario;

namespace {

const std::string kStrace = "/usr/bin/strace";

struct Mode {
  std::string name;
  std::vector<std::string> flags;
  bool shim_only;  // no tracker: the shim's blind spots are expected
};

const std::vector<Mode>& modes() {
  static const std::vector<Mode> m = {
      {"shim only (`--contain none --bpf off`)", {"--contain", "none", "--bpf", "off"}, true},
      {"tracker + shim (`--contain none --bpf on`)", {"--contain", "none", "--bpf", "on"}, false},
      {"default as root (cgroup + tracker + shim)", {}, false},
      {"`--contain pidns` (+ tracker + shim)", {"--contain", "pidns", "--bpf", "on"}, false},
      {"`--contain pidns --bpf off` (shim only)", {"--contain", "pidns", "--bpf", "off"}, true},
      {"tracker only (`--no-preload --bpf on`)", {"--no-preload", "--bpf", "on"}, false},
  };
  return m;
}

struct Workload {
  std::string name;
  std::vector<std::string> argv;
};

// Each workload is bounded by itself and by `progeny run -t`.
std::vector<Workload> workloads(const std::string& dir) {
  const std::string py = "/usr/bin/python3";
  auto pool = [&](const char* ctx) {
    return Workload{std::string("python multiprocessing ") + ctx,
                    {py, "-c",
                     std::string("import multiprocessing as mp\n"
                                 "if __name__ == '__main__':\n"
                                 "    p = mp.get_context('") + ctx + "').Pool(2)\n"
                     "    assert sum(p.map(abs, range(-8, 8))) == 64\n"
                     "    p.close(); p.join()\n"}};
  };
  std::string entries;
  for (const char* e : {"fork", "vfork", "_Fork", "clone", "clone_vfork", "posix_spawn",
                        "posix_spawn_old", "posix_spawnp", "posix_spawnp_old", "system", "popen",
                        "daemon", "setsid", "setpgid", "setpgrp", "execve", "execv", "execvp",
                        "execvpe", "execl", "execlp", "execle", "fexecve", "execveat", "env_i",
                        "setuid", "close_range", "own_pdeathsig"})
    entries += std::string(" ") + e;
  std::string raw = progeny::test::fixture("raw_clone");
  return {
      {"shell pipeline + subshells",
       {"/bin/sh", "-c",
        "seq 100 | sort | uniq | wc -l >/dev/null; (cd / && ls | cat >/dev/null; exit 3); "
        "x=$(echo sub); test \"$x\" = sub"}},
      {"make -j4, 50 targets", {"/usr/bin/make", "-s", "-j4", "-C", dir}},
      {"python subprocess",
       {py, "-c",
        "import subprocess\n"
        "subprocess.run(['/bin/true'], check=True)\n"
        "subprocess.run('echo hi | cat >/dev/null; exit 5', shell=True)\n"}},
      pool("fork"),
      pool("spawn"),
      pool("forkserver"),
      {"shim entry fixture (every entry)",
       {"/bin/sh", "-c",
        "for e in" + entries + "; do " + progeny::test::fixture("shim_entry") +
            " $e || echo \"$e failed\"; done"}},
      {"static busybox",
       {"/bin/busybox", "sh", "-c",
        "busybox seq 20 | busybox sort | busybox wc -l >/dev/null; (busybox true; exit 2); "
        "busybox sh -c 'busybox true & wait'"}},
      {"setgid chage, setuid-nobody env",
       {"/bin/sh", "-c",
        "/usr/bin/chage -l root >/dev/null; " + dir + "/suid-env /bin/sh -c '/bin/true | /bin/true; exit 4'"}},
      {"raw SYS_fork / clone3 children",
       {"/bin/sh", "-c",
        raw + " fork exit && " + raw + " fork exec && " + raw + " clone3 exit && " + raw +
            " clone3 exec"}},
  };
}

// The make workload's Makefile and the setuid program (a copy of env owned by nobody, so that
// the loader runs it AT_SECURE and drops LD_PRELOAD, as it does for any setuid program).
bool prepare(const std::string& dir, std::string* why) {
  std::ofstream mk(dir + "/Makefile");
  mk << "T := $(addprefix t,$(shell seq 50))\nall: $(T)\n$(T):\n\t@echo $@ > /dev/null\n"
     << ".PHONY: all $(T)\n";
  if (!mk) return *why = "cannot write the Makefile", false;
  std::string suid = dir + "/suid-env";
  int st = progeny::test::run_command({"/bin/cp", "/usr/bin/env", suid});
  if (st != 0 || ::chown(suid.c_str(), 65534, 65534) != 0 || ::chmod(suid.c_str(), 04755) != 0)
    return *why = "cannot make the setuid copy of env", false;
  return true;
}

// A dynamically linked ELF has a PT_INTERP program header; a static one has none.
bool is_static_elf(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  Elf64_Ehdr eh{};
  bool elf = ::pread(fd, &eh, sizeof eh, 0) == sizeof eh && eh.e_ident[EI_MAG0] == ELFMAG0 &&
             eh.e_ident[EI_MAG1] == ELFMAG1 && eh.e_ident[EI_CLASS] == ELFCLASS64;
  bool interp = false;
  for (int i = 0; elf && i < eh.e_phnum && !interp; ++i) {
    Elf64_Phdr ph{};
    if (::pread(fd, &ph, sizeof ph, static_cast<off_t>(eh.e_phoff + i * eh.e_phentsize)) != sizeof ph)
      break;
    interp = ph.p_type == PT_INTERP;
  }
  ::close(fd);
  return elf && !interp;
}

// An image the loader runs AT_SECURE for us: setuid to another user, setgid to another group.
bool is_secure_exec(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return false;
  return ((st.st_mode & S_ISUID) && st.st_uid != ::geteuid()) ||
         ((st.st_mode & S_ISGID) && st.st_gid != ::getegid());
}

// Why the shim cannot see a process of COMMAND's subtree (root first, creators before what
// they create), "" when it should: inherited from its creator below COMMAND.
std::vector<std::string> blind_spots(const bench::StraceTruth& t, const std::vector<size_t>& tree) {
  std::vector<std::string> why(t.procs().size());
  for (size_t i : tree) {
    const auto& p = t.procs()[i];
    bool root = i == tree.front();  // made by progeny's launcher, whose clone3 is raw
    if (!root && p.creator) why[i] = why[*p.creator];
    if (!root && why[i].empty() && p.raw_birth) why[i] = "raw clone";
    for (const auto& path : p.exec_paths) {
      if (!why[i].empty()) break;
      if (is_static_elf(path)) why[i] = "static";
      else if (is_secure_exec(path)) why[i] = "setuid";
    }
  }
  return why;
}

struct Counts {
  size_t truth = 0, recorded = 0, extra = 0, without_strace = 0;
  // Each with the part inside a documented blind spot.
  size_t missing = 0, missing_blind = 0, parent = 0, parent_blind = 0, exit = 0, exit_blind = 0,
         exec = 0, exec_blind = 0;
  std::string mechanisms;  // of the run under strace, from its start record
  std::vector<std::string> unexplained;  // one line each, for the notes
  size_t unexplained_count() const {
    return extra + (missing - missing_blind) + (parent - parent_blind) + (exit - exit_blind) +
           (exec - exec_blind);
  }
};

struct LoadedLog {
  progeny::Lineage lin;
  std::string mechanisms;
};

std::optional<LoadedLog> load_log(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  auto contents = progeny::read_log(in);
  LoadedLog out;
  for (const auto& e : contents.events)
    if (e.event == "start")
      for (const auto& m : e.mechanisms) out.mechanisms += (out.mechanisms.empty() ? "" : ",") + m;
  out.lin = progeny::build_lineage(contents.events, contents.problems.size());
  return out;
}

bool counted(const progeny::Lineage& lin, size_t i) {
  const auto& p = lin.procs[i];
  return !p.is_launcher && !p.is_progeny_helper();
}

std::string image(const progeny::Lineage& lin, size_t i) {
  const auto& p = lin.procs[i];
  return p.execs.empty() ? "?" : progeny::base_name(p.execs.back().path);
}

std::string truth_exit(const bench::TrueProcess& t) {
  if (!t.exited) return "none";
  return t.exit_signal.empty() ? "exit " + std::to_string(t.exit_code) : "SIG" + t.exit_signal;
}

std::string log_exit(const progeny::ProcessNode& p) {
  switch (p.end) {
    case progeny::EndKind::kExited: return "exit " + std::to_string(p.exit_code);
    case progeny::EndKind::kSignaled: return "SIG" + p.exit_signal;
    case progeny::EndKind::kUnknown: break;
  }
  return "unknown";
}

void compare(const LoadedLog& log, const bench::StraceTruth& truth, bool shim_only, Counts& c) {
  const auto& lin = log.lin;
  auto note = [&](const std::string& s) {
    if (c.unexplained.size() < 12) c.unexplained.push_back(s);
  };
  if (!lin.command) {
    note("the log names no COMMAND");
    return;
  }
  auto root = truth.find(lin.procs[*lin.command].pid);
  if (!root) {
    note("COMMAND's pid is not in the strace output");
    return;
  }
  auto tree = truth.subtree(*root);
  std::set<size_t> in_tree(tree.begin(), tree.end());
  auto why = blind_spots(truth, tree);
  auto blind = [&](size_t t) { return shim_only && !why[t].empty(); };
  c.truth += tree.size();

  // Log process -> truth process: the n-th process of a pid in the log is the n-th in the
  // truth (both by birth).
  std::map<pid_t, size_t> seen;
  std::vector<std::optional<size_t>> match(lin.procs.size());
  std::map<size_t, size_t> matched_by;  // truth -> log
  for (size_t i = 0; i < lin.procs.size(); ++i) {
    if (!counted(lin, i)) continue;
    ++c.recorded;
    pid_t pid = lin.procs[i].pid;
    auto t = truth.find(pid, seen[pid]++);
    if (!t || !in_tree.count(*t) || matched_by.count(*t)) {
      ++c.extra;
      note("extra: pid " + std::to_string(pid) + " " + image(lin, i) +
           (!t ? " (strace never saw it)" : !in_tree.count(*t) ? " (not below COMMAND)" : " (twice)"));
      continue;
    }
    match[i] = t;
    matched_by[*t] = i;
  }
  for (size_t t : tree) {
    const auto& tp = truth.procs()[t];
    auto m = matched_by.find(t);
    std::string who = "pid " + std::to_string(tp.pid) +
                      (tp.exec_paths.empty() ? "" : " " + progeny::base_name(tp.exec_paths.back()));
    std::string spot = why[t].empty() ? "" : " [" + why[t] + "]";
    if (m == matched_by.end()) {
      ++c.missing;
      if (blind(t)) ++c.missing_blind;
      else note("missing: " + who + spot);
      continue;
    }
    const auto& lp = lin.procs[m->second];
    if (t != *root) {
      bool right = lp.parent && match[*lp.parent] == tp.creator;
      if (!right) {
        ++c.parent;
        if (blind(t)) ++c.parent_blind;
        else
          note("wrong parent: " + who + spot + ": log " +
               (lp.parent ? std::to_string(lin.procs[*lp.parent].pid) : std::string("none")) +
               ", strace " + std::to_string(truth.procs()[*tp.creator].pid));
      }
    }
    if (log_exit(lp) != truth_exit(tp)) {
      ++c.exit;
      if (blind(t)) ++c.exit_blind;
      else note("exit: " + who + spot + ": log " + log_exit(lp) + ", strace " + truth_exit(tp));
    }
    if (lp.execs.size() != static_cast<size_t>(tp.execs)) {
      ++c.exec;
      if (blind(t)) ++c.exec_blind;
      else
        note("execs: " + who + spot + ": log " + std::to_string(lp.execs.size()) + ", strace " +
             std::to_string(tp.execs));
    }
  }
}

std::vector<std::string> progeny_argv(const Mode& m, const std::string& log,
                                      const std::vector<std::string>& workload) {
  std::vector<std::string> a = {progeny::test::build_path("bin/progeny"), "run", "-q", "-w", "-t",
                                "120s"};
  a.insert(a.end(), m.flags.begin(), m.flags.end());
  a.insert(a.end(), {"--log", log, "--"});
  a.insert(a.end(), workload.begin(), workload.end());
  return a;
}

size_t recorded(const LoadedLog& log) {
  size_t n = 0;
  for (size_t i = 0; i < log.lin.procs.size(); ++i) n += counted(log.lin, i);
  return n;
}

std::string first_line(const std::string& path) {
  std::string text = progeny::test::read_file(path);
  return text.substr(0, text.find('\n'));
}

std::string with_blind(size_t n, size_t blind) {
  return blind ? std::to_string(n) + " (" + std::to_string(blind) + " blind)" : std::to_string(n);
}

void run_mode(Scenario& s, const Mode& m, const std::string& dir) {
  std::printf("\n### %s\n\n", m.name.c_str());
  std::string out = dir + "/out.txt", log = dir + "/log.jsonl", trace = dir + "/strace.txt";
  int probe = progeny::test::run_command(progeny_argv(m, log, {"/bin/true"}), out);
  if (probe != 0) {
    std::printf("Cannot run here: %s\n", first_line(out).c_str());
    return;
  }
  std::printf("| workload | truth | recorded | missing | extra | wrong parent | exit mismatch | "
              "exec mismatch | unexplained | recorded without strace |\n"
              "|---|---|---|---|---|---|---|---|---|---|\n");
  std::vector<std::string> notes;
  std::string mechanisms;
  size_t unexplained = 0;
  for (const auto& w : workloads(dir)) {
    Counts c;
    std::vector<std::string> argv = {kStrace, "-f", "-q", "-e", "trace=process", "-e",
                                     "signal=none", "--decode-pids=pidns", "-o", trace, "--"};
    auto run = progeny_argv(m, log, w.argv);
    argv.insert(argv.end(), run.begin(), run.end());
    ::unlink(log.c_str());  // no stale log of the previous workload can pass for this one's
    int st = progeny::test::run_command(argv, out);
    bench::StraceTruth truth;
    auto loaded = load_log(log);
    if (!WIFEXITED(st) || !loaded || !truth.read(trace)) {
      s.fail(w.name + ": the run under strace failed: " + first_line(out));
      continue;
    }
    mechanisms = loaded->mechanisms;
    compare(*loaded, truth, m.shim_only, c);
    ::unlink(log.c_str());
    progeny::test::run_command(run, out);
    if (auto plain = load_log(log)) c.without_strace = recorded(*plain);
    std::printf("| %s | %zu | %zu | %s | %zu | %s | %s | %s | %zu | %zu |\n", w.name.c_str(), c.truth,
                c.recorded, with_blind(c.missing, c.missing_blind).c_str(), c.extra,
                with_blind(c.parent, c.parent_blind).c_str(), with_blind(c.exit, c.exit_blind).c_str(),
                with_blind(c.exec, c.exec_blind).c_str(), c.unexplained_count(), c.without_strace);
    std::fflush(stdout);
    unexplained += c.unexplained_count();
    for (const auto& n : c.unexplained) notes.push_back(w.name + ": " + n);
  }
  std::printf("\nMechanisms in force under strace (start record): %s. Unexplained differences: %zu.\n",
              mechanisms.c_str(), unexplained);
  for (const auto& n : notes) std::printf("- %s\n", n.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) ::setenv("PROGENY_BUILD", argv[1], 1);
  std::string only = argc > 2 ? argv[2] : "";  // run the modes whose name contains it
  std::printf("\n## Lineage against `strace -f` (ground truth)\n\n"
              "Each workload under `strace -f -- progeny run -q -w MODE --log L -- WORKLOAD`; the "
              "log's tree (as `progeny tree` builds it) against strace's subtree of COMMAND. "
              "\"(N blind)\": inside a documented blind spot of the shim (static or setuid image "
              "and its subtree, raw SYS_fork/clone3 child), counted only in modes without the "
              "tracker. \"unexplained\" is everything else and should be 0. \"recorded without "
              "strace\": the same workload run again without strace (other pids); equal to "
              "\"recorded\" when ptrace changes nothing progeny sees.\n");
  if (::access(kStrace.c_str(), X_OK) != 0) {
    std::printf("\n%s is not installed: nothing to compare with.\n", kStrace.c_str());
    return 0;
  }
  int failed = 0;
  for (const auto& m : modes()) {
    if (m.name.find(only) == std::string::npos) continue;
    std::fflush(stdout);  // or the sandbox's fork would print it twice
    progeny::test::SandboxOptions o;
    o.timeout_s = 900;
    auto r = progeny::test::run_in_sandbox(
        [&](Scenario& s) {
          char tmpl[] = "/tmp/progeny-lineage.XXXXXX";
          if (!::mkdtemp(tmpl)) return s.fail("mkdtemp"), 1;
          std::string dir = tmpl, why;
          if (prepare(dir, &why)) run_mode(s, m, dir);
          else s.fail(why);
          progeny::test::run_command({"/bin/rm", "-rf", dir});
          std::fflush(stdout);  // the scenario ends with _exit
          return 0;
        },
        o);
    if (!r.ran) {
      std::printf("\n### %s\n\nCannot run here: %s\n", m.name.c_str(), r.setup_error.c_str());
      continue;
    }
    if (!r.ok()) {
      std::fprintf(stderr, "%s", r.describe().c_str());
      failed = 1;
    }
  }
  return failed;
}
