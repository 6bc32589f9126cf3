// Training the model natively: minibatches of windows gathered from a feature panel, forward with outputs
// at every step, the DMN / X-Trend loss, backward, gradient-norm clipping and an Adam step. One call per
// epoch; evaluation, VSN importance and best-weights snapshots for early stopping.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/model/tft_model.h"
#include "core/train/losses.h"

namespace tft::train {

// The panel a model trains on: all tensors CPU, float32 (ids int64), shared with the caller.
struct TrainData {
  at::Tensor features;  // [A, D, F]
  at::Tensor target;    // [A, D] label at day d: volatility-scaled return from d to d+1
  at::Tensor scale;     // [A, D] sigma_target / sigma_d (optional; needed for transaction costs)
  at::Tensor entity;    // [A] asset ids (required iff the model has entities)
};

struct TrainOptions {
  double learning_rate = 1e-3;
  double weight_decay = 0.0;
  double clip_norm = 1.0;     // max global gradient norm; <= 0 disables clipping
  int64_t batch_size = 64;
  int64_t window = 0;         // T; 0 = config.seqLen
  LossOptions loss;
  uint64_t seed = 0;
};

// A window is (asset, last day); it covers days [last - T + 1, last].
struct Window {
  int64_t asset;
  int64_t last;
};

struct LayerGradient {
  std::string name;       // module path, e.g. "vsn.var_grns.fc1" (weight and bias together)
  double norm = 0;        // mean over the epoch's steps of the layer's gradient L2 norm
  double mean_abs = 0;    // mean |g| over the layer's parameters, averaged over steps
  double max_norm = 0;    // largest step norm seen
  bool vanishing = false; // mean_abs < 1e-7
  bool exploding = false; // max_norm > 1e3
};

struct EpochStats {
  double loss = 0;
  double sharpe = 0;
  double nll = 0;
  int64_t steps = 0;
  int64_t windows = 0;
  double grad_norm = 0;   // mean global norm before clipping
  double seconds = 0;
  std::vector<LayerGradient> gradients;
};

struct EvalStats {
  double loss = 0;
  double sharpe = 0;
  double nll = 0;
  int64_t windows = 0;
};

struct StepProgress {
  int64_t step, steps;
  double loss, sharpe;
  double learning_rate;
};

using ProgressFn = std::function<void(const StepProgress&)>;
using CancelFn = std::function<bool()>;

class Trainer {
 public:
  Trainer(std::shared_ptr<model::TftModel> model, TrainData data, TrainOptions options);
  ~Trainer();

  EpochStats train_epoch(const std::vector<Window>& windows, uint64_t shuffle_seed, const ProgressFn& progress,
                         const CancelFn& cancelled);
  EvalStats evaluate(const std::vector<Window>& windows);
  // Mean VSN weight per feature over the windows' steps: the selector's primary signal. [F]
  at::Tensor vsn_importance(const std::vector<Window>& windows);

  void set_learning_rate(double lr);
  double learning_rate() const { return options_.learning_rate; }
  void save_best();     // snapshot of the current weights
  void restore_best();  // back to the snapshot (early stopping)
  bool has_best() const { return !best_.empty(); }

  // Windows whose T days have finite features and finite targets (and scale, when costs are on).
  std::vector<Window> valid_windows(int64_t first_last, int64_t last_last) const;
  void check_windows(const std::vector<Window>& w) const;
  int64_t window() const { return window_; }

 private:
  model::ModelInput gather(const std::vector<Window>& w, size_t begin, size_t end, at::Tensor* target,
                           at::Tensor* scale) const;

  std::shared_ptr<model::TftModel> model_;
  TrainData data_;
  TrainOptions options_;
  int64_t window_;
  at::Tensor day_ok_cumsum_;  // [A, D+1] prefix count of invalid days
  std::unique_ptr<struct AdamState> adam_;
  std::vector<at::Tensor> best_;
};

}  // namespace tft::train
