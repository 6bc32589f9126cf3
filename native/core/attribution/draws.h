// Counter-based random draws for attribution: element i of stream s depends only on (seed, s, i), so a
// seed gives the same draws, and so bit-identical attributions, whatever the thread count or chunking.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace tft::attribution {

enum Stream : uint64_t {
  kTunnelNoise = 1,
  kTunnelBaseline,
  kShapNoise,
  kShapAlpha,
  kShapBaseline,
  kGaussianBaseline,
  kPermutation
};

// Rows `ids` ([n] int64) of an infinite [*, row_len] matrix of N(0, stdev^2) draws: [n, row_len] float32.
at::Tensor normal_rows(uint64_t seed, Stream stream, const at::Tensor& ids, int64_t row_len, double stdev);

// Elements `ids` of an infinite vector of U[0, 1) draws: [n] float64.
at::Tensor uniform_at(uint64_t seed, Stream stream, const at::Tensor& ids);

// Elements `ids` of an infinite vector of uniform integers in [0, k): [n] int64.
at::Tensor index_at(uint64_t seed, Stream stream, const at::Tensor& ids, int64_t k);

// A uniform random permutation of 0..n-1 (Fisher-Yates), the `which`-th of the stream; never the identity
// when n > 1 (a permutation that moves nothing would attribute nothing).
at::Tensor permutation(uint64_t seed, uint64_t which, int64_t n);

}  // namespace tft::attribution
