#include "core/model/tft_model.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/model/lstm_kernel.h"
#include "core/model/nonlinear.h"
#include "core/runtime.h"

namespace tft::model {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Working-set budget for one chunk of the VSN: about six [F, N, d] float tensors live at once.
constexpr int64_t kChunkBytes = int64_t{128} << 20;

// Finds the first non-finite element (row-major) and throws naming it.
void require_finite(const at::Tensor& t, const char* arg, const char* dims) {
  const at::Tensor bad = at::logical_not(at::isfinite(t));
  if (!bad.any().item<bool>()) return;
  const at::Tensor where = bad.reshape({-1}).nonzero();
  int64_t flat = where[0][0].item<int64_t>();
  std::vector<int64_t> index(t.dim());
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    index[d] = flat % t.size(d);
    flat /= t.size(d);
  }
  std::string s = "[";
  for (size_t i = 0; i < index.size(); ++i) s += (i ? ", " : "") + std::to_string(index[i]);
  s += "]";
  fail(ErrorCode::NonFinite, arg,
       std::string("contains NaN or Inf at ") + dims + " = " + s +
           " (pass nanPolicy: 'zero' to treat non-finite inputs as 0)");
}

void require_ids(const at::Tensor& ids, int64_t n, const char* arg) {
  if (ids.numel() == 0) return;
  const int64_t lo = ids.min().item<int64_t>(), hi = ids.max().item<int64_t>();
  if (lo < 0 || hi >= n) {
    const int64_t bad = lo < 0 ? lo : hi;
    fail(ErrorCode::OutOfRange, arg,
         "entity id " + std::to_string(bad) + " is outside [0, " + std::to_string(n) + ") (config.nEntities)");
  }
}

}  // namespace

NanPolicy parse_nan_policy(const std::string& s) {
  if (s == "error") return NanPolicy::Error;
  if (s == "zero") return NanPolicy::Zero;
  fail(ErrorCode::InvalidArgument, "nanPolicy", "unknown policy '" + s + "' (expected 'error' or 'zero')");
}

TftModel::TftModel(const TftConfig& config, const at::Device& device)
    : config_(config), device_(device), params_((validate(config), config)) {
  params_.initialize(config.seed);
  if (!device_.is_cpu()) params_.to(device_);
  bind();
}

void TftModel::bind() {
  const ParameterStore& p = params_;
  if (config_.n_entities > 0) {
    entity_emb_ = p.get("entity_embedding.weight");
    static_vsn_ = GrnParams::bind(p, "static_context_vsn");
    static_h_ = GrnParams::bind(p, "static_context_h");
    static_c_ = GrnParams::bind(p, "static_context_c");
    static_enrich_ = GrnParams::bind(p, "static_context_enrich");
  }
  vsn_ = VsnParams::bind(p);
  lstm_params_.clear();
  for (int64_t l = 0; l < config_.lstm_layers; ++l) {
    const std::string k = std::to_string(l);
    for (const char* n : {"lstm.weight_ih_l", "lstm.weight_hh_l", "lstm.bias_ih_l", "lstm.bias_hh_l"})
      lstm_params_.push_back(p.get(n + k));
  }
  post_lstm_ = GateParams::bind(p, "post_lstm_gate");
  enrichment_ = GrnParams::bind(p, "enrichment");
  if (config_.n_context > 0) {
    context_self_mha_ = MhaParams::bind(p, "context_self_attention", config_.n_heads);
    context_self_gate_ = GateParams::bind(p, "context_self_gate");
    cross_mha_ = MhaParams::bind(p, "cross_attention", config_.n_heads);
    cross_gate_ = GateParams::bind(p, "cross_gate");
  }
  self_mha_ = MhaParams::bind(p, "self_attention", config_.n_heads);
  attention_gate_ = GateParams::bind(p, "attention_gate");
  positionwise_ = GrnParams::bind(p, "positionwise_grn");
  pre_output_ = GateParams::bind(p, "pre_output_gate");
  pos_w_ = p.get("position_head.weight");
  pos_b_ = p.get("position_head.bias");
  mu_w_ = p.get("mu_head.weight");
  mu_b_ = p.get("mu_head.bias");
  sigma_w_ = p.get("sigma_head.weight");
  sigma_b_ = p.get("sigma_head.bias");
}

