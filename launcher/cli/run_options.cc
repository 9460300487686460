#include "launcher/cli/run_options.h"

#include "launcher/os/parse.h"

namespace progeny {

const char kRunUsage[] =
    "Usage: progeny run [OPTIONS] [--] COMMAND [ARG...]\n"
    "Runs COMMAND and makes sure no process it starts outlives it.\n"
    "\n"
    "  -t, --timeout DURATION   stop the whole tree DURATION after COMMAND started, exit 124\n"
    "  -s, --signal SIG         first signal of the stop sequence (default TERM)\n"
    "  -k, --kill-after DURATION  grace before SIGKILL in the stop sequence (default 5s)\n"
    "      --pdeathsig SIG|none parent-death signal progeny sets (default KILL)\n"
    "      --forward child|group  forward signals to COMMAND (default) or its process group\n"
    "  -w, --wait               keep running until every descendant has exited\n"
    "                           (for daemonizing programs; still bounded by --timeout)\n"
    "  -l, --log FILE           write the lineage log (JSON Lines) to FILE\n"
    "      --no-preload         do not inject libprogeny.so\n"
    "      --no-reenv           honour environments scrubbed of progeny's variables\n"
    "      --bpf auto|on|off    in-kernel tracker (default auto: use it when it loads)\n"
    "      --contain auto|cgroup|pidns|none  kernel containment (default auto)\n"
    "      --trace              print each lineage event on stderr\n"
    "      --fail-on-runaway    exit 3 when COMMAND succeeded but left descendants running\n"
    "      --settle DURATION    with --fail-on-runaway: how long descendants may take to exit\n"
    "                           on their own after COMMAND before they count (default 2s)\n"
    "  -v, --verbose            say what progeny does (each stop step, who got which signal)\n"
    "  -q, --quiet              no notice when descendants had to be stopped\n"
    "  -h, --help               this help\n"
    "\n"
    "Durations: 500ms, 2s, 1.5m, 1h, bare number = seconds. Signals: TERM, SIGTERM, 15.\n"
    "Exit status: COMMAND's own; if COMMAND died of a signal, progeny dies of the same signal;\n"
    "124 timeout; 125 progeny's own error; 126 COMMAND not executable; 127 COMMAND not found;\n"
    "3 with --fail-on-runaway when COMMAND succeeded but left descendants behind.\n";

bool parse_run_options(const std::vector<std::string>& args, RunOptions* out, std::string* error,
                       bool* help) {
  *help = false;
  size_t i = 0;
  // Splits "--name=value" and fetches the value of options that take one.
  auto value_of = [&](const std::string& arg, const std::string& name, std::string* value) -> bool {
    if (arg.size() > name.size() && arg.compare(0, name.size(), name) == 0 && arg[name.size()] == '=') {
      *value = arg.substr(name.size() + 1);
      return true;
    }
    if (i + 1 >= args.size()) {
      *error = "option " + name + " needs a value";
      return false;
    }
    *value = args[++i];
    return true;
  };
  auto is = [](const std::string& arg, const char* shrt, const char* lng) {
    std::string l(lng);
    return (shrt && arg == shrt) || arg == l || arg.rfind(l + "=", 0) == 0;
  };
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string v;
    if (a == "--") {
      ++i;
      break;
    }
    if (a.empty() || a[0] != '-' || a == "-") break;  // first non-option: COMMAND
    if (a == "-h" || a == "--help") {
      *help = true;
      return true;
    } else if (a == "-v" || a == "--verbose") {
      out->verbose++;
    } else if (a == "-q" || a == "--quiet") {
      out->quiet = true;
    } else if (a == "-w" || a == "--wait") {
      out->wait_all = true;
    } else if (a == "--no-preload") {
      out->preload = false;
    } else if (a == "--no-reenv") {
      out->reenv = false;
    } else if (a == "--trace") {
      out->trace = true;
    } else if (a == "--fail-on-runaway") {
      out->fail_on_runaway = true;
    } else if (is(a, "-t", "--timeout") || is(a, "-k", "--kill-after") || is(a, nullptr, "--settle")) {
      const char* name = is(a, "-t", "--timeout") ? "--timeout"
                         : is(a, "-k", "--kill-after") ? "--kill-after" : "--settle";
      if (!value_of(a, name, &v)) return false;
      auto ms = parse_duration_ms(v);
      if (!ms) {
        *error = "invalid duration '" + v + "' (examples: 500ms, 2s, 1.5m, 1h)";
        return false;
      }
      (name[2] == 't' ? out->timeout_ms : name[2] == 'k' ? out->kill_after_ms : out->settle_ms) = *ms;
    } else if (is(a, "-s", "--signal")) {
      if (!value_of(a, "--signal", &v)) return false;
      auto sig = parse_signal(v);
      if (!sig) {
        *error = "invalid signal '" + v + "'";
        return false;
      }
      out->stop_signal = *sig;
    } else if (is(a, nullptr, "--pdeathsig")) {
      if (!value_of(a, "--pdeathsig", &v)) return false;
      if (v == "none" || v == "0") {
        out->pdeathsig = 0;
      } else if (auto sig = parse_signal(v)) {
        out->pdeathsig = *sig;
      } else {
        *error = "invalid signal '" + v + "' for --pdeathsig (a signal or 'none')";
        return false;
      }
    } else if (is(a, nullptr, "--forward")) {
      if (!value_of(a, "--forward", &v)) return false;
      if (v != "child" && v != "group") {
        *error = "invalid --forward '" + v + "' (child or group)";
        return false;
      }
      out->forward_group = v == "group";
    } else if (is(a, "-l", "--log")) {
      if (!value_of(a, "--log", &v)) return false;
      if (v.empty()) {
        *error = "empty file name for --log";
        return false;
      }
      out->log_path = v;
    } else if (is(a, nullptr, "--bpf")) {
      if (!value_of(a, "--bpf", &v)) return false;
      if (v == "auto") out->bpf = Tristate::kAuto;
      else if (v == "on") out->bpf = Tristate::kOn;
      else if (v == "off") out->bpf = Tristate::kOff;
      else {
        *error = "invalid --bpf '" + v + "' (auto, on or off)";
        return false;
      }
    } else if (is(a, nullptr, "--contain")) {
      if (!value_of(a, "--contain", &v)) return false;
      if (v != "auto" && v != "cgroup" && v != "pidns" && v != "none") {
        *error = "invalid --contain '" + v + "' (auto, cgroup, pidns or none)";
        return false;
      }
      out->contain = v;
    } else {
      *error = "unknown option '" + a + "'";
      return false;
    }
  }
  out->command.assign(args.begin() + static_cast<long>(i), args.end());
  if (out->command.empty()) {
    *error = "no COMMAND given (usage: progeny run [OPTIONS] [--] COMMAND [ARG...])";
    return false;
  }
  return true;
}

}  // namespace progeny
