#include "core/train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <numeric>
#include <random>

#include "core/error.h"
#include "core/runtime.h"

namespace tft::train {

struct AdamState {
  std::unique_ptr<torch::optim::Adam> optimizer;
};

namespace {

std::string layer_of(const std::string& param) {
  const auto dot = param.rfind('.');
  std::string base = dot == std::string::npos ? param : param.substr(0, dot);
  // LSTM tensors are named weight_ih_l0 etc.: group them by layer.
  if (param.rfind("lstm.", 0) == 0) {
    const auto l = param.rfind("_l");
    return "lstm.l" + param.substr(l + 2);
  }
  return base;
}

void seed_dropout(uint64_t seed) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(seed);
}

}  // namespace

Trainer::Trainer(std::shared_ptr<model::TftModel> model, TrainData data, TrainOptions options)
    : model_(std::move(model)), data_(std::move(data)), options_(options) {
  const auto& c = model_->config();
  window_ = options_.window > 0 ? options_.window : c.seq_len;
  if (!data_.features.defined() || data_.features.dim() != 3 || data_.features.size(2) != c.n_features)
    fail(ErrorCode::Shape, "features", "must be [assets, days, nFeatures = " + std::to_string(c.n_features) + "]");
  const int64_t A = data_.features.size(0), D = data_.features.size(1);
  if (!data_.target.defined() || data_.target.sizes() != at::IntArrayRef({A, D}))
    fail(ErrorCode::Shape, "target", "must be [assets, days] = [" + std::to_string(A) + ", " + std::to_string(D) + "]");
  if (data_.scale.defined() && data_.scale.sizes() != at::IntArrayRef({A, D}))
    fail(ErrorCode::Shape, "scale", "must be [assets, days]");
  if (c.n_entities > 0) {
    if (!data_.entity.defined() || data_.entity.numel() != A)
      fail(ErrorCode::InvalidArgument, "entityIds", "the model has entities: pass one id per asset");
    if (A > 0 && (data_.entity.min().item<int64_t>() < 0 || data_.entity.max().item<int64_t>() >= c.n_entities))
      fail(ErrorCode::OutOfRange, "entityIds", "ids must be in [0, nEntities)");
    data_.entity = data_.entity.to(at::kLong);  // once, not per batch
  }
  if (options_.batch_size < 1) fail(ErrorCode::InvalidArgument, "batchSize", "must be >= 1");
  if (!(options_.learning_rate > 0)) fail(ErrorCode::InvalidArgument, "learningRate", "must be > 0");
  if (options_.loss.warmup < 0 || options_.loss.warmup >= window_)
    fail(ErrorCode::InvalidArgument, "warmupSteps", "must be in [0, window)");
  at::Tensor bad = at::logical_not(at::isfinite(data_.features).all(-1)) | at::logical_not(at::isfinite(data_.target));
  if (options_.loss.cost_bps > 0 && data_.scale.defined()) bad = bad | at::logical_not(at::isfinite(data_.scale));
  day_ok_cumsum_ = at::cat({at::zeros({A, 1}, at::kLong), bad.to(at::kLong).cumsum(1)}, 1);
  if (c.n_context > 0) {
    if (options_.context_len < 0)
      fail(ErrorCode::InvalidArgument, "contextLen", "must be >= 1 (or 0 for the window length)");
    context_len_ = options_.context_len > 0 ? options_.context_len : window_;
    if (context_len_ > D) fail(ErrorCode::InvalidArgument, "contextLen", "is longer than the panel");
    // Context sequences carry features only, so only their features must be finite.
    const at::Tensor feat_bad = at::logical_not(at::isfinite(data_.features).all(-1)).to(at::kLong);
    const at::Tensor cs = at::cat({at::zeros({A, 1}, at::kLong), feat_bad.cumsum(1)}, 1).contiguous();
    const auto acc = cs.accessor<int64_t, 2>();
    const int64_t L = context_len_;
    for (int64_t t = L - 1; t < D; ++t)  // days outer: the list comes out sorted by last day
      for (int64_t a = 0; a < A; ++a)
        if (acc[a][t + 1] - acc[a][t + 1 - L] == 0) context_candidates_.push_back({a, t});
  } else if (options_.context_len != 0) {
    fail(ErrorCode::InvalidArgument, "contextLen", "this model has no context set (config.nContext = 0)");
  }

  model_->parameters().set_requires_grad(true);
  std::vector<at::Tensor> params(model_->parameters().tensors().begin(), model_->parameters().tensors().end());
  adam_ = std::make_unique<AdamState>();
  adam_->optimizer = std::make_unique<torch::optim::Adam>(
      params, torch::optim::AdamOptions(options_.learning_rate).weight_decay(options_.weight_decay));
}

Trainer::~Trainer() = default;

