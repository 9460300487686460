// Putting the shim's variables back into environments a program scrubbed (env -i, an explicit
// envp), so lineage continues below it. Runs in vfork children: stack buffers only.
#include "shim/bytes.h"
#include "shim/shim.h"

namespace progeny::shim {

namespace {

constexpr const char* kNames[] = {PROGENY_ENV_SOCK, PROGENY_ENV_LAUNCHER, PROGENY_ENV_PDEATHSIG,
                                  PROGENY_ENV_SHIM, PROGENY_ENV_OPTS};
constexpr int kNumNames = sizeof kNames / sizeof kNames[0];
constexpr int kShimIdx = 3;  // PROGENY_ENV_SHIM

// What this image received, in one object: its pointers and the first bytes of its pool (all
// a run uses of it; the pool is large for a long shim path) then share the page the loader
// has written already, instead of a page of their own that every image would fault in.
struct Saved {
  char* entry[kNumNames];  // "NAME=value" as the launcher gave them to this image; null when absent
  const char* shim_path;   // value of PROGENY_SHIM
  size_t shim_path_len;
  char pool[8192];
};
Saved g_env;

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
    if (static_cast<size_t>(end - p) == g_env.shim_path_len &&
        same_bytes(p, g_env.shim_path, g_env.shim_path_len))
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
      if (!pre || g_env.entry[k]) continue;
      size_t len = length(*e) + 1;
      if (used + len > sizeof g_env.pool) return;
      copy_bytes(g_env.pool + used, *e, len);
      g_env.entry[k] = g_env.pool + used;
      used += len;
      if (k == kShimIdx) {
        g_env.shim_path = g_env.entry[k] + pre;
        g_env.shim_path_len = len - 1 - pre;
      }
    }
  }
}

namespace {

// What an environment lacks of the shim's variables.
struct EnvScan {
  bool present[kNumNames] = {};
  int preload_at = -1;  // index of LD_PRELOAD, -1 when absent
  bool preload_ok = false;  // LD_PRELOAD names the shim
  int n = 0;  // entries
  int missing = 0;  // saved variables not present
  bool complete() const { return !missing && preload_ok; }
};

EnvScan scan(char* const* envp) {
  EnvScan sc;
  for (; envp && envp[sc.n]; ++sc.n) {
    const char* e = envp[sc.n];
    if (e[0] == 'L') {
      size_t pre = name_prefix(e, "LD_PRELOAD");
      if (pre) {
        sc.preload_at = sc.n;
        sc.preload_ok = has_shim(e + pre);
      }
    } else if (e[0] == 'P') {
      for (int k = 0; k < kNumNames; ++k)
        if (name_prefix(e, kNames[k])) sc.present[k] = true;
    }
  }
  for (int k = 0; k < kNumNames; ++k)
    if (!sc.present[k] && g_env.entry[k]) ++sc.missing;
  return sc;
}

// Whether this image repairs environments at all: an active shim that was given its path.
bool repairs() { return g.active && g.reenv && g_env.shim_path_len; }

}  // namespace

bool env_needs_repair(char* const* envp) { return repairs() && !scan(envp).complete(); }

// Scans again what env_needs_repair scanned: only the rare repaired exec pays twice.
char* const* repair_env(char* const* envp, EnvFix* fix) {
  if (!repairs()) return envp;
  EnvScan sc = scan(envp);
  if (sc.complete()) return envp;
  const int n = sc.n;
  if (n + sc.missing + 2 > EnvFix::kMaxEntries) return envp;

  int out = 0;
  for (int i = 0; i < n; ++i) fix->vec[out++] = envp[i];
  if (!sc.preload_ok) {
    // LD_PRELOAD=<shim>[:<what the program asked for>]
    const char* old = sc.preload_at >= 0 ? envp[sc.preload_at] + sizeof "LD_PRELOAD" : "";
    size_t old_len = length(old);
    size_t need = sizeof "LD_PRELOAD=" - 1 + g_env.shim_path_len + 1 + old_len + 1;
    if (need > EnvFix::kBuf) return envp;
    char* p = fix->buf;
    copy_bytes(p, "LD_PRELOAD=", sizeof "LD_PRELOAD=" - 1);
    p += sizeof "LD_PRELOAD=" - 1;
    copy_bytes(p, g_env.shim_path, g_env.shim_path_len);
    p += g_env.shim_path_len;
    if (old_len) {
      *p++ = ':';
      copy_bytes(p, old, old_len);
      p += old_len;
    }
    *p = 0;
    if (sc.preload_at >= 0)
      fix->vec[sc.preload_at] = fix->buf;
    else
      fix->vec[out++] = fix->buf;
  }
  for (int k = 0; k < kNumNames; ++k)
    if (!sc.present[k] && g_env.entry[k]) fix->vec[out++] = g_env.entry[k];
  fix->vec[out] = nullptr;
  return fix->vec;
}

}  // namespace progeny::shim
