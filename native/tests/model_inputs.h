// Seeded random model inputs for the C++ tests: x, and entity ids and context sets when the model has them.
#pragma once

#include <ATen/ATen.h>

#include "core/model/tft_model.h"

namespace tft::test {

inline model::ModelInput random_input(const model::TftModel& m, int64_t B, uint64_t seed = 1, int64_t context_len = 4) {
  at::manual_seed(seed);
  const model::TftConfig& c = m.config();
  model::ModelInput in;
  in.x = at::randn({B, c.seq_len, c.n_features});
  if (c.n_entities) in.entity = at::randint(c.n_entities, {B}, at::kLong);
  if (c.n_context) in.context = at::randn({B, c.n_context, context_len, c.n_features});
  if (c.n_context && c.n_entities) in.context_entity = at::randint(c.n_entities, {B, c.n_context}, at::kLong);
  return in;
}

}  // namespace tft::test
