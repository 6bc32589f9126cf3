#include "core/model/nonlinear.h"

#include <ATen/ExpandUtils.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

#include "core/error.h"

namespace tft::model::nl {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Below this |u - u'| the rescale multiplier is f' at the midpoint: the secant and the midpoint tangent
// differ by f'''(u - u')^2 / 24 there, while the difference quotient would lose digits. The bounded
// activations (ELU, sigmoid, tanh, softplus, exp of non-positive logits) have |f'''| <= 1, so an absolute
// tolerance suffices; 1/sqrt(v) and 1/v, whose f''' grows like v^-3.5 and v^-4 near LayerNorm's eps and
// for a small softmax sum, need one relative to |u| (scale-free: the error is then ~(du/u)^2).
constexpr double kRescaleTolerance = 1e-3;
// Masked attention logits (-inf) become this, so that both halves subtract to an exact 0.
constexpr double kMaskedLogit = -1e30;

enum class Fn : int64_t { Elu, Sigmoid, Tanh, Softplus, Exp, Rsqrt, Reciprocal };

bool relative_tolerance(Fn f) { return f == Fn::Rsqrt || f == Fn::Reciprocal; }

at::Tensor evaluate(Fn f, const at::Tensor& u) {
  switch (f) {
    case Fn::Elu:
      return at::elu(u);
    case Fn::Sigmoid:
      return at::sigmoid(u);
    case Fn::Tanh:
      return at::tanh(u);
    case Fn::Softplus:
      return at::softplus(u);
    case Fn::Exp:
      return at::exp(u);
    case Fn::Rsqrt:
      return at::rsqrt(u);
    case Fn::Reciprocal:
      return at::reciprocal(u);
  }
  fail(ErrorCode::Internal, "deepLift", "unknown nonlinearity");
}

double derivative(Fn f, double u) {
  switch (f) {
    case Fn::Elu:
      return u > 0 ? 1.0 : std::exp(u);
    case Fn::Sigmoid: {
      const double s = 1 / (1 + std::exp(-u));
      return s * (1 - s);
    }
    case Fn::Tanh: {
      const double t = std::tanh(u);
      return 1 - t * t;
    }
    case Fn::Softplus:
      return 1 / (1 + std::exp(-u));
    case Fn::Exp:
      return std::exp(u);
    case Fn::Rsqrt:
      return -0.5 / (u * std::sqrt(u));
    case Fn::Reciprocal:
      return -1 / (u * u);
  }
  return 0;
}

at::Tensor derivative(Fn f, const at::Tensor& u) {
  switch (f) {
    case Fn::Elu:
      return at::where(u > 0, at::ones_like(u), at::exp(u));
    case Fn::Sigmoid:
    case Fn::Softplus: {
      const at::Tensor s = at::sigmoid(u);
      return f == Fn::Sigmoid ? s * (1 - s) : s;
    }
    case Fn::Tanh: {
      const at::Tensor t = at::tanh(u);
      return 1 - t * t;
    }
    case Fn::Exp:
      return at::exp(u);
    case Fn::Rsqrt:
      return -0.5 * at::pow(u, -1.5);
    case Fn::Reciprocal:
      return -at::reciprocal(u * u);
  }
  fail(ErrorCode::Internal, "deepLift", "unknown nonlinearity");
}

void require_pairs(const at::Tensor& t, int64_t dim) {
  if (t.size(dim) % 2 != 0)
    fail(ErrorCode::Internal, "deepLift", "the stacked batch has an odd size along the pair axis");
}

// The tensor with its two halves along `dim` exchanged: each input meets its baseline and vice versa.
at::Tensor partner(const at::Tensor& t, int64_t dim) {
  const int64_t n = t.size(dim) / 2;
  return at::cat({t.narrow(dim, n, n), t.narrow(dim, 0, n)}, dim);
}

// The secant slope (f(u) - f(u')) / (u - u') of every element and its partner (the same value for both).
at::Tensor secant_slopes(Fn f, const at::Tensor& u, const at::Tensor& y, int64_t dim) {
  const bool rel = relative_tolerance(f);
  if (u.is_cpu() && u.scalar_type() == at::kFloat) {
    // One pass over both halves instead of a dozen elementwise ops: this runs on every activation of the
    // per-variable GRNs ([F, 2N, d]), which dominate DeepLift's time.
    const at::Tensor uc = u.contiguous(), yc = y.contiguous();
    at::Tensor s = at::empty_like(uc);
    const int64_t P = uc.size(dim), n = P / 2;
    int64_t inner = 1, outer = 1;
    for (int64_t i = dim + 1; i < uc.dim(); ++i) inner *= uc.size(i);
    for (int64_t i = 0; i < dim; ++i) outer *= uc.size(i);
    const float *up = uc.data_ptr<float>(), *yp = yc.data_ptr<float>();
    float* sp = s.data_ptr<float>();
    at::parallel_for(
        0, outer * n, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, inner)), [&](int64_t b, int64_t e) {
          for (int64_t k = b; k < e; ++k) {
            const int64_t ix = ((k / n) * P + k % n) * inner, ib = ix + n * inner;
            for (int64_t i = 0; i < inner; ++i) {
              const float ux = up[ix + i], ub = up[ib + i], du = ux - ub, mid = 0.5f * (ux + ub);
              const float bound =
                  rel ? std::fabs(mid) * static_cast<float>(kRescaleTolerance) : static_cast<float>(kRescaleTolerance);
              const float slope = std::fabs(du) > bound ? (yp[ix + i] - yp[ib + i]) / du
                                                        : static_cast<float>(derivative(f, static_cast<double>(mid)));
              sp[ix + i] = slope;
              sp[ib + i] = slope;
            }
          }
        });
    return s.view(u.sizes());
  }
  const at::Tensor up = partner(u, dim), du = u - up, mid = (u + up) * 0.5;
  const at::Tensor bound = rel ? mid.abs() * kRescaleTolerance : at::full({}, kRescaleTolerance, du.options());
  return at::where(du.abs() > bound, (y - partner(y, dim)) / du, derivative(f, mid));
}

