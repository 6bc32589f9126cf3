// The TFT / X-Trend model (docs/model.md): the forward pass for prediction and training, batched and rolling
// prediction, and the state dict. Knows nothing of Node.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/model/blocks.h"
#include "core/model/config.h"
#include "core/model/dense_kernel.h"
#include "core/model/parameters.h"

namespace tft::model {

enum class NanPolicy { Error, Zero };
NanPolicy parse_nan_policy(const std::string& s);

struct ModelInput {
  at::Tensor x;               // [B, T, F] float32
  at::Tensor entity;          // [B] int64, required iff nEntities > 0
  at::Tensor context;         // [B, C, Tc, F], required iff nContext > 0
  at::Tensor context_entity;  // [B, C], required iff nContext > 0 and nEntities > 0
};

struct ForwardOptions {
  bool all_steps = false;        // outputs for every step instead of the last
  bool vsn_weights = false;      // return the VSN weights [B, T, F]
  bool attention = false;        // return self-attention weights, heads averaged
  bool training = false;         // dropout on, autograd through the parameters
  bool input_gradients = false;  // eval semantics, differentiable in the inputs (attribution); not with training
  // DeepLift: the batch is [inputs; baselines] (entities and contexts stacked alike) and the gradient of an
  // output of the inputs' half is DeepLift's multiplier (core/model/nonlinear.h); implies input_gradients.
  bool deeplift = false;
  DropoutRng* rng = nullptr;  // training: the dropout mask stream (null: libtorch's generator)
};

struct ForwardOutput {
  at::Tensor position, mu, sigma;  // [B] (last step) or [B, T]
  at::Tensor vsn_weights;          // [B, T, F] when asked
  at::Tensor attention;            // [B, T] (last step's query) or [B, T, T] when asked
};

struct BatchOptions {
  ForwardOptions forward;
  NanPolicy nan_policy = NanPolicy::Error;
  int64_t chunk_size = 0;  // sequences per chunk; 0 = chosen from a memory budget
};

struct RollingOptions {
  int64_t window = 0;  // T; 0 = config.seqLen
  NanPolicy nan_policy = NanPolicy::Error;
  bool skip_non_finite = false;  // windows containing NaN/Inf give NaN outputs instead of an error
  bool vsn_weights = false;      // per (asset, day) VSN weights [A, D, F] (they do not depend on the window)
  at::Tensor context;            // optional shared context set [C, Tc, F] for X-Trend models
  at::Tensor context_entity;     // [C]
  int64_t chunk_windows = 0;     // windows per chunk; 0 = chosen from a memory budget
};

struct RollingOutput {
  at::Tensor position, mu, sigma;  // [A, D]; NaN where no full window ends (d < T-1) or skipped
  at::Tensor vsn_weights;          // [A, D, F] when asked
};

class TftModel {
 public:
  explicit TftModel(const TftConfig& config, const at::Device& device = at::kCPU);

  const TftConfig& config() const { return config_; }
  const at::Device& device() const { return device_; }
  ParameterStore& parameters() { return params_; }
  const ParameterStore& parameters() const { return params_; }

  // Validates shapes, ranges and finiteness of an input (naming the argument) and moves it to the device.
  ModelInput prepare(const ModelInput& in, NanPolicy policy) const;

  ForwardOutput forward(const ModelInput& in, const ForwardOptions& opt);
  ForwardOutput predict_batch(const ModelInput& in, const BatchOptions& opt);
  RollingOutput predict_rolling(const at::Tensor& panel, const at::Tensor& entity, const RollingOptions& opt);

  // Marks the parameter values as changed (after an optimiser step or a load): folded weights are rebuilt.
  void parameters_changed() { params_.bump_version(); }

 private:
  struct Statics {
    at::Tensor vsn_ctx, h, c, enrich_ctx;  // projected contexts / LSTM state, [B, d]; undefined without entities
  };
  struct Encoded {
    at::Tensor gated;    // [B, T, d] after the post-LSTM gate
    at::Tensor weights;  // [B, T, F]
  };

  void bind();
  const VsnFolded& folded(bool training);
  const VsnFolded& folded_for(const Mode& m);
  Statics statics(const at::Tensor& entity, const Mode& m);
  at::Tensor lstm(const at::Tensor& xi, const Statics& s, const Mode& m);
  at::Tensor lstm_deeplift(const at::Tensor& xi, const Statics& s, const Mode& m);
  // Inference LSTM over n sequences of T steps whose first-layer input projection is given per step.
  at::Tensor lstm_projected(const std::function<at::Tensor(int64_t)>& layer0_input, int64_t n, int64_t T,
                            const Statics& s, const Mode& m);
  std::vector<at::Tensor> lstm_biases_;  // b_ih + b_hh per layer, inference cache (same version as dense_cache_)
  uint64_t lstm_biases_version_ = ~uint64_t{0};
  at::Tensor layer0_projection(const at::Tensor& xi_rows, const Mode& m);  // [rows, d] -> [rows, 4d]
  // The forward pass under a given mode; reads the model's caches, never builds them (thread-safe once
  // inference_mode() and folded(false) have run).
  ForwardOutput run_forward(const ModelInput& in, const ForwardOptions& opt, const Mode& m);
  Encoded encode(const at::Tensor& x, const Statics& s, const Mode& m);
  ForwardOutput decode(const at::Tensor& gated, const Statics& s, const at::Tensor& kappa, const ForwardOptions& opt,
                       const Mode& m);
  at::Tensor context_keys(const at::Tensor& context, const at::Tensor& context_entity, const Mode& m);
  int64_t default_chunk(int64_t T) const;
  // Sequences per thread from which a CPU batch runs its chunks concurrently.
  static constexpr int64_t kMinChunkParallel = 8;
  int64_t rolling_chunk(int64_t requested, int64_t W, int64_t T, int64_t threads, bool cpu) const;

  TftConfig config_;
  at::Device device_;
  ParameterStore params_;

  // Bound views of params_ (same storage).
  GrnParams static_vsn_, static_h_, static_c_, static_enrich_, enrichment_, positionwise_;
  VsnParams vsn_;
  GateParams post_lstm_, context_self_gate_, cross_gate_, attention_gate_, pre_output_;
  MhaParams context_self_mha_, cross_mha_, self_mha_;
  at::Tensor entity_emb_, pos_w_, pos_b_, mu_w_, mu_b_, sigma_w_, sigma_b_;
  std::vector<at::Tensor> lstm_params_;

  // Transposed weights for the row-deterministic dense kernel (inference).
  DenseCache dense_cache_;
  Mode inference_mode();

  // Inference cache of the folded VSN weights, keyed by the parameter version.
  VsnFolded folded_cache_;
  uint64_t folded_version_ = ~uint64_t{0};
  // The same folding as ordinary tensors (inference tensors cannot enter an autograd graph), for
  // input-gradient passes; constants of the graph, keyed by the parameter version.
  VsnFolded grad_folded_cache_;
  uint64_t grad_folded_version_ = ~uint64_t{0};
};

}  // namespace tft::model
