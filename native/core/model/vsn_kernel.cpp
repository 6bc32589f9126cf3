// Compiled once per Highway target (hwy/foreach_target.h re-includes this file); the HWY_ONCE part holds
// the scalar path and the dispatch.
#include "core/model/vsn_kernel.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/model/blocks.h"
#include "core/simd/targets.h"
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/model/vsn_kernel.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "core/simd/gemm-inl.h"
#include "core/simd/math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tft::model {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace sm = simd::HWY_NAMESPACE;

// One block of `rows` rows through every variable: h = ELU(x u + c); gamma = h G + g_b (folded fc2 + GLU);
// z = x p + b + gamma_a * sigmoid(gamma_b); acc += w * LayerNorm(z).
void VsnBlock(const VsnKernelArgs& a, int64_t r0, int64_t rows, float* h, float* gamma, float* acc) {
  const sm::DF df;
  using V = sm::VF;
  const int64_t L = static_cast<int64_t>(hn::Lanes(df));
  const int64_t F = a.f, d = a.d, d2 = 2 * d;
  std::fill(acc, acc + rows * d, 0.0f);
  for (int64_t v = 0; v < F; ++v) {
    const float* u = a.u + v * d;
    const float* c = a.c + v * d;
    for (int64_t r = 0; r < rows; ++r) {
      const V xv = hn::Set(df, a.x[(r0 + r) * F + v]);
      for (int64_t k = 0; k < d; k += L) {
        const V t = hn::MulAdd(xv, sm::LoadPart(df, u + k, d - k), sm::LoadPart(df, c + k, d - k));
        sm::StorePart(df, sm::Elu(df, t), h + r * d + k, d - k);
      }
    }
    sm::GemmRows(h, 0, rows, d, d, a.g_t + v * d * d2, d2, a.g_b + v * d2, gamma);
    const float* p = a.pre_p + v * d;
    const float* b = a.pre_b + v * d;
    const float* nw = a.norm_w + v * d;
    const float* nb = a.norm_b + v * d;
    for (int64_t r = 0; r < rows; ++r) {
      const V xv = hn::Set(df, a.x[(r0 + r) * F + v]);
      const V wv = hn::Set(df, a.w[(r0 + r) * F + v]);
      float* z = h + r * d;  // h of this row is no longer needed: reuse it for z
      const float* gr = gamma + r * d2;
      for (int64_t k = 0; k < d; k += L) {
        const int64_t left = d - k;
        const V gate = sm::Sigmoid(df, sm::LoadPart(df, gr + d + k, left));
        const V zk = hn::MulAdd(sm::LoadPart(df, gr + k, left), gate,
                                hn::MulAdd(xv, sm::LoadPart(df, p + k, left), sm::LoadPart(df, b + k, left)));
        sm::StorePart(df, zk, z + k, left);
      }
      V mean, rstd;
      sm::RowMeanRstd(df, z, d, static_cast<float>(kLayerNormEps), mean, rstd);
      float* ar = acc + r * d;
      for (int64_t k = 0; k < d; k += L) {
        const int64_t left = d - k;
        const V zn = hn::Mul(hn::Sub(sm::LoadPart(df, z + k, left), mean), rstd);
        const V y = hn::MulAdd(zn, sm::LoadPart(df, nw + k, left), sm::LoadPart(df, nb + k, left));
        sm::StorePart(df, hn::MulAdd(wv, y, sm::LoadPart(df, ar + k, left)), ar + k, left);
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace tft::model
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "core/simd/dispatch.h"

namespace tft::model {
namespace {

constexpr int64_t kRows = 128;  // at most this many rows per block: h, gamma and acc of a block stay in L1/L2

// The scalar path (std::expm1 for ELU, double-precision LayerNorm statistics).
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
      for (int64_t k = 0; k < d; ++k) z[k] = xv * p[k] + b[k] + gr[k] / (1.0f + std::exp(-gr[d + k]));
      float fm, rstd;
      layer_norm_stats(z, d, fm, rstd);
      for (int64_t k = 0; k < d; ++k) acc[r * d + k] += wv * ((z[k] - fm) * rstd * nw[k] + nb[k]);
    }
  }
}

}  // namespace

void vsn_fused_forward(const VsnKernelArgs& a) {
  auto* vec = TFT_SIMD_PICK(VsnBlock);
  auto* block = vec ? vec : &block_portable;
  // Small inputs (one window: T rows) are split into smaller blocks so every thread gets a share; rows are
  // independent, so the split does not change any result.
  const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
  const int64_t per_thread = (a.n + threads - 1) / threads;
  const int64_t rows_per_block = std::clamp<int64_t>((per_thread + 3) / 4 * 4, 8, kRows);
  at::parallel_for(0, (a.n + rows_per_block - 1) / rows_per_block, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> h(static_cast<size_t>(rows_per_block * a.d)),
        gamma(static_cast<size_t>(rows_per_block * 2 * a.d)), acc(static_cast<size_t>(rows_per_block * a.d));
    for (int64_t blk = begin; blk < end; ++blk) {
      const int64_t r0 = blk * rows_per_block, rows = std::min(rows_per_block, a.n - r0);
      block(a, r0, rows, h.data(), gamma.data(), acc.data());
      std::copy(acc.begin(), acc.begin() + rows * a.d, a.xi + r0 * a.d);
    }
  });
}

}  // namespace tft::model
#endif  // HWY_ONCE