size_t Trainer::contexts_before(int64_t first_day) const {
  return static_cast<size_t>(std::lower_bound(context_candidates_.begin(), context_candidates_.end(), first_day,
                                              [](const Window& w, int64_t d) { return w.last < d; }) -
                             context_candidates_.begin());
}

std::vector<Window> Trainer::context_of(const Window& target, uint64_t seed) const {
  return sample_context(target.last - window_ + 1, static_cast<uint64_t>(target.asset),
                        static_cast<uint64_t>(target.last), seed);
}

std::vector<Window> Trainer::sample_context(int64_t first_day, uint64_t key_a, uint64_t key_b, uint64_t seed) const {
  const int64_t C = model_->config().n_context;
  if (C == 0) fail(ErrorCode::InvalidArgument, "context", "this model has no context set (config.nContext = 0)");
  const size_t n = contexts_before(first_day);
  if (n == 0)
    fail(ErrorCode::InvalidArgument, "windows",
         "no context sequence of " + std::to_string(context_len_) + " days with finite features ends before day " +
             std::to_string(first_day));
  std::vector<Window> out(static_cast<size_t>(C));
  for (int64_t k = 0; k < C; ++k) {
    // splitmix64 of the (seed, key, slot) counter: independent of batching and threads.
    uint64_t z = seed ^ (key_a * 0x9E3779B97F4A7C15ull) ^ (key_b * 0xC2B2AE3D27D4EB4Full) ^
                 (static_cast<uint64_t>(k + 1) * 0x165667B19E3779F9ull);
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    out[static_cast<size_t>(k)] = context_candidates_[static_cast<size_t>(z % n)];
  }
  return out;
}

std::vector<Window> Trainer::valid_windows(int64_t first_last, int64_t last_last) const {
  std::vector<Window> out;
  const int64_t A = data_.features.size(0), D = data_.features.size(1), T = window_;
  const bool needs_context = model_->config().n_context > 0;
  const auto cs = day_ok_cumsum_.accessor<int64_t, 2>();
  for (int64_t a = 0; a < A; ++a)
    for (int64_t t = std::max(first_last, T - 1); t <= std::min(last_last, D - 1); ++t)
      if (cs[a][t + 1] - cs[a][t + 1 - T] == 0 && (!needs_context || contexts_before(t - T + 1) > 0))
        out.push_back({a, t});
  return out;
}

void Trainer::check_windows(const std::vector<Window>& w) const {
  const int64_t A = data_.features.size(0), D = data_.features.size(1), T = window_;
  const auto cs = day_ok_cumsum_.accessor<int64_t, 2>();
  for (size_t i = 0; i < w.size(); ++i) {
    if (w[i].asset < 0 || w[i].asset >= A || w[i].last < T - 1 || w[i].last >= D)
      fail(ErrorCode::OutOfRange, "windows",
           "window " + std::to_string(i) + " (asset " + std::to_string(w[i].asset) + ", last day " +
               std::to_string(w[i].last) + ") is outside the panel");
    if (cs[w[i].asset][w[i].last + 1] - cs[w[i].asset][w[i].last + 1 - T] != 0)
      fail(ErrorCode::NonFinite, "windows",
           "window " + std::to_string(i) + " (asset " + std::to_string(w[i].asset) + ", last day " +
               std::to_string(w[i].last) + ") contains a non-finite feature or target");
    if (model_->config().n_context > 0 && contexts_before(w[i].last - T + 1) == 0)
      fail(ErrorCode::InvalidArgument, "windows",
           "window " + std::to_string(i) + " (asset " + std::to_string(w[i].asset) + ", last day " +
               std::to_string(w[i].last) + ") has no context sequence ending before it starts");
  }
}

