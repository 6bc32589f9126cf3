#include "core/model/config.h"

#include <cmath>

#include "core/error.h"

namespace tft::model {

void validate(const TftConfig& c) {
  auto require = [](bool ok, const char* field, const std::string& what) {
    if (!ok) fail(ErrorCode::InvalidArgument, std::string("config.") + field, what);
  };
  require(c.n_features >= 1, "nFeatures", "must be >= 1, got " + std::to_string(c.n_features));
  require(c.d_hidden >= 1 && c.d_hidden <= 4096, "dHidden", "must be in [1, 4096], got " + std::to_string(c.d_hidden));
  require(c.n_heads >= 1, "nHeads", "must be >= 1, got " + std::to_string(c.n_heads));
  require(
      c.d_hidden % c.n_heads == 0, "nHeads",
      "dHidden (" + std::to_string(c.d_hidden) + ") must be divisible by nHeads (" + std::to_string(c.n_heads) + ")");
  require(c.lstm_layers >= 1 && c.lstm_layers <= 16, "lstmLayers",
          "must be in [1, 16], got " + std::to_string(c.lstm_layers));
  require(std::isfinite(c.dropout) && c.dropout >= 0 && c.dropout < 1, "dropout",
          "must be in [0, 1), got " + std::to_string(c.dropout));
  require(c.seq_len >= 1, "seqLen", "must be >= 1, got " + std::to_string(c.seq_len));
  require(c.n_context >= 0, "nContext", "must be >= 0, got " + std::to_string(c.n_context));
  require(std::isfinite(c.max_position) && c.max_position > 0, "maxPosition",
          "must be > 0, got " + std::to_string(c.max_position));
  require(c.n_entities >= 0, "nEntities", "must be >= 0, got " + std::to_string(c.n_entities));
  // The flattened VSN input is F*d wide; keep the weight matrices within a sane size.
  require(c.n_features * c.d_hidden <= (int64_t{1} << 24), "nFeatures", "nFeatures * dHidden must be <= 16,777,216");
}

}  // namespace tft::model
