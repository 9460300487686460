#include "launcher/views/lineage.h"

#include <algorithm>

namespace progeny {

namespace {

unsigned source_bit(const std::string& s) {
  if (s == "launcher") return kSourceLauncher;
  if (s == "shim") return kSourceShim;
  if (s == "bpf") return kSourceBpf;
  return kSourceOther;
}

bool is_stop_reason(const std::string& r) { return r == "stop" || r == "kill" || r == "timeout"; }

class Builder {
 public:
  explicit Builder(Lineage* lin) : lin_(lin) {}

  void visit(LogEvent& ev) {  // its argv and path are moved into the tree
    bool birth = ev.event == "fork";
    auto ppid = ev.ppid;
    pid_t creator = birth && ppid && *ppid > 0 ? static_cast<pid_t>(*ppid) : 0;
    size_t id = node_for(
        res_.resolve(ev.pid, ev.ino, ev.start_time, ev.time_ns, birth, creator), ev.time_ns);
    ProcessNode& p = lin_->procs[id];
    p.sources |= source_bit(ev.source);
    seen(id, ev.time_ns);
    // The tracker reports an exit as it happens; the launcher's exit records are reaps.
    if (ev.event != "exit" || ev.source == "bpf") p.alive_ns = std::max(p.alive_ns, ev.time_ns);

    if (ev.event == "start") {
      lin_->launcher = id;
      p.is_launcher = true;
      lin_->launcher_argv = ev.argv;
      lin_->watch = ev.role.value_or("") == "watch";
      if (ev.wall_ns) wall_ = {*ev.wall_ns, ev.time_ns};
    } else if (ev.event == "fork") {
      on_fork(id, ev, creator);
    } else if (ev.event == "exec") {
      on_exec(id, ev);
    } else if (ev.event == "setsid") {
      p.called_setsid = true;
      // The launcher's is an escape found at the stop: it happened before, when is not known.
      if (!p.setsid_ns && ev.source != "launcher") p.setsid_ns = ev.time_ns;
      p.sid = static_cast<pid_t>(ev.sid.value_or(ev.pid));
      p.pgid = p.sid;
    } else if (ev.event == "setpgid") {
      auto pgid = ev.pgid;
      // Joining the group it is already in (a shell's belt-and-braces setpgid) escapes nothing.
      if (pgid && (!p.pgid || *p.pgid != *pgid)) {
        p.called_setpgid = true;
        if (!p.setpgid_ns && ev.source != "launcher") p.setpgid_ns = ev.time_ns;
        p.pgid = static_cast<pid_t>(*pgid);
      }
    } else if (ev.event == "exit") {
      on_exit(id, ev);
    } else if (ev.event == "signal") {
      pid_t target = static_cast<pid_t>(ev.target_pid.value_or(ev.pid));
      if (target > 0) {
        size_t t = node_for(target == ev.pid && !ev.target_ino
                                ? id
                                : res_.named(target, ev.target_ino, ev.target_start_time,
                                             ev.time_ns),
                            ev.time_ns);
        lin_->procs[t].signals.push_back(
            {ev.time_ns, ev.signal.value_or("?"), ev.reason.value_or("?")});
        seen(t, ev.time_ns);
        lin_->procs[t].alive_ns = std::max(lin_->procs[t].alive_ns, ev.time_ns);
      }
    } else if (ev.event == "stop") {
      if (ev.phase == "begin" && !lin_->stop_begin_ns) lin_->stop_begin_ns = ev.time_ns;
    } else if (ev.event == "lost") {
      uint64_t count = ev.count.value_or(0);
      std::string what = ev.what.value_or("");
      if (what == "bpf") lin_->lost_bpf += count;
      else if (what == "shim") lin_->lost_shim += count;
      else if (what == "log") lin_->lost_log += count;
      // `what: exit` counts the exits written as unknown: the nodes say so themselves.
    }
  }