const VsnFolded& TftModel::folded(bool training) {
  if (training) {
    // Under autograd the folding is part of the graph (cheap next to the batch); dropout between fc2 and
    // the GLU forbids folding those two.
    folded_cache_ = VsnFolded::fold(vsn_, config_.dropout == 0);
    folded_version_ = ~uint64_t{0};
    return folded_cache_;
  }
  if (folded_version_ != params_.version()) {
    c10::InferenceMode guard;
    // Folded in double precision, then rounded once: the folding sums run over up to F*d terms, and doing
    // them in float32 would add error the unfolded reference does not have.
    VsnParams wide = vsn_;
    for (at::Tensor* t : {&wide.pre_w, &wide.pre_b, &wide.fc1_w, &wide.fc1_b, &wide.fc2_w, &wide.fc2_b, &wide.glu_w,
                          &wide.glu_b, &wide.flat.fc1_w, &wide.flat.fc1_b, &wide.flat.skip_w, &wide.flat.skip_b})
      if (t->defined()) *t = t->to(at::kDouble);
    VsnFolded f = VsnFolded::fold(wide, true);
    for (at::Tensor* t : {&f.pre_p, &f.pre_b, &f.u, &f.c, &f.g_t, &f.g_b, &f.flat_u, &f.flat_c, &f.skip_u, &f.skip_c})
      *t = t->to(at::kFloat).contiguous();
    folded_cache_ = f;
    folded_version_ = params_.version();
  }
  return folded_cache_;
}

const VsnFolded& TftModel::folded_for(const Mode& m) {
  if (m.training || !m.input_gradients) return folded(m.training);
  if (grad_folded_version_ != params_.version()) {
    at::NoGradGuard no_grad;
    VsnFolded f = folded(false);  // the inference fold (double-precision sums), copied out of inference mode
    for (at::Tensor* t : {&f.pre_p, &f.pre_b, &f.u, &f.c, &f.g_t, &f.g_b, &f.flat_u, &f.flat_c, &f.skip_u, &f.skip_c})
      if (t->defined()) *t = t->clone();
    grad_folded_cache_ = f;
    grad_folded_version_ = params_.version();
  }
  return grad_folded_cache_;
}

ModelInput TftModel::prepare(const ModelInput& in, NanPolicy policy) const {
  const TftConfig& c = config_;
  ModelInput out;
  if (!in.x.defined() || in.x.dim() != 3) fail(ErrorCode::Shape, "x", "must be [batch, time, features]");
  const int64_t B = in.x.size(0), T = in.x.size(1), F = in.x.size(2);
  if (F != c.n_features)
    fail(ErrorCode::Shape, "x",
         "has " + std::to_string(F) + " features per step but config.nFeatures is " + std::to_string(c.n_features));
  if (T < 1) fail(ErrorCode::Shape, "x", "needs at least one time step (T >= 1)");
  out.x = in.x.to(at::kFloat);
  if (policy == NanPolicy::Error)
    require_finite(out.x, "x", "[batch, time, feature]");
  else
    out.x = at::nan_to_num(out.x, 0.0, 0.0, 0.0);

  if (c.n_entities > 0) {
    if (!in.entity.defined())
      fail(ErrorCode::InvalidArgument, "entityIds",
           "this model has an entity embedding (nEntities = " + std::to_string(c.n_entities) +
               "): pass one id per sequence");
    if (in.entity.dim() != 1 || in.entity.size(0) != B)
      fail(ErrorCode::Shape, "entityIds", "needs " + std::to_string(B) + " ids (one per sequence)");
    require_ids(in.entity, c.n_entities, "entityIds");
    out.entity = in.entity.to(at::kLong);
  } else if (in.entity.defined() && in.entity.numel() > 0) {
    fail(ErrorCode::InvalidArgument, "entityIds", "this model has no entity embedding (config.nEntities = 0)");
  }

  if (c.n_context > 0) {
    if (!in.context.defined())
      fail(ErrorCode::InvalidArgument, "context",
           "this X-Trend model needs a context set of " + std::to_string(c.n_context) + " sequences per target");
    if (in.context.dim() != 4 || in.context.size(0) != B || in.context.size(1) != c.n_context ||
        in.context.size(3) != c.n_features || in.context.size(2) < 1)
      fail(ErrorCode::Shape, "context",
           "must be [batch, nContext = " + std::to_string(c.n_context) +
               ", contextLen >= 1, nFeatures = " + std::to_string(c.n_features) + "]");
    out.context = in.context.to(at::kFloat);
    if (policy == NanPolicy::Error)
      require_finite(out.context, "context", "[batch, context, time, feature]");
    else
      out.context = at::nan_to_num(out.context, 0.0, 0.0, 0.0);
    if (c.n_entities > 0) {
      if (!in.context_entity.defined() || in.context_entity.dim() != 2 || in.context_entity.size(0) != B ||
          in.context_entity.size(1) != c.n_context)
        fail(ErrorCode::Shape, "contextEntityIds", "needs [batch, nContext] ids for the context sequences");
      require_ids(in.context_entity, c.n_entities, "contextEntityIds");
      out.context_entity = in.context_entity.to(at::kLong);
    }
  } else if (in.context.defined() && in.context.numel() > 0) {
    fail(ErrorCode::InvalidArgument, "context", "this model has no context set (config.nContext = 0)");
  }
  if (!device_.is_cpu()) {
    out.x = out.x.to(device_);
    if (out.entity.defined()) out.entity = out.entity.to(device_);
    if (out.context.defined()) out.context = out.context.to(device_);
    if (out.context_entity.defined()) out.context_entity = out.context_entity.to(device_);
  }
  return out;
}

