// Whether the program an exec is about to start is one the shim will not run in. It runs in
// vfork children (the exec hooks), so: syscalls and stack memory only, nothing written (the
// execvp search, through libc, also writes errno, which the caller restores).
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/bytes.h"
#include "shim/shim.h"
#include "shim/sys.h"

namespace progeny::shim {
namespace {

// The kernel follows at most 4 interpreters of `#!` scripts (BINPRM_MAX_RECURSION).
constexpr int kMaxScriptDepth = 4;
constexpr int kMaxPhdrs = 64;

template <typename Ehdr, typename Phdr>
bool elf_without_interpreter(int fd, const unsigned char* head, long got) {
  if (got < static_cast<long>(sizeof(Ehdr))) return false;
  Ehdr eh;
  copy_bytes(reinterpret_cast<char*>(&eh), reinterpret_cast<const char*>(head), sizeof eh);
  if ((eh.e_type != ET_EXEC && eh.e_type != ET_DYN) || eh.e_phentsize != sizeof(Phdr) ||
      eh.e_phnum == 0 || eh.e_phnum > kMaxPhdrs)
    return false;
  Phdr ph[kMaxPhdrs];
  size_t want = eh.e_phnum * sizeof(Phdr);
  if (sys::pread(fd, ph, want, static_cast<long>(eh.e_phoff)) != static_cast<long>(want)) return false;
  for (int i = 0; i < eh.e_phnum; ++i)
    if (ph[i].p_type == PT_INTERP) return false;
  return true;  // static, or static-pie: no loader, so no LD_PRELOAD
}

bool unshimmed_at(int dirfd, const char* path, int at_flags, int depth);

// A static ELF, or a script whose interpreter is a program the shim will not run in.
bool unshimmed_content(int fd, int depth) {
  unsigned char head[256];
  long got = sys::pread(fd, head, sizeof head - 1, 0);
  if (got >= 4 && same_bytes(reinterpret_cast<const char*>(head), ELFMAG, SELFMAG)) {
    if (head[EI_CLASS] == ELFCLASS64) return elf_without_interpreter<Elf64_Ehdr, Elf64_Phdr>(fd, head, got);
    if (head[EI_CLASS] == ELFCLASS32) return elf_without_interpreter<Elf32_Ehdr, Elf32_Phdr>(fd, head, got);
    return false;
  }
  if (got < 3 || head[0] != '#' || head[1] != '!' || depth >= kMaxScriptDepth) return false;
  // "#!", optional blanks, then the interpreter's path up to a blank or the line's end.
  head[got] = '\0';
  char* p = reinterpret_cast<char*>(head) + 2;
  while (*p == ' ' || *p == '\t') ++p;
  char* end = p;
  while (*end && *end != ' ' && *end != '\t' && *end != '\n') ++end;
  if (end == p || *end == '\0') return false;  // no interpreter, or a line longer than we read
  *end = '\0';
  return unshimmed_at(AT_FDCWD, p, 0, depth + 1);
}

bool unshimmed_at(int dirfd, const char* path, int at_flags, int depth) {
  struct stat st;
  if (sys::fstatat(dirfd, path, &st, at_flags & (AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) != 0 ||
      !S_ISREG(st.st_mode))
    return false;
  // The loader drops LD_PRELOAD for a secure exec: set-ID bits (taken only on a mount without
  // nosuid, but a needless lifeline does no harm) or file capabilities.
  if (st.st_mode & (S_ISUID | S_ISGID)) return true;
  bool own_fd = !(path[0] == '\0' && (at_flags & AT_EMPTY_PATH));
  int fd = own_fd ? sys::openat(dirfd, path, O_RDONLY | O_CLOEXEC |
                                                 ((at_flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0))
                  : dirfd;
  if (fd < 0) return false;  // execute-only: what it is cannot be read
  bool r = sys::fgetxattr(fd, "security.capability", nullptr, 0) > 0 || unshimmed_content(fd, depth);
  if (own_fd) sys::close(fd);
  return r;
}

}  // namespace

bool exec_target_unshimmed(int dirfd, const char* path, int at_flags) {
  return path && unshimmed_at(dirfd, path, at_flags, 0);
}

bool exec_search_target_unshimmed(const char* file) {
  if (!file || !*file) return false;
  if (find_byte(file, '/')) return exec_target_unshimmed(AT_FDCWD, file, 0);
  // execvp's search: each PATH entry in turn (glibc's default when unset), the first
  // executable regular file being what runs.
  const char* dirs = getenv("PATH");
  if (!dirs) dirs = "/bin:/usr/bin";
  size_t flen = length(file);
  for (const char* d = dirs;;) {
    const char* colon = find_byte(d, ':');
    size_t dlen = colon ? static_cast<size_t>(colon - d) : length(d);
    char cand[4096];
    if (dlen + 2 + flen < sizeof cand) {
      size_t n = 0;
      if (dlen == 0) cand[n++] = '.';  // an empty entry is the current directory
      copy_bytes(cand + n, d, dlen);
      n += dlen;
      cand[n++] = '/';
      copy_bytes(cand + n, file, flen + 1);
      struct stat st;
      if (faccessat(AT_FDCWD, cand, X_OK, AT_EACCESS) == 0 && stat(cand, &st) == 0 &&
          S_ISREG(st.st_mode))
        return exec_target_unshimmed(AT_FDCWD, cand, 0);
    }
    if (!colon) return false;
    d = colon + 1;
  }
}

}  // namespace progeny::shim
