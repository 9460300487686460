#include "launcher/cli/option_kinds.h"

#include <signal.h>

#include <algorithm>
#include <charconv>

#include "launcher/os/parse.h"

namespace progeny::cli {

namespace {

std::string quoted(std::string_view v) { return "'" + std::string(v) + "'"; }

bool parse_pid(std::string_view v, pid_t* out, std::string* error) {
  pid_t pid = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), pid);
  if (ec != std::errc() || ptr != v.data() + v.size() || pid <= 0) {
    *error = quoted(v) + " is not a process id (a number above 0)";
    return false;
  }
  *out = pid;
  return true;
}

}  // namespace

std::string not_one_of(std::string_view value, const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return quoted(value) + " is not one of " + list;
}

Setter flag(bool* target, bool value) {
  return [target, value](std::string_view, std::string*) {
    *target = value;
    return true;
  };
}

Setter counter(int* target) {
  return [target](std::string_view, std::string*) {
    ++*target;
    return true;
  };
}

Setter duration_ms(int64_t* target) {
  return [target](std::string_view v, std::string* error) {
    auto ms = parse_duration_ms(v);
    if (!ms) {
      *error = quoted(v) + " is not a duration (examples: 500ms, 2s, 1.5m, 1h; a bare number "
               "is seconds)";
      return false;
    }
    *target = *ms;
    return true;
  };
}

Setter signal_number(int* target, bool none_allowed) {
  return [target, none_allowed](std::string_view v, std::string* error) {
    if (none_allowed && (v == "none" || v == "0")) {
      *target = 0;
      return true;
    }
    auto sig = parse_signal(v);
    if (!sig) {
      *error = quoted(v) + " is not a signal (a name such as TERM, SIGTERM, KILL or RTMIN+2, " +
               "or a number from 1 to " + std::to_string(NSIG - 1) +
               (none_allowed ? "; or none)" : ")");
      return false;
    }
    *target = *sig;
    return true;
  };
}

Setter text(std::string* target) {
  return [target](std::string_view v, std::string* error) {
    if (v.empty()) {
      *error = "empty value";
      return false;
    }
    *target = v;
    return true;
  };
}

Setter append(std::vector<std::string>* target) {
  return [target](std::string_view v, std::string*) {
    target->emplace_back(v);
    return true;
  };
}

Setter one_of(std::string* target, std::vector<std::string> names) {
  return [target, names = std::move(names)](std::string_view v, std::string* error) {
    if (std::find(names.begin(), names.end(), v) == names.end()) {
      *error = not_one_of(v, names);
      return false;
    }
    *target = v;
    return true;
  };
}

Setter limits(LimitSpec* target) {
  return [target](std::string_view v, std::string* error) { return parse_limits(v, target, error); };
}

Setter each_of(std::vector<std::string>* target, std::vector<std::string> names) {
  return [target, names = std::move(names)](std::string_view v, std::string* error) {
    for (size_t start = 0;;) {
      size_t comma = v.find(',', start);
      std::string_view name = v.substr(start, comma - start);  // npos - start: the rest
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        *error = not_one_of(name, names);
        return false;
      }
      target->emplace_back(name);
      if (comma == std::string_view::npos) return true;
      start = comma + 1;
    }
  };
}

Setter process_id(pid_t* target) {
  return [target](std::string_view v, std::string* error) { return parse_pid(v, target, error); };
}

Setter descriptor(int* target) {
  return [target](std::string_view v, std::string* error) {
    int fd = -1;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), fd);
    // 0-2 are COMMAND's standard streams: taking one over would leave COMMAND without it.
    if (ec != std::errc() || ptr != v.data() + v.size() || fd < 3) {
      *error = quoted(v) + " is not a descriptor above the standard streams (3 or more)";
      return false;
    }
    *target = fd;
    return true;
  };
}

Setter process_ids(std::vector<pid_t>* target) {
  return [target](std::string_view v, std::string* error) {
    pid_t pid = 0;
    if (!parse_pid(v, &pid, error)) return false;
    target->push_back(pid);
    return true;
  };
}

}  // namespace progeny::cli