TftModel::Statics TftModel::statics(const at::Tensor& entity, const Mode& m) {
  Statics s;
  if (config_.n_entities == 0 || !entity.defined()) return s;
  const at::Tensor e = at::embedding(entity_emb_, entity);
  s.vsn_ctx = dense_linear(m.dense, grn(static_vsn_, e, {}, m), vsn_.flat.ctx_w, {});
  s.h = grn(static_h_, e, {}, m);
  s.c = grn(static_c_, e, {}, m);
  s.enrich_ctx = dense_linear(m.dense, grn(static_enrich_, e, {}, m), enrichment_.ctx_w, {});
  return s;
}

Mode TftModel::inference_mode() {
  dense_cache_.reset(params_.version());
  if (lstm_biases_version_ != params_.version()) {
    lstm_biases_.clear();
    for (int64_t l = 0; l < config_.lstm_layers; ++l)
      lstm_biases_.push_back((lstm_params_[4 * l + 2] + lstm_params_[4 * l + 3]).contiguous());
    lstm_biases_version_ = params_.version();
  }
  Mode m;
  m.dense = device_.is_cpu() ? &dense_cache_ : nullptr;
  return m;
}

at::Tensor TftModel::layer0_projection(const at::Tensor& xi_rows, const Mode& m) {
  return dense_linear(m.dense, xi_rows, lstm_params_[0], lstm_biases_[0]);
}

at::Tensor TftModel::lstm_projected(const std::function<at::Tensor(int64_t)>& layer0_input, int64_t n, int64_t T,
                                    const Statics& s, const Mode& m) {
  const int64_t d = config_.d_hidden;
  const at::Tensor h0 = s.h.defined() ? s.h.expand({n, d}) : at::zeros({n, d}, lstm_params_[0].options());
  const at::Tensor c0 = s.c.defined() ? s.c.expand({n, d}) : at::zeros({n, d}, lstm_params_[0].options());
  auto w_hh_t = [&](int64_t l) {
    return m.dense ? m.dense->transposed(lstm_params_[4 * l + 1]) : lstm_params_[4 * l + 1].t().contiguous();
  };
  at::Tensor out = lstm_layer_inference(layer0_input, T, w_hh_t(0), h0, c0);
  for (int64_t l = 1; l < config_.lstm_layers; ++l) {
    const at::Tensor proj =
        dense_linear(m.dense, out.reshape({n * T, d}), lstm_params_[4 * l], lstm_biases_[l]).view({n, T, 4 * d});
    out = lstm_layer_inference([&](int64_t t) { return proj.select(1, t); }, T, w_hh_t(l), h0, c0);
  }
  return out;
}

