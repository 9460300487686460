#include "launcher/os/huge_heap.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace progeny {

void grow_heap_with_huge_pages(size_t bytes) {
  // Blocks up to 32 MB (glibc's largest threshold) come from the heap, which is never trimmed;
  // the next extension of the heap (sbrk) takes M_TOP_PAD extra: small allocations make it,
  // the heap's new part is advised, and the freed space is kept for what follows.
  constexpr size_t kBlock = 64 << 10;
  if (!mallopt(M_MMAP_THRESHOLD, 32 << 20) || !mallopt(M_TRIM_THRESHOLD, INT32_MAX) ||
      !mallopt(M_TOP_PAD, static_cast<int>(bytes < INT32_MAX ? bytes : INT32_MAX)))
    return;
  auto* before = static_cast<char*>(sbrk(0));
  void* blocks[64];
  size_t n = 0;
  while (n < 64 && sbrk(0) == before) blocks[n++] = malloc(kBlock);
  auto* after = static_cast<char*>(sbrk(0));
  while (n) free(blocks[--n]);
  mallopt(M_TOP_PAD, 128 << 10);  // glibc's default again, for later growth
  // sbrk fails with (void*)-1; the pages are rounded inward by pointer arithmetic.
  if (reinterpret_cast<uintptr_t>(before) == UINTPTR_MAX || after <= before) return;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  char* from = before + (page - reinterpret_cast<uintptr_t>(before) % page) % page;
  char* to = after - reinterpret_cast<uintptr_t>(after) % page;
  if (to > from) madvise(from, static_cast<size_t>(to - from), MADV_HUGEPAGE);
}

}  // namespace progeny
