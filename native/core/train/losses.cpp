#include "core/train/losses.h"

#include <cmath>

#include "core/error.h"

namespace tft::train {

LossMode parse_loss_mode(const std::string& s) {
  if (s == "sharpe") return LossMode::Sharpe;
  if (s == "joint_mle") return LossMode::JointMle;
  fail(ErrorCode::InvalidArgument, "lossMode", "unknown loss mode '" + s + "' (expected 'sharpe' or 'joint_mle')");
}

at::Tensor strategy_returns(const LossInputs& in, const LossOptions& o) {
  const int64_t T = in.position.size(1);
  const int64_t w = std::min<int64_t>(o.warmup, T - 1);
  at::Tensor r = (in.position * in.target).narrow(1, w, T - w);
  if (o.cost_bps > 0 && in.scale.defined() && T > 1) {
    const at::Tensor lev = in.position * in.scale;  // position in units of the unscaled asset
    const at::Tensor turnover = (lev.narrow(1, 1, T - 1) - lev.narrow(1, 0, T - 1)).abs();
    const int64_t from = std::max<int64_t>(w, 1);
    const at::Tensor cost = turnover.narrow(1, from - 1, T - from) * (o.cost_bps * 1e-4);
    r = r.narrow(1, from - w, T - from) - cost;
  }
  return r.reshape({-1});
}

LossValue compute_loss(const LossInputs& in, const LossOptions& o) {
  const at::Tensor r = strategy_returns(in, o);
  const at::Tensor mean = r.mean();
  // Population standard deviation, sqrt(E[R²] − E[R]²), as in the Sharpe loss of Deep Momentum Networks
  // and X-Trend (computed centred, which is the same quantity without the cancellation).
  const at::Tensor sd = (r - mean).pow(2).mean().sqrt();
  const at::Tensor sharpe = mean / (sd + 1e-9) * std::sqrt(252.0);
  LossValue v;
  v.sharpe = sharpe.item<double>();
  v.nll = 0;
  at::Tensor total = -sharpe;
  if (o.mode == LossMode::JointMle) {
    const int64_t T = in.position.size(1);
    const int64_t w = std::min<int64_t>(o.warmup, T - 1);
    const at::Tensor mu = in.mu.narrow(1, w, T - w), sigma = in.sigma.narrow(1, w, T - w);
    const at::Tensor y = in.target.narrow(1, w, T - w);
    const at::Tensor nll = (0.5 * std::log(2 * M_PI) + at::log(sigma) + (y - mu).pow(2) / (2 * sigma.pow(2))).mean();
    v.nll = nll.item<double>();
    total = total + o.mle_weight * nll;
  }
  v.total = total;
  return v;
}

}  // namespace tft::train