  void finish() {
    break_cycles();
    for (size_t i = 0; i < lin_->procs.size(); ++i) {
      lin_->procs[i].parent_is_creator = parent_rank_[i] >= kParentFromBpfFork;
      if (auto par = lin_->procs[i].parent) lin_->procs[*par].children.push_back(i);
      else lin_->roots.push_back(i);
    }
    find_command();
    for (auto& p : lin_->procs) derive_marks(p);
    inherit_images();
    keep_rewritten_titles();
    if (wall_) lin_->wall_at_t0_ns = wall_->first - (wall_->second - lin_->t0_ns);
  }

 private:
  size_t node_for(size_t identity, uint64_t t) {
    auto& procs = lin_->procs;
    const auto& ids = res_.identities();
    while (procs.size() < ids.size()) {
      parent_rank_.push_back(kNoParent);
      ProcessNode n;
      n.pid = ids[procs.size()].pid;
      n.first_seen_ns = n.last_seen_ns = t;
      procs.push_back(std::move(n));
    }
    procs[identity].start_time = ids[identity].start_time;
    return identity;
  }

  void seen(size_t id, uint64_t t) {
    ProcessNode& p = lin_->procs[id];
    p.first_seen_ns = std::min(p.first_seen_ns, t);
    p.last_seen_ns = std::max(p.last_seen_ns, t);
  }

  void on_fork(size_t id, const LogEvent& ev, pid_t creator) {
    // Resolve the creator first: it may add a node, which moves the vector's elements.
    std::optional<size_t> creator_id;
    if (creator > 0)
      creator_id = node_for(res_.named(creator, ev.parent_ino, ev.parent_start_time, ev.time_ns),
                            ev.time_ns);
    ProcessNode& p = lin_->procs[id];
    auto via = ev.via.value_or("");
    // Found in /proc, not seen being born: its birth time is unknown, and leading a session
    // or group of its own shows it left COMMAND's, whenever it did.
    if (via == "proc") {
      if (ev.sid && *ev.sid == ev.pid && !p.called_setsid) {
        p.called_setsid = true;
        p.setsid_ns = ev.time_ns;
      } else if (ev.pgid && *ev.pgid == ev.pid && !p.is_command && !p.called_setpgid) {
        p.called_setpgid = true;
        p.setpgid_ns = ev.time_ns;
      }
    } else if (!p.born_ns || ev.time_ns < *p.born_ns) {
      p.born_ns = ev.time_ns;
    }
    // The tracker reports the kernel's parent and "bpf" as the call; the shim and the launcher
    // know the creating call and the creator itself (they differ with CLONE_PARENT), so their
    // account wins over the tracker's, and any fork record over an exec's ppid (which sources
    // with slightly skewed clocks can put first).
    // A record found in /proc (a watch's existing processes) names the parent at that time.
    char rank = via == "proc" ? kParentFromExec
                : ev.source == "bpf" ? kParentFromBpfFork : kParentFromFork;
    if (ev.role) {
      p.role = *ev.role;
      if (p.role == "command") p.is_command = true;
    }
    if (creator_id && *creator_id != id && rank > parent_rank_[id]) {
      if (parent_rank_[id] == kParentFromExec && p.ppid != creator) p.adopted_by = p.ppid;
      p.parent = *creator_id;
      p.ppid = creator;
      parent_rank_[id] = rank;
    }
    if (!via.empty() && (p.via.empty() || p.via == "bpf")) p.via = via;
    if (auto tid = ev.tid; tid && creator > 0 && *tid != creator)
      p.thread_fork = true;
    if (auto pgid = ev.pgid; pgid && !p.pgid) p.pgid = static_cast<pid_t>(*pgid);
    if (auto sid = ev.sid; sid && !p.sid) p.sid = static_cast<pid_t>(*sid);
  }