at::Tensor TftModel::lstm(const at::Tensor& xi, const Statics& s, const Mode& m) {
  const int64_t L = config_.lstm_layers, B = xi.size(0), d = config_.d_hidden;
  if (!m.training && xi.is_cpu() && xi.scalar_type() == at::kFloat && !at::GradMode::is_enabled()) {
    const int64_t T = xi.size(1);
    const at::Tensor proj = layer0_projection(xi.reshape({B * T, d}), m).view({B, T, 4 * d});
    return lstm_projected([&](int64_t t) { return proj.select(1, t); }, B, T, s, m);
  }
  if (m.deeplift) return lstm_deeplift(xi, s, m);
  at::Tensor h0, c0;
  if (s.h.defined()) {
    h0 = s.h.unsqueeze(0).expand({L, B, d}).contiguous();
    c0 = s.c.unsqueeze(0).expand({L, B, d}).contiguous();
  } else {
    h0 = at::zeros({L, B, d}, xi.options());
    c0 = at::zeros({L, B, d}, xi.options());
  }
  // cuDNN's RNN backward refuses a forward run in eval mode; without dropout "train" computes the same thing.
  const bool train = m.training || (m.input_gradients && xi.is_cuda());
  return std::get<0>(at::lstm(xi, {h0, c0}, lstm_params_, /*has_biases=*/true, L, m.training ? m.dropout : 0.0, train,
                              /*bidirectional=*/false, /*batch_first=*/true));
}

// The LSTM as its cells, so that every gate and product takes its DeepLift rule (PyTorch's gate order:
// input, forget, cell, output).
at::Tensor TftModel::lstm_deeplift(const at::Tensor& xi, const Statics& s, const Mode& m) {
  const int64_t B = xi.size(0), T = xi.size(1), d = config_.d_hidden;
  at::Tensor out = xi;
  for (int64_t l = 0; l < config_.lstm_layers; ++l) {
    const at::Tensor& w_ih = lstm_params_[4 * l];
    const at::Tensor& w_hh = lstm_params_[4 * l + 1];
    const at::Tensor proj = at::linear(out, w_ih, lstm_params_[4 * l + 2] + lstm_params_[4 * l + 3]);  // [B, T, 4d]
    at::Tensor h = s.h.defined() ? s.h.expand({B, d}) : at::zeros({B, d}, xi.options());
    at::Tensor c = s.c.defined() ? s.c.expand({B, d}) : at::zeros({B, d}, xi.options());
    std::vector<at::Tensor> steps;
    steps.reserve(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) {
      const std::vector<at::Tensor> g = (proj.select(1, t) + at::linear(h, w_hh)).chunk(4, -1);
      const at::Tensor i = nl::sigmoid(m, g[0]), f = nl::sigmoid(m, g[1]), o = nl::sigmoid(m, g[3]);
      c = nl::mul(m, f, c) + nl::mul(m, i, nl::tanh(m, g[2]));
      h = nl::mul(m, o, nl::tanh(m, c));
      steps.push_back(h);
    }
    out = at::stack(steps, 1);
  }
  return out;
}

TftModel::Encoded TftModel::encode(const at::Tensor& x, const Statics& s, const Mode& m) {
  const int64_t B = x.size(0), T = x.size(1), F = x.size(2), d = config_.d_hidden;
  at::Tensor ctx;
  if (s.vsn_ctx.defined()) ctx = s.vsn_ctx.unsqueeze(1).expand({B, T, d}).reshape({B * T, d});
  const VsnOutput v = variable_selection(vsn_, folded_for(m), x.reshape({B * T, F}), ctx, m);
  const at::Tensor xi = v.xi.view({B, T, d});
  const at::Tensor phi = lstm(xi, s, m);
  return {gate_add_norm(post_lstm_, phi, xi, m), v.weights.view({B, T, F})};
}

at::Tensor TftModel::context_keys(const at::Tensor& context, const at::Tensor& context_entity, const Mode& m) {
  const int64_t B = context.size(0), C = context.size(1), Tc = context.size(2), F = context.size(3);
  const Statics cs = statics(context_entity.defined() ? context_entity.reshape({B * C}) : at::Tensor(), m);
  const Encoded enc = encode(context.reshape({B * C, Tc, F}), cs, m);
  const at::Tensor k = enc.gated.select(1, Tc - 1).reshape({B, C, config_.d_hidden});
  const at::Tensor a = interpretable_mha(context_self_mha_, k, k, k, /*causal=*/false, m).first;
  return gate_add_norm(context_self_gate_, a, k, m);
}

