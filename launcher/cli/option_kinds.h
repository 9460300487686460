// The kinds of values the subcommands' option tables take: each returns the Setter of a
// table entry (launcher/cli/options.h), storing into the caller's typed field. Invalid values
// are refused with what would have been valid.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "launcher/cli/options.h"
#include "launcher/os/limit_spec.h"

namespace progeny {

enum class Tristate { kAuto, kOn, kOff };  // --bpf auto|on|off

}  // namespace progeny

namespace progeny::cli {

Setter flag(bool* target, bool value = true);  // --wait sets true, --no-preload false
Setter counter(int* target);                   // -v -v: 2
Setter duration_ms(int64_t* target);           // launcher/os/parse.h's durations
// launcher/os/parse.h's signals; with none_allowed also "none" or "0", stored as 0.
Setter signal_number(int* target, bool none_allowed = false);
Setter text(std::string* target);              // any string but the empty one
Setter append(std::vector<std::string>* target);  // every value, in order, even empty ones
Setter one_of(std::string* target, std::vector<std::string> names);
// Comma-separated names, each one of `names`, appended; repeating the option adds more.
Setter each_of(std::vector<std::string>* target, std::vector<std::string> names);
// launcher/os/limit_spec.h's "pids=N,memory=SIZE,cpu=FRACTION", added to *target.
Setter limits(LimitSpec* target);
Setter process_id(pid_t* target);
Setter descriptor(int* target);                 // an inherited descriptor, 3 and up
Setter process_ids(std::vector<pid_t>* target);

// "'x' is not one of a, b, c": the complaint of the choice kinds.
std::string not_one_of(std::string_view value, const std::vector<std::string>& names);

// A name among `values`, stored as its value: {{"child", false}, {"group", true}}.
template <typename T>
Setter choice(T* target, std::vector<std::pair<std::string, T>> values) {
  return [target, values = std::move(values)](std::string_view v, std::string* error) {
    std::vector<std::string> names;
    for (const auto& [name, value] : values) {
      if (name == v) {
        *target = value;
        return true;
      }
      names.push_back(name);
    }
    *error = not_one_of(v, names);
    return false;
  };
}

}  // namespace progeny::cli