  void on_exec(size_t id, LogEvent& ev) {
    ProcessNode& p = lin_->procs[id];
    // Each source reports every exec of the process it sees, in order, but the sources'
    // records arrive apart (the shim's constructor runs after the tracker's hook; a loaded
    // machine delays either by many milliseconds). So an exec is the earliest step of the
    // same image that this source has not reported yet, whatever the time between them.
    unsigned bit = source_bit(ev.source);
    ExecStep* same = nullptr;
    for (ExecStep& e : p.execs)
      if (!(e.sources & bit) && base_name(e.path) == base_name(ev.path.value_or("?"))) {
        same = &e;
        break;
      }
    if (same) {
      // The shim's account carries the full argv; the tracker's may carry only the comm.
      if (same->argv.size() < ev.argv.size()) {
        same->argv = std::move(ev.argv);
        same->argv_truncated = ev.argv_truncated;
        same->argv_bytes = ev.argv_bytes;
      }
      same->time_ns = std::min(same->time_ns, ev.time_ns);
      same->sources |= bit;
    } else {
      p.execs.push_back({ev.time_ns, ev.path ? std::move(*ev.path) : "?", std::move(ev.argv),
                         ev.argv_truncated, ev.argv_bytes, bit});
    }
    auto ppid = ev.ppid;
    if (!ppid || *ppid <= 0) return;
    if (parent_rank_[id] == kNoParent) {
      // No fork record (yet, or ever: a path no hook sees, e.g. system() or daemon()): the
      // image's own report of its parent is the best account of who created it so far.
      size_t par = node_for(res_.named(static_cast<pid_t>(*ppid), ev.parent_ino,
                                       ev.parent_start_time, ev.time_ns),
                            ev.time_ns);
      if (par != id) {
        lin_->procs[id].parent = par;  // re-indexed: node_for may have moved the nodes
        lin_->procs[id].ppid = static_cast<pid_t>(*ppid);
        parent_rank_[id] = kParentFromExec;
      }
    } else if (p.ppid > 0 && *ppid != p.ppid) {
      p.adopted_by = static_cast<pid_t>(*ppid);
    }
  }

  void on_exit(size_t id, const LogEvent& ev) {
    ProcessNode& p = lin_->procs[id];
    res_.mark_exited(id, ev.time_ns);
    // The tracker sees the exit itself; the launcher may only see the reap, later.
    if (!p.ended_ns || ev.time_ns < *p.ended_ns) {
      p.ended_ns = ev.time_ns;
      p.ended_at_kernel_time = ev.source == "bpf";
    }
    p.cost.add(ev);
    if (!ev.title.empty()) p.title = ev.title;
    if (ev.unknown || p.end != EndKind::kUnknown) return;
    if (ev.signal) {
      p.end = EndKind::kSignaled;
      p.exit_signal = *ev.signal;
      p.core = ev.core;
    } else if (auto code = ev.code) {
      p.end = EndKind::kExited;
      p.exit_code = static_cast<int>(*code);
    }
  }

  // A garbled or hostile log can name parents in a loop; the views walk parent links, so a
  // loop is cut where it closes (colour marking, linear time).
  void break_cycles() {
    auto& procs = lin_->procs;
    std::vector<char> state(procs.size(), 0);  // 0 new, 1 on the current walk, 2 done
    std::vector<size_t> walk;
    for (size_t i = 0; i < procs.size(); ++i) {
      walk.clear();
      size_t cur = i;
      while (state[cur] == 0) {
        state[cur] = 1;
        walk.push_back(cur);
        if (!procs[cur].parent) break;
        size_t next = *procs[cur].parent;
        if (state[next] == 1) {
          procs[cur].parent.reset();
          break;
        }
        cur = next;
      }
      for (size_t w : walk) state[w] = 2;
    }
  }

  // COMMAND is the launcher's first child.
  // COMMAND is the process the launcher's own records name so (role "command"); in a log
  // without roles, the launcher's first child.
  void find_command() {
    std::optional<size_t> cmd;
    for (size_t i = 0; i < lin_->procs.size() && !cmd; ++i)
      if (lin_->procs[i].is_command) cmd = i;
    if (cmd) {
      lin_->command = cmd;
      lin_->command_exit_ns = lin_->procs[*cmd].ended_ns;
      return;
    }
    if (!lin_->launcher) return;
    auto birth = [&](size_t i) {
      return lin_->procs[i].born_ns.value_or(lin_->procs[i].first_seen_ns);
    };
    for (size_t c : lin_->procs[*lin_->launcher].children)
      if (!cmd || birth(c) < birth(*cmd)) cmd = c;
    if (!cmd) return;
    lin_->command = cmd;
    lin_->procs[*cmd].is_command = true;
    lin_->command_exit_ns = lin_->procs[*cmd].ended_ns;
  }

