#include "launcher/contain/limit_use.h"

#include <charconv>
#include <optional>

#include "launcher/contain/cgroup_v1.h"

namespace progeny {

uint64_t count_of(const LimitUse& use, std::string_view key) {
  for (const auto& [k, v] : use.counts)
    if (k == key) return v;
  return 0;
}

void add_count(std::string_view text, const char* key, const char* as, LimitUse* use) {
  std::optional<uint64_t> v;
  if (key) {
    v = keyed_u64(text, key);
  } else {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec == std::errc()) v = n;
  }
  if (v) use->counts.emplace_back(as, *v);
}

}  // namespace progeny
