// The model's hyperparameters: everything the seeds' HP search tunes about the architecture.
#pragma once

#include <cstdint>
#include <string>

namespace tft::model {

struct TftConfig {
  int64_t n_features = 0;  // F: input features per time step
  int64_t d_hidden = 64;   // d: width of every hidden layer
  int64_t n_heads = 4;     // attention heads (d must be divisible by it)
  int64_t lstm_layers = 1;
  double dropout = 0.1;       // used only in training
  int64_t seq_len = 63;       // default window length T (any T >= 1 is accepted at prediction)
  int64_t n_context = 0;      // X-Trend context sequences per target (0 = plain TFT)
  double max_position = 1.0;  // position head: maxPosition * tanh(.)
  int64_t n_entities = 0;     // asset embedding table size (0 = no entity embedding)
  uint64_t seed = 0;          // initial weights
};

// Throws tft::Error(InvalidArgument) naming the offending field.
void validate(const TftConfig& c);

}  // namespace tft::model
