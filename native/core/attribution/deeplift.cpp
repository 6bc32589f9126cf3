// DeepLift and DeepLiftShap: one pass per chunk of (input, baseline) pairs over the stacked batch
// [inputs; baselines], whose input gradient is DeepLift's multiplier (core/model/nonlinear.h);
// attribution = (x - x') * multiplier, averaged over the baselines for DeepLiftShap.
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>

#include "core/attribution/attribution.h"
#include "core/attribution/frozen_parameters.h"
#include "core/attribution/targets.h"
#include "core/error.h"
#include "core/runtime.h"

namespace tft::attribution {
namespace {

constexpr int64_t kDeepLiftBudgetBytes = int64_t{512} << 20;

struct Job {
  Job(model::TftModel& m, model::ModelInput i, DeepLiftRequest r) : model(m), in(std::move(i)), req(std::move(r)) {}
  model::TftModel& model;
  model::ModelInput in;
  DeepLiftRequest req;
  int64_t B = 0, T = 0, F = 0;
  int64_t K = 1;                 // baselines per input (DeepLiftShap), else 1
  at::Tensor baselines;          // [1, B or K rows, T, F]
  at::Tensor context_baselines;  // [1 or B, C, Tc, F] when the context is attributed
};

at::Tensor resolve_baselines(const Job& j) {
  if (j.req.gaussian_baselines && j.req.shap)
    fail(ErrorCode::InvalidArgument, "baselines", "deepLiftShap needs a distribution of baselines");
  return attribution::resolve_baselines(
      j.req.baselines, j.req.gaussian_baselines, j.req.seed, j.req.shap, j.B, j.T, j.F, j.in.x.options(),
      j.req.shap ? "[K, T, F]" : "[T, F], [1, T, F] or [B, T, F]", " (deepLiftShap takes a distribution of baselines)");
}

Job plan(model::TftModel& model, const model::ModelInput& raw, const DeepLiftRequest& req) {
  Job j(model, model.prepare(raw, model::NanPolicy::Error), req);
  j.B = j.in.x.size(0);
  j.T = j.in.x.size(1);
  j.F = j.in.x.size(2);
  check_target(req.target, j.T);
  if (req.chunk_rows < 0) fail(ErrorCode::InvalidArgument, "internalBatchSize", "must be >= 1");
  j.baselines = resolve_baselines(j);
  j.K = req.shap ? j.baselines.size(0) : 1;
  if (req.context_attributions) j.context_baselines = context_baselines_for(j.in, req.context_baselines, j.B);
  return j;
}

int64_t chunk_pairs(const Job& j) {
  if (j.req.chunk_rows > 0) return j.req.chunk_rows;
  const int64_t d = j.model.config().d_hidden;
  // Two rows per pair, and the rules keep about three times the activations of a plain backward pass.
  const int64_t per_pair = 2 * 3 * 4 * j.T * (8 * j.F * d + 48 * d);
  return std::max<int64_t>(1, kDeepLiftBudgetBytes / std::max<int64_t>(1, per_pair));
}

at::Tensor stack_pair(const at::Tensor& a, const at::Tensor& b) { return at::cat({a, b}, 0); }

struct Pass {
  at::Tensor x, context;  // attributions of the chunk's pairs, [n, T, F] and [n, C, Tc, F]
  at::Tensor y, y_base;   // the explained output at the inputs and at their baselines, [n]
};

// One chunk of pairs: input rows b with baseline rows k.
Pass deeplift_pass(const Job& j, const at::Tensor& b, const at::Tensor& k) {
  at::AutoGradMode grad_on(true);
  const at::Tensor xb = j.in.x.index_select(0, b), x0 = j.baselines.index_select(0, k);
  std::vector<at::Tensor> wrt{xb.detach().requires_grad_(true)};
  model::ModelInput mi;
  mi.x = stack_pair(wrt[0], x0);
  if (j.in.entity.defined()) mi.entity = stack_pair(j.in.entity.index_select(0, b), j.in.entity.index_select(0, b));
  at::Tensor cb, c0;
  if (j.in.context.defined()) {
    cb = j.in.context.index_select(0, b);
    c0 = cb;
    if (j.context_baselines.defined()) {
      c0 = j.context_baselines.index_select(0, j.context_baselines.size(0) == 1 ? at::zeros_like(b) : b);
      cb = wrt.emplace_back(cb.detach().requires_grad_(true));
    }
    mi.context = stack_pair(cb, c0);
  }
  if (j.in.context_entity.defined()) {
    const at::Tensor ce = j.in.context_entity.index_select(0, b);
    mi.context_entity = stack_pair(ce, ce);
  }
  model::ForwardOptions fo;
  fo.input_gradients = true;
  fo.deeplift = true;
  fo.all_steps = needs_all_steps(j.req.target, j.T);
  const at::Tensor y = target_of(j.model.forward(mi, fo), j.req.target);
  const int64_t n = b.size(0);
  const std::vector<at::Tensor> g = torch::autograd::grad({y.narrow(0, 0, n).sum()}, wrt);
  Pass p;
  p.x = (xb - x0) * g[0];
  if (g.size() > 1) p.context = (cb.detach() - c0) * g[1];
  p.y = y.narrow(0, 0, n).detach();
  p.y_base = y.narrow(0, n, n).detach();
  return p;
}

}  // namespace

Result deeplift_attribution(model::TftModel& model, const model::ModelInput& in, const DeepLiftRequest& request) {
  apply_thread_setting();
  FrozenParameters frozen(model.parameters());
  const Job j = plan(model, in, request);
  Result out;
  out.outputs = explained_outputs(model, j.in, j.in.x, j.req.target);
  if (j.B == 0) {
    out.attributions = at::zeros({0, j.T, j.F}, at::kFloat);
    out.delta = at::zeros({0}, at::kDouble);
    return out;
  }
  const auto dev = j.in.x.device();
  at::Tensor acc = at::zeros({j.B, j.T, j.F}, j.in.x.options());
  at::Tensor cacc = j.context_baselines.defined() ? at::zeros_like(j.in.context) : at::Tensor();
  at::Tensor y = at::zeros({j.B}, at::kDouble), y_base = at::zeros({j.B}, at::kDouble);
  const int64_t pairs = j.B * j.K, step = chunk_pairs(j);
  const int64_t K_rows = j.baselines.size(0);
  for (int64_t r0 = 0; r0 < pairs; r0 += step) {
    const at::Tensor r = at::arange(r0, std::min(pairs, r0 + step), at::kLong);
    const at::Tensor b = r.div(j.K, "floor");
    const at::Tensor k = j.req.shap ? r.remainder(j.K) : (K_rows == 1 ? at::zeros_like(b) : b);
    const Pass p = deeplift_pass(j, b.to(dev), k.to(dev));
    acc.index_add_(0, b.to(dev), p.x);
    if (cacc.defined()) cacc.index_add_(0, b.to(dev), p.context);
    y.index_add_(0, b, p.y.to(at::kCPU, at::kDouble));
    y_base.index_add_(0, b, p.y_base.to(at::kCPU, at::kDouble));
  }
  const double inv_k = 1.0 / static_cast<double>(j.K);
  out.attributions = (acc * inv_k).to(at::kCPU).contiguous();
  if (cacc.defined()) out.context_attributions = (cacc * inv_k).to(at::kCPU).contiguous();
  if (!at::isfinite(out.attributions).all().item<bool>())
    fail(ErrorCode::NonFinite, "x", "the attributions are not finite: the inputs overflow the network");
  at::Tensor total = out.attributions.to(at::kDouble).sum({1, 2});
  if (out.context_attributions.defined()) total = total + out.context_attributions.to(at::kDouble).sum({1, 2, 3});
  out.delta = total - (y - y_base) * inv_k;
  return out;
}

}  // namespace tft::attribution
