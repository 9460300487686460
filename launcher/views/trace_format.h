// `progeny run --trace`: one short human line per lineage record, for stderr while the run
// goes on.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "schema/record.h"

namespace progeny {

class TraceFormatter {
 public:
  // The line (no trailing newline, prefixed "progeny: ") for one record, e.g.
  // "progeny: +0.012s 124 fork from 123 (sh) via vfork" or
  // "progeny: +1.020s 124 exit signal TERM". Times are relative to the first record seen;
  // names come from earlier exec records.
  std::string format(const Record& r);

 private:
  std::optional<uint64_t> t0_;
  std::unordered_map<pid_t, std::string> names_;  // pid → base name of its latest image
};

}  // namespace progeny
