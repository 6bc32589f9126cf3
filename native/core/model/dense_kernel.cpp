// Compiled once per Highway target (hwy/foreach_target.h re-includes this file); the HWY_ONCE part holds
// the scalar path and the dispatch.
#include "core/model/dense_kernel.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "core/simd/targets.h"
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/model/dense_kernel.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "core/simd/gemm-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tft::model {
namespace HWY_NAMESPACE {

void DenseRows(const float* x, int64_t r0, int64_t r1, int64_t K, int64_t ldx, const float* wt, int64_t N,
               const float* b, float* y) {
  simd::HWY_NAMESPACE::GemmRows(x, r0, r1, K, ldx, wt, N, b, y);
}

}  // namespace HWY_NAMESPACE
}  // namespace tft::model
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "core/simd/dispatch.h"

namespace tft::model {
namespace {

// The scalar path: the same k order per row (so still row-deterministic), multiply and add unfused.
void dense_rows_scalar(const float* x, int64_t r0, int64_t r1, int64_t K, int64_t ldx, const float* wt, int64_t N,
                       const float* b, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    float* yr = y + r * N;
    if (b)
      std::copy(b, b + N, yr);
    else
      std::fill(yr, yr + N, 0.0f);
    for (int64_t k = 0; k < K; ++k) {
      const float xv = x[r * ldx + k];
      const float* w = wt + k * N;
      for (int64_t j = 0; j < N; ++j) yr[j] += xv * w[j];
    }
  }
}

}  // namespace

DenseRowsFn dense_rows_kernel() {
  auto* vec = TFT_SIMD_PICK(DenseRows);
  return vec ? vec : &dense_rows_scalar;
}

void dense_rows(const float* x, int64_t M, int64_t K, int64_t ldx, const float* wt, int64_t N, const float* b,
                float* y) {
  const DenseRowsFn rows = dense_rows_kernel();
  // ~64 KiB of output per task keeps both threads busy on large M without splitting small products; a
  // multiple of 12 rows fills the 4- and 6-row register tiles.
  const int64_t grain = std::max<int64_t>(12, (int64_t{16384} / std::max<int64_t>(1, N)) / 12 * 12);
  at::parallel_for(0, (M + grain - 1) / grain, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) rows(x, t * grain, std::min(M, (t + 1) * grain), K, ldx, wt, N, b, y);
  });
}

const at::Tensor& DenseCache::transposed(const at::Tensor& w) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = transposed_.find(w.data_ptr());
  if (it != transposed_.end()) return it->second;
  return transposed_.emplace(w.data_ptr(), w.detach().t().contiguous()).first->second;
}

at::Tensor dense_linear(DenseCache* cache, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  if (!cache || !x.is_cpu() || x.scalar_type() != at::kFloat || w.dim() != 2 || at::GradMode::is_enabled())
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
  if (M > 0)
    dense_rows(x2.data_ptr<float>(), M, K, x2.stride(0), wt.data_ptr<float>(), N,
               bc.defined() ? bc.data_ptr<float>() : nullptr, y.data_ptr<float>());
  return y.view(shape);
}

}  // namespace tft::model
#endif  // HWY_ONCE
