#include "core/model/dense_kernel.h"

#include <ATen/Parallel.h>

#include "core/model/simd.h"

#include <algorithm>

namespace tft::model {
namespace {

TFT_AVX512 inline __mmask16 cols_mask(int64_t left) { return simd::lanes(left); }

// Columns [j0, j0 + 16*NQ) (the last vector masked) for rows [r0, r1): 4-row register tiles; the single-row
// tail accumulates in the same k order, so a row's result does not depend on its tile.
template <int NQ>
TFT_AVX512 void tile(const float* x, int64_t r0, int64_t r1, int64_t K, int64_t ldx, const float* wt, int64_t N,
                     const float* b, float* y, int64_t j0) {
  __mmask16 m[NQ];
  for (int q = 0; q < NQ; ++q) m[q] = cols_mask(N - j0 - 16 * q);
  __m512 bias[NQ];
  for (int q = 0; q < NQ; ++q) bias[q] = b ? _mm512_maskz_loadu_ps(m[q], b + j0 + 16 * q) : _mm512_setzero_ps();
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    __m512 acc[4][NQ];
    for (int i = 0; i < 4; ++i)
      for (int q = 0; q < NQ; ++q) acc[i][q] = bias[q];
    for (int64_t k = 0; k < K; ++k) {
      __m512 w[NQ];
      for (int q = 0; q < NQ; ++q) w[q] = _mm512_maskz_loadu_ps(m[q], wt + k * N + j0 + 16 * q);
      for (int i = 0; i < 4; ++i) {
        const __m512 xv = _mm512_set1_ps(x[(r + i) * ldx + k]);
        for (int q = 0; q < NQ; ++q) acc[i][q] = _mm512_fmadd_ps(xv, w[q], acc[i][q]);
      }
    }
    for (int i = 0; i < 4; ++i)
      for (int q = 0; q < NQ; ++q) _mm512_mask_storeu_ps(y + (r + i) * N + j0 + 16 * q, m[q], acc[i][q]);
  }
  for (; r < r1; ++r) {
    __m512 acc[NQ];
    for (int q = 0; q < NQ; ++q) acc[q] = bias[q];
    for (int64_t k = 0; k < K; ++k) {
      const __m512 xv = _mm512_set1_ps(x[r * ldx + k]);
      for (int q = 0; q < NQ; ++q) acc[q] = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m[q], wt + k * N + j0 + 16 * q), acc[q]);
    }
    for (int q = 0; q < NQ; ++q) _mm512_mask_storeu_ps(y + r * N + j0 + 16 * q, m[q], acc[q]);
  }
}

TFT_AVX512 void rows_avx512(const float* x, int64_t r0, int64_t r1, int64_t K, int64_t ldx, const float* wt, int64_t N,
                            const float* b, float* y) {
  int64_t j0 = 0;
  for (; N - j0 > 48; j0 += 64) tile<4>(x, r0, r1, K, ldx, wt, N, b, y, j0);
  if (N - j0 > 32) tile<3>(x, r0, r1, K, ldx, wt, N, b, y, j0);
  else if (N - j0 > 16) tile<2>(x, r0, r1, K, ldx, wt, N, b, y, j0);
  else if (N - j0 > 0) tile<1>(x, r0, r1, K, ldx, wt, N, b, y, j0);
}

}  // namespace

bool dense_kernel_available() { return simd::has_avx512(); }

void dense_rows(const float* x, int64_t M, int64_t K, int64_t ldx, const float* wt, int64_t N, const float* b,
                float* y) {
  // ~64 KiB of output per task keeps both threads busy on large M without splitting small products.
  const int64_t grain = std::max<int64_t>(4, (int64_t{16384} / std::max<int64_t>(1, N)) / 4 * 4);
  at::parallel_for(0, (M + grain - 1) / grain, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) rows_avx512(x, t * grain, std::min(M, (t + 1) * grain), K, ldx, wt, N, b, y);
  });
}

const at::Tensor& DenseCache::transposed(const at::Tensor& w) {
  auto it = transposed_.find(w.data_ptr());
  if (it != transposed_.end()) return it->second;
  return transposed_.emplace(w.data_ptr(), w.detach().t().contiguous()).first->second;
}

at::Tensor dense_linear(DenseCache* cache, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  if (!cache || !simd::has_avx512() || !x.is_cpu() || x.scalar_type() != at::kFloat || w.dim() != 2 ||
      at::GradMode::is_enabled())
    return at::linear(x, w, b);
  const int64_t K = w.size(1), N = w.size(0);
  at::Tensor x2 = x.reshape({-1, K});
  if (x2.stride(1) != 1) x2 = x2.contiguous();
  const int64_t M = x2.size(0);
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = N;
  at::Tensor y = at::empty({M, N}, x.options());
  const at::Tensor& wt = cache->transposed(w);
  const at::Tensor bc = b.defined() ? b.contiguous() : at::Tensor();
  if (M > 0) dense_rows(x2.data_ptr<float>(), M, K, x2.stride(0), wt.data_ptr<float>(), N,
                        bc.defined() ? bc.data_ptr<float>() : nullptr, y.data_ptr<float>());
  return y.view(shape);
}

}  // namespace tft::model