model::ModelInput Trainer::gather(const std::vector<Window>& w, size_t begin, size_t end, at::Tensor* target,
                                  at::Tensor* scale, uint64_t context_seed) const {
  const int64_t n = static_cast<int64_t>(end - begin), T = window_, D = data_.features.size(1);
  std::vector<int64_t> rows(static_cast<size_t>(n * T));
  std::vector<int64_t> assets(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const Window& win = w[begin + i];
    assets[i] = win.asset;
    for (int64_t t = 0; t < T; ++t) rows[i * T + t] = win.asset * D + win.last - T + 1 + t;
  }
  const at::Tensor idx = at::from_blob(rows.data(), {n * T}, at::kLong).clone();
  // The panel stays in host memory; each batch moves to the model's device (a no-op on CPU).
  const at::Device dev = model_->device();
  model::ModelInput in;
  in.x = data_.features.view({-1, data_.features.size(2)}).index_select(0, idx).view({n, T, -1}).to(dev);
  if (target) *target = data_.target.view({-1}).index_select(0, idx).view({n, T}).to(dev);
  if (scale && data_.scale.defined()) *scale = data_.scale.view({-1}).index_select(0, idx).view({n, T}).to(dev);
  if (data_.entity.defined() && model_->config().n_entities > 0)
    in.entity = data_.entity.index_select(0, at::from_blob(assets.data(), {n}, at::kLong).clone()).to(dev);
  const int64_t C = model_->config().n_context;
  if (C > 0) {
    const int64_t L = context_len_;
    std::vector<int64_t> crow(static_cast<size_t>(n * C * L)), cass(static_cast<size_t>(n * C));
    for (int64_t i = 0; i < n; ++i) {
      const std::vector<Window> ctx = context_of(w[begin + i], context_seed);
      for (int64_t k = 0; k < C; ++k) {
        const Window& cw = ctx[static_cast<size_t>(k)];
        cass[static_cast<size_t>(i * C + k)] = cw.asset;
        for (int64_t t = 0; t < L; ++t)
          crow[static_cast<size_t>((i * C + k) * L + t)] = cw.asset * D + cw.last - L + 1 + t;
      }
    }
    const at::Tensor cidx = at::from_blob(crow.data(), {n * C * L}, at::kLong).clone();
    in.context = data_.features.view({-1, data_.features.size(2)}).index_select(0, cidx).view({n, C, L, -1}).to(dev);
    if (data_.entity.defined() && model_->config().n_entities > 0)
      in.context_entity =
          data_.entity.index_select(0, at::from_blob(cass.data(), {n * C}, at::kLong).clone()).view({n, C}).to(dev);
  }
  return in;
}

EpochStats Trainer::train_epoch(const std::vector<Window>& windows, uint64_t shuffle_seed, const ProgressFn& progress,
                                const CancelFn& cancelled) {
  apply_thread_setting();
  check_windows(windows);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<Window> order = windows;
  std::mt19937_64 rng(shuffle_seed);
  std::shuffle(order.begin(), order.end(), rng);
  seed_dropout(options_.seed ^ (shuffle_seed * 0x9E3779B97F4A7C15ull));

  const auto& specs = model_->parameters().specs();
  const auto& params = model_->parameters().tensors();
  std::map<std::string, LayerGradient> layers;
  std::map<std::string, int64_t> layer_size;
  for (size_t i = 0; i < specs.size(); ++i) layer_size[layer_of(specs[i].name)] += params[i].numel();

  EpochStats st;
  const int64_t B = options_.batch_size;
  const int64_t steps = (static_cast<int64_t>(order.size()) + B - 1) / B;
  model::ForwardOptions fo;
  fo.all_steps = true;
  fo.training = true;
  model::DropoutRng dropout_rng{options_.seed ^ (shuffle_seed * 0x9E3779B97F4A7C15ull), 0};
  const uint64_t epoch_context_seed = options_.seed ^ (shuffle_seed * 0xD1B54A32D192ED03ull) ^ 0x5851F42D4C957F2Dull;
  fo.rng = &dropout_rng;
  for (int64_t s = 0; s < steps; ++s) {
    if (cancelled && cancelled()) throw Error(ErrorCode::Cancelled, "training was cancelled", "signal");
    const size_t b0 = static_cast<size_t>(s * B), b1 = std::min(order.size(), b0 + static_cast<size_t>(B));
    LossInputs li;
    const model::ModelInput in = gather(order, b0, b1, &li.target, &li.scale, epoch_context_seed);
    const model::ForwardOutput out = model_->forward(in, fo);
    li.position = out.position;
    li.mu = out.mu;
    li.sigma = out.sigma;
    const LossValue loss = compute_loss(li, options_.loss);
    adam_->optimizer->zero_grad();
    loss.total.backward();
    // Gradient flow, before clipping: what the layers actually produced.
    double total_sq = 0;
    std::map<std::string, double> sq, abs_sum;
    for (size_t i = 0; i < specs.size(); ++i) {
      const at::Tensor& g = params[i].grad();
      if (!g.defined()) continue;
      const std::string layer = layer_of(specs[i].name);
      const double n2 = g.pow(2).sum().item<double>();
      sq[layer] += n2;
      abs_sum[layer] += g.abs().sum().item<double>();
      total_sq += n2;
    }
    for (const auto& [layer, v] : sq) {
      LayerGradient& lg = layers[layer];
      lg.name = layer;
      const double norm = std::sqrt(v);
      lg.norm += norm;
      lg.mean_abs += abs_sum[layer] / static_cast<double>(layer_size[layer]);
      lg.max_norm = std::max(lg.max_norm, norm);
    }
    st.grad_norm += std::sqrt(total_sq);
    // As torch.nn.utils.clip_grad_norm_: scale every gradient by max_norm / (total_norm + 1e-6) when above.
    const double total_norm = std::sqrt(total_sq);
    if (options_.clip_norm > 0 && total_norm > options_.clip_norm) {
      at::NoGradGuard no_grad;
      const double coef = options_.clip_norm / (total_norm + 1e-6);
      for (const auto& p : params)
        if (p.grad().defined()) p.grad().mul_(coef);
    }
    adam_->optimizer->step();
    model_->parameters_changed();
    const double l = loss.total.item<double>();
    st.loss += l * static_cast<double>(b1 - b0);
    st.sharpe += loss.sharpe * static_cast<double>(b1 - b0);
    st.nll += loss.nll * static_cast<double>(b1 - b0);
    st.windows += static_cast<int64_t>(b1 - b0);
    ++st.steps;
    if (progress) progress({s + 1, steps, l, loss.sharpe, options_.learning_rate});
  }
  if (st.windows > 0) {
    st.loss /= static_cast<double>(st.windows);
    st.sharpe /= static_cast<double>(st.windows);
    st.nll /= static_cast<double>(st.windows);
    st.grad_norm /= static_cast<double>(st.steps);
  }
  for (auto& [name, lg] : layers) {
    lg.norm /= static_cast<double>(st.steps);
    lg.mean_abs /= static_cast<double>(st.steps);
    lg.vanishing = lg.mean_abs < 1e-7;
    lg.exploding = lg.max_norm > 1e3;
    st.gradients.push_back(lg);
  }
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return st;
}

