#!/bin/sh
# Fails when libprogeny.so needs anything but libc and the dynamic loader, or exports a
# symbol that is not one of the interposed entry points (docs/shim.md).
set -eu
so=${1:?usage: check_shim_linkage.sh path/to/libprogeny.so}
allowed_libs='^(libc\.so\.6|ld-linux-x86-64\.so\.2)$'
allowed_syms='^(fork|vfork|_Fork|clone|posix_spawn|posix_spawnp|system|popen|daemon|setsid|setpgid|setpgrp|execve|execv|execvp|execvpe|execl|execlp|execle|fexecve|execveat|setuid|setgid|seteuid|setegid|setreuid|setregid|setresuid|setresgid|setfsuid|setfsgid)$'
status=0

needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for lib in $needed; do
  if ! printf '%s\n' "$lib" | grep -Eq "$allowed_libs"; then
    echo "check_shim_linkage: $so needs $lib (only libc is allowed)" >&2
    status=1
  fi
done
[ -n "$needed" ] || { echo "check_shim_linkage: no NEEDED entries in $so?" >&2; status=1; }

# Defined dynamic symbols other than the version nodes themselves.
exported=$(objdump -T "$so" | awk '$4 != "*UND*" && NF >= 7 && $NF !~ /^\(?GLIBC_/ {print $NF}' | sort -u)
for sym in $exported; do
  if ! printf '%s\n' "$sym" | grep -Eq "$allowed_syms"; then
    echo "check_shim_linkage: $so exports $sym (not an interposed entry point)" >&2
    status=1
  fi
done
# Both versions of posix_spawn and posix_spawnp must be there.
for v in 'posix_spawn$' 'posix_spawnp$'; do
  n=$(objdump -T "$so" | grep -c "GLIBC_2\.\(2\.5\|15\).* $v" || true)
  if [ "$n" -ne 2 ]; then
    echo "check_shim_linkage: $so lacks one version of ${v%\$}" >&2
    status=1
  fi
done
exit $status
