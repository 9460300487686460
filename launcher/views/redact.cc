#include "launcher/views/redact.h"

namespace progeny {

namespace {

void redact_one(std::string* arg, const std::vector<std::string>& patterns) {
  size_t at = std::string::npos;
  for (const auto& p : patterns)
    if (!p.empty()) at = std::min(at, arg->find(p));
  if (at != std::string::npos) arg->replace(at, std::string::npos, "[redacted]");
}

}  // namespace

void redact_argv(Lineage* lin, const std::vector<std::string>& patterns) {
  if (patterns.empty()) return;
  for (auto& a : lin->launcher_argv) redact_one(&a, patterns);
  for (auto& p : lin->procs) {
    redact_one(&p.inherited_image, patterns);
    for (auto& t : p.title) redact_one(&t, patterns);
    for (auto& e : p.execs) {
      redact_one(&e.path, patterns);
      for (auto& a : e.argv) redact_one(&a, patterns);
    }
  }
}

}  // namespace progeny
