// Large scratch arrays (hundreds of MiB of bit planes or activations). Backed by transparent huge pages
// where the kernel allows it: with 4 KiB pages, first-touch page faults cost as much as the computation
// on virtualised machines. Contents are uninitialised.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace tft {

struct FreeDeleter {
  void operator()(void* p) const noexcept { std::free(p); }
};

template <class T>
using BigBuffer = std::unique_ptr<T[], FreeDeleter>;

template <class T>
BigBuffer<T> allocate_big(size_t count) {
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t bytes = count * sizeof(T);
  void* p = nullptr;
  if (bytes >= kHuge) {
    p = std::aligned_alloc(kHuge, (bytes + kHuge - 1) / kHuge * kHuge);
    if (p) madvise(p, bytes, MADV_HUGEPAGE);
  } else {
    p = std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
  }
  if (!p) throw std::bad_alloc();
  return BigBuffer<T>(static_cast<T*>(p));
}

}  // namespace tft
