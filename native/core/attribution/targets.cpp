#include "core/attribution/targets.h"

#include "core/attribution/draws.h"
#include "core/error.h"

namespace tft::attribution {

void check_target(const Target& t, int64_t T) {
  if (t.step < -1 || t.step >= T)
    fail(ErrorCode::OutOfRange, "step",
         "must be a step of the window in [0, " + std::to_string(T) + ") or -1 (the last), got " +
             std::to_string(t.step));
}

bool needs_all_steps(const Target& t, int64_t T) { return t.step >= 0 && t.step != T - 1; }

at::Tensor target_of(const model::ForwardOutput& out, const Target& t) {
  const at::Tensor& y = t.output == Output::Position ? out.position : t.output == Output::Mu ? out.mu : out.sigma;
  return y.dim() == 2 ? y.select(1, t.step) : y;
}

model::ModelInput rows_of(const model::ModelInput& in, const at::Tensor& b, const at::Tensor& x) {
  model::ModelInput r;
  r.x = x;
  if (in.entity.defined()) r.entity = in.entity.index_select(0, b);
  if (in.context.defined()) r.context = in.context.index_select(0, b);
  if (in.context_entity.defined()) r.context_entity = in.context_entity.index_select(0, b);
  return r;
}

at::Tensor resolve_baselines(const at::Tensor& given, bool gaussian, uint64_t seed, bool distribution, int64_t B,
                             int64_t T, int64_t F, const at::TensorOptions& opts, const std::string& shapes,
                             const std::string& rows_hint) {
  if (gaussian) {
    const at::Tensor ids = at::arange(B, at::kLong);
    return normal_rows(seed, kGaussianBaseline, ids, T * F, 1.0).view({B, T, F}).to(opts.device());
  }
  at::Tensor b = given;
  if (!b.defined()) return at::zeros({1, T, F}, opts);
  if (b.dim() == 2) b = b.unsqueeze(0);
  if (b.dim() != 3 || b.size(1) != T || b.size(2) != F)
    fail(ErrorCode::Shape, "baselines",
         "must be " + shapes + " with T = " + std::to_string(T) + ", F = " + std::to_string(F));
  if (b.size(0) < 1) fail(ErrorCode::Shape, "baselines", "needs at least one row");
  if (!distribution && b.size(0) != 1 && b.size(0) != B)
    fail(ErrorCode::Shape, "baselines",
         "has " + std::to_string(b.size(0)) + " rows; expected 1 (shared) or the batch size " + std::to_string(B) +
             rows_hint);
  if (!at::isfinite(b).all().item<bool>()) fail(ErrorCode::NonFinite, "baselines", "must be finite");
  return b.to(opts.device(), at::kFloat).contiguous();
}

at::Tensor context_baselines_for(const model::ModelInput& in, const at::Tensor& given, int64_t B) {
  if (!in.context.defined())
    fail(ErrorCode::InvalidArgument, "contextAttributions", "needs a model with a context set and its context input");
  const at::Tensor& c = in.context;
  if (!given.defined()) return at::zeros({1, c.size(1), c.size(2), c.size(3)}, c.options());
  if (given.dim() != 4 || (given.size(0) != 1 && given.size(0) != B) || given.sizes().slice(1) != c.sizes().slice(1))
    fail(ErrorCode::Shape, "contextBaselines", "must be [1 or B, nContext, contextLen, F] like the context set");
  if (!at::isfinite(given).all().item<bool>()) fail(ErrorCode::NonFinite, "contextBaselines", "must be finite");
  return given.to(c.device(), at::kFloat).contiguous();
}

at::Tensor explained_outputs(model::TftModel& model, const model::ModelInput& in, const at::Tensor& x,
                             const Target& t) {
  model::ModelInput mi = in;
  mi.x = x;
  model::BatchOptions opt;
  opt.forward.all_steps = needs_all_steps(t, x.size(1));
  return target_of(model.predict_batch(mi, opt), t).to(at::kCPU, at::kFloat);
}

}  // namespace tft::attribution
