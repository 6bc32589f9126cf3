// Compiled once per Highway target (hwy/foreach_target.h re-includes this file); the HWY_ONCE part holds
// the scalar path, the dispatch and the row-block loops.
#include "core/model/gate_kernel.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/model/blocks.h"
#include "core/model/dense_kernel.h"
#include "core/simd/targets.h"
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/model/gate_kernel.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "core/simd/math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tft::model {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace sm = simd::HWY_NAMESPACE;

// out row = LayerNorm(skip + y[:d] * sigmoid(y[d:])) for `rows` rows of y [rows, 2d].
void GluAddNorm(const float* y, const float* skip, int64_t ldskip, int64_t rows, int64_t d, const float* nw,
                const float* nb, float* out) {
  const sm::DF df;
  using V = sm::VF;
  const int64_t L = static_cast<int64_t>(hn::Lanes(df));
  for (int64_t r = 0; r < rows; ++r) {
    const float* yr = y + r * 2 * d;
    const float* sr = skip + r * ldskip;
    float* z = out + r * d;
    for (int64_t k = 0; k < d; k += L) {
      const int64_t left = d - k;
      const V zk = hn::MulAdd(sm::LoadPart(df, yr + k, left), sm::Sigmoid(df, sm::LoadPart(df, yr + d + k, left)),
                              sm::LoadPart(df, sr + k, left));
      sm::StorePart(df, zk, z + k, left);
    }
    V mean, rstd;
    sm::RowMeanRstd(df, z, d, static_cast<float>(kLayerNormEps), mean, rstd);
    for (int64_t k = 0; k < d; k += L) {
      const int64_t left = d - k;
      const V zn = hn::Mul(hn::Sub(sm::LoadPart(df, z + k, left), mean), rstd);
      sm::StorePart(df, hn::MulAdd(zn, sm::LoadPart(df, nw + k, left), sm::LoadPart(df, nb + k, left)), z + k, left);
    }
  }
}

// h = ELU(h + ctx) in place for `rows` rows of width d; ctx (may be null) has one row per `group` rows,
// starting `phase` rows into the first group.
void AddElu(float* h, int64_t rows, int64_t d, const float* ctx, int64_t group, int64_t phase) {
  const sm::DF df;
  const int64_t L = static_cast<int64_t>(hn::Lanes(df));
  for (int64_t r = 0; r < rows; ++r) {
    float* hr = h + r * d;
    const float* cr = ctx ? ctx + ((phase + r) / group) * d : nullptr;
    for (int64_t k = 0; k < d; k += L) {
      const int64_t left = d - k;
      auto t = sm::LoadPart(df, hr + k, left);
      if (cr) t = hn::Add(t, sm::LoadPart(df, cr + k, left));
      sm::StorePart(df, sm::Elu(df, t), hr + k, left);
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

// The scalar path: std::expm1 for ELU, double-precision LayerNorm statistics (as the VSN kernel's).
void glu_add_norm_portable(const float* y, const float* skip, int64_t ldskip, int64_t rows, int64_t d, const float* nw,
                           const float* nb, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* yr = y + r * 2 * d;
    const float* sr = skip + r * ldskip;
    float* z = out + r * d;
    for (int64_t k = 0; k < d; ++k) z[k] = sr[k] + yr[k] / (1.0f + std::exp(-yr[d + k]));
    float fm, rstd;
    layer_norm_stats(z, d, fm, rstd);
    for (int64_t k = 0; k < d; ++k) z[k] = (z[k] - fm) * rstd * nw[k] + nb[k];
  }
}

void add_elu_portable(float* h, int64_t rows, int64_t d, const float* ctx, int64_t group, int64_t phase) {
  for (int64_t r = 0; r < rows; ++r) {
    float* hr = h + r * d;
    const float* cr = ctx ? ctx + ((phase + r) / group) * d : nullptr;
    for (int64_t k = 0; k < d; ++k) {
      const float t = cr ? hr[k] + cr[k] : hr[k];
      hr[k] = t > 0 ? t : std::expm1(t);
    }
  }
}

// 48 rows fill the dense kernel's 4- and 6-row register tiles and keep a block's [rows, 2d] activations
// in L1 at d = 64.
constexpr int64_t kBlockRows = 48;

template <class Body>
void for_row_blocks(int64_t m, int64_t scratch_per_row, const Body& body) {
  at::parallel_for(0, (m + kBlockRows - 1) / kBlockRows, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(static_cast<size_t>(kBlockRows * scratch_per_row));
    for (int64_t blk = begin; blk < end; ++blk) {
      const int64_t r0 = blk * kBlockRows;
      body(r0, std::min(kBlockRows, m - r0), scratch.data());
    }
  });
}

decltype(&glu_add_norm_portable) glu_add_norm_kernel() {
  auto* vec = TFT_SIMD_PICK(GluAddNorm);
  return vec ? vec : &glu_add_norm_portable;
}

}  // namespace

void gate_add_norm_rows(const GateRowsArgs& a) {
  auto* finish = glu_add_norm_kernel();
  const DenseRowsFn product = dense_rows_kernel();
  const int64_t d = a.d;
  for_row_blocks(a.m, 2 * d, [&](int64_t r0, int64_t rows, float* y) {
    product(a.x + r0 * a.ldx, 0, rows, d, a.ldx, a.glu_t, 2 * d, a.glu_b, y);
    finish(y, a.skip + r0 * a.ldskip, a.ldskip, rows, d, a.norm_w, a.norm_b, a.out + r0 * d);
  });
}

void grn_rows(const GrnRowsArgs& a) {
  auto* finish = glu_add_norm_kernel();
  auto* vec_elu = TFT_SIMD_PICK(AddElu);
  auto* elu = vec_elu ? vec_elu : &add_elu_portable;
  const DenseRowsFn product = dense_rows_kernel();
  const int64_t d = a.d, group = std::max<int64_t>(1, a.ctx_group);
  // scratch per row: h [d], h2 [d], y [2d]
  for_row_blocks(a.m, 4 * d, [&](int64_t r0, int64_t rows, float* s) {
    float* h = s;
    float* h2 = s + kBlockRows * d;
    float* y = s + 2 * kBlockRows * d;
    const float* ar = a.a + r0 * a.lda;
    product(ar, 0, rows, d, a.lda, a.fc1_t, d, a.fc1_b, h);
    elu(h, rows, d, a.ctx ? a.ctx + (r0 / group) * d : nullptr, group, r0 % group);
    product(h, 0, rows, d, d, a.fc2_t, d, a.fc2_b, h2);
    product(h2, 0, rows, d, d, a.glu_t, 2 * d, a.glu_b, y);
    finish(y, ar, a.lda, rows, d, a.norm_w, a.norm_b, a.out + r0 * d);
  });
}

}  // namespace tft::model
#endif  // HWY_ONCE
