#include <cmath>

#include "core/attribution/attribution.h"
#include "core/error.h"

namespace tft::attribution {

Output parse_output(const std::string& s) {
  if (s == "position") return Output::Position;
  if (s == "mu") return Output::Mu;
  if (s == "sigma") return Output::Sigma;
  fail(ErrorCode::InvalidArgument, "target", "unknown output '" + s + "' (expected position, mu or sigma)");
}

Method parse_method(const std::string& s) {
  if (s == "saliency") return Method::Saliency;
  if (s == "inputXGradient") return Method::InputXGradient;
  if (s == "integratedGradients") return Method::IntegratedGradients;
  if (s == "gradientShap") return Method::GradientShap;
  fail(ErrorCode::InvalidArgument, "method",
       "unknown method '" + s + "' (expected saliency, inputXGradient, integratedGradients or gradientShap)");
}

Quadrature parse_quadrature(const std::string& s) {
  if (s == "gausslegendre") return Quadrature::GaussLegendre;
  if (s == "riemann_left") return Quadrature::RiemannLeft;
  if (s == "riemann_right") return Quadrature::RiemannRight;
  if (s == "riemann_middle") return Quadrature::RiemannMiddle;
  if (s == "riemann_trapezoid") return Quadrature::RiemannTrapezoid;
  fail(ErrorCode::InvalidArgument, "method",
       "unknown integration method '" + s +
           "' (expected gausslegendre, riemann_left, riemann_right, riemann_middle or riemann_trapezoid)");
}

Smoothing parse_smoothing(const std::string& s) {
  if (s == "smoothgrad") return Smoothing::SmoothGrad;
  if (s == "smoothgrad_sq") return Smoothing::SmoothGradSq;
  if (s == "vargrad") return Smoothing::VarGrad;
  fail(ErrorCode::InvalidArgument, "type",
       "unknown noise tunnel '" + s + "' (expected smoothgrad, smoothgrad_sq or vargrad)");
}

namespace {

// Gauss-Legendre nodes and weights on [-1, 1] by Newton's method on P_n (ascending nodes, as numpy's
// leggauss), mapped to [0, 1]: alpha = (1 + x) / 2, weight = w / 2.
Rule gauss_legendre(int64_t n) {
  Rule r;
  if (n == 1) return Rule{{0.5}, {1.0}};
  r.alphas.resize(n);
  r.weights.resize(n);
  const double pi = std::acos(-1.0);
  for (int64_t i = 0; i < (n + 1) / 2; ++i) {
    double x = std::cos(pi * (static_cast<double>(i) + 0.75) / (static_cast<double>(n) + 0.5));
    double dp = 0;
    for (int iter = 0; iter < 100; ++iter) {
      double p0 = 1, p1 = x;  // P_0, P_1
      for (int64_t k = 2; k <= n; ++k) {
        const double pk = ((2.0 * k - 1) * x * p1 - (k - 1.0) * p0) / static_cast<double>(k);
        p0 = p1;
        p1 = pk;
      }
      dp = static_cast<double>(n) * (x * p1 - p0) / (x * x - 1);  // P_n'(x)
      const double dx = p1 / dp;
      x -= dx;
      if (std::fabs(dx) < 1e-16) break;
    }
    const double w = 2.0 / ((1 - x * x) * dp * dp);
    // x is the i-th largest node; store ascending.
    r.alphas[n - 1 - i] = 0.5 * (1 + x);
    r.alphas[i] = 0.5 * (1 - x);
    r.weights[n - 1 - i] = r.weights[i] = 0.5 * w;
  }
  return r;
}

// torch.linspace(a, b, n) in float32, as Captum takes its Riemann points (then read back as doubles).
std::vector<double> linspace32(double a, double b, int64_t n) {
  const at::Tensor t = at::linspace(a, b, n, at::kFloat).to(at::kDouble);
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + n);
}

}  // namespace

Rule quadrature_rule(Quadrature q, int64_t n) {
  if (n < 1) fail(ErrorCode::InvalidArgument, "nSteps", "must be >= 1, got " + std::to_string(n));
  if (q == Quadrature::GaussLegendre) return gauss_legendre(n);
  if (n < 2)
    fail(ErrorCode::InvalidArgument, "nSteps", "the Riemann rules need at least 2 steps, got " + std::to_string(n));
  Rule r;
  const double dn = static_cast<double>(n);
  r.weights.assign(n, 1.0 / dn);
  switch (q) {
    case Quadrature::RiemannTrapezoid:
      r.weights.front() /= 2;
      r.weights.back() /= 2;
      r.alphas = linspace32(0, 1, n);
      break;
    case Quadrature::RiemannLeft:
      r.alphas = linspace32(0, 1 - 1 / dn, n);
      break;
    case Quadrature::RiemannMiddle:
      r.alphas = linspace32(1 / (2 * dn), 1 - 1 / (2 * dn), n);
      break;
    default:
      r.alphas = linspace32(1 / dn, 1, n);
      break;
  }
  return r;
}

}  // namespace tft::attribution
