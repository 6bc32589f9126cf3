// The explained output and the per-row model inputs shared by the gradient and perturbation methods.
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "core/attribution/attribution.h"

namespace tft::attribution {

// Refuses a step outside [0, T) (or -1, the last).
void check_target(const Target& t, int64_t T);

// Whether the forward pass must produce every step (the target is not the last one).
bool needs_all_steps(const Target& t, int64_t T);

// The target output of a forward pass, [n].
at::Tensor target_of(const model::ForwardOutput& out, const Target& t);

// The model input for rows of `x` whose sequence b[i] supplies entity ids and context sets.
model::ModelInput rows_of(const model::ModelInput& in, const at::Tensor& b, const at::Tensor& x);

// Baselines as [K, T, F] on the model's device: `given` ([T, F] or [rows, T, F]) checked (shape, one row
// or one per input unless `distribution`, finite), N(0, 1) rows per input drawn from the seed when
// `gaussian`, zeros [1, T, F] when neither. `shapes` and `rows_hint` complete the error messages.
at::Tensor resolve_baselines(const at::Tensor& given, bool gaussian, uint64_t seed, bool distribution, int64_t B,
                             int64_t T, int64_t F, const at::TensorOptions& opts, const std::string& shapes,
                             const std::string& rows_hint = "");

// The reference of the context sequences when they are attributed: `given` ([1 or B, C, Tc, F]) checked
// against the input's context set, or zeros; refuses a model without a context set.
at::Tensor context_baselines_for(const model::ModelInput& in, const at::Tensor& given, int64_t B);

// F(x) for x [B, T, F] with the inputs' own entities and context sets, on the fast inference path, [B].
at::Tensor explained_outputs(model::TftModel& model, const model::ModelInput& in, const at::Tensor& x, const Target& t);

}  // namespace tft::attribution
