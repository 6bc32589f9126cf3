// Shared pieces of the AVX-512 inference kernels: run-time detection, so one binary serves every x86-64
// CPU, and vectorised exp / sigmoid / tanh accurate to a few ulp (the kernels must stay within 1e-5 of the
// PyTorch reference, so no fast-math approximations).
#pragma once

// GCC 12 reports its own AVX-512 intrinsic headers as maybe-uninitialised (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "core/cpu_features.h"

#define TFT_AVX512 __attribute__((target("avx512f,avx512dq,fma")))

namespace tft::model::simd {

// AVX-512F and DQ: everything the kernels use (core/cpu_features.h decides, once per process).
inline bool has_avx512() { return cpu::has_avx512(); }

// Mask for the first min(16, left) lanes.
TFT_AVX512 inline __mmask16 lanes(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
}

// exp(x) to ~1 ulp: x = n ln2 + r, |r| <= ln2/2, e^r by a degree-7 polynomial, scaled by 2^n (vscalefps).
TFT_AVX512 inline __m512 exp(__m512 x) {
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.3762626647949f)), _mm512_set1_ps(-87.3365478515625f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

TFT_AVX512 inline __m512 sigmoid(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_div_ps(one, _mm512_add_ps(one, exp(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

// tanh(x) = sign(x) (1 - 2 / (e^{2|x|} + 1)); for |x| < 0.0625 a short odd polynomial avoids the
// cancellation of 1 - 2/(e^{2x}+1) near zero.
TFT_AVX512 inline __m512 tanh(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f);
  const __m512 ax = _mm512_abs_ps(x);
  const __m512 big = _mm512_sub_ps(one, _mm512_div_ps(two, _mm512_add_ps(exp(_mm512_mul_ps(two, ax)), one)));
  const __m512 x2 = _mm512_mul_ps(ax, ax);
  __m512 small = _mm512_fmadd_ps(x2, _mm512_set1_ps(2.0f / 15.0f), _mm512_set1_ps(-1.0f / 3.0f));
  small = _mm512_fmadd_ps(_mm512_mul_ps(small, x2), ax, ax);
  const __m512 t = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.0625f), _CMP_LT_OQ), big, small);
  const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  return _mm512_mask_sub_ps(t, neg, _mm512_setzero_ps(), t);
}

}  // namespace tft::model::simd
