// Bit counts of u64 vectors for the rank kernels (Highway per-target header). VPOPCNTQ where the target has
// it (AVX3_DL), elsewhere byte counts by table lookup summed into u64 lanes (VPSADBW on x86).

#if defined(TFT_SIMD_POPCOUNT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef TFT_SIMD_POPCOUNT_INL_H_
#undef TFT_SIMD_POPCOUNT_INL_H_
#else
#define TFT_SIMD_POPCOUNT_INL_H_
#endif

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace tft::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class D, class V = hn::Vec<D>>
HWY_INLINE V PopCount64(D d, V v) {
#if HWY_TARGET == HWY_AVX3_DL
  (void)d;
  return hn::PopulationCount(v);
#elif HWY_TARGET == HWY_SCALAR  // one lane (Highway's x86-64 baseline, compiled but not dispatched to)
  return hn::Set(d, static_cast<uint64_t>(__builtin_popcountll(hn::GetLane(v))));
#else
  const hn::Repartition<uint8_t, D> d8;
  return hn::SumsOf8(hn::PopulationCount(hn::BitCast(d8, v)));
#endif
}

#if HWY_TARGET == HWY_AVX3_DL || HWY_TARGET == HWY_SCALAR
constexpr bool kNativePopCount64 = true;
#else
constexpr bool kNativePopCount64 = false;
#endif

// Sums the set bits of a stream of u64 vectors. With a native u64 popcount each vector's count goes straight
// into u64 lanes; elsewhere byte counts gather in u8 lanes and flush() widens them (SumsOf8), so a caller
// must flush at least every kFlushEvery vectors (31 x 8 = 248 < 256 per byte). Widening once per 31
// vectors instead of per vector is what makes the AVX2 path's counting cheap.
template <class D>
class BitCounter {
 public:
  static constexpr int64_t kFlushEvery = 31;
  BitCounter() : total_(hn::Zero(D())), bytes_(hn::Zero(D8())) {}
  HWY_INLINE void add(hn::Vec<D> v) {
    if constexpr (kNativePopCount64)
      total_ = hn::Add(total_, PopCount64(D(), v));
    else
      bytes_ = hn::Add(bytes_, hn::PopulationCount(hn::BitCast(D8(), v)));
  }
  HWY_INLINE void flush() {
    if constexpr (!kNativePopCount64) {
      total_ = hn::Add(total_, hn::SumsOf8(bytes_));
      bytes_ = hn::Zero(D8());
    }
  }
  HWY_INLINE int64_t sum() {
    flush();
    return static_cast<int64_t>(hn::GetLane(hn::SumOfLanes(D(), total_)));
  }

 private:
  // The scalar target has no byte lanes; it never uses them (native popcount), so any tag will do there.
#if HWY_TARGET == HWY_SCALAR
  using D8 = D;
#else
  using D8 = hn::Repartition<uint8_t, D>;
#endif
  hn::Vec<D> total_;
  hn::Vec<D8> bytes_;
};

}  // namespace HWY_NAMESPACE
}  // namespace tft::simd
HWY_AFTER_NAMESPACE();

#endif  // TFT_SIMD_POPCOUNT_INL_H_
