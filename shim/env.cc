// Putting the shim's variables back into environments a program scrubbed (env -i, an explicit
// envp), so lineage continues below it. Runs in vfork children: stack buffers only.
#include <cstring>

#include "shim/shim.h"

namespace progeny::shim {

namespace {

constexpr const char* kNames[] = {PROGENY_ENV_SOCK, PROGENY_ENV_LAUNCHER, PROGENY_ENV_PDEATHSIG,
                                  PROGENY_ENV_SHIM, PROGENY_ENV_OPTS};
constexpr int kNumNames = sizeof kNames / sizeof kNames[0];
constexpr int kShimIdx = 3;  // PROGENY_ENV_SHIM

// "NAME=value" as the launcher gave them to this image; null when absent.
char* g_saved[kNumNames];
char g_pool[8192];
const char* g_shim_path;  // value of PROGENY_SHIM
size_t g_shim_path_len;

// Length of "NAME=" when entry is NAME=..., else 0.
size_t name_prefix(const char* entry, const char* name) {
  size_t i = 0;
  for (; name[i]; ++i)
    if (entry[i] != name[i]) return 0;
  return entry[i] == '=' ? i + 1 : 0;
}

// Whether the colon/space-separated preload list contains the shim's path.
bool has_shim(const char* list) {
  for (const char* p = list; *p;) {
    while (*p == ':' || *p == ' ') ++p;
    const char* end = p;
    while (*end && *end != ':' && *end != ' ') ++end;
    if (static_cast<size_t>(end - p) == g_shim_path_len &&
        std::memcmp(p, g_shim_path, g_shim_path_len) == 0)
      return true;
    p = end;
  }
  return false;
}

}  // namespace

void save_env(char** envp) {
  size_t used = 0;
  for (char** e = envp; e && *e; ++e) {
    for (int k = 0; k < kNumNames; ++k) {
      size_t pre = name_prefix(*e, kNames[k]);
      if (!pre || g_saved[k]) continue;
      size_t len = std::strlen(*e) + 1;
      if (used + len > sizeof g_pool) return;
      std::memcpy(g_pool + used, *e, len);
      g_saved[k] = g_pool + used;
      used += len;
      if (k == kShimIdx) {
        g_shim_path = g_saved[k] + pre;
        g_shim_path_len = len - 1 - pre;
      }
    }
  }
}

char* const* repair_env(char* const* envp, EnvFix* fix) {
  if (!g.active || !g.reenv || !g_shim_path_len) return envp;
  bool present[kNumNames] = {};
  int preload_at = -1;
  bool preload_ok = false;
  int n = 0;
  for (; envp && envp[n]; ++n) {
    const char* e = envp[n];
    if (e[0] == 'L') {
      size_t pre = name_prefix(e, "LD_PRELOAD");
      if (pre) {
        preload_at = n;
        preload_ok = has_shim(e + pre);
      }
    } else if (e[0] == 'P') {
      for (int k = 0; k < kNumNames; ++k)
        if (name_prefix(e, kNames[k])) present[k] = true;
    }
  }
  int missing = 0;
  for (int k = 0; k < kNumNames; ++k)
    if (!present[k] && g_saved[k]) ++missing;
  if (!missing && preload_ok) return envp;
  if (n + missing + 2 > EnvFix::kMaxEntries) return envp;

  int out = 0;
  for (int i = 0; i < n; ++i) fix->vec[out++] = envp[i];
  if (!preload_ok) {
    // LD_PRELOAD=<shim>[:<what the program asked for>]
    const char* old = preload_at >= 0 ? envp[preload_at] + sizeof "LD_PRELOAD" : "";
    size_t old_len = std::strlen(old);
    size_t need = sizeof "LD_PRELOAD=" - 1 + g_shim_path_len + 1 + old_len + 1;
    if (need > EnvFix::kBuf) return envp;
    char* p = fix->buf;
    std::memcpy(p, "LD_PRELOAD=", sizeof "LD_PRELOAD=" - 1);
    p += sizeof "LD_PRELOAD=" - 1;
    std::memcpy(p, g_shim_path, g_shim_path_len);
    p += g_shim_path_len;
    if (old_len) {
      *p++ = ':';
      std::memcpy(p, old, old_len);
      p += old_len;
    }
    *p = 0;
    if (preload_at >= 0)
      fix->vec[preload_at] = fix->buf;
    else
      fix->vec[out++] = fix->buf;
  }
  for (int k = 0; k < kNumNames; ++k)
    if (!present[k] && g_saved[k]) fix->vec[out++] = g_saved[k];
  fix->vec[out] = nullptr;
  return fix->vec;
}

}  // namespace progeny::shim