// y = f(u) with the rescale multiplier as its gradient. Each half's gradient is scaled by the secant of
// its pair; only the inputs' half ever receives a nonzero gradient (the explained output is theirs, and
// no operation of the network mixes the halves), so the baselines' half stays a constant of the pass.
struct Rescale : public torch::autograd::Function<Rescale> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& u, int64_t fn, int64_t dim) {
    const at::Tensor y = evaluate(static_cast<Fn>(fn), u);
    ctx->save_for_backward({secant_slopes(static_cast<Fn>(fn), u, y, dim)});
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    return {g[0] * ctx->get_saved_variables()[0], at::Tensor(), at::Tensor()};
  }
};

// y = a b (broadcasting) with the product rule's multipliers:
//   a b - a'b' = (l b + (1 - l) b')(a - a') + ((1 - l) a + l a')(b - b')   for any l,
// l = 1/2 being the Shapley split.
struct Product : public torch::autograd::Function<Product> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& a, const at::Tensor& b, int64_t dim, double l) {
    ctx->save_for_backward({a, b});
    ctx->saved_data["dim"] = dim;
    ctx->saved_data["split"] = l;
    return a * b;
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    const variable_list s = ctx->get_saved_variables();
    const int64_t dim = ctx->saved_data["dim"].toInt();
    const double l = ctx->saved_data["split"].to<double>();
    at::Tensor ga, gb;
    if (ctx->needs_input_grad(0)) ga = at::sum_to(g[0] * (s[1] * l + partner(s[1], dim) * (1 - l)), s[0].sizes());
    if (ctx->needs_input_grad(1)) gb = at::sum_to(g[0] * (s[0] * (1 - l) + partner(s[0], dim) * l), s[1].sizes());
    return {ga, gb, at::Tensor(), at::Tensor()};
  }
};

