// The few string operations the shim needs, as plain loops: libc's strlen, memcpy or strtol
// would each be one more page of libc a fork child or a new image faults in (see sys.h). The
// shim is compiled with -fno-tree-loop-distribute-patterns so that GCC does not turn these
// loops back into those calls.
#pragma once
#include <cstddef>

namespace progeny::shim {

inline size_t length(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

inline void copy_bytes(char* to, const char* from, size_t n) {
  for (size_t i = 0; i < n; ++i) to[i] = from[i];
}

inline bool same_bytes(const char* a, const char* b, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// The first c in s, or null.
inline const char* find_byte(const char* s, char c) {
  for (; *s; ++s)
    if (*s == c) return s;
  return nullptr;
}

// A non-negative decimal that fills s entirely, or -1.
inline int parse_decimal(const char* s) {
  if (!*s) return -1;
  int v = 0;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9' || v > 100000000) return -1;
    v = v * 10 + (*s - '0');
  }
  return v;
}

}  // namespace progeny::shim
