// Gradient attribution: every method is a weighted sum of input gradients at generated points,
//   attribution(copy q) = sum over its rows r of coef_r * grad F(point_r)   (Saliency: |grad F(x)|),
// with rows generated chunk by chunk (docs/attribution.md lists each method's points and coefficients).
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>

#include "core/attribution/attribution.h"
#include "core/attribution/draws.h"
#include "core/attribution/frozen_parameters.h"
#include "core/attribution/targets.h"
#include "core/error.h"
#include "core/runtime.h"

namespace tft::attribution {
namespace {

constexpr int64_t kGradientBudgetBytes = int64_t{512} << 20;

// The request with every size resolved and every tensor validated and on the model's device.
struct Job {
  Job(model::TftModel& m, model::ModelInput i, GradientRequest r) : model(m), in(std::move(i)), req(std::move(r)) {}
  model::TftModel& model;
  model::ModelInput in;
  GradientRequest req;
  int64_t B = 0, T = 0, F = 0;
  int64_t P = 1;  // tunnel copies per input
  int64_t J = 1;  // rows per copy: IG steps, GradientSHAP samples, or 1
  Rule rule;
  at::Tensor baselines;          // [K, T, F]
  at::Tensor alphas, weights;    // [J] IG rule, float32 on the device
  at::Tensor context_baselines;  // [1 or B, C, Tc, F] when the context is attributed too
};

bool is_distribution_use(const GradientRequest& r) {
  return r.method == Method::GradientShap || (r.tunnel.type != Smoothing::None && r.tunnel.draw_baseline_per_noise);
}

at::Tensor resolve_baselines(const Job& j) {
  return attribution::resolve_baselines(j.req.baselines, j.req.gaussian_baselines, j.req.seed,
                                        is_distribution_use(j.req), j.B, j.T, j.F, j.in.x.options(),
                                        "[T, F], [1, T, F], [B, T, F] or (GradientSHAP) [K, T, F]");
}

void check_draw(const at::Tensor& t, const char* name, std::vector<int64_t> shape) {
  if (!t.defined()) return;
  if (t.sizes() != at::IntArrayRef(shape)) fail(ErrorCode::Shape, name, "has the wrong shape for this request");
  if (t.is_floating_point() && !at::isfinite(t).all().item<bool>()) fail(ErrorCode::NonFinite, name, "must be finite");
}

void check_index_draw(const at::Tensor& t, const char* name, int64_t n, int64_t k) {
  check_draw(t, name, {n});
  if (t.defined() && t.numel() > 0 && (t.min().item<int64_t>() < 0 || t.max().item<int64_t>() >= k))
    fail(ErrorCode::OutOfRange, name, "baseline rows must lie in [0, " + std::to_string(k) + ")");
}

at::Tensor resolve_context_baselines(const Job& j) {
  if (j.in.context.defined() && (j.req.method == Method::GradientShap || j.req.tunnel.type != Smoothing::None))
    fail(ErrorCode::InvalidArgument, "contextAttributions",
         "is available for saliency, inputXGradient and integratedGradients without a noise tunnel");
  return context_baselines_for(j.in, j.req.context_baselines, j.B);
}

Job plan(model::TftModel& model, const model::ModelInput& raw, const GradientRequest& req) {
  Job j(model, model.prepare(raw, model::NanPolicy::Error), req);
  j.B = j.in.x.size(0);
  j.T = j.in.x.size(1);
  j.F = j.in.x.size(2);
  check_target(req.target, j.T);
  const bool tunnel = req.tunnel.type != Smoothing::None;
  if (tunnel && req.tunnel.samples < 1) fail(ErrorCode::InvalidArgument, "nSamples", "must be >= 1");
  if (tunnel && !(req.tunnel.stdev >= 0)) fail(ErrorCode::InvalidArgument, "stdevs", "must be >= 0");
  j.P = tunnel ? req.tunnel.samples : 1;
  if (req.method == Method::IntegratedGradients) {
    j.rule = quadrature_rule(req.quadrature, req.n_steps);
    j.J = req.n_steps;
    j.alphas = at::tensor(j.rule.alphas, at::kDouble).to(j.in.x.device(), at::kFloat);
    j.weights = at::tensor(j.rule.weights, at::kDouble).to(j.in.x.device(), at::kFloat);
  } else if (req.method == Method::GradientShap) {
    if (req.shap_samples < 1) fail(ErrorCode::InvalidArgument, "nSamples", "must be >= 1");
    if (!(req.shap_stdev >= 0)) fail(ErrorCode::InvalidArgument, "stdevs", "must be >= 0");
    j.J = req.shap_samples;
  }
  j.baselines = resolve_baselines(j);
  const int64_t K = j.baselines.size(0), copies = j.B * j.P, rows = copies * j.J;
  check_draw(req.draws.noise, "draws.noise", {copies, j.T, j.F});
  check_index_draw(req.draws.tunnel_baseline, "draws.tunnelBaseline", copies, K);
  check_draw(req.draws.shap_noise, "draws.shapNoise", {rows, j.T, j.F});
  check_draw(req.draws.shap_alpha, "draws.shapAlpha", {rows});
  check_index_draw(req.draws.shap_baseline, "draws.shapBaseline", rows, K);
  if (req.chunk_rows < 0) fail(ErrorCode::InvalidArgument, "internalBatchSize", "must be >= 1");
  if (req.context_attributions) j.context_baselines = resolve_context_baselines(j);
  return j;
}

int64_t chunk_rows(const Job& j) {
  if (j.req.chunk_rows > 0) return j.req.chunk_rows;
  const int64_t d = j.model.config().d_hidden;
  // Activations kept for the backward pass: the per-variable GRNs ([F, T, d] several times over) dominate.
  const int64_t per_row = 4 * j.T * (8 * j.F * d + 48 * d);
  return std::max<int64_t>(1, kGradientBudgetBytes / std::max<int64_t>(1, per_row));
}

at::Tensor on_device(const at::Tensor& t, const Job& j) { return t.to(j.in.x.device()); }

// Each tunnel copy's input: x_b plus its noise.
at::Tensor copy_inputs(const Job& j, const at::Tensor& q, const at::Tensor& b) {
  at::Tensor xq = j.in.x.index_select(0, on_device(b, j));
  if (j.req.tunnel.type == Smoothing::None || (j.req.tunnel.stdev == 0 && !j.req.draws.noise.defined())) return xq;
  const at::Tensor noise = j.req.draws.noise.defined()
                               ? j.req.draws.noise.index_select(0, q.cpu()).to(at::kFloat)
                               : normal_rows(j.req.seed, kTunnelNoise, q, j.T * j.F, j.req.tunnel.stdev);
  return xq + on_device(noise.view({-1, j.T, j.F}), j);
}

at::Tensor copy_baselines(const Job& j, const at::Tensor& q, const at::Tensor& b) {
  const int64_t K = j.baselines.size(0);
  at::Tensor rows;
  if (j.req.tunnel.type != Smoothing::None && j.req.tunnel.draw_baseline_per_noise) {
    rows = j.req.draws.tunnel_baseline.defined() ? j.req.draws.tunnel_baseline.index_select(0, q.cpu())
                                                 : index_at(j.req.seed, kTunnelBaseline, q, K);
  } else {
    rows = K == 1 ? at::zeros_like(b) : b;
  }
  return j.baselines.index_select(0, on_device(rows, j));
}

struct Points {
  at::Tensor points, coef;                  // coef undefined: Saliency
  at::Tensor context_points, context_coef;  // when the context is attributed too
};

// base + alpha (x - base) and weight (x - base), alpha and weight per row of any rank.
std::pair<at::Tensor, at::Tensor> on_path(const Job& j, const at::Tensor& x, const at::Tensor& base,
                                          const at::Tensor& step) {
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[0] = -1;
  const at::Tensor diff = x - base;
  return {base + j.alphas.index_select(0, step).view(shape) * diff, j.weights.index_select(0, step).view(shape) * diff};
}

Points integrated_points(const Job& j, const at::Tensor& xq, const at::Tensor& base, const at::Tensor& step) {
  const auto [points, coef] = on_path(j, xq, base, step);
  return {points, coef, {}, {}};
}

// The context rows of the rows' sequences, and their path and coefficients as for x.
void add_context_points(const Job& j, Points& p, const at::Tensor& bd, const at::Tensor& step) {
  const at::Tensor cq = j.in.context.index_select(0, bd);
  if (j.req.method == Method::Saliency) {
    p.context_points = cq;
  } else if (j.req.method == Method::InputXGradient) {
    p.context_points = p.context_coef = cq;
  } else {
    const at::Tensor rows = j.context_baselines.size(0) == 1 ? at::zeros_like(bd) : bd;
    std::tie(p.context_points, p.context_coef) = on_path(j, cq, j.context_baselines.index_select(0, rows), step);
  }
}

Points shap_points(const Job& j, const at::Tensor& r, const at::Tensor& xq) {
  const Draws& d = j.req.draws;
  at::Tensor xr = xq;
  if (d.shap_noise.defined()) {
    xr = xq + on_device(d.shap_noise.index_select(0, r.cpu()).to(at::kFloat), j);
  } else if (j.req.shap_stdev > 0) {
    xr = xq + on_device(normal_rows(j.req.seed, kShapNoise, r, j.T * j.F, j.req.shap_stdev).view({-1, j.T, j.F}), j);
  }
  const int64_t K = j.baselines.size(0);
  const at::Tensor rows =
      d.shap_baseline.defined() ? d.shap_baseline.index_select(0, r.cpu()) : index_at(j.req.seed, kShapBaseline, r, K);
  const at::Tensor base = j.baselines.index_select(0, on_device(rows, j));
  const at::Tensor alpha =
      (d.shap_alpha.defined() ? d.shap_alpha.index_select(0, r.cpu()) : uniform_at(j.req.seed, kShapAlpha, r))
          .to(j.in.x.device(), at::kFloat)
          .view({-1, 1, 1});
  return {alpha * xr + (1 - alpha) * base, (xr - base) / static_cast<double>(j.J), {}, {}};
}

Points x_points(const Job& j, const at::Tensor& r, const at::Tensor& q, const at::Tensor& b) {
  const at::Tensor xq = copy_inputs(j, q, b);
  switch (j.req.method) {
    case Method::Saliency:
      return {xq, {}, {}, {}};
    case Method::InputXGradient:
      return {xq, xq, {}, {}};
    case Method::IntegratedGradients:
      return integrated_points(j, xq, copy_baselines(j, q, b), on_device(r.remainder(j.J), j));
    case Method::GradientShap:
      return shap_points(j, r, xq);
  }
  fail(ErrorCode::Internal, "method", "unhandled method");
}

Points make_points(const Job& j, const at::Tensor& r, const at::Tensor& q, const at::Tensor& b) {
  Points p = x_points(j, r, q, b);
  if (j.req.context_attributions)
    add_context_points(j, p, on_device(b, j), j.alphas.defined() ? on_device(r.remainder(j.J), j) : at::Tensor());
  return p;
}

// The gradients at the points (and at the context points when given, else the sequences' own context).
std::vector<at::Tensor> gradient_at(const Job& j, const at::Tensor& b, const Points& p) {
  at::AutoGradMode grad_on(true);
  std::vector<at::Tensor> wrt{p.points.detach().requires_grad_(true)};
  model::ModelInput mi = rows_of(j.in, b, wrt[0]);
  if (p.context_points.defined()) mi.context = wrt.emplace_back(p.context_points.detach().requires_grad_(true));
  model::ForwardOptions fo;
  fo.input_gradients = true;
  fo.all_steps = needs_all_steps(j.req.target, j.T);
  const at::Tensor y = target_of(j.model.forward(mi, fo), j.req.target).sum();
  return torch::autograd::grad({y}, wrt);
}

at::Tensor contribution(const Job& j, const at::Tensor& coef, const at::Tensor& g) {
  return coef.defined() ? coef * g : (j.req.abs ? g.abs() : g);
}

struct CopySums {
  at::Tensor x;        // [B * P, T, F]
  at::Tensor context;  // [B, C, Tc, F] when asked
};

// Sum over each copy's rows.
CopySums copy_attributions(const Job& j) {
  const int64_t rows = j.B * j.P * j.J, step = chunk_rows(j);
  at::Tensor acc = at::zeros({j.B * j.P, j.T, j.F}, j.in.x.options());
  at::Tensor cacc;
  if (j.req.context_attributions) cacc = at::zeros_like(j.in.context);
  for (int64_t r0 = 0; r0 < rows; r0 += step) {
    const at::Tensor r = at::arange(r0, std::min(rows, r0 + step), at::kLong);
    const at::Tensor q = r.div(j.J, "floor"), b = q.div(j.P, "floor");
    const at::Tensor bd = on_device(b, j);
    const Points p = make_points(j, r, q, b);
    const std::vector<at::Tensor> g = gradient_at(j, bd, p);
    acc.index_add_(0, on_device(q, j), contribution(j, p.coef, g[0]));
    if (cacc.defined()) cacc.index_add_(0, bd, contribution(j, p.context_coef, g[1]));
  }
  return {acc, cacc};
}

at::Tensor smooth(const Job& j, const at::Tensor& copies) {
  if (j.req.tunnel.type == Smoothing::None) return copies;
  const at::Tensor a = copies.view({j.B, j.P, j.T, j.F});
  if (j.req.tunnel.type == Smoothing::SmoothGrad) return a.mean(1);
  const at::Tensor sq = (a * a).mean(1);
  if (j.req.tunnel.type == Smoothing::SmoothGradSq) return sq;
  const at::Tensor m = a.mean(1);
  return sq - m * m;
}

// Sum(attributions) - (F(x, c) - F(x', c')), the context's attributions and baseline included when asked.
at::Tensor delta(const Job& j, const Result& out) {
  const at::Tensor all = at::arange(j.B, at::kLong);
  const at::Tensor base = copy_baselines(j, all, all.to(j.in.x.device()));
  model::ModelInput at_base_input = j.in;
  at::Tensor total = out.attributions.to(at::kDouble).sum({1, 2});
  if (out.context_attributions.defined()) {
    at_base_input.context = j.context_baselines.expand_as(j.in.context).contiguous();
    total = total + out.context_attributions.to(at::kDouble).sum({1, 2, 3});
  }
  const at::Tensor at_base = explained_outputs(j.model, at_base_input, base, j.req.target);
  return total - (out.outputs.to(at::kDouble) - at_base.to(at::kDouble));
}

}  // namespace

Result gradient_attribution(model::TftModel& model, const model::ModelInput& in, const GradientRequest& request) {
  apply_thread_setting();
  FrozenParameters frozen(model.parameters());
  const Job j = plan(model, in, request);
  Result out;
  out.outputs = explained_outputs(model, j.in, j.in.x, j.req.target);
  if (j.B == 0) {
    out.attributions = at::zeros({0, j.T, j.F}, at::kFloat);
    return out;
  }
  const CopySums sums = copy_attributions(j);
  out.attributions = smooth(j, sums.x).to(at::kCPU).contiguous();
  if (sums.context.defined()) out.context_attributions = sums.context.to(at::kCPU).contiguous();
  if (!at::isfinite(out.attributions).all().item<bool>())
    fail(ErrorCode::NonFinite, "x", "the attributions are not finite: the inputs overflow the network");
  if (j.req.method == Method::IntegratedGradients && j.req.tunnel.type == Smoothing::None) out.delta = delta(j, out);
  return out;
}

}  // namespace tft::attribution
