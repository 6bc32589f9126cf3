// Per-lane bit counts of u64 vectors for the rank kernels (Highway per-target header). VPOPCNTQ where the
// target has it (AVX3_DL), elsewhere byte counts by table lookup summed into u64 lanes (VPSADBW on x86).

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

}  // namespace HWY_NAMESPACE
}  // namespace tft::simd
HWY_AFTER_NAMESPACE();

#endif  // TFT_SIMD_POPCOUNT_INL_H_
