// --redact PATTERN: secrets on command lines (a token in a CI job's argv) kept out of every
// view, including the json and perfetto documents that end up as CI artifacts.
#pragma once
#include <string>
#include <vector>

#include "launcher/views/lineage.h"

namespace progeny {

// In every argv (and exec path, and process title) of the lineage, each argument containing one of the patterns
// (plain substrings, not regular expressions: no pattern can make this slow) keeps what comes
// before the first match and has the match and the rest of the argument replaced by
// "[redacted]": "--api-token=s3cr3t" with "token=" becomes "--api-[redacted]".
void redact_argv(Lineage* lin, const std::vector<std::string>& patterns);

}  // namespace progeny
