// Inducing a kernel refusal for real, in one process and everything it starts: a seccomp
// filter that makes chosen system calls fail with a chosen errno, the way a container's
// profile (Docker's blocks clone3 with ENOSYS) or an older kernel would. Only for the
// scenario process of a sandbox: the filter cannot be removed again.
#pragma once
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace progeny::test {

struct Denial {
  long nr;                 // SYS_...
  int error;               // the errno the call fails with
  bool match_arg0 = false; // only when its first argument equals arg0
  uint32_t arg0 = 0;
};

// Installs the filter on the caller (no_new_privs first, so no privilege is needed). False
// with errno when the kernel refuses it.
inline bool deny_syscalls(const std::vector<Denial>& denials) {
  constexpr uint32_t kNr = offsetof(seccomp_data, nr);
  constexpr uint32_t kArch = offsetof(seccomp_data, arch);
  constexpr uint32_t kArg0 = offsetof(seccomp_data, args);  // low half on x86_64
  std::vector<sock_filter> prog = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArch),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  for (const Denial& d : denials) {
    // Each rule: load nr; not this call: skip the rest of the rule.
    prog.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNr));
    prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(d.nr), 0,
                            static_cast<uint8_t>(d.match_arg0 ? 3 : 1)));
    if (d.match_arg0) {
      prog.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg0));
      prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, d.arg0, 0, 1));
    }
    prog.push_back(BPF_STMT(BPF_RET | BPF_K,
                            SECCOMP_RET_ERRNO | (static_cast<uint32_t>(d.error) & SECCOMP_RET_DATA)));
  }
  prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) == 0;
}

}  // namespace progeny::test
