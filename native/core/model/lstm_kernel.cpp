#include "core/model/lstm_kernel.h"

#include "core/model/dense_kernel.h"
#include "core/model/simd.h"

#include <ATen/Parallel.h>


#include <cmath>
#include <vector>

namespace tft::model {
namespace {

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

void cell_portable(const float* gates, float* c, float* h, float* h_out, int64_t d) {
  for (int64_t k = 0; k < d; ++k) {  // gates already hold input + recurrent terms
    const float i = sigmoid(gates[k]), f = sigmoid(gates[d + k]), g = std::tanh(gates[2 * d + k]),
                o = sigmoid(gates[3 * d + k]);
    c[k] = f * c[k] + i * g;
    h[k] = o * std::tanh(c[k]);
    h_out[k] = h[k];
  }
}

TFT_AVX512 inline __m512 load_sum(const float* a, const float* b, __mmask16 m) {
  return _mm512_add_ps(_mm512_maskz_loadu_ps(m, a), _mm512_maskz_loadu_ps(m, b));
}

// gates = xin (input projection) + hw (recurrent product), summed here.
TFT_AVX512 void cell_avx512(const float* xin, const float* hw, float* c, float* h, float* h_out, int64_t d) {
  for (int64_t k = 0; k < d; k += 16) {
    const int64_t left = d - k;
    const __mmask16 m = simd::lanes(left);
    const __m512 i = simd::sigmoid(load_sum(xin + k, hw + k, m));
    const __m512 f = simd::sigmoid(load_sum(xin + d + k, hw + d + k, m));
    const __m512 g = simd::tanh(load_sum(xin + 2 * d + k, hw + 2 * d + k, m));
    const __m512 o = simd::sigmoid(load_sum(xin + 3 * d + k, hw + 3 * d + k, m));
    const __m512 cn = _mm512_fmadd_ps(f, _mm512_maskz_loadu_ps(m, c + k), _mm512_mul_ps(i, g));
    const __m512 hn = _mm512_mul_ps(o, simd::tanh(cn));
    _mm512_mask_storeu_ps(c + k, m, cn);
    _mm512_mask_storeu_ps(h + k, m, hn);
    _mm512_mask_storeu_ps(h_out + k, m, hn);
  }
}

}  // namespace

at::Tensor lstm_layer_inference(const std::function<at::Tensor(int64_t)>& step_input, int64_t T, const at::Tensor& w_hh_t,
                                const at::Tensor& h0, const at::Tensor& c0) {
  const int64_t n = h0.size(0), d = h0.size(1);
  at::Tensor h = h0.contiguous().clone(), c = c0.contiguous().clone();
  at::Tensor out = at::empty({n, T, d}, h0.options());
  at::Tensor hw = at::empty({n, 4 * d}, h0.options());
  float* hp = h.data_ptr<float>();
  float* cp = c.data_ptr<float>();
  float* op = out.data_ptr<float>();
  const bool vec = simd::has_avx512() && dense_kernel_available();
  for (int64_t t = 0; t < T; ++t) {
    at::Tensor xin = step_input(t);
    if (xin.stride(1) != 1) xin = xin.contiguous();
    const float* xp = xin.data_ptr<float>();
    const int64_t ldx = xin.stride(0);
    if (vec) {
      dense_rows(hp, n, d, d, w_hh_t.data_ptr<float>(), 4 * d, nullptr, hw.data_ptr<float>());
    } else {
      at::mm_out(hw, h, w_hh_t);
    }
    const float* g = hw.data_ptr<float>();
    at::parallel_for(0, n, 64, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        if (vec) {
          cell_avx512(xp + b * ldx, g + b * 4 * d, cp + b * d, hp + b * d, op + (b * T + t) * d, d);
        } else {
          float gates[4 * 512];
          float* gg = 4 * d <= 4 * 512 ? gates : nullptr;
          std::vector<float> big;
          if (!gg) {
            big.resize(static_cast<size_t>(4 * d));
            gg = big.data();
          }
          for (int64_t k = 0; k < 4 * d; ++k) gg[k] = xp[b * ldx + k] + g[b * 4 * d + k];
          cell_portable(gg, cp + b * d, hp + b * d, op + (b * T + t) * d, d);
        }
      }
    });
  }
  return out;
}

}  // namespace tft::model