  void derive_marks(ProcessNode& p) {
    if (p.is_launcher || p.is_progeny_helper()) return;
    p.bpf_only = p.sources == kSourceBpf;
    uint64_t alive_until = p.alive_ns;
    if (p.parent) {
      const ProcessNode& par = lin_->procs[*p.parent];
      if (par.ended_ns && alive_until > *par.ended_ns && !par.is_launcher) p.outlived_parent = true;
    }
    p.reparented = p.adopted_by.has_value() || p.outlived_parent;
    auto cexit = lin_->command_exit_ns;
    if (cexit && !p.is_command && alive_until > *cexit) {
      auto stop = lin_->stop_begin_ns;
      p.runaway = !stop || alive_until >= *stop || (!p.ended_ns || *p.ended_ns >= *stop);
    }
    std::stable_sort(p.children.begin(), p.children.end(), [this](size_t a, size_t b) {
      const auto& pa = lin_->procs[a];
      const auto& pb = lin_->procs[b];
      return pa.born_ns.value_or(pa.first_seen_ns) < pb.born_ns.value_or(pb.first_seen_ns);
    });
  }

  // Parents before children, so each process takes its creator's image at its birth from
  // the creator's own execs or, before them, the creator's inherited image: linear in all.
  void inherit_images() {
    for (const auto& [i, depth] : lin_->preorder()) {
      ProcessNode& p = lin_->procs[i];
      if (p.is_launcher) p.inherited_image = "progeny";
      else if (!p.parent) p.inherited_image = "?";
      else p.inherited_image = image_at(*lin_, *p.parent, p.born_ns.value_or(p.first_seen_ns));
    }
  }

  // A title that the argv the process ran with starts with (its last exec's, or, never
  // exec'd, its creator's at its birth or its creator's own title) is no news: dropped. Both
  // may have been cut (the record, the kernel side), so only the title's bytes must match.
  // Children before parents (reverse preorder), so each compares with its creator's title as
  // recorded, before that one is judged in turn.
  void keep_rewritten_titles() {
    auto joined = [](const std::vector<std::string>& v) {
      std::string out;
      for (const auto& s : v) out += s + '\0';
      return out;
    };
    auto starts_with = [&](const std::vector<std::string>& ran, const std::string& title) {
      return !ran.empty() && joined(ran).rfind(title, 0) == 0;
    };
    auto order = lin_->preorder();
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      ProcessNode& p = lin_->procs[it->first];
      if (p.title.empty()) continue;
      if (p.is_launcher || p.is_progeny_helper()) {
        p.title.clear();  // progeny's own processes are named by their role
        continue;
      }
      std::string t = joined(p.title);
      t.pop_back();  // its last piece may be cut: no NUL of its own
      bool old_news = false;
      if (!p.execs.empty()) {
        old_news = starts_with(p.execs.back().argv, t);
      } else if (p.parent) {
        const ProcessNode& c = lin_->procs[*p.parent];
        uint64_t born = p.born_ns.value_or(p.first_seen_ns);
        const ExecStep* at_birth = nullptr;
        for (auto e = c.execs.rbegin(); e != c.execs.rend() && !at_birth; ++e)
          if (e->time_ns <= born) at_birth = &*e;
        old_news = (at_birth && starts_with(at_birth->argv, t)) || starts_with(c.title, t);
      }
      if (old_news) p.title.clear();
    }
  }

  Lineage* lin_;
  IdentityResolver res_;
  // By node: which kind of record named its parent (a better kind replaces a worse one).
  static constexpr char kNoParent = 0, kParentFromExec = 1, kParentFromBpfFork = 2,
                        kParentFromFork = 3;
  std::vector<char> parent_rank_;
  std::optional<std::pair<uint64_t, uint64_t>> wall_;  // (wall_ns, time_ns) of the start
};

}  // namespace