// y = a @ b with the Shapley product rule: dy = da @ (b + b')/2 + (a + a')/2 @ db.
struct MatrixProduct : public torch::autograd::Function<MatrixProduct> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& a, const at::Tensor& b, int64_t dim) {
    ctx->save_for_backward({a, b});
    ctx->saved_data["dim"] = dim;
    return at::matmul(a, b);
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    const variable_list s = ctx->get_saved_variables();
    const int64_t dim = ctx->saved_data["dim"].toInt();
    at::Tensor ga, gb;
    if (ctx->needs_input_grad(0)) {
      const at::Tensor b_mid = (s[1] + partner(s[1], dim)) * 0.5;
      ga = at::sum_to(at::matmul(g[0], b_mid.transpose(-1, -2)), s[0].sizes());
    }
    if (ctx->needs_input_grad(1)) {
      const at::Tensor a_mid = (s[0] + partner(s[0], dim)) * 0.5;
      gb = at::sum_to(at::matmul(a_mid.transpose(-1, -2), g[0]), s[1].sizes());
    }
    return {ga, gb, at::Tensor()};
  }
};

bool active(const Mode& m, const at::Tensor& t) { return m.deeplift && t.requires_grad(); }

at::Tensor rescale(const Mode& m, Fn f, const at::Tensor& u, int64_t dim) {
  if (!active(m, u)) return evaluate(f, u);
  require_pairs(u, dim);
  return Rescale::apply(u, static_cast<int64_t>(f), dim);
}

at::Tensor weighted_product(const Mode& m, const at::Tensor& a, const at::Tensor& b, int64_t dim, double l) {
  if (!(m.deeplift && (a.requires_grad() || b.requires_grad()))) return a * b;
  require_pairs(a, dim);
  require_pairs(b, dim);
  return Product::apply(a, b, dim, l);
}

}  // namespace

at::Tensor elu(const Mode& m, const at::Tensor& u, int64_t pair_dim) { return rescale(m, Fn::Elu, u, pair_dim); }
at::Tensor sigmoid(const Mode& m, const at::Tensor& u, int64_t pair_dim) {
  return rescale(m, Fn::Sigmoid, u, pair_dim);
}
at::Tensor tanh(const Mode& m, const at::Tensor& u, int64_t pair_dim) { return rescale(m, Fn::Tanh, u, pair_dim); }
at::Tensor softplus(const Mode& m, const at::Tensor& u, int64_t pair_dim) {
  return rescale(m, Fn::Softplus, u, pair_dim);
}

at::Tensor mul(const Mode& m, const at::Tensor& a, const at::Tensor& b, int64_t pair_dim) {
  return weighted_product(m, a, b, pair_dim, 0.5);
}

at::Tensor matmul(const Mode& m, const at::Tensor& a, const at::Tensor& b, int64_t pair_dim) {
  if (!(m.deeplift && (a.requires_grad() || b.requires_grad()))) return at::matmul(a, b);
  require_pairs(a, pair_dim);
  require_pairs(b, pair_dim);
  return MatrixProduct::apply(a, b, pair_dim);
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
  const at::Tensor r = rescale(m, Fn::Rsqrt, var + eps, pair_dim);
  // y = xc r with the inputs' normaliser on xc's difference and the baselines' xc on r's: for a baseline
  // whose LayerNorm input is constant (xc' = 0, r' = 1/sqrt(eps), as at zero inputs of a fresh model) this
  // is the rescale rule along the ray from xc' to xc, where the Shapley split would weight the difference
  // by (r + 1/sqrt(eps)) / 2 and leave attributions of order 1/sqrt(eps) that cancel only in the sum.
  const at::Tensor y = weighted_product(m, xc, r, pair_dim, 1.0);
  return weight.defined() ? y * weight + bias : y;
}

at::Tensor softmax(const Mode& m, const at::Tensor& z, int64_t dim, int64_t pair_dim) {
  if (!active(m, z)) return at::softmax(z, dim);
  require_pairs(z, pair_dim);
  const at::Tensor zf = z.masked_fill(at::isneginf(z.detach()), kMaskedLogit);
  // One shift per (input, baseline) pair: softmax is shift-invariant, and a shared shift keeps the
  // exponentials of both halves in range without becoming a difference of its own.
  const at::Tensor top = zf.detach().amax(dim, /*keepdim=*/true);
  const at::Tensor shift = at::maximum(top, partner(top, pair_dim));
  const at::Tensor e = rescale(m, Fn::Exp, zf - shift, pair_dim);
  const at::Tensor r = rescale(m, Fn::Reciprocal, e.sum(dim, /*keepdim=*/true), pair_dim);
  return mul(m, e, r, pair_dim);
}

}  // namespace tft::model::nl