EvalStats Trainer::evaluate(const std::vector<Window>& windows) {
  apply_thread_setting();
  check_windows(windows);
  c10::InferenceMode guard;
  EvalStats st;
  if (windows.empty()) return st;
  // The loss over the whole set (not an average of batch losses): Sharpe is not additive over batches.
  std::vector<at::Tensor> pos, mu, sigma, target, scale;
  const size_t B = static_cast<size_t>(std::max<int64_t>(options_.batch_size, 256));
  model::ForwardOptions fo;
  fo.all_steps = true;
  for (size_t b0 = 0; b0 < windows.size(); b0 += B) {
    const size_t b1 = std::min(windows.size(), b0 + B);
    at::Tensor t, sc;
    const model::ModelInput in = gather(windows, b0, b1, &t, &sc, options_.seed);
    const model::ForwardOutput out = model_->forward(in, fo);
    pos.push_back(out.position);
    mu.push_back(out.mu);
    sigma.push_back(out.sigma);
    target.push_back(t);
    if (sc.defined()) scale.push_back(sc);
  }
  LossInputs li;
  li.position = at::cat(pos);
  li.mu = at::cat(mu);
  li.sigma = at::cat(sigma);
  li.target = at::cat(target);
  if (!scale.empty()) li.scale = at::cat(scale);
  const LossValue v = compute_loss(li, options_.loss);
  st.loss = v.total.item<double>();
  st.sharpe = v.sharpe;
  st.nll = v.nll;
  st.windows = static_cast<int64_t>(windows.size());
  return st;
}

at::Tensor Trainer::vsn_importance(const std::vector<Window>& windows) {
  apply_thread_setting();
  check_windows(windows);
  c10::InferenceMode guard;
  const int64_t F = model_->config().n_features;
  at::Tensor sum = at::zeros({F}, at::kDouble);
  int64_t count = 0;
  model::ForwardOptions fo;
  fo.vsn_weights = true;
  const size_t B = 256;
  for (size_t b0 = 0; b0 < windows.size(); b0 += B) {
    const size_t b1 = std::min(windows.size(), b0 + B);
    const model::ModelInput in = gather(windows, b0, b1, nullptr, nullptr, options_.seed);
    const model::ForwardOutput out = model_->forward(in, fo);
    sum += out.vsn_weights.to(at::kCPU).to(at::kDouble).sum(at::IntArrayRef{0, 1});
    count += out.vsn_weights.size(0) * out.vsn_weights.size(1);
  }
  return count > 0 ? sum / static_cast<double>(count) : sum;
}

void Trainer::set_learning_rate(double lr) {
  if (!(lr > 0)) fail(ErrorCode::InvalidArgument, "learningRate", "must be > 0");
  options_.learning_rate = lr;
  for (auto& group : adam_->optimizer->param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

void Trainer::save_best() {
  at::NoGradGuard no_grad;
  best_.clear();
  for (const auto& t : model_->parameters().tensors()) best_.push_back(t.detach().clone());
}

void Trainer::restore_best() {
  if (best_.empty()) fail(ErrorCode::InvalidArgument, "restoreBest", "no best weights were saved");
  at::NoGradGuard no_grad;
  const auto& params = model_->parameters().tensors();
  for (size_t i = 0; i < params.size(); ++i) params[i].detach().copy_(best_[i]);
  model_->parameters_changed();
}

}  // namespace tft::train
