// The TFT's nonlinear operations: every elementwise nonlinearity and every product of two activations the
// model computes. Normally each is the plain ATen op. Under DeepLift (Mode::deeplift) the batch holds the
// explained inputs and their baselines stacked along `pair_dim` ([inputs; baselines]), values are computed
// exactly as normally, and the gradient reaching the inputs' half is DeepLift's multiplier instead of the
// derivative (docs/attribution.md, "DeepLift rules"):
//   rescale rule, y = f(u):        dy/du := (f(u) - f(u')) / (u - u')        (f'(midpoint) when u ~ u')
//   product rule, y = a b:         dy/da := (b + b') / 2, dy/db := (a + a') / 2
// Each rule splits y - y' exactly over its inputs' differences, so the chain of rules gives
// sum_i (x_i - x'_i) m_i = F(x) - F(x') for the whole network (completeness). Composite operations
// (GLU, LayerNorm, softmax, the LSTM cell) are written as compositions of these two rules and linear maps.
#pragma once

#include <ATen/ATen.h>

#include "core/model/blocks.h"

namespace tft::model::nl {

at::Tensor elu(const Mode& m, const at::Tensor& u, int64_t pair_dim = 0);
at::Tensor sigmoid(const Mode& m, const at::Tensor& u, int64_t pair_dim = 0);
at::Tensor tanh(const Mode& m, const at::Tensor& u, int64_t pair_dim = 0);
at::Tensor softplus(const Mode& m, const at::Tensor& u, int64_t pair_dim = 0);

// a * b (broadcasting) for two activations; a product with a parameter is linear and needs no rule.
at::Tensor mul(const Mode& m, const at::Tensor& a, const at::Tensor& b, int64_t pair_dim = 0);
// a @ b for two activations (attention scores and the attention-weighted values).
at::Tensor matmul(const Mode& m, const at::Tensor& a, const at::Tensor& b, int64_t pair_dim = 0);

// GLU over the last dimension: first half * sigmoid(second half).
at::Tensor glu(const Mode& m, const at::Tensor& x, int64_t pair_dim = 0);
// LayerNorm over the last dimension (size n), affine when weight is defined.
at::Tensor layer_norm(const Mode& m, const at::Tensor& x, int64_t n, const at::Tensor& weight, const at::Tensor& bias,
                      double eps, int64_t pair_dim = 0);
// Softmax over `dim` (entries at -inf get weight 0).
at::Tensor softmax(const Mode& m, const at::Tensor& z, int64_t dim, int64_t pair_dim = 0);

}  // namespace tft::model::nl