ForwardOutput TftModel::decode(const at::Tensor& gated, const Statics& s, const at::Tensor& kappa,
                               const ForwardOptions& opt, const Mode& m) {
  const int64_t T = gated.size(1);
  at::Tensor theta = grn(enrichment_, gated, s.enrich_ctx.defined() ? s.enrich_ctx.unsqueeze(1) : at::Tensor(), m);
  if (kappa.defined()) {
    const at::Tensor k =
        kappa.size(0) == theta.size(0) ? kappa : kappa.expand({theta.size(0), kappa.size(1), kappa.size(2)});
    const at::Tensor a = interpretable_mha(cross_mha_, theta, k, k, /*causal=*/false, m).first;
    theta = gate_add_norm(cross_gate_, a, theta, m);
  }
  // Only the queries whose outputs are wanted: the last step is enough for positions at the window's end.
  const at::Tensor q = opt.all_steps ? theta : theta.narrow(1, T - 1, 1);
  auto [a, attn] = (!opt.all_steps && !m.training && !m.deeplift)
                       ? last_query_attention(self_mha_, q, theta, m)
                       : interpretable_mha(self_mha_, q, theta, theta, /*causal=*/true, m);
  const at::Tensor beta = gate_add_norm(attention_gate_, a, q, m);
  const at::Tensor psi = grn(positionwise_, beta, {}, m);
  const at::Tensor skip = opt.all_steps ? gated : gated.narrow(1, T - 1, 1);
  const at::Tensor delta = gate_add_norm(pre_output_, psi, skip, m);
  ForwardOutput out;
  out.position = (nl::tanh(m, dense_linear(m.dense, delta, pos_w_, pos_b_)) * config_.max_position).squeeze(-1);
  out.mu = dense_linear(m.dense, delta, mu_w_, mu_b_).squeeze(-1);
  out.sigma = (nl::softplus(m, dense_linear(m.dense, delta, sigma_w_, sigma_b_)) + kSigmaFloor).squeeze(-1);
  if (opt.attention) out.attention = attn;
  if (!opt.all_steps) {
    out.position = out.position.squeeze(1);
    out.mu = out.mu.squeeze(1);
    out.sigma = out.sigma.squeeze(1);
    if (opt.attention) out.attention = out.attention.squeeze(1);
  }
  return out;
}

ForwardOutput TftModel::forward(const ModelInput& in, const ForwardOptions& opt) {
  apply_thread_setting();
  Mode m = opt.training ? Mode{true, config_.dropout, nullptr, opt.rng} : inference_mode();
  if (opt.input_gradients && !opt.training) m = Mode{false, 0.0, nullptr, nullptr, true};
  if (opt.deeplift) {
    if (opt.training || in.x.size(0) % 2 != 0)
      fail(ErrorCode::Internal, "deepLift", "needs an eval pass over an even batch [inputs; baselines]");
    m = Mode{false, 0.0, nullptr, nullptr, true, true};
  }
  return run_forward(in, opt, m);
}

ForwardOutput TftModel::run_forward(const ModelInput& in, const ForwardOptions& opt, const Mode& m) {
  const Statics s = statics(in.entity, m);
  const Encoded enc = encode(in.x, s, m);
  at::Tensor kappa;
  if (config_.n_context > 0) kappa = context_keys(in.context, in.context_entity, m);
  ForwardOutput out = decode(enc.gated, s, kappa, opt, m);
  if (opt.vsn_weights) out.vsn_weights = enc.weights;
  return out;
}

namespace {

// Finite inputs can still overflow float32 inside the network (features of magnitude ~1e38): such outputs
// are refused rather than returned as NaN or infinite positions. `valid` (optional, bool [n]) limits the
// check to the rows that were meant to be computed.
void require_finite_outputs(const at::Tensor& position, const at::Tensor& mu, const at::Tensor& sigma,
                            const at::Tensor& valid, const char* argument) {
  at::Tensor bad = at::logical_not(at::isfinite(position)) | at::logical_not(at::isfinite(mu)) |
                   at::logical_not(at::isfinite(sigma));
  if (valid.defined()) bad = bad & valid.to(bad.device()).view(bad.sizes());
  if (!bad.any().item<bool>()) return;
  const int64_t row = bad.reshape({-1}).nonzero()[0].item<int64_t>();
  fail(ErrorCode::NonFinite, argument,
       "the model's outputs are not finite (first at output " + std::to_string(row) +
           "): finite inputs overflowed float32 inside the network; inputs should be normalised features");
}

}  // namespace

