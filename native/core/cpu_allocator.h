// A caching allocator for libtorch's CPU tensors.
//
// Every forward and backward pass allocates the same large activations again. glibc hands blocks above its
// mmap threshold back to the kernel on free, so each step paid for them again in page faults: profiled,
// 20-30% of prediction and training time went to the kernel. Blocks of 1 MiB and more are kept by size
// class and reused (those of 8 MiB and more backed by transparent huge pages where the kernel allows); smaller ones go
// to malloc. The cache is bounded (TFT_CPU_CACHE_MB, default 1024) and can be emptied on demand.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tft {

// Installs the allocator as libtorch's CPU allocator (idempotent). Tensors allocated before keep their own
// deleters, so switching is safe at any time.
void install_cpu_allocator();

struct CpuCacheStats {
  int64_t cached_bytes = 0;  // held for reuse
  int64_t live_bytes = 0;    // handed out and not yet freed (cached-size blocks only)
  int64_t hits = 0, misses = 0;
};
CpuCacheStats cpu_cache_stats();

// Returns every cached block to the operating system.
void release_cpu_cache();

}  // namespace tft
