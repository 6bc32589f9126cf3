// Where the golden fixtures live, and the model config stored in a fixture's safetensors metadata (written
// by reference/fixtures/*.py, so these tests need no JSON parser).
#pragma once

#include <cstdlib>
#include <map>
#include <string>

#include "core/model/config.h"

namespace tft::test {

inline std::string fixtures_dir() {
  if (const char* d = std::getenv("TFT_FIXTURES")) return d;
  return "test/fixtures";
}

inline model::TftConfig config_from_metadata(const std::map<std::string, std::string>& meta) {
  auto num = [&](const char* k) { return std::stod(meta.at(k)); };
  model::TftConfig c;
  c.n_features = static_cast<int64_t>(num("nFeatures"));
  c.d_hidden = static_cast<int64_t>(num("dHidden"));
  c.n_heads = static_cast<int64_t>(num("nHeads"));
  c.lstm_layers = static_cast<int64_t>(num("lstmLayers"));
  c.dropout = num("dropout");
  c.seq_len = static_cast<int64_t>(num("seqLen"));
  c.n_context = static_cast<int64_t>(num("nContext"));
  c.max_position = num("maxPosition");
  c.n_entities = static_cast<int64_t>(num("nEntities"));
  c.seed = static_cast<uint64_t>(num("seed"));
  return c;
}

}  // namespace tft::test
