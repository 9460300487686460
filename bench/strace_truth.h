// The ground truth of the lineage benchmark: the process tree `strace -f -q -e trace=process
// -e signal=none --decode-pids=pidns -o FILE` wrote, as processes (not threads) with their
// creator, successful execs and exit.
//
// strace's line prefix is always a pid of strace's namespace; a clone's return value is the
// caller's, which --decode-pids=pidns annotates with strace's ("= 3 /* 8 in strace's PID NS */")
// when they differ. A child may print before its creator's clone returns ("<unfinished ...>",
// "<... clone resumed>"), so a line from an unknown pid opens a process whose creator the
// clone's return fills in later. Pids may be reused within a run: each exit closes the pid's
// process, and the next one with that pid is a new process (birth order tells them apart).
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace bench {

struct TrueProcess {
  pid_t pid = 0;
  std::optional<size_t> creator;  // index of the process whose thread made it
  int execs = 0;                  // successful execve/execveat
  std::vector<std::string> exec_paths;  // their paths, as passed ("" for fexecve)
  // Made behind libc's back: the fork syscall (glibc's fork() is clone) or a clone3 without
  // CLONE_VM (glibc uses clone3 only for threads and posix_spawn's CLONE_VM|CLONE_VFORK).
  bool raw_birth = false;
  bool exited = false;
  int exit_code = 0;              // when exited normally
  std::string exit_signal;        // "KILL", when killed by a signal
  bool birth_seen = false;        // a clone/fork/vfork of a traced process returned its pid
};

class StraceTruth {
 public:
  // Parses the whole file; false when it cannot be read.
  bool read(const std::string& path) {
    std::ifstream in(path);
    if (!in) return false;
    for (std::string line; std::getline(in, line);) parse_line(line);
    return true;
  }
  const std::vector<TrueProcess>& procs() const { return procs_; }

  // The process of pid `pid` that was born `nth` (0-based) among those with that pid.
  std::optional<size_t> find(pid_t pid, size_t nth = 0) const {
    auto it = by_pid_.find(pid);
    if (it == by_pid_.end() || nth >= it->second.size()) return std::nullopt;
    return it->second[nth];
  }
  // `root` and everything it created, transitively.
  std::vector<size_t> subtree(size_t root) const {
    std::vector<std::vector<size_t>> kids(procs_.size());
    for (size_t i = 0; i < procs_.size(); ++i)
      if (procs_[i].creator) kids[*procs_[i].creator].push_back(i);
    std::vector<size_t> out{root};
    for (size_t k = 0; k < out.size(); ++k)
      for (size_t c : kids[out[k]]) out.push_back(c);
    return out;
  }

 private:
  // The process a line of thread `tid` is about, opened when the pid is new or closed.
  size_t process_of(pid_t tid) {
    if (auto t = thread_leader_.find(tid); t != thread_leader_.end()) return t->second;
    auto it = open_.find(tid);
    if (it != open_.end()) return it->second;
    return open(tid);
  }
  size_t open(pid_t pid) {
    procs_.emplace_back();
    procs_.back().pid = pid;
    size_t id = procs_.size() - 1;
    open_[pid] = id;
    by_pid_[pid].push_back(id);
    return id;
  }

  // What a call returned: after its last " = " (strace pads the column with spaces).
  static std::string result(const std::string& line) {
    size_t eq = line.rfind(" = ");
    return eq == std::string::npos ? "" : line.substr(eq + 3);
  }

  static std::optional<pid_t> returned_pid(const std::string& line) {
    std::string r = result(line);
    const char* p = r.c_str();
    char* end = nullptr;
    long v = std::strtol(p, &end, 10);
    if (end == p || v <= 0) return std::nullopt;
    long host = v;
    if (const char* c = std::strstr(end, "/* "); c && std::strstr(c, "in strace's PID NS"))
      host = std::strtol(c + 3, nullptr, 10);
    return static_cast<pid_t>(host);
  }

  static bool starts(const std::string& s, size_t at, const char* word) {
    return s.compare(at, std::strlen(word), word) == 0;
  }

  void parse_line(const std::string& line) {
    char* end = nullptr;
    long tid_l = std::strtol(line.c_str(), &end, 10);
    if (end == line.c_str() || tid_l <= 0) return;
    pid_t tid = static_cast<pid_t>(tid_l);
    size_t at = static_cast<size_t>(end - line.c_str());
    while (at < line.size() && line[at] == ' ') ++at;
    if (starts(line, at, "+++ ")) return on_exit(tid, line, at);

    bool resumed = starts(line, at, "<... ");
    size_t name_at = resumed ? at + 5 : at;
    bool unfinished = line.find("<unfinished ...>") != std::string::npos;
    for (const char* call : {"clone3", "clone", "vfork", "fork"}) {
      size_t n = std::strlen(call);
      if (!starts(line, name_at, call) || (line[name_at + n] != '(' && line[name_at + n] != ' '))
        continue;
      if (unfinished) {  // the flags are on this line, the result on the resumed one
        pending_flags_[tid] = line;
        return;
      }
      std::string flags = resumed ? pending_flags_[tid] + line : line;
      pending_flags_.erase(tid);
      bool raw = std::strcmp(call, "fork") == 0 ||
                 (std::strcmp(call, "clone3") == 0 && flags.find("CLONE_VM") == std::string::npos);
      if (auto child = returned_pid(line)) on_birth(tid, *child, flags, raw);
      return;
    }
    for (const char* call : {"execve", "execveat"}) {
      size_t n = std::strlen(call);
      if (!starts(line, name_at, call) || (line[name_at + n] != '(' && line[name_at + n] != ' '))
        continue;
      if (unfinished) {  // the path is on this line, the result on the resumed one
        pending_exec_[tid] = quoted(line);
        return;
      }
      std::string path = resumed ? pending_exec_[tid] : quoted(line);
      pending_exec_.erase(tid);
      if (result(line) == "0") {
        TrueProcess& p = procs_[process_of(tid)];
        ++p.execs;
        p.exec_paths.push_back(path);
      }
      return;
    }
  }

  // The first string argument ("PATH" of execve, of execveat after its dirfd).
  static std::string quoted(const std::string& line) {
    size_t a = line.find('"');
    if (a == std::string::npos) return "";
    size_t b = line.find('"', a + 1);
    return b == std::string::npos ? "" : line.substr(a + 1, b - a - 1);
  }

  void on_birth(pid_t tid, pid_t child, const std::string& flags, bool raw) {
    size_t creator = process_of(tid);
    if (flags.find("CLONE_THREAD") != std::string::npos) {
      thread_leader_[child] = creator;
      return;
    }
    // The child may have printed already (then it is open, creator unknown) or not.
    auto it = open_.find(child);
    size_t id = (it != open_.end() && !procs_[it->second].birth_seen) ? it->second : open(child);
    procs_[id].creator = creator;
    procs_[id].birth_seen = true;
    procs_[id].raw_birth = raw;
  }

  void on_exit(pid_t tid, const std::string& line, size_t at) {
    if (thread_leader_.erase(tid)) return;  // a thread's end, or superseded by an exec
    size_t id = process_of(tid);
    TrueProcess& p = procs_[id];
    if (starts(line, at, "+++ exited with ")) {
      p.exited = true;
      p.exit_code = std::atoi(line.c_str() + at + 16);
    } else if (starts(line, at, "+++ killed by SIG")) {
      p.exited = true;
      size_t from = at + 17, to = line.find_first_of(" )", from);
      p.exit_signal = line.substr(from, to - from);
    } else {
      return;  // "superseded by execve": the process goes on
    }
    open_.erase(tid);
  }

  std::vector<TrueProcess> procs_;
  std::unordered_map<pid_t, size_t> open_;                  // pid -> its live process
  std::unordered_map<pid_t, std::vector<size_t>> by_pid_;  // pid -> processes, by birth
  std::unordered_map<pid_t, size_t> thread_leader_;         // non-leader tid -> its process
  std::unordered_map<pid_t, std::string> pending_flags_;    // tid -> unfinished clone line
  std::unordered_map<pid_t, std::string> pending_exec_;     // tid -> unfinished exec's path
};

}  // namespace bench