// Windows per rolling chunk. CPU: ~16 MiB of activations per chunk (~260 windows of 63 steps at d = 64;
// measured: 2 MiB chunks lose 25% to per-op overheads and page faults, 32 MiB ones 12% to cache misses),
// and at least two chunks per thread so an asset's windows balance over the threads. CUDA: ~32 MiB of activations per
// chunk, enough to fill the device.
int64_t TftModel::rolling_chunk(int64_t requested, int64_t W, int64_t T, int64_t threads, bool cpu) const {
  if (requested > 0) return requested;
  const int64_t bytes_per_window = std::max<int64_t>(1, T * config_.d_hidden * 4 * 4);
  if (!cpu) return std::max<int64_t>(16, (int64_t{32} << 20) / bytes_per_window);
  const int64_t cache_fit = std::max<int64_t>(8, (int64_t{16} << 20) / bytes_per_window);
  const int64_t balanced = std::max<int64_t>(8, (W + 2 * threads - 1) / (2 * threads));
  return std::min(cache_fit, balanced);
}

int64_t TftModel::default_chunk(int64_t T) const {
  const int64_t per_seq = 6 * config_.n_features * T * 2 * config_.d_hidden * static_cast<int64_t>(sizeof(float));
  return std::max<int64_t>(1, kChunkBytes / std::max<int64_t>(1, per_seq));
}

ForwardOutput TftModel::predict_batch(const ModelInput& raw, const BatchOptions& opt) {
  apply_thread_setting();
  c10::InferenceMode guard;
  const ModelInput in = prepare(raw, opt.nan_policy);
  const int64_t B = in.x.size(0), T = in.x.size(1), F = in.x.size(2);
  const bool all = opt.forward.all_steps;
  const auto cpu = at::TensorOptions().dtype(at::kFloat);
  ForwardOutput out;
  const std::vector<int64_t> shape = all ? std::vector<int64_t>{B, T} : std::vector<int64_t>{B};
  out.position = at::empty(shape, cpu);
  out.mu = at::empty(shape, cpu);
  out.sigma = at::empty(shape, cpu);
  if (opt.forward.vsn_weights) out.vsn_weights = at::empty({B, T, F}, cpu);
  if (opt.forward.attention) out.attention = all ? at::empty({B, T, T}, cpu) : at::empty({B, T}, cpu);
  int64_t chunk = opt.chunk_size > 0 ? opt.chunk_size : default_chunk(T);
  ForwardOptions fo = opt.forward;
  fo.training = false;
  // Large CPU batches run their chunks concurrently, each on one thread through the whole forward pass, as
  // rolling prediction does: no parallel region per LSTM step, no serial stretches between kernels. Small
  // batches (serving a date: one window per asset) keep both threads inside each kernel instead.
  const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
  const bool plain = !fo.input_gradients && !fo.deeplift;  // attribution passes take forward()'s own mode
  const bool chunk_parallel = plain && device_.is_cpu() && threads > 1 && B >= kMinChunkParallel * threads;
  if (chunk_parallel) chunk = std::min(chunk, (B + 2 * threads - 1) / (2 * threads));
  const Mode m = inference_mode();
  folded(false);  // builds the folded VSN once, before any thread reads it
  auto run_chunk = [&](int64_t b0) {
    c10::InferenceMode chunk_guard;  // thread-local: the loop's worker threads need their own
    const int64_t n = std::min(chunk, B - b0);
    ModelInput part;
    part.x = in.x.narrow(0, b0, n);
    if (in.entity.defined()) part.entity = in.entity.narrow(0, b0, n);
    if (in.context.defined()) part.context = in.context.narrow(0, b0, n);
    if (in.context_entity.defined()) part.context_entity = in.context_entity.narrow(0, b0, n);
    const ForwardOutput r = plain ? run_forward(part, fo, m) : forward(part, fo);
    out.position.narrow(0, b0, n).copy_(r.position);
    out.mu.narrow(0, b0, n).copy_(r.mu);
    out.sigma.narrow(0, b0, n).copy_(r.sigma);
    if (fo.vsn_weights) out.vsn_weights.narrow(0, b0, n).copy_(r.vsn_weights);
    if (fo.attention) out.attention.narrow(0, b0, n).copy_(r.attention);
  };
  const int64_t n_chunks = (B + chunk - 1) / chunk;
  if (chunk_parallel) {
    at::parallel_for(0, n_chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t ci = c0; ci < c1; ++ci) run_chunk(ci * chunk);
    });
  } else {
    for (int64_t ci = 0; ci < n_chunks; ++ci) run_chunk(ci * chunk);
  }
  require_finite_outputs(out.position, out.mu, out.sigma, at::Tensor(), "x");
  return out;
}

