// Feature attribution for the TFT (docs/attribution.md): gradient methods (Saliency, Input x Gradient,
// Integrated Gradients, GradientSHAP, each optionally inside a noise tunnel) and perturbation methods
// (feature ablation, feature permutation), with Captum's definitions. One call does a whole job: the
// interpolated / noisy inputs are generated here, chunked to a memory budget, and their contributions summed
// as they are computed, so memory does not grow with the number of steps or samples. Knows nothing of Node.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/tft_model.h"

namespace tft::attribution {

// What is explained: one model output at one step of each sequence.
enum class Output { Position, Mu, Sigma };
struct Target {
  Output output = Output::Position;
  int64_t step = -1;  // -1: the last step
};
Output parse_output(const std::string& s);

enum class Method { Saliency, InputXGradient, IntegratedGradients, GradientShap };
Method parse_method(const std::string& s);

// Integrated Gradients' quadrature on [0, 1], named as Captum names them.
enum class Quadrature { GaussLegendre, RiemannLeft, RiemannRight, RiemannMiddle, RiemannTrapezoid };
Quadrature parse_quadrature(const std::string& s);

struct Rule {
  std::vector<double> alphas, weights;
};
// Points and weights of a rule with n points (Riemann rules need n >= 2, as in Captum).
Rule quadrature_rule(Quadrature q, int64_t n);

enum class Smoothing { None, SmoothGrad, SmoothGradSq, VarGrad };
Smoothing parse_smoothing(const std::string& s);

struct NoiseTunnel {
  Smoothing type = Smoothing::None;
  int64_t samples = 5;
  double stdev = 1.0;
  // Integrated Gradients inside a tunnel: each noisy copy takes a random row of the baselines.
  bool draw_baseline_per_noise = false;
};

// Random draws passed in rather than drawn (to reproduce another implementation's draws exactly). With B
// inputs, P tunnel samples (1 without a tunnel) and S GradientSHAP samples, rows are ordered input-major:
// tunnel copy q = b * P + p, GradientSHAP row r = q * S + s. Undefined tensors are drawn from the seed.
struct Draws {
  at::Tensor noise;            // [B*P, T, F] the tunnel's noise (already scaled by its stdev)
  at::Tensor tunnel_baseline;  // [B*P] int64 baseline rows of the tunnel copies
  at::Tensor shap_noise;       // [B*P*S, T, F] GradientSHAP's noise (scaled)
  at::Tensor shap_alpha;       // [B*P*S] its interpolation coefficients in [0, 1]
  at::Tensor shap_baseline;    // [B*P*S] int64 its baseline rows
};

struct GradientRequest {
  Method method = Method::IntegratedGradients;
  Target target;
  bool abs = true;  // Saliency: |gradient|
  int64_t n_steps = 50;
  Quadrature quadrature = Quadrature::GaussLegendre;
  int64_t shap_samples = 5;
  double shap_stdev = 0.0;
  NoiseTunnel tunnel;
  // [T, F] or [1, T, F] shared by every input, [B, T, F] one per input, or [K, T, F] a distribution
  // (GradientSHAP, and tunnel copies that draw a baseline). Undefined: zeros.
  at::Tensor baselines;
  bool gaussian_baselines = false;  // baselines drawn N(0, 1) per input from the seed
  uint64_t seed = 0;
  Draws draws;
  int64_t chunk_rows = 0;  // rows per forward/backward pass; 0: chosen from a memory budget
  // X-Trend models: attribute to the context sequences too, as a second input of the explained function
  // (Saliency, Input x Gradient and Integrated Gradients, no tunnel). IG then integrates along the path from
  // (x', c') to (x, c), so completeness covers both inputs.
  bool context_attributions = false;
  at::Tensor context_baselines;  // [1 or B, C, Tc, F]; undefined: zeros
};

struct Result {
  at::Tensor attributions;          // [B, T, F] float32
  at::Tensor delta;                 // [B] IG (no tunnel), DeepLift: sum(attributions) - (F(x) - F(baseline))
  at::Tensor outputs;               // [B] the explained output at the input
  at::Tensor context_attributions;  // [B, C, Tc, F] when asked
};

// Throws tft::Error for bad requests (naming the argument); `in` is validated like a prediction input.
Result gradient_attribution(model::TftModel& model, const model::ModelInput& in, const GradientRequest& request);

// DeepLift with the rescale rule for every elementwise nonlinearity and the product rule for products of
// activations (core/model/nonlinear.h), so that completeness holds: sum(attributions) = F(x) - F(x').
// DeepLiftShap explains each input against every row of a baseline distribution and averages.
struct DeepLiftRequest {
  Target target;
  bool shap = false;
  // DeepLift: [T, F] or [1, T, F] shared, or [B, T, F] one per input; DeepLiftShap: [K, T, F], K >= 1.
  // Undefined: zeros.
  at::Tensor baselines;
  bool gaussian_baselines = false;  // DeepLift: baselines drawn N(0, 1) per input from the seed
  uint64_t seed = 0;
  int64_t chunk_rows = 0;  // (input, baseline) pairs per pass; 0: chosen from a memory budget
  // X-Trend models: attribute to the context sequences too (reference: context_baselines, zeros when
  // undefined). Without it the context is held at its value, so it takes no part in F(x) - F(x').
  bool context_attributions = false;
  at::Tensor context_baselines;  // [1 or B, C, Tc, F]
};

// Result.delta: sum(attributions) - (F(x) - mean over baselines of F(x')), [B].
Result deeplift_attribution(model::TftModel& model, const model::ModelInput& in, const DeepLiftRequest& request);

struct PerturbationRequest {
  bool permutation = false;  // false: ablation (replace by the baseline); true: permute across the batch
  Target target;
  at::Tensor groups;     // [T, F] int64 group ids 0..G-1; undefined: one group per feature (every step)
  at::Tensor baselines;  // ablation: as GradientRequest (shared or per input); undefined: zeros
  uint64_t seed = 0;
  at::Tensor permutations;  // [G, B] int64 permutations of the batch per group; undefined: drawn from the seed
};

Result perturbation_attribution(model::TftModel& model, const model::ModelInput& in,
                                const PerturbationRequest& request);

}  // namespace tft::attribution
