// Row-deterministic small GEMM for the model's inference kernels: y [rows, N] = x [rows, K] (row stride ldx)
// * wt [K, N] + b [N], every output row accumulated over k in the same order with FMAs, whatever tile the
// row falls in, so a row's result does not depend on the batch around it (rolling == batch, bit for bit)
// nor on the vector width (the AVX2 and AVX-512 paths give identical results).
//
// Register tiles of R rows x Q vectors of columns: 4 x 4 where the target has 32 vector registers
// (AVX-512, NEON); 6 x 2 on AVX2's 16 (12 accumulators, 2 weight vectors and a broadcast: 8 loads per 12
// FMAs, where 4 x 2 issued 6 loads per 8 and left the FMA units idle).

#if defined(TFT_SIMD_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef TFT_SIMD_GEMM_INL_H_
#undef TFT_SIMD_GEMM_INL_H_
#else
#define TFT_SIMD_GEMM_INL_H_
#endif

#include <cstdint>

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace tft::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3 || HWY_TARGET == HWY_EMU128 || \
    HWY_TARGET == HWY_SCALAR
constexpr int kGemmMaxQ = 2;
constexpr int kGemmRows = 6;
#else
constexpr int kGemmMaxQ = 4;
constexpr int kGemmRows = 4;
#endif

// Columns [j0, j0 + NQ lanes) of rows [r0, r1); kFull: every column vector is whole (no masked loads).
template <int NQ, bool kFull>
HWY_INLINE void GemmTile(const float* HWY_RESTRICT x, int64_t r0, int64_t r1, int64_t K, int64_t ldx,
                         const float* HWY_RESTRICT wt, int64_t N, const float* HWY_RESTRICT b, float* HWY_RESTRICT y,
                         int64_t j0) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  using M = hn::Mask<decltype(d)>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  M m[NQ];
  V bias[NQ];
  for (int q = 0; q < NQ; ++q) {
    const int64_t left = N - j0 - q * L;
    m[q] = hn::FirstN(d, static_cast<size_t>(left < L ? left : L));
    if (b == nullptr)
      bias[q] = hn::Zero(d);
    else
      bias[q] = kFull ? hn::LoadU(d, b + j0 + q * L) : hn::MaskedLoad(m[q], d, b + j0 + q * L);
  }
  auto load_w = [&](int64_t k, int q) {
    const float* p = wt + k * N + j0 + q * L;
    return kFull ? hn::LoadU(d, p) : hn::MaskedLoad(m[q], d, p);
  };
  auto store = [&](float* p, int q, V v) {
    if (kFull)
      hn::StoreU(v, d, p);
    else
      hn::BlendedStore(v, m[q], d, p);
  };
  constexpr int R = kGemmRows;
  int64_t r = r0;
  for (; r + R <= r1; r += R) {
    V acc[R][NQ];
    for (int i = 0; i < R; ++i)
      for (int q = 0; q < NQ; ++q) acc[i][q] = bias[q];
    for (int64_t k = 0; k < K; ++k) {
      V w[NQ];
      for (int q = 0; q < NQ; ++q) w[q] = load_w(k, q);
      for (int i = 0; i < R; ++i) {
        const V xv = hn::Set(d, x[(r + i) * ldx + k]);
        for (int q = 0; q < NQ; ++q) acc[i][q] = hn::MulAdd(xv, w[q], acc[i][q]);
      }
    }
    for (int i = 0; i < R; ++i)
      for (int q = 0; q < NQ; ++q) store(y + (r + i) * N + j0 + q * L, q, acc[i][q]);
  }
  for (; r < r1; ++r) {
    V acc[NQ];
    for (int q = 0; q < NQ; ++q) acc[q] = bias[q];
    for (int64_t k = 0; k < K; ++k) {
      const V xv = hn::Set(d, x[r * ldx + k]);
      for (int q = 0; q < NQ; ++q) acc[q] = hn::MulAdd(xv, load_w(k, q), acc[q]);
    }
    for (int q = 0; q < NQ; ++q) store(y + r * N + j0 + q * L, q, acc[q]);
  }
}

// y rows [r0, r1) (y has row stride N), on the calling thread.
HWY_INLINE void GemmRows(const float* HWY_RESTRICT x, int64_t r0, int64_t r1, int64_t K, int64_t ldx,
                         const float* HWY_RESTRICT wt, int64_t N, const float* HWY_RESTRICT b, float* HWY_RESTRICT y) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  int64_t j0 = 0;
  for (; j0 + kGemmMaxQ * L <= N; j0 += kGemmMaxQ * L) GemmTile<kGemmMaxQ, true>(x, r0, r1, K, ldx, wt, N, b, y, j0);
  const int64_t nq = (N - j0 + L - 1) / L;
  if (nq == 1)
    GemmTile<1, false>(x, r0, r1, K, ldx, wt, N, b, y, j0);
  else if (nq == 2)
    GemmTile<2, false>(x, r0, r1, K, ldx, wt, N, b, y, j0);
  else if constexpr (kGemmMaxQ >= 4) {
    if (nq == 3)
      GemmTile<3, false>(x, r0, r1, K, ldx, wt, N, b, y, j0);
    else if (nq == 4)
      GemmTile<4, false>(x, r0, r1, K, ldx, wt, N, b, y, j0);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace tft::simd
HWY_AFTER_NAMESPACE();

#endif  // TFT_SIMD_GEMM_INL_H_
