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
  double clip_norm = 1.0;  // max global gradient norm; <= 0 disables clipping
  int64_t batch_size = 64;
  int64_t window = 0;       // T; 0 = config.seqLen
  int64_t context_len = 0;  // X-Trend context sequences' length; 0 = the window length
  LossOptions loss;
  uint64_t seed = 0;
};

// A window is (asset, last day); it covers days [last - T + 1, last].
struct Window {
  int64_t asset;
  int64_t last;
};

struct LayerGradient {
  std::string name;        // module path, e.g. "vsn.var_grns.fc1" (weight and bias together)
  double norm = 0;         // mean over the epoch's steps of the layer's gradient L2 norm
  double mean_abs = 0;     // mean |g| over the layer's parameters, averaged over steps
  double max_norm = 0;     // largest step norm seen
  bool vanishing = false;  // mean_abs < 1e-7
  bool exploding = false;  // max_norm > 1e3
};

struct EpochStats {
  double loss = 0;
  double sharpe = 0;
  double nll = 0;
  int64_t steps = 0;
  int64_t windows = 0;
  double grad_norm = 0;  // mean global norm before clipping
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

  // Windows whose T days have finite features and finite targets (and scale, when costs are on); for an
  // X-Trend model also at least one context sequence that ends before the window starts.
  std::vector<Window> valid_windows(int64_t first_last, int64_t last_last) const;
  void check_windows(const std::vector<Window>& w) const;
  int64_t window() const { return window_; }
  int64_t context_len() const { return context_len_; }
  uint64_t seed() const { return options_.seed; }

  // X-Trend context set of a target window: nContext sequences of contextLen days with finite features,
  // from any asset, each ending strictly before the target window's first day (so the context never sees
  // the target's days, let alone its labels). Drawn uniformly with replacement from those candidates by a
  // counter-based hash of (seed, asset, last day, slot): the same window gets the same context whatever the
  // batch it is in or the thread count. Training draws a fresh context every epoch (the seed mixes in the
  // shuffle seed, as X-Trend's episodic sampling); evaluation and VSN importance use a fixed one.
  std::vector<Window> context_of(const Window& target, uint64_t seed) const;
  // A context set for predictions starting at `first_day` (e.g. an out-of-sample block): nContext sequences
  // ending before that day, drawn as above with `key` in place of the window.
  std::vector<Window> sample_context(int64_t first_day, uint64_t key_a, uint64_t key_b, uint64_t seed) const;

 private:
  model::ModelInput gather(const std::vector<Window>& w, size_t begin, size_t end, at::Tensor* target,
                           at::Tensor* scale, uint64_t context_seed) const;
  // Candidates ending before day `first_day` (a prefix of context_candidates_, which is sorted by last day).
  size_t contexts_before(int64_t first_day) const;

  std::shared_ptr<model::TftModel> model_;
  TrainData data_;
  TrainOptions options_;
  int64_t window_;
  at::Tensor day_ok_cumsum_;  // [A, D+1] prefix count of invalid days
  int64_t context_len_ = 0;
  std::vector<Window> context_candidates_;  // sorted by last day
  std::unique_ptr<struct AdamState> adam_;
  std::vector<at::Tensor> best_;
};

}  // namespace tft::train
