// Row-deterministic dense layers for CPU inference: y = x W^T + b where every output row is computed on its
// own, accumulating over k in a fixed order with FMAs.
//
// Why not the BLAS: sgemm's rounding depends on where a row falls in the matrix (edge tiles use other
// micro-kernels), so rolling prediction (one row per day) and predictBatch (one row per window step) gave
// the same windows different last bits, up to ~1e-6. With every inference product row-deterministic, the
// two paths compute bit-identical arithmetic. On AVX-512 it is also as fast as the BLAS at these shapes
// (K, N <= a few hundred); elsewhere the model falls back to ATen/BLAS.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <mutex>

namespace tft::model {

// Rows [r0, r1) of y = x wt + b on the calling thread, for the active instruction set: for callers that
// run their own parallel loop around a product (the LSTM fuses each step's product with its cell update).
using DenseRowsFn = void (*)(const float* x, int64_t r0, int64_t r1, int64_t K, int64_t ldx, const float* wt, int64_t N,
                             const float* b, float* y);
DenseRowsFn dense_rows_kernel();

// y [M, N] = x [M, K] (row stride ldx) * wt [K, N] + b [N] (b may be null).
void dense_rows(const float* x, int64_t M, int64_t K, int64_t ldx, const float* wt, int64_t N, const float* b,
                float* y);

// Transposed ([in, out]) copies of the model's weights, built on first use and dropped when the weights
// change (keyed by the parameter-store version). `transposed` may be called from the threads of one
// parallel loop (rolling prediction runs its window chunks concurrently); `reset` only outside one.
class DenseCache {
 public:
  void reset(uint64_t version) {
    if (version != version_) {
      transposed_.clear();
      version_ = version;
    }
  }
  const at::Tensor& transposed(const at::Tensor& w);

 private:
  std::map<const void*, at::Tensor> transposed_;  // nodes are stable: references outlive later inserts
  std::mutex mutex_;
  uint64_t version_ = ~uint64_t{0};
};

// linear(x, w, b) through the row-deterministic kernel when `cache` is given and the tensors are CPU
// float32; at::linear otherwise (training, CUDA).
at::Tensor dense_linear(DenseCache* cache, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b);

}  // namespace tft::model