RollingOutput TftModel::predict_rolling(const at::Tensor& panel_in, const at::Tensor& entity_in,
                                        const RollingOptions& opt) {
  apply_thread_setting();
  c10::InferenceMode guard;
  const TftConfig& c = config_;
  if (!panel_in.defined() || panel_in.dim() != 3) fail(ErrorCode::Shape, "panel", "must be [assets, days, features]");
  const int64_t A = panel_in.size(0), D = panel_in.size(1), F = panel_in.size(2), d = c.d_hidden;
  if (F != c.n_features)
    fail(ErrorCode::Shape, "panel",
         "has " + std::to_string(F) + " features but config.nFeatures is " + std::to_string(c.n_features));
  const int64_t T = opt.window > 0 ? opt.window : c.seq_len;
  if (T < 1) fail(ErrorCode::InvalidArgument, "window", "must be >= 1");

  at::Tensor panel = panel_in.to(at::kFloat);
  at::Tensor day_ok;  // [A, D] all features finite
  if (opt.skip_non_finite) {
    day_ok = at::isfinite(panel).all(-1);
    panel = at::nan_to_num(panel, 0.0, 0.0, 0.0);
  } else if (opt.nan_policy == NanPolicy::Error) {
    require_finite(panel, "panel", "[asset, day, feature]");
  } else {
    panel = at::nan_to_num(panel, 0.0, 0.0, 0.0);
  }

  at::Tensor entity;
  if (c.n_entities > 0) {
    if (!entity_in.defined() || entity_in.dim() != 1 || entity_in.size(0) != A)
      fail(ErrorCode::Shape, "entityIds", "needs one id per asset (" + std::to_string(A) + ")");
    require_ids(entity_in, c.n_entities, "entityIds");
    entity = entity_in.to(at::kLong);
  } else if (entity_in.defined() && entity_in.numel() > 0) {
    fail(ErrorCode::InvalidArgument, "entityIds", "this model has no entity embedding (config.nEntities = 0)");
  }
  const Mode m = inference_mode();
  at::Tensor kappa;
  if (c.n_context > 0) {
    if (!opt.context.defined() || opt.context.dim() != 3 || opt.context.size(0) != c.n_context ||
        opt.context.size(2) != F)
      fail(ErrorCode::Shape, "context",
           "rolling prediction of an X-Trend model needs a shared context set [nContext = " +
               std::to_string(c.n_context) + ", contextLen, nFeatures]");
    at::Tensor ctx = opt.context.to(at::kFloat);
    if (opt.nan_policy == NanPolicy::Error) require_finite(ctx, "context", "[context, time, feature]");
    ctx = at::nan_to_num(ctx, 0.0, 0.0, 0.0).to(device_).unsqueeze(0);
    at::Tensor cent;
    if (c.n_entities > 0) {
      if (!opt.context_entity.defined() || opt.context_entity.numel() != c.n_context)
        fail(ErrorCode::Shape, "contextEntityIds", "needs nContext ids for the shared context set");
      require_ids(opt.context_entity, c.n_entities, "contextEntityIds");
      cent = opt.context_entity.to(at::kLong).to(device_).reshape({1, c.n_context});
    }
    kappa = context_keys(ctx, cent, m);  // [1, C, d], shared by every window
  } else if (opt.context.defined() && opt.context.numel() > 0) {
    fail(ErrorCode::InvalidArgument, "context", "this model has no context set (config.nContext = 0)");
  }

  const auto cpu = at::TensorOptions().dtype(at::kFloat);
  RollingOutput out;
  out.position = at::full({A, D}, kNaN, cpu);
  out.mu = at::full({A, D}, kNaN, cpu);
  out.sigma = at::full({A, D}, kNaN, cpu);
  if (opt.vsn_weights) out.vsn_weights = at::empty({A, D, F}, cpu);
  const VsnFolded& fv = folded(false);
  // On the CPU the window chunks of an asset run concurrently, each on one thread from its LSTM to its
  // outputs: one parallel region per asset instead of one per LSTM step and per layer, and each chunk's
  // activations stay in that core's cache. Every kernel is row-deterministic, so the outputs do not depend
  // on the chunking or the thread count. On CUDA the chunks run in order, each filling the device.
  const bool cpu_parallel = device_.is_cpu();
  const int64_t threads = std::max<int64_t>(1, at::get_num_threads());

  for (int64_t a = 0; a < A; ++a) {
    const at::Tensor xa = panel[a].to(device_);  // [D, F]
    const at::Tensor ea = entity.defined() ? entity.narrow(0, a, 1).to(device_) : at::Tensor();
    const Statics s = statics(ea, m);  // [1, d] each
    // The VSN works per day, so every window ending later reuses it: computed once per (asset, day).
    const at::Tensor ctx = s.vsn_ctx.defined() ? s.vsn_ctx : at::Tensor();
    const VsnOutput v = variable_selection(vsn_, fv, xa, ctx, m);
    if (opt.vsn_weights) out.vsn_weights[a].copy_(v.weights);
    if (D < T) continue;
    const int64_t W = D - T + 1;
    const at::Tensor windows = v.xi.unfold(0, T, 1).transpose(1, 2);  // [W, T, d], a view
    // The first LSTM layer's input projection is per day too: computed once, windows read row slices of it.
    const at::Tensor proj = layer0_projection(v.xi, m);  // [D, 4d]
    at::Tensor ok;
    if (day_ok.defined()) {
      // a window is usable when none of its T days has a non-finite feature
      const at::Tensor bad = at::logical_not(day_ok[a]).to(at::kInt).cumsum(0);
      const at::Tensor padded = at::cat({at::zeros({1}, bad.options()), bad});
      ok = (padded.narrow(0, T, W) - padded.narrow(0, 0, W)) == 0;
    }
    // Only the span from the first to the last usable window is computed: a panel's long-lookback features
    // are NaN over its first year or two, and those windows would be computed only to be discarded.
    int64_t w_begin = 0, w_end = W;
    if (ok.defined()) {
      const at::Tensor usable = ok.nonzero();
      if (usable.numel() == 0) {
        w_end = 0;
      } else {
        w_begin = usable[0][0].item<int64_t>();
        w_end = usable[-1][0].item<int64_t>() + 1;
      }
    }
    const int64_t span = w_end - w_begin;
    if (span == 0) continue;
    const int64_t chunk = rolling_chunk(opt.chunk_windows, span, T, threads, cpu_parallel);
    auto run_chunk = [&](int64_t w0) {
      c10::InferenceMode chunk_guard;  // thread-local: the loop's worker threads need their own
      const int64_t n = std::min(chunk, w_end - w0);
      const at::Tensor xi = windows.narrow(0, w0, n);
      Statics sw;
      if (s.h.defined()) {
        sw.h = s.h.expand({n, d});
        sw.c = s.c.expand({n, d});
        sw.enrich_ctx = s.enrich_ctx.expand({n, d});
      }
      const at::Tensor phi = cpu_parallel
                                 ? lstm_projected([&](int64_t t) { return proj.narrow(0, w0 + t, n); }, n, T, sw, m)
                                 : lstm(xi.contiguous(), sw, m);
      const at::Tensor gated = gate_add_norm(post_lstm_, phi, xi, m);
      const ForwardOutput r = decode(gated, sw, kappa, ForwardOptions{}, m);
      out.position[a].narrow(0, T - 1 + w0, n).copy_(r.position);
      out.mu[a].narrow(0, T - 1 + w0, n).copy_(r.mu);
      out.sigma[a].narrow(0, T - 1 + w0, n).copy_(r.sigma);
    };
    const int64_t n_chunks = (span + chunk - 1) / chunk;
    if (cpu_parallel) {
      at::parallel_for(0, n_chunks, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t ci = c0; ci < c1; ++ci) run_chunk(w_begin + ci * chunk);
      });
    } else {
      for (int64_t ci = 0; ci < n_chunks; ++ci) run_chunk(w_begin + ci * chunk);
    }
    require_finite_outputs(out.position[a].narrow(0, T - 1 + w_begin, span), out.mu[a].narrow(0, T - 1 + w_begin, span),
                           out.sigma[a].narrow(0, T - 1 + w_begin, span),
                           ok.defined() ? ok.narrow(0, w_begin, span) : at::Tensor(), "panel");
    if (ok.defined()) {
      const at::Tensor mask = at::logical_not(ok).to(at::kCPU);
      for (auto* t : {&out.position, &out.mu, &out.sigma}) (*t)[a].narrow(0, T - 1, W).masked_fill_(mask, kNaN);
    }
  }
  return out;
}

}  // namespace tft::model
