// The paper's building blocks as functions over parameter bundles: GatedLinearUnit (inside GateAddNorm and
// GRN), GateAddNorm, GatedResidualNetwork, InterpretableMultiHeadAttention and VariableSelectionNetwork.
// They are written with ATen ops so the same code runs forward-only (predict) and under autograd (training).
#pragma once

#include <ATen/ATen.h>

#include <cmath>

#include <string>

#include "core/model/parameters.h"

namespace tft::model {

struct GrnParams {
  at::Tensor fc1_w, fc1_b, ctx_w, fc2_w, fc2_b, glu_w, glu_b, skip_w, skip_b, norm_w, norm_b;
  int64_t n_out = 0;
  static GrnParams bind(const ParameterStore& p, const std::string& prefix);
};

struct GateParams {
  at::Tensor glu_w, glu_b, norm_w, norm_b;
  static GateParams bind(const ParameterStore& p, const std::string& prefix);
};

struct MhaParams {
  at::Tensor q_w, q_b, k_w, k_b, v_w, v_b, out_w, out_b;
  int64_t heads = 1, dk = 1;
  static MhaParams bind(const ParameterStore& p, const std::string& prefix, int64_t heads);
};

struct VsnParams {
  at::Tensor pre_w, pre_b;                                              // [F, d, 1], [F, d]
  at::Tensor fc1_w, fc1_b, fc2_w, fc2_b, glu_w, glu_b, norm_w, norm_b;  // stacked per variable
  GrnParams flat;
  static VsnParams bind(const ParameterStore& p);
};

class DenseCache;

// Dropout masks from a counter-based generator: element i of the k-th mask drawn in a step depends only on
// (seed, counter + i), so masks are the same whatever the thread count, and generating them is a parallel,
// vectorisable hash instead of libtorch's serial Bernoulli sampler (which cost ~15% of a training step).
struct DropoutRng {
  uint64_t seed = 0;
  uint64_t counter = 0;
};

struct Mode {
  bool training = false;
  double dropout = 0.0;
  // Inference only: products go through the row-deterministic dense kernel (dense_kernel.h).
  DenseCache* dense = nullptr;
  // Training only: where dropout masks come from (null: libtorch's generator).
  DropoutRng* rng = nullptr;
  // Eval semantics (no dropout) under autograd, for gradients with respect to the inputs (attribution).
  bool input_gradients = false;
  // With input_gradients: the batch is [inputs; baselines] and nonlinearities backpropagate DeepLift's
  // multipliers (nonlinear.h).
  bool deeplift = false;
};

// x * mask / (1 - p) with mask_i = [uniform(seed, counter + i) >= p]; differentiable in x.
at::Tensor dropout(const at::Tensor& x, double p, DropoutRng& rng);

constexpr double kLayerNormEps = 1e-5;

// LayerNorm's statistics of the d floats at z for the kernels' scalar paths, summed in double precision:
// mean (rounded to float) and 1 / sqrt(population variance + eps).
inline void layer_norm_stats(const float* z, int64_t d, float& mean, float& rstd) {
  double m = 0;
  for (int64_t k = 0; k < d; ++k) m += z[k];
  m /= static_cast<double>(d);
  double var = 0;
  for (int64_t k = 0; k < d; ++k) var += (z[k] - m) * (z[k] - m);
  rstd = static_cast<float>(1.0 / std::sqrt(var / static_cast<double>(d) + kLayerNormEps));
  mean = static_cast<float>(m);
}
constexpr double kSigmaFloor = 1e-6;

// LayerNorm(skip + GLU(dropout(x))).
at::Tensor gate_add_norm(const GateParams& p, const at::Tensor& x, const at::Tensor& skip, const Mode& m);

// GRN(a, c) = LayerNorm(skip(a) + GLU(dropout(fc2(ELU(fc1(a) + context(c)))))); `context_term` is the
// already projected context (linear(c, ctx_w)) broadcastable to fc1's output, or undefined.
at::Tensor grn(const GrnParams& p, const at::Tensor& a, const at::Tensor& context_term, const Mode& m);
at::Tensor grn_with_context(const GrnParams& p, const at::Tensor& a, const at::Tensor& c, const Mode& m);

// Interpretable multi-head attention: per-head q/k, shared v, heads averaged. Queries are the last Tq of
// the Tk positions when causal. Returns (output [B, Tq, d], attention averaged over heads [B, Tq, Tk]).
std::pair<at::Tensor, at::Tensor> interpretable_mha(const MhaParams& p, const at::Tensor& q, const at::Tensor& k,
                                                    const at::Tensor& v, bool causal, const Mode& m);

// The same attention for a single query that sees every key (the last step under a causal mask), with the
// key and value projections folded onto the query: scores_h = theta . (W_k,h^T q_h) + b_k,h . q_h, and, the
// heads being averaged, the output is W_out(W_v (sum_t abar_t theta_t) + b_v) + b_out. Exact in real
// arithmetic; O(T d H) instead of O(T d^2) per sequence, which dominates rolling prediction. Inference only.
std::pair<at::Tensor, at::Tensor> last_query_attention(const MhaParams& p, const at::Tensor& q, const at::Tensor& theta,
                                                       const Mode& m);

// The VSN's per-variable terms folded algebraically (exact in real arithmetic): the prescaler is rank-1 in
// the scalar input, so the first layer of each variable's GRN and of the flattened GRN act on x directly,
// and without dropout fc2 and the GLU collapse into one matrix. Recomputed from the parameters whenever
// they change; under autograd the gradients flow through these products to the original parameters.
struct VsnFolded {
  at::Tensor pre_p, pre_b;    // [F, d]   prescaler slope and offset: e_v = x_v * pre_p[v] + pre_b[v]
  at::Tensor u, c;            // [F, d]   fc1 folded: fc1(e_v) = x_v * u[v] + c[v]
  at::Tensor g_t, g_b;        // [F, d, 2d], [F, 2d]   fc2 then GLU, folded (valid without dropout)
  at::Tensor flat_u, flat_c;  // [d, F], [d]           flattened GRN fc1 on x
  at::Tensor skip_u, skip_c;  // [F, F], [F]           flattened GRN skip on x
  static VsnFolded fold(const VsnParams& p, bool fold_glu);
};

struct VsnOutput {
  at::Tensor xi;       // [N, d]
  at::Tensor weights;  // [N, F]
};

// x: [N, F] (N = batch x time); context_term: the projected static context for the flattened GRN,
// broadcastable to [N, d], or undefined.
VsnOutput variable_selection(const VsnParams& p, const VsnFolded& folded, const at::Tensor& x,
                             const at::Tensor& context_term, const Mode& m);

// Only the selection weights (the flattened GRN): [N, F].
at::Tensor vsn_weights(const VsnParams& p, const VsnFolded& folded, const at::Tensor& x, const at::Tensor& context_term,
                       const Mode& m);

}  // namespace tft::model
