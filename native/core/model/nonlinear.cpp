#include "core/model/nonlinear.h"

#include <cmath>

#include "core/error.h"

namespace tft::model::nl {
namespace {

// Below this |u - u'| the rescale multiplier is f' at the midpoint: the secant and the midpoint tangent
// differ by f'''(u - u')^2 / 24 there, while the difference quotient would lose digits. The bounded
// activations (ELU, sigmoid, tanh, softplus, exp of non-positive logits) have |f'''| <= 1, so an absolute
// tolerance suffices; 1/sqrt(v) and 1/v, whose f''' grows like v^-3.5 and v^-4 near LayerNorm's eps and
// for a small softmax sum, need one relative to |u| (scale-free: the error is then ~(du/u)^2).
constexpr double kRescaleTolerance = 1e-3;
enum class Tolerance { Absolute, Relative };
// Masked attention logits (-inf) become this, so that both halves subtract to an exact 0.
constexpr double kMaskedLogit = -1e30;

bool active(const Mode& m, const at::Tensor& t) { return m.deeplift && t.requires_grad(); }

std::pair<at::Tensor, at::Tensor> halves(const at::Tensor& t, int64_t dim) {
  const int64_t n2 = t.size(dim);
  if (n2 % 2 != 0) fail(ErrorCode::Internal, "deepLift", "the stacked batch has an odd size along the pair axis");
  return {t.narrow(dim, 0, n2 / 2), t.narrow(dim, n2 / 2, n2 / 2)};
}

// f(u) whose inputs' half has the rescale multiplier as its gradient; the baselines' half is a constant.
template <class F, class D>
at::Tensor rescale(const Mode& m, const at::Tensor& u, int64_t dim, F f, D df, Tolerance tol = Tolerance::Absolute) {
  if (!active(m, u)) return f(u);
  const at::Tensor ud = u.detach();
  const at::Tensor y = f(ud);
  const auto [ux, ub] = halves(ud, dim);
  const auto [yx, yb] = halves(y, dim);
  const at::Tensor du = ux - ub, mid = (ux + ub) * 0.5;
  const at::Tensor bound =
      tol == Tolerance::Absolute ? at::full({}, kRescaleTolerance, du.options()) : mid.abs() * kRescaleTolerance;
  const at::Tensor slope = at::where(du.abs() > bound, (yx - yb) / du, df(mid));
  // yx + slope * 0 in value; slope in gradient
  const at::Tensor x_half = yx + slope * (halves(u, dim).first - ux);
  return at::cat({x_half, yb}, dim);
}

}  // namespace

at::Tensor elu(const Mode& m, const at::Tensor& u, int64_t pair_dim) {
  return rescale(
      m, u, pair_dim, [](const at::Tensor& t) { return at::elu(t); },
      [](const at::Tensor& t) { return at::where(t > 0, at::ones_like(t), at::exp(t)); });
}

at::Tensor sigmoid(const Mode& m, const at::Tensor& u, int64_t pair_dim) {
  return rescale(
      m, u, pair_dim, [](const at::Tensor& t) { return at::sigmoid(t); },
      [](const at::Tensor& t) {
        const at::Tensor s = at::sigmoid(t);
        return s * (1 - s);
      });
}

at::Tensor tanh(const Mode& m, const at::Tensor& u, int64_t pair_dim) {
  return rescale(
      m, u, pair_dim, [](const at::Tensor& t) { return at::tanh(t); },
      [](const at::Tensor& t) {
        const at::Tensor h = at::tanh(t);
        return 1 - h * h;
      });
}

at::Tensor softplus(const Mode& m, const at::Tensor& u, int64_t pair_dim) {
  return rescale(
      m, u, pair_dim, [](const at::Tensor& t) { return at::softplus(t); },
      [](const at::Tensor& t) { return at::sigmoid(t); });
}

namespace {

// a b - a'b' = (l b + (1 - l) b')(a - a') + ((1 - l) a + l a')(b - b') for any l: the product rule's
// multipliers with weight l on the inputs' end of b (l = 1/2: the Shapley split).
at::Tensor weighted_product(const at::Tensor& a, const at::Tensor& b, int64_t pair_dim, double l) {
  const auto [ax, ab] = halves(a.detach(), pair_dim);
  const auto [bx, bb] = halves(b.detach(), pair_dim);
  const at::Tensor m_a = bx * l + bb * (1 - l), m_b = ax * (1 - l) + ab * l;
  const at::Tensor x_half = ax * bx + m_a * (halves(a, pair_dim).first - ax) + m_b * (halves(b, pair_dim).first - bx);
  return at::cat({x_half, ab * bb}, pair_dim);
}

}  // namespace

at::Tensor mul(const Mode& m, const at::Tensor& a, const at::Tensor& b, int64_t pair_dim) {
  if (!(m.deeplift && (a.requires_grad() || b.requires_grad()))) return a * b;
  return weighted_product(a, b, pair_dim, 0.5);
}

at::Tensor matmul(const Mode& m, const at::Tensor& a, const at::Tensor& b, int64_t pair_dim) {
  if (!(m.deeplift && (a.requires_grad() || b.requires_grad()))) return at::matmul(a, b);
  const auto [ax, ab] = halves(a.detach(), pair_dim);
  const auto [bx, bb] = halves(b.detach(), pair_dim);
  const at::Tensor a_mid = (ax + ab) * 0.5, b_mid = (bx + bb) * 0.5;
  const at::Tensor x_half = at::matmul(ax, bx) + at::matmul(halves(a, pair_dim).first - ax, b_mid) +
                            at::matmul(a_mid, halves(b, pair_dim).first - bx);
  return at::cat({x_half, at::matmul(ab, bb)}, pair_dim);
}

at::Tensor glu(const Mode& m, const at::Tensor& x, int64_t pair_dim) {
  if (!active(m, x)) return at::glu(x, -1);
  const std::vector<at::Tensor> parts = x.chunk(2, -1);
  return mul(m, parts[0], sigmoid(m, parts[1], pair_dim), pair_dim);
}

at::Tensor layer_norm(const Mode& m, const at::Tensor& x, int64_t n, const at::Tensor& weight, const at::Tensor& bias,
                      double eps, int64_t pair_dim) {
  if (!active(m, x)) return at::layer_norm(x, {n}, weight, bias, eps);
  const at::Tensor xc = x - x.mean(-1, /*keepdim=*/true);
  const at::Tensor var = mul(m, xc, xc, pair_dim).mean(-1, /*keepdim=*/true);
  const at::Tensor r = rescale(
      m, var + eps, pair_dim, [](const at::Tensor& t) { return at::rsqrt(t); },
      [](const at::Tensor& t) { return -0.5 * at::pow(t, -1.5); }, Tolerance::Relative);
  // y = xc r with the inputs' normaliser on xc's difference and the baselines' xc on r's: for a baseline
  // whose LayerNorm input is constant (xc' = 0, r' = 1/sqrt(eps), as at zero inputs of a fresh model) this
  // is the rescale rule along the ray from xc' to xc, where the Shapley split would weight the difference
  // by (r + 1/sqrt(eps)) / 2 and leave attributions of order 1/sqrt(eps) that cancel only in the sum.
  const at::Tensor y = weighted_product(xc, r, pair_dim, 1.0);
  return weight.defined() ? y * weight + bias : y;
}

at::Tensor softmax(const Mode& m, const at::Tensor& z, int64_t dim, int64_t pair_dim) {
  if (!active(m, z)) return at::softmax(z, dim);
  const at::Tensor zf = z.masked_fill(at::isneginf(z.detach()), kMaskedLogit);
  // One shift per (input, baseline) pair: softmax is shift-invariant, and a shared shift keeps the
  // exponentials of both halves in range without becoming a difference of its own.
  const auto [zx, zb] = halves(zf.detach(), pair_dim);
  const at::Tensor shift = at::maximum(zx.amax(dim, /*keepdim=*/true), zb.amax(dim, /*keepdim=*/true));
  const at::Tensor e = rescale(
      m, zf - at::cat({shift, shift}, pair_dim), pair_dim, [](const at::Tensor& t) { return at::exp(t); },
      [](const at::Tensor& t) { return at::exp(t); });
  const at::Tensor r = rescale(
      m, e.sum(dim, /*keepdim=*/true), pair_dim, [](const at::Tensor& t) { return at::reciprocal(t); },
      [](const at::Tensor& t) { return -at::reciprocal(t * t); }, Tolerance::Relative);
  return mul(m, e, r, pair_dim);
}

}  // namespace tft::model::nl
