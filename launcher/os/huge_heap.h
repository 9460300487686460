// Transparent huge pages for a process's heap, ahead of a large working set. On this kind of
// virtual machine one page fault costs ~7 µs: a view of a 1,000,000-event log took 100,000 of
// them (0.7 s of 4.5 s). With THP in `madvise` mode (Debian's default) only memory advised
// MADV_HUGEPAGE gets 2 MB pages, and glibc advises its heap only when told by a tunable
// (glibc.malloc.hugetlb=1) read at start-up, which a program cannot set for itself.
#pragma once
#include <cstddef>

namespace progeny {

// Grows malloc's heap by about `bytes` now, advised MADV_HUGEPAGE, and keeps it (no trim):
// the allocations that follow fault 2 MB at a time. Nothing is touched, so nothing unused is
// resident. Best effort: where the kernel or malloc refuses, allocation goes on as before.
void grow_heap_with_huge_pages(size_t bytes);

}  // namespace progeny
