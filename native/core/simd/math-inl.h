// Vector exp / sigmoid / tanh and tail-safe loads for the model's kernels, written once over Highway ops and
// compiled for every target the kernel files are (Highway's per-target header convention: included inside
// each target's namespace by foreach_target.h, so it has a toggle guard instead of #pragma once).
//
// Accurate to a few ulp, no fast-math approximations: the kernels must stay within 1e-5 of the PyTorch
// reference. The same polynomials and operation order run on every width, so the AVX2 and AVX-512 paths
// compute identical elementwise results; only reductions (LayerNorm's mean and variance) sum their lanes in
// a width-dependent order.

#if defined(TFT_SIMD_MATH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef TFT_SIMD_MATH_INL_H_
#undef TFT_SIMD_MATH_INL_H_
#else
#define TFT_SIMD_MATH_INL_H_
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace tft::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// exp(x) to ~1 ulp: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-7 polynomial, times 2^n built from
// exponent bits. The input is clamped to [-87.34, 88.02] so n stays in [-126, 127] (a normal power of two);
// above 88.02 the kernels only ever need "huge" (sigmoid of very negative inputs, tanh saturating).
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Exp(D d, V x) {
  const hn::RebindToSigned<D> di;
  x = hn::Max(hn::Min(x, hn::Set(d, 88.02f)), hn::Set(d, -87.3365478515625f));
  const V n = hn::Round(hn::Mul(x, hn::Set(d, 1.44269504088896341f)));
  V r = hn::NegMulAdd(n, hn::Set(d, 0.693359375f), x);
  r = hn::NegMulAdd(n, hn::Set(d, -2.12194440e-4f), r);
  V p = hn::Set(d, 1.9875691500e-4f);
  p = hn::MulAdd(p, r, hn::Set(d, 1.3981999507e-3f));
  p = hn::MulAdd(p, r, hn::Set(d, 8.3334519073e-3f));
  p = hn::MulAdd(p, r, hn::Set(d, 4.1665795894e-2f));
  p = hn::MulAdd(p, r, hn::Set(d, 1.6666665459e-1f));
  p = hn::MulAdd(p, r, hn::Set(d, 5.0000001201e-1f));
  p = hn::MulAdd(p, hn::Mul(r, r), hn::Add(r, hn::Set(d, 1.0f)));
  const V scale = hn::BitCast(d, hn::ShiftLeft<23>(hn::Add(hn::ConvertTo(di, n), hn::Set(di, 127))));
  return hn::Mul(p, scale);
}

template <class D, class V = hn::Vec<D>>
HWY_INLINE V Sigmoid(D d, V x) {
  const V one = hn::Set(d, 1.0f);
  return hn::Div(one, hn::Add(one, Exp(d, hn::Neg(x))));
}

// tanh(x) = sign(x) (1 - 2 / (e^{2|x|} + 1)); below |x| = 0.0625 a short odd polynomial avoids the
// cancellation of 1 - 2/(e^{2x}+1) near zero.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Tanh(D d, V x) {
  const V one = hn::Set(d, 1.0f), two = hn::Set(d, 2.0f);
  const V ax = hn::Abs(x);
  const V big = hn::Sub(one, hn::Div(two, hn::Add(Exp(d, hn::Mul(two, ax)), one)));
  const V x2 = hn::Mul(ax, ax);
  V small = hn::MulAdd(x2, hn::Set(d, 2.0f / 15.0f), hn::Set(d, -1.0f / 3.0f));
  small = hn::MulAdd(hn::Mul(small, x2), ax, ax);
  const V t = hn::IfThenElse(hn::Lt(ax, hn::Set(d, 0.0625f)), small, big);
  return hn::IfThenElse(hn::Lt(x, hn::Zero(d)), hn::Neg(t), t);
}

// ELU(t) = t above zero, e^t - 1 below.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Elu(D d, V t) {
  const V zero = hn::Zero(d);
  const V neg = hn::Sub(Exp(d, hn::Min(t, zero)), hn::Set(d, 1.0f));
  return hn::IfThenElse(hn::Gt(t, zero), t, neg);
}

// LayerNorm's statistics of the n floats at z: their mean and 1 / sqrt(population variance + eps), each
// broadcast to every lane. Lanes are summed in a fixed order, so a row's result does not depend on where
// it sits in a batch.
template <class D>
HWY_INLINE void RowMeanRstd(D d, const float* HWY_RESTRICT z, int64_t n, float eps, hn::Vec<D>& mean, hn::Vec<D>& rstd);

// The first min(Lanes, left) floats at p, zeros beyond; never reads past p + left.
template <class D>
HWY_INLINE hn::Vec<D> LoadPart(D d, const float* HWY_RESTRICT p, int64_t left) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  return left >= L ? hn::LoadU(d, p) : hn::MaskedLoad(hn::FirstN(d, static_cast<size_t>(left)), d, p);
}

template <class D>
HWY_INLINE void StorePart(D d, hn::Vec<D> v, float* HWY_RESTRICT p, int64_t left) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  if (left >= L)
    hn::StoreU(v, d, p);
  else
    hn::BlendedStore(v, hn::FirstN(d, static_cast<size_t>(left)), d, p);
}

template <class D>
HWY_INLINE void RowMeanRstd(D d, const float* HWY_RESTRICT z, int64_t n, float eps, hn::Vec<D>& mean,
                            hn::Vec<D>& rstd) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const hn::Vec<D> zero = hn::Zero(d);
  hn::Vec<D> sum = zero;
  for (int64_t k = 0; k < n; k += L) sum = hn::Add(sum, LoadPart(d, z + k, n - k));  // lanes past n load as 0
  mean = hn::Set(d, hn::GetLane(hn::SumOfLanes(d, sum)) / static_cast<float>(n));
  hn::Vec<D> sq = zero;
  for (int64_t k = 0; k < n; k += L) {
    const int64_t left = n - k;
    hn::Vec<D> dz = hn::Sub(LoadPart(d, z + k, left), mean);
    if (left < L) dz = hn::IfThenElseZero(hn::FirstN(d, static_cast<size_t>(left)), dz);
    sq = hn::MulAdd(dz, dz, sq);
  }
  const float var = hn::GetLane(hn::SumOfLanes(d, hn::Mul(sq, hn::Set(d, 1.0f / static_cast<float>(n)))));
  rstd = hn::Set(d, 1.0f / std::sqrt(var + eps));
}

}  // namespace HWY_NAMESPACE
}  // namespace tft::simd
HWY_AFTER_NAMESPACE();

#endif  // TFT_SIMD_MATH_INL_H_
