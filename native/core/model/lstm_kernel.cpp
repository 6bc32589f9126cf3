// Compiled once per Highway target (hwy/foreach_target.h re-includes this file); the HWY_ONCE part holds
// the scalar path, the dispatch and the layer loop.
#include "core/model/lstm_kernel.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

#include "core/model/dense_kernel.h"
#include "core/simd/targets.h"
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/model/lstm_kernel.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "core/simd/math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tft::model {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace sm = simd::HWY_NAMESPACE;

// One row's cell update; gates = xin (input projection) + hw (recurrent product), summed here.
void LstmCell(const float* xin, const float* hw, float* c, float* h, float* h_out, int64_t d) {
  const sm::DF df;
  using V = sm::VF;
  const int64_t L = static_cast<int64_t>(hn::Lanes(df));
  auto gate = [&](int64_t g, int64_t k) {
    return hn::Add(sm::LoadPart(df, xin + g * d + k, d - k), sm::LoadPart(df, hw + g * d + k, d - k));
  };
  for (int64_t k = 0; k < d; k += L) {
    const V i = sm::Sigmoid(df, gate(0, k));
    const V f = sm::Sigmoid(df, gate(1, k));
    const V g = sm::Tanh(df, gate(2, k));
    const V o = sm::Sigmoid(df, gate(3, k));
    const V cn = hn::MulAdd(f, sm::LoadPart(df, c + k, d - k), hn::Mul(i, g));
    const V hn_ = hn::Mul(o, sm::Tanh(df, cn));
    sm::StorePart(df, cn, c + k, d - k);
    sm::StorePart(df, hn_, h + k, d - k);
    sm::StorePart(df, hn_, h_out + k, d - k);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace tft::model
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "core/simd/dispatch.h"

namespace tft::model {
namespace {

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

void cell_scalar(const float* xin, const float* hw, float* c, float* h, float* h_out, int64_t d) {
  for (int64_t k = 0; k < d; ++k) {
    const float i = sigmoid(xin[k] + hw[k]), f = sigmoid(xin[d + k] + hw[d + k]),
                g = std::tanh(xin[2 * d + k] + hw[2 * d + k]), o = sigmoid(xin[3 * d + k] + hw[3 * d + k]);
    c[k] = f * c[k] + i * g;
    h[k] = o * std::tanh(c[k]);
    h_out[k] = h[k];
  }
}

}  // namespace

at::Tensor lstm_layer_inference(const std::function<at::Tensor(int64_t)>& step_input, int64_t T,
                                const at::Tensor& w_hh_t, const at::Tensor& h0, const at::Tensor& c0) {
  const int64_t n = h0.size(0), d = h0.size(1);
  at::Tensor h = h0.contiguous().clone(), c = c0.contiguous().clone();
  at::Tensor out = at::empty({n, T, d}, h0.options());
  at::Tensor hw = at::empty({n, 4 * d}, h0.options());
  float* hp = h.data_ptr<float>();
  float* cp = c.data_ptr<float>();
  float* op = out.data_ptr<float>();
  auto* vec = TFT_SIMD_PICK(LstmCell);
  auto* cell = vec ? vec : &cell_scalar;
  const DenseRowsFn product = dense_rows_kernel();
  const float* whh = w_hh_t.data_ptr<float>();
  float* hwp = hw.data_ptr<float>();
  // One parallel region per step: each block of rows runs its recurrent product (row-deterministic, so a
  // sequence's state does not depend on the batch around it) and then its cell update while hw is in cache.
  const int64_t grain = 48;  // rows per block: a multiple of the 4- and 6-row GEMM tiles
  for (int64_t t = 0; t < T; ++t) {
    at::Tensor xin = step_input(t);
    if (xin.stride(1) != 1) xin = xin.contiguous();
    const float* xp = xin.data_ptr<float>();
    const int64_t ldx = xin.stride(0);
    at::parallel_for(0, (n + grain - 1) / grain, 1, [&](int64_t blk0, int64_t blk1) {
      for (int64_t blk = blk0; blk < blk1; ++blk) {
        const int64_t b0 = blk * grain, b1 = std::min(n, b0 + grain);
        product(hp, b0, b1, d, d, whh, 4 * d, nullptr, hwp);
        for (int64_t b = b0; b < b1; ++b)
          cell(xp + b * ldx, hwp + b * 4 * d, cp + b * d, hp + b * d, op + (b * T + t) * d, d);
      }
    });
  }
  return out;
}

}  // namespace tft::model
#endif  // HWY_ONCE
