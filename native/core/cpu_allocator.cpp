#include "core/cpu_allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <sys/mman.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "core/environment.h"

namespace tft {
namespace {

constexpr size_t kMinCached = size_t{1} << 20;  // below this, malloc is fast and does not fault
constexpr size_t kHeader = 64;                  // keeps libtorch's 64-byte alignment; holds the class size
constexpr size_t kHuge = size_t{2} << 20;
constexpr size_t kHugeFrom = size_t{8} << 20;  // blocks from this size are backed by huge pages

size_t size_class(size_t n) {
  // 1 MiB steps up to 64 MiB, then 8 MiB steps: bounded waste, few classes.
  const size_t step = n <= (size_t{64} << 20) ? (size_t{1} << 20) : (size_t{8} << 20);
  return (n + step - 1) / step * step;
}

size_t cache_limit() { return static_cast<size_t>(environment::integer_at_least("TFT_CPU_CACHE_MB", 0, 1024)) << 20; }

struct Cache {
  std::mutex mu;
  std::map<size_t, std::vector<void*>> free_blocks;  // class size -> raw blocks (header included)
  size_t cached = 0, live = 0, limit = cache_limit();
  int64_t hits = 0, misses = 0;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: blocks may be freed during static destruction
  return *c;
}

void free_raw(void* raw) { std::free(raw); }

void deleter(void* user) {
  if (!user) return;
  void* raw = static_cast<char*>(user) - kHeader;
  const size_t cls = *static_cast<size_t*>(raw);
  if (cls == 0) {  // a small block from malloc
    std::free(raw);
    return;
  }
  Cache& c = cache();
  std::unique_lock<std::mutex> lock(c.mu);
  c.live -= cls;
  if (c.cached + cls <= c.limit) {
    c.free_blocks[cls].push_back(raw);
    c.cached += cls;
    return;
  }
  lock.unlock();
  free_raw(raw);
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const override {
    if (n == 0) return {nullptr, nullptr, &deleter, c10::Device(c10::DeviceType::CPU)};
    void* raw = nullptr;
    if (n < kMinCached) {
      raw = std::aligned_alloc(kHeader, (n + kHeader + kHeader - 1) / kHeader * kHeader);
      if (!raw) throw std::bad_alloc();
      *static_cast<size_t*>(raw) = 0;
    } else {
      const size_t cls = size_class(n);
      Cache& c = cache();
      {
        std::lock_guard<std::mutex> lock(c.mu);
        auto it = c.free_blocks.find(cls);
        if (it != c.free_blocks.end() && !it->second.empty()) {
          raw = it->second.back();
          it->second.pop_back();
          c.cached -= cls;
          ++c.hits;
        } else {
          ++c.misses;
        }
        c.live += cls;
      }
      if (!raw) {
        // Huge pages only for blocks of several of them: a fault then zeroes 2 MB at once, so rounding a
        // 1-2 MB block up to 2-4 MB of huge pages doubled the memory first-touched (and, on a VM, the host
        // faults behind it) for a model's parameters and its first prediction.
        const bool huge = cls >= kHugeFrom;
        const size_t align = huge ? kHuge : kHeader;
        const size_t bytes = (cls + kHeader + align - 1) / align * align;
        raw = std::aligned_alloc(align, bytes);
        if (!raw) {
          release_cpu_cache();
          raw = std::aligned_alloc(align, bytes);
        }
        if (!raw) {
          std::lock_guard<std::mutex> lock(c.mu);
          c.live -= cls;
          throw std::bad_alloc();
        }
        if (huge) madvise(raw, bytes, MADV_HUGEPAGE);
      }
      *static_cast<size_t*>(raw) = cls;
    }
    void* user = static_cast<char*>(raw) + kHeader;
    return {user, user, &deleter, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &deleter; }
};

}  // namespace

void install_cpu_allocator() {
  static CachingCpuAllocator* alloc = [] {
    auto* a = new CachingCpuAllocator();
    c10::SetCPUAllocator(a, /*priority=*/1);
    return a;
  }();
  (void)alloc;
}

CpuCacheStats cpu_cache_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return {static_cast<int64_t>(c.cached), static_cast<int64_t>(c.live), c.hits, c.misses};
}

void release_cpu_cache() {
  Cache& c = cache();
  std::map<size_t, std::vector<void*>> blocks;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    blocks.swap(c.free_blocks);
    c.cached = 0;
  }
  for (auto& [cls, v] : blocks)
    for (void* raw : v) free_raw(raw);
}

}  // namespace tft
