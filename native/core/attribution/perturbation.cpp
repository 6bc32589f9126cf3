// Perturbation attribution: for each group g of (step, feature) cells, F(x) - F(x with group g replaced),
// given to every cell of the group; replaced by the baseline (ablation) or by another input's values, the
// batch permuted (permutation). Runs on the fast inference path, several groups per call.
#include <algorithm>

#include "core/attribution/attribution.h"
#include "core/attribution/draws.h"
#include "core/attribution/targets.h"
#include "core/error.h"
#include "core/runtime.h"

namespace tft::attribution {
namespace {

constexpr int64_t kRowsPerCall = 4096;

at::Tensor resolve_groups(const PerturbationRequest& r, int64_t T, int64_t F) {
  if (!r.groups.defined()) return at::arange(F, at::kLong).unsqueeze(0).expand({T, F}).contiguous();
  if (r.groups.dim() != 2 || r.groups.size(0) != T || r.groups.size(1) != F)
    fail(ErrorCode::Shape, "groups",
         "must give a group id for every (step, feature): [" + std::to_string(T) + ", " + std::to_string(F) + "]");
  const at::Tensor g = r.groups.to(at::kCPU, at::kLong).contiguous();
  if (g.min().item<int64_t>() < 0) fail(ErrorCode::OutOfRange, "groups", "group ids must be >= 0");
  if (g.max().item<int64_t>() >= T * F) fail(ErrorCode::OutOfRange, "groups", "group ids must be < T * F");
  return g;
}

at::Tensor resolve_ablation_baselines(const PerturbationRequest& r, const at::Tensor& x) {
  const int64_t B = x.size(0), T = x.size(1), F = x.size(2);
  if (!r.baselines.defined()) return at::zeros({1, T, F}, x.options());
  at::Tensor b = r.baselines.dim() == 2 ? r.baselines.unsqueeze(0) : r.baselines;
  if (b.dim() != 3 || b.size(1) != T || b.size(2) != F || (b.size(0) != 1 && b.size(0) != B))
    fail(ErrorCode::Shape, "baselines", "must be [T, F], [1, T, F] or [B, T, F]");
  if (!at::isfinite(b).all().item<bool>()) fail(ErrorCode::NonFinite, "baselines", "must be finite");
  return b.to(x.device(), at::kFloat);
}

at::Tensor permutation_of(const PerturbationRequest& r, int64_t g, int64_t B) {
  if (!r.permutations.defined()) return permutation(r.seed, static_cast<uint64_t>(g), B);
  return r.permutations.select(0, g).to(at::kLong);
}

void check_permutations(const PerturbationRequest& r, int64_t G, int64_t B) {
  if (!r.permutations.defined()) return;
  if (r.permutations.dim() != 2 || r.permutations.size(0) != G || r.permutations.size(1) != B)
    fail(ErrorCode::Shape, "permutations",
         "must be [groups, batch] = [" + std::to_string(G) + ", " + std::to_string(B) + "]");
  const at::Tensor sorted = std::get<0>(r.permutations.to(at::kLong).sort(1));
  if (!sorted.equal(at::arange(B, at::kLong).expand({G, B})))
    fail(ErrorCode::InvalidArgument, "permutations", "each row must be a permutation of 0..B-1");
}

// The perturbed inputs of group g, [B, T, F].
at::Tensor perturbed(const PerturbationRequest& r, const at::Tensor& x, const at::Tensor& base, const at::Tensor& mask,
                     int64_t g) {
  const at::Tensor other = r.permutation ? x.index_select(0, permutation_of(r, g, x.size(0)).to(x.device())) : base;
  return x * (1 - mask) + other * mask;
}

}  // namespace

Result perturbation_attribution(model::TftModel& model, const model::ModelInput& raw, const PerturbationRequest& r) {
  apply_thread_setting();
  const model::ModelInput in = model.prepare(raw, model::NanPolicy::Error);
  const at::Tensor& x = in.x;
  const int64_t B = x.size(0), T = x.size(1), F = x.size(2);
  check_target(r.target, T);
  const at::Tensor groups = resolve_groups(r, T, F);
  const int64_t G = groups.numel() ? groups.max().item<int64_t>() + 1 : 0;
  check_permutations(r, G, B);
  const at::Tensor base = r.permutation ? at::Tensor() : resolve_ablation_baselines(r, x);
  Result out;
  out.outputs = explained_outputs(model, in, x, r.target);
  at::Tensor diff = at::zeros({B, G}, at::kFloat);
  const int64_t per_call = std::max<int64_t>(1, kRowsPerCall / std::max<int64_t>(1, B));
  const at::Tensor gdev = groups.to(x.device());
  for (int64_t g0 = 0; g0 < G && B > 0; g0 += per_call) {
    const int64_t g1 = std::min(G, g0 + per_call);
    std::vector<at::Tensor> parts;
    for (int64_t g = g0; g < g1; ++g)
      parts.push_back(perturbed(r, x, base, (gdev == g).to(at::kFloat).unsqueeze(0), g));
    const at::Tensor rows = at::cat(parts, 0);  // [(g1 - g0) * B, T, F], group-major
    const at::Tensor b = at::arange(B, at::kLong).repeat({g1 - g0}).to(x.device());
    const at::Tensor y = explained_outputs(model, rows_of(in, b, rows), rows, r.target).view({g1 - g0, B});
    diff.narrow(1, g0, g1 - g0).copy_((out.outputs.unsqueeze(0) - y).t());
  }
  out.attributions = diff.index_select(1, groups.reshape({-1})).view({B, T, F}).contiguous();
  return out;
}

}  // namespace tft::attribution
