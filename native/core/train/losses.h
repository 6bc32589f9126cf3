// The training losses of Deep Momentum Networks / X-Trend, over a batch of windows with outputs at every
// step. Steps before `warmup` in each window are ignored (the LSTM state is still settling there).
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace tft::train {

enum class LossMode { Sharpe, JointMle };
LossMode parse_loss_mode(const std::string& s);

struct LossInputs {
  at::Tensor position;  // [B, T] z in [-maxPosition, maxPosition]
  at::Tensor mu;        // [B, T]
  at::Tensor sigma;     // [B, T]
  at::Tensor target;    // [B, T] volatility-scaled next-day return (the label at each step)
  at::Tensor scale;     // [B, T] sigma_target / sigma_t, for the turnover cost (undefined: no cost term)
};

struct LossOptions {
  LossMode mode = LossMode::Sharpe;
  double mle_weight = 0.1;  // alpha in alpha * NLL + Sharpe loss
  int64_t warmup = 0;
  double cost_bps = 0.0;  // transaction cost per unit of turnover, in basis points
};

struct LossValue {
  at::Tensor total;  // scalar, differentiable
  double sharpe;     // annualised Sharpe of the batch's returns (positive is good)
  double nll;        // Gaussian NLL (0 when not computed)
};

// Returns R_t = z_t y_t - c |z_t s_t - z_{t-1} s_{t-1}| for t >= warmup (flattened).
at::Tensor strategy_returns(const LossInputs& in, const LossOptions& o);

// Sharpe loss: -sqrt(252) mean(R) / std(R) over every (window, step) return, std unbiased (torch.std).
// Gaussian NLL: mean of 0.5 log(2 pi) + log sigma + (y - mu)^2 / (2 sigma^2).
LossValue compute_loss(const LossInputs& in, const LossOptions& o);

}  // namespace tft::train
