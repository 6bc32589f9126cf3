#include "core/model/vsn_kernel.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/model/blocks.h"
#include "core/model/simd.h"

namespace tft::model {
namespace {

constexpr int64_t kRows = 128;  // rows per block: h, gamma and acc of a block stay in L1/L2

// ---- portable path ------------------------------------------------------------------------------------

void block_portable(const VsnKernelArgs& a, int64_t r0, int64_t rows, float* h, float* gamma, float* acc) {
  const int64_t F = a.f, d = a.d, d2 = 2 * d;
  std::fill(acc, acc + rows * d, 0.0f);
  for (int64_t v = 0; v < F; ++v) {
    const float* u = a.u + v * d;
    const float* c = a.c + v * d;
    const float* g = a.g_t + v * d * d2;
    const float* gb = a.g_b + v * d2;
    for (int64_t r = 0; r < rows; ++r) {
      const float xv = a.x[(r0 + r) * F + v];
      for (int64_t k = 0; k < d; ++k) {
        const float t = xv * u[k] + c[k];
        h[r * d + k] = t > 0 ? t : std::expm1(t);
      }
      float* out = gamma + r * d2;
      std::copy(gb, gb + d2, out);
      for (int64_t k = 0; k < d; ++k) {
        const float hk = h[r * d + k];
        const float* gk = g + k * d2;
        for (int64_t j = 0; j < d2; ++j) out[j] += hk * gk[j];
      }
    }
    const float* p = a.pre_p + v * d;
    const float* b = a.pre_b + v * d;
    const float* nw = a.norm_w + v * d;
    const float* nb = a.norm_b + v * d;
    for (int64_t r = 0; r < rows; ++r) {
      const float xv = a.x[(r0 + r) * F + v], wv = a.w[(r0 + r) * F + v];
      float* z = h + r * d;  // h of this row is no longer needed: reuse it for z
      const float* gr = gamma + r * d2;
      double mean = 0;
      for (int64_t k = 0; k < d; ++k) {
        z[k] = xv * p[k] + b[k] + gr[k] / (1.0f + std::exp(-gr[d + k]));
        mean += z[k];
      }
      mean /= static_cast<double>(d);
      double var = 0;
      for (int64_t k = 0; k < d; ++k) var += (z[k] - mean) * (z[k] - mean);
      const float rstd = static_cast<float>(1.0 / std::sqrt(var / static_cast<double>(d) + kLayerNormEps));
      const float fm = static_cast<float>(mean);
      for (int64_t k = 0; k < d; ++k) acc[r * d + k] += wv * ((z[k] - fm) * rstd * nw[k] + nb[k]);
    }
  }
}

// ---- AVX-512 path -------------------------------------------------------------------------------------

TFT_AVX512 inline float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

// gamma[rows x 2d] = h[rows x d] * g[d x 2d] + bias, NQ zmm (16 floats each) of columns at a time, 4 rows
// per register tile.
template <int NQ>
TFT_AVX512 void gemm_cols(const float* h, int64_t rows, int64_t d, const float* g, int64_t d2, const float* bias,
                          float* gamma, int64_t j0) {
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    __m512 acc[4][NQ];
    for (int q = 0; q < NQ; ++q) {
      const __m512 b = _mm512_loadu_ps(bias + j0 + 16 * q);
      for (int i = 0; i < 4; ++i) acc[i][q] = b;
    }
    const float* h0 = h + r * d;
    for (int64_t k = 0; k < d; ++k) {
      __m512 gv[NQ];
      for (int q = 0; q < NQ; ++q) gv[q] = _mm512_loadu_ps(g + k * d2 + j0 + 16 * q);
      for (int i = 0; i < 4; ++i) {
        const __m512 hv = _mm512_set1_ps(h0[i * d + k]);
        for (int q = 0; q < NQ; ++q) acc[i][q] = _mm512_fmadd_ps(hv, gv[q], acc[i][q]);
      }
    }
    for (int i = 0; i < 4; ++i)
      for (int q = 0; q < NQ; ++q) _mm512_storeu_ps(gamma + (r + i) * d2 + j0 + 16 * q, acc[i][q]);
  }
  for (; r < rows; ++r) {
    __m512 acc[NQ];
    for (int q = 0; q < NQ; ++q) acc[q] = _mm512_loadu_ps(bias + j0 + 16 * q);
    for (int64_t k = 0; k < d; ++k) {
      const __m512 hv = _mm512_set1_ps(h[r * d + k]);
      for (int q = 0; q < NQ; ++q) acc[q] = _mm512_fmadd_ps(hv, _mm512_loadu_ps(g + k * d2 + j0 + 16 * q), acc[q]);
    }
    for (int q = 0; q < NQ; ++q) _mm512_storeu_ps(gamma + r * d2 + j0 + 16 * q, acc[q]);
  }
}

TFT_AVX512 void gemm_avx512(const float* h, int64_t rows, int64_t d, const float* g, const float* bias, float* gamma) {
  const int64_t d2 = 2 * d;  // a multiple of 16 because d % 8 == 0
  int64_t j0 = 0;
  for (; j0 + 64 <= d2; j0 += 64) gemm_cols<4>(h, rows, d, g, d2, bias, gamma, j0);
  for (; j0 + 32 <= d2; j0 += 32) gemm_cols<2>(h, rows, d, g, d2, bias, gamma, j0);
  for (; j0 + 16 <= d2; j0 += 16) gemm_cols<1>(h, rows, d, g, d2, bias, gamma, j0);
}

// Loads d floats (d % 8 == 0) as 16-wide vectors with a masked tail.
TFT_AVX512 inline __mmask16 tail_mask(int64_t k, int64_t d) { return simd::lanes(d - k); }

TFT_AVX512 void block_avx512(const VsnKernelArgs& a, int64_t r0, int64_t rows, float* h, float* gamma, float* acc) {
  const int64_t F = a.f, d = a.d, d2 = 2 * d;
  std::fill(acc, acc + rows * d, 0.0f);
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
  for (int64_t v = 0; v < F; ++v) {
    const float* u = a.u + v * d;
    const float* c = a.c + v * d;
    for (int64_t r = 0; r < rows; ++r) {
      const __m512 xv = _mm512_set1_ps(a.x[(r0 + r) * F + v]);
      for (int64_t k = 0; k < d; k += 16) {
        const __mmask16 m = tail_mask(k, d);
        const __m512 t = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, u + k), _mm512_maskz_loadu_ps(m, c + k));
        const __m512 neg = _mm512_sub_ps(simd::exp(_mm512_min_ps(t, zero)), one);  // ELU: e^t - 1 below zero
        _mm512_mask_storeu_ps(h + r * d + k, m, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(t, zero, _CMP_GT_OQ), neg, t));
      }
    }
    gemm_avx512(h, rows, d, a.g_t + v * d * d2, a.g_b + v * d2, gamma);
    const float* p = a.pre_p + v * d;
    const float* b = a.pre_b + v * d;
    const float* nw = a.norm_w + v * d;
    const float* nb = a.norm_b + v * d;
    const __m512 inv_d = _mm512_set1_ps(1.0f / static_cast<float>(d));
    for (int64_t r = 0; r < rows; ++r) {
      const __m512 xv = _mm512_set1_ps(a.x[(r0 + r) * F + v]);
      const __m512 wv = _mm512_set1_ps(a.w[(r0 + r) * F + v]);
      float* z = h + r * d;
      const float* gr = gamma + r * d2;
      __m512 sum = zero;
      for (int64_t k = 0; k < d; k += 16) {
        const __mmask16 m = tail_mask(k, d);
        const __m512 gate = simd::sigmoid(_mm512_maskz_loadu_ps(m, gr + d + k));
        const __m512 zk = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, gr + k), gate,
                                          _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, p + k), _mm512_maskz_loadu_ps(m, b + k)));
        _mm512_mask_storeu_ps(z + k, m, zk);
        sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(m, zk));
      }
      const __m512 mean = _mm512_set1_ps(hsum(sum) / static_cast<float>(d));
      __m512 sq = zero;
      for (int64_t k = 0; k < d; k += 16) {
        const __mmask16 m = tail_mask(k, d);
        const __m512 dz = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, z + k), mean);
        sq = _mm512_fmadd_ps(dz, dz, sq);
      }
      const float var = hsum(_mm512_mul_ps(sq, inv_d)) ;
      const __m512 rstd = _mm512_set1_ps(1.0f / std::sqrt(var + static_cast<float>(kLayerNormEps)));
      float* ar = acc + r * d;
      for (int64_t k = 0; k < d; k += 16) {
        const __mmask16 m = tail_mask(k, d);
        const __m512 zn = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, z + k), mean), rstd);
        const __m512 y = _mm512_fmadd_ps(zn, _mm512_maskz_loadu_ps(m, nw + k), _mm512_maskz_loadu_ps(m, nb + k));
        _mm512_mask_storeu_ps(ar + k, m, _mm512_fmadd_ps(wv, y, _mm512_maskz_loadu_ps(m, ar + k)));
      }
    }
  }
}

}  // namespace

bool vsn_kernel_vectorized(int64_t d) { return simd::has_avx512() && d % 8 == 0; }

void vsn_fused_forward(const VsnKernelArgs& a) {
  const bool vec = vsn_kernel_vectorized(a.d);
  at::parallel_for(0, (a.n + kRows - 1) / kRows, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> h(static_cast<size_t>(kRows * a.d)), gamma(static_cast<size_t>(kRows * 2 * a.d)),
        acc(static_cast<size_t>(kRows * a.d));
    for (int64_t blk = begin; blk < end; ++blk) {
      const int64_t r0 = blk * kRows, rows = std::min(kRows, a.n - r0);
      if (vec) block_avx512(a, r0, rows, h.data(), gamma.data(), acc.data());
      else block_portable(a, r0, rows, h.data(), gamma.data(), acc.data());
      std::copy(acc.begin(), acc.begin() + rows * a.d, a.xi + r0 * a.d);
    }
  });
}

}  // namespace tft::model