std::optional<std::string> ProcessNode::stopped_by_progeny() const {
  std::optional<std::string> last;
  for (const auto& s : signals) {
    if (!is_stop_reason(s.reason) || (ended_ns && s.time_ns > *ended_ns)) continue;
    if (end == EndKind::kSignaled && s.signal == exit_signal) return exit_signal;
    last = s.signal;
  }
  return last;
}

std::vector<std::pair<size_t, int>> Lineage::preorder() const {
  std::vector<std::pair<size_t, int>> out;
  out.reserve(procs.size());
  std::vector<std::pair<size_t, int>> stack;
  for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.push_back({*it, 0});
  while (!stack.empty()) {
    auto [i, d] = stack.back();
    stack.pop_back();
    out.push_back({i, d});
    const auto& ch = procs[i].children;
    for (auto it = ch.rbegin(); it != ch.rend(); ++it) stack.push_back({*it, d + 1});
  }
  return out;
}

Lineage build_lineage(const std::vector<LogEvent>& events, size_t unreadable_lines) {
  // Visit in time order; sorting indices keeps the (large) events where they are.
  std::vector<size_t> order(events.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return events[a].time_ns < events[b].time_ns;
  });
  Lineage lin;
  lin.unreadable_lines = unreadable_lines;
  lin.events = events.size();
  if (!events.empty()) {
    lin.t0_ns = events[order.front()].time_ns;
    lin.t1_ns = events[order.back()].time_ns;
  }
  Builder b(&lin);
  for (size_t i : order) {
    LogEvent ev = events[i];
    b.visit(ev);
  }
  b.finish();
  return lin;
}

Lineage read_lineage(LogText text, std::vector<LogProblem>* problems) {
  struct Line {
    uint64_t time_ns;
    const LogText::Line* text;
  };
  // The records must be visited in time order, and a log is only nearly in it (a shim's
  // record can arrive after later ones): sorted by a cheap peek at each line's time, each is
  // parsed once, in that order.
  std::string why;
  std::vector<Line> lines;
  lines.reserve(text.lines().size());
  for (const LogText::Line& l : text.lines()) {
    std::string_view s = record_text(l.text);
    if (s.empty()) {
      text.done(l);
      continue;
    }
    std::optional<uint64_t> t = peek_time_ns(s);
    if (!t) {  // the peek's blind spots and every bad line: the parser decides
      auto r = parse_record(s, &why);
      if (!r) {
        problems->push_back({l.number, why});
        text.done(l);
        continue;
      }
      t = r->time_ns;
    }
    lines.push_back({*t, &l});
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const Line& a, const Line& b) { return a.time_ns < b.time_ns; });
  Lineage lin;
  Builder b(&lin);
  bool late_problems = false;
  LogEvent ev;
  for (const Line& l : lines) {
    bool parsed = parse_record(record_text(l.text->text), &why, &ev);
    text.done(*l.text);
    if (!parsed) {  // a time the peek found in a line that is not a record
      problems->push_back({l.text->number, why});
      late_problems = true;
      continue;
    }
    if (!lin.events++) lin.t0_ns = ev.time_ns;
    lin.t1_ns = ev.time_ns;
    ev.line = l.text->number;
    b.visit(ev);
  }
  if (late_problems)
    std::stable_sort(problems->begin(), problems->end(),
                     [](const LogProblem& a, const LogProblem& b) { return a.line < b.line; });
  lin.unreadable_lines = problems->size();
  b.finish();
  return lin;
}

std::string base_name(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string image_at(const Lineage& lin, size_t proc, uint64_t t) {
  const ProcessNode& p = lin.procs[proc];
  for (auto it = p.execs.rbegin(); it != p.execs.rend(); ++it)
    if (it->time_ns <= t) return it->path;
  return p.inherited_image;
}

}  // namespace progeny
