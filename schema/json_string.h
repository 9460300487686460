/* JSON string literals for the lineage log, written the same way by the launcher and by the
 * shim (this header is freestanding C: no allocation, no library). Argv, paths and names are
 * hostile input, so the rule is total: every line is valid JSON whatever the bytes are.
 *   - '"' and '\' are escaped; \n, \t and \r as such; other C0 controls and DEL as \u00XX;
 *   - U+2028 and U+2029 (valid JSON, but line ends for JavaScript) as \u2028 and \u2029;
 *   - a byte that is not part of valid UTF-8 (overlong forms, surrogates, beyond U+10FFFF, a
 *     cut sequence) as \u00XX of the byte's value: readers see the byte as the Latin-1
 *     character of that value, never an invalid string;
 *   - everything else is copied as is. */
#ifndef PROGENY_SCHEMA_JSON_STRING_H
#define PROGENY_SCHEMA_JSON_STRING_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (avail bytes left), 0 when it is not one. */
static inline size_t progeny_utf8_len(const unsigned char* s, size_t avail) {
  unsigned c = s[0];
  size_t n = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >> 4) == 0xE ? 3
           : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
  if (n == 0 || n > avail) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((s[k] >> 6) != 0x2) return 0;
  if (n == 3 && ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0))) return 0;
  if (n == 4 && ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))) return 0;
  return n;
}

/* Appends the literal of s[0..n), quotes included, at out + *used (capacity cap). Returns 1,
 * or 0 when it does not fit; then *used is unchanged. */
static inline int progeny_json_string(char* out, size_t* used, size_t cap, const char* s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char* u = (const unsigned char*)s;
  size_t at = *used;
#define PROGENY_PUT(ch)          \
  do {                           \
    if (at >= cap) return 0;     \
    out[at++] = (char)(ch);      \
  } while (0)
#define PROGENY_PUT_U(a, b, c2, d) \
  do {                             \
    PROGENY_PUT('\\');             \
    PROGENY_PUT('u');              \
    PROGENY_PUT(a);                \
    PROGENY_PUT(b);                \
    PROGENY_PUT(c2);               \
    PROGENY_PUT(d);                \
  } while (0)
  PROGENY_PUT('"');
  for (size_t i = 0; i < n;) {
    unsigned c = u[i];
    if (c == '"' || c == '\\') {
      PROGENY_PUT('\\');
      PROGENY_PUT(c);
    } else if (c == '\n') {
      PROGENY_PUT('\\');
      PROGENY_PUT('n');
    } else if (c == '\t') {
      PROGENY_PUT('\\');
      PROGENY_PUT('t');
    } else if (c == '\r') {
      PROGENY_PUT('\\');
      PROGENY_PUT('r');
    } else if (c < 0x20 || c == 0x7F) {
      PROGENY_PUT_U('0', '0', hex[c >> 4], hex[c & 15]);
    } else if (c >= 0x80) {
      size_t k = progeny_utf8_len(u + i, n - i);
      if (k == 0) {
        PROGENY_PUT_U('0', '0', hex[c >> 4], hex[c & 15]);
      } else if (k == 3 && c == 0xE2 && u[i + 1] == 0x80 && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)) {
        PROGENY_PUT_U('2', '0', '2', u[i + 2] == 0xA8 ? '8' : '9');
        i += 3;
        continue;
      } else {
        for (size_t j = 0; j < k; ++j) PROGENY_PUT(u[i + j]);
        i += k;
        continue;
      }
    } else {
      PROGENY_PUT(c);
    }
    ++i;
  }
  PROGENY_PUT('"');
#undef PROGENY_PUT_U
#undef PROGENY_PUT
  *used = at;
  return 1;
}

#endif
