#include "core/model/lstm_kernel.h"

#include "core/model/dense_kernel.h"

#include <ATen/Parallel.h>

// GCC 12 reports its own AVX-512 intrinsic headers as maybe-uninitialised (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>
#include <vector>

namespace tft::model {
namespace {

bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}
const bool kAvx512 = cpu_has_avx512();

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

#define TFT_AVX512 __attribute__((target("avx512f,avx512dq,fma")))

TFT_AVX512 inline __m512 exp512(__m512 x) {
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

TFT_AVX512 inline __m512 sigmoid512(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_div_ps(one, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

// tanh(x) = sign(x) (1 - 2 / (e^{2|x|} + 1)); for |x| < 0.0625 a short odd polynomial avoids the
// cancellation of 1 - 2/(e^{2x}+1) near zero.
TFT_AVX512 inline __m512 tanh512(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f);
  const __m512 ax = _mm512_abs_ps(x);
  const __m512 big = _mm512_sub_ps(one, _mm512_div_ps(two, _mm512_add_ps(exp512(_mm512_mul_ps(two, ax)), one)));
  const __m512 x2 = _mm512_mul_ps(ax, ax);
  __m512 small = _mm512_fmadd_ps(x2, _mm512_set1_ps(2.0f / 15.0f), _mm512_set1_ps(-1.0f / 3.0f));
  small = _mm512_fmadd_ps(_mm512_mul_ps(small, x2), ax, ax);
  const __m512 t = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.0625f), _CMP_LT_OQ), big, small);
  const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  return _mm512_mask_sub_ps(t, neg, _mm512_setzero_ps(), t);
}

TFT_AVX512 inline __m512 load_sum(const float* a, const float* b, __mmask16 m) {
  return _mm512_add_ps(_mm512_maskz_loadu_ps(m, a), _mm512_maskz_loadu_ps(m, b));
}

// gates = xin (input projection) + hw (recurrent product), summed here.
TFT_AVX512 void cell_avx512(const float* xin, const float* hw, float* c, float* h, float* h_out, int64_t d) {
  for (int64_t k = 0; k < d; k += 16) {
    const int64_t left = d - k;
    const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
    const __m512 i = sigmoid512(load_sum(xin + k, hw + k, m));
    const __m512 f = sigmoid512(load_sum(xin + d + k, hw + d + k, m));
    const __m512 g = tanh512(load_sum(xin + 2 * d + k, hw + 2 * d + k, m));
    const __m512 o = sigmoid512(load_sum(xin + 3 * d + k, hw + 3 * d + k, m));
    const __m512 cn = _mm512_fmadd_ps(f, _mm512_maskz_loadu_ps(m, c + k), _mm512_mul_ps(i, g));
    const __m512 hn = _mm512_mul_ps(o, tanh512(cn));
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
  const bool vec = kAvx512 && dense_kernel_available();
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
