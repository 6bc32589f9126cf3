// DeepLift's rules one operation at a time (each splits its output difference exactly over its inputs'
// differences) and on the whole network: completeness against the model's own predictions, the gradient
// as the baseline closes in, exact zeros, DeepLiftShap as the mean of DeepLifts, chunking, typed errors.
#include <ATen/ATen.h>

#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "core/attribution/attribution.h"
#include "core/model/nonlinear.h"
#include "harness.h"
#include "model_inputs.h"

using namespace tft;
using namespace tft::attribution;
using namespace tft::model;

namespace {

std::shared_ptr<TftModel> perturbed_model(int64_t F, int64_t n_entities, int64_t n_context, uint64_t seed) {
  TftConfig c;
  c.n_features = F;
  c.d_hidden = 8;
  c.n_heads = 2;
  c.seq_len = 6;
  c.n_entities = n_entities;
  c.n_context = n_context;
  c.seed = 3;
  auto m = std::make_shared<TftModel>(c);
  // Random biases and gains: a fresh model's zero biases leave some LayerNorm inputs constant.
  at::NoGradGuard ng;
  at::manual_seed(seed);
  for (const at::Tensor& t : m->parameters().tensors()) t.add_(at::randn_like(t) * 0.3);
  m->parameters_changed();
  return m;
}

ModelInput input(const TftModel& m, int64_t B, uint64_t seed = 1) { return test::random_input(m, B, seed); }

at::Tensor predicted(TftModel& m, const ModelInput& in, const at::Tensor& x, const Target& t) {
  ModelInput mi = in;
  mi.x = x;
  BatchOptions o;
  o.forward.all_steps = t.step >= 0;
  const ForwardOutput out = m.predict_batch(mi, o);
  const at::Tensor& y = t.output == Output::Position ? out.position : t.output == Output::Mu ? out.mu : out.sigma;
  return (t.step >= 0 ? y.select(1, t.step) : y).to(at::kDouble);
}

// For one rule: sum over inputs of multiplier * difference must equal the weighted output difference.
void require_rule_complete(const std::function<at::Tensor(const Mode&, const std::vector<at::Tensor>&)>& op,
                           std::vector<at::Tensor> inputs, int64_t pair_dim, const char* name) {
  Mode m;
  m.input_gradients = true;
  m.deeplift = true;
  at::AutoGradMode on(true);
  std::vector<at::Tensor> wrt;
  for (at::Tensor& t : inputs) wrt.push_back(t.detach().requires_grad_(true));
  const at::Tensor y = op(m, wrt);
  const at::Tensor plain = op(Mode{}, inputs);
  REQUIRE((y - plain).abs().max().item<double>() < 1e-6);  // values are the plain op's
  const int64_t n = y.size(pair_dim) / 2;
  const at::Tensor w = at::randn_like(y.narrow(pair_dim, 0, n));
  const at::Tensor dy = (y.narrow(pair_dim, 0, n) - y.narrow(pair_dim, n, n)).detach();
  const std::vector<at::Tensor> g = torch::autograd::grad({(y.narrow(pair_dim, 0, n) * w).sum()}, wrt);
  double split = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const at::Tensor& u = inputs[i];
    // (masked logits are -inf in both halves: no difference)
    const at::Tensor du = at::nan_to_num(u.narrow(pair_dim, 0, n) - u.narrow(pair_dim, n, n), 0.0);
    split += (g[i].narrow(pair_dim, 0, n) * du).to(at::kDouble).sum().item<double>();
    // the baselines' half is a constant of the pass
    REQUIRE(g[i].narrow(pair_dim, n, n).abs().max().item<double>() == 0.0);
  }
  const double want = (w * dy).to(at::kDouble).sum().item<double>();
  std::printf("            %-10s sum m*du = %.7f, sum w*dy = %.7f\n", name, split, want);
  REQUIRE_NEAR(split, want, 1e-5 * (1 + std::fabs(want)));
}

double relative_gap(const at::Tensor& a, const at::Tensor& b) {
  return ((a - b).abs().max() / (b.abs().max() + 1e-12)).item<double>();
}

}  // namespace

TEST(deeplift_rules_split_each_output_difference_exactly) {
  at::manual_seed(11);
  using V = std::vector<at::Tensor>;
  require_rule_complete([](const Mode& m, const V& v) { return nl::elu(m, v[0]); }, {at::randn({4, 7}) * 2}, 0, "elu");
  require_rule_complete([](const Mode& m, const V& v) { return nl::sigmoid(m, v[0]); }, {at::randn({4, 7}) * 3}, 0,
                        "sigmoid");
  require_rule_complete([](const Mode& m, const V& v) { return nl::tanh(m, v[0]); }, {at::randn({4, 7})}, 0, "tanh");
  require_rule_complete([](const Mode& m, const V& v) { return nl::softplus(m, v[0]); }, {at::randn({4, 7}) * 4}, 0,
                        "softplus");
  require_rule_complete([](const Mode& m, const V& v) { return nl::mul(m, v[0], v[1], 1); },
                        {at::randn({3, 6, 5}), at::randn({3, 6, 1})}, 1, "mul");
  require_rule_complete([](const Mode& m, const V& v) { return nl::matmul(m, v[0], v[1]); },
                        {at::randn({4, 2, 3, 5}), at::randn({4, 2, 5, 3})}, 0, "matmul");
  require_rule_complete([](const Mode& m, const V& v) { return nl::glu(m, v[0], 1); }, {at::randn({3, 4, 10})}, 1,
                        "glu");
  const at::Tensor gain = at::randn({6}), shift = at::randn({6});
  require_rule_complete([&](const Mode& m, const V& v) { return nl::layer_norm(m, v[0], 6, gain, shift, 1e-5); },
                        {at::randn({4, 3, 6})}, 0, "layer_norm");
  // rows that are almost constant: the normaliser works next to eps, where 1/sqrt is steepest
  at::Tensor flat = at::randn({4, 3, 6}) * 1e-3;
  flat.narrow(0, 2, 2).mul_(1e-2);
  require_rule_complete([&](const Mode& m, const V& v) { return nl::layer_norm(m, v[0], 6, gain, shift, 1e-5); },
                        {flat}, 0, "near-flat LayerNorm");
  // a masked row: -inf scores get weight 0 in both halves
  at::Tensor z = at::randn({4, 2, 5}) * 3;
  z.select(2, 4).select(1, 0).fill_(-std::numeric_limits<float>::infinity());
  require_rule_complete([](const Mode& m, const V& v) { return nl::softmax(m, v[0], -1); }, {z}, 0, "softmax");
}

TEST(deeplift_is_complete_against_the_models_predictions) {
  auto m = perturbed_model(4, 3, 2, 21);
  const ModelInput in = input(*m, 5);
  at::manual_seed(5);
  for (const Target& t : {Target{Output::Position, -1}, Target{Output::Mu, 2}, Target{Output::Sigma, -1}}) {
    for (bool random_baseline : {false, true}) {
      DeepLiftRequest r;
      r.target = t;
      if (random_baseline) r.baselines = at::randn({5, 6, 4}) * 0.5;
      const Result res = deeplift_attribution(*m, in, r);
      REQUIRE(res.attributions.sizes() == at::IntArrayRef({5, 6, 4}));
      const at::Tensor base = random_baseline ? r.baselines : at::zeros({5, 6, 4});
      const at::Tensor diff = predicted(*m, in, in.x, t) - predicted(*m, in, base, t);
      const at::Tensor sum = res.attributions.to(at::kDouble).sum({1, 2});
      const double gap = relative_gap(sum, diff);
      std::printf("            DeepLift completeness (output %d, step %lld, %s baseline): rel gap %.1e, |delta| %.1e\n",
                  static_cast<int>(t.output), static_cast<long long>(t.step), random_baseline ? "random" : "zero", gap,
                  res.delta.abs().max().item<double>());
      REQUIRE(gap < 1e-4);
      REQUIRE(res.delta.abs().max().item<double>() < 1e-4 * (diff.abs().max().item<double>() + 1e-6));
      REQUIRE(res.attributions.abs().max().item<double>() > 0);
      if (t.step == 2) REQUIRE(res.attributions.narrow(1, 3, 3).abs().max().item<double>() == 0.0);  // causal
    }
  }
}

TEST(deeplift_stays_complete_and_bounded_at_a_degenerate_baseline) {
  // A fresh model has zero biases: at x' = 0 every LayerNorm input is constant (r' = 1/sqrt(eps)). The
  // normaliser's split keeps attributions of the order of the output change, not of 1/sqrt(eps).
  TftConfig c;
  c.n_features = 6;
  c.d_hidden = 8;
  c.n_heads = 2;
  c.seq_len = 12;
  c.n_entities = 3;
  c.seed = 4;
  TftModel m(c);
  const ModelInput in = input(m, 4);
  const Result r = deeplift_attribution(m, in, DeepLiftRequest{});
  const at::Tensor diff = predicted(m, in, in.x, Target{}) - predicted(m, in, at::zeros_like(in.x), Target{});
  REQUIRE(relative_gap(r.attributions.to(at::kDouble).sum({1, 2}), diff) < 1e-4);
  REQUIRE(r.attributions.abs().max().item<double>() < 10 * diff.abs().max().item<double>());
}

TEST(deeplift_context_attributions_complete_both_inputs) {
  auto m = perturbed_model(3, 0, 2, 23);
  const ModelInput in = input(*m, 3);
  DeepLiftRequest r;
  r.context_attributions = true;
  r.context_baselines = at::full({1, 2, 4, 3}, 0.1);
  const Result res = deeplift_attribution(*m, in, r);
  REQUIRE(res.context_attributions.sizes() == at::IntArrayRef({3, 2, 4, 3}));
  ModelInput base_in = in;
  base_in.context = r.context_baselines.expand_as(in.context).contiguous();
  const at::Tensor diff = predicted(*m, in, in.x, Target{}) - predicted(*m, base_in, at::zeros_like(in.x), Target{});
  const at::Tensor sum =
      res.attributions.to(at::kDouble).sum({1, 2}) + res.context_attributions.to(at::kDouble).sum({1, 2, 3});
  REQUIRE(relative_gap(sum, diff) < 1e-4);
  // Without it the context is held fixed: x's attributions alone complete F(x, c) - F(x', c).
  const Result x_only = deeplift_attribution(*m, in, DeepLiftRequest{});
  const at::Tensor diff_x = predicted(*m, in, in.x, Target{}) - predicted(*m, in, at::zeros_like(in.x), Target{});
  REQUIRE(relative_gap(x_only.attributions.to(at::kDouble).sum({1, 2}), diff_x) < 1e-4);
  REQUIRE(!x_only.context_attributions.defined());
}

TEST(deeplift_multipliers_become_the_gradient_as_the_baseline_closes_in) {
  auto m = perturbed_model(3, 0, 0, 25);
  const ModelInput in = input(*m, 2);
  const double h = 1e-4;
  DeepLiftRequest r;
  r.baselines = in.x - h;
  const at::Tensor multipliers = deeplift_attribution(*m, in, r).attributions / h;
  GradientRequest s;
  s.method = Method::Saliency;
  s.abs = false;
  const at::Tensor g = gradient_attribution(*m, in, s).attributions;
  REQUIRE(relative_gap(multipliers.to(at::kDouble), g.to(at::kDouble)) < 5e-3);
  // and a baseline equal to the input explains nothing
  r.baselines = in.x;
  const Result same = deeplift_attribution(*m, in, r);
  REQUIRE(same.attributions.abs().max().item<double>() == 0.0);
  REQUIRE(same.delta.abs().max().item<double>() < 1e-7);
}

TEST(deeplift_gives_a_feature_the_model_cannot_see_exactly_zero) {
  auto m = perturbed_model(4, 0, 0, 27);
  {
    at::NoGradGuard ng;
    const auto& specs = m->parameters().specs();
    for (size_t i = 0; i < specs.size(); ++i)
      if (specs[i].name == "vsn.prescalers.weight") m->parameters().tensors()[i].select(0, 2).zero_();
    m->parameters_changed();
  }
  const ModelInput in = input(*m, 3);
  for (bool shap : {false, true}) {
    DeepLiftRequest r;
    r.shap = shap;
    if (shap) r.baselines = at::randn({4, 6, 4});
    const at::Tensor a = deeplift_attribution(*m, in, r).attributions;
    REQUIRE(a.select(2, 2).abs().max().item<double>() == 0.0);
    REQUIRE(a.select(2, 1).abs().max().item<double>() > 0.0);
  }
}

TEST(deeplift_shap_is_the_mean_of_deeplifts_over_the_baselines) {
  auto m = perturbed_model(3, 2, 0, 29);
  const ModelInput in = input(*m, 3);
  at::manual_seed(9);
  const at::Tensor dist = at::randn({4, 6, 3});
  DeepLiftRequest shap;
  shap.shap = true;
  shap.baselines = dist;
  shap.chunk_rows = 5;  // chunks that cut through an input's baselines
  const Result s = deeplift_attribution(*m, in, shap);
  at::Tensor mean = at::zeros({3, 6, 3}, at::kDouble);
  at::Tensor base_mean = at::zeros({3}, at::kDouble);
  for (int64_t k = 0; k < 4; ++k) {
    DeepLiftRequest one;
    one.baselines = dist[k];
    mean += deeplift_attribution(*m, in, one).attributions.to(at::kDouble) / 4;
    base_mean += predicted(*m, in, dist[k].expand({3, 6, 3}), Target{}) / 4;
  }
  REQUIRE(relative_gap(s.attributions.to(at::kDouble), mean) < 1e-5);
  const at::Tensor diff = predicted(*m, in, in.x, Target{}) - base_mean;
  REQUIRE(relative_gap(s.attributions.to(at::kDouble).sum({1, 2}), diff) < 1e-4);
  REQUIRE(s.delta.abs().max().item<double>() < 1e-4 * (diff.abs().max().item<double>() + 1e-6));
  DeepLiftRequest whole = shap;
  whole.chunk_rows = 0;
  REQUIRE(relative_gap(deeplift_attribution(*m, in, whole).attributions, s.attributions) < 1e-6);
}

TEST(bad_deeplift_requests_are_typed_errors) {
  auto m = perturbed_model(3, 0, 0, 31);
  const ModelInput in = input(*m, 3);
  DeepLiftRequest r;
  r.baselines = at::zeros({2, 6, 3});  // neither shared nor one per input
  REQUIRE_THROWS_CODE(deeplift_attribution(*m, in, r), ErrorCode::Shape);
  r.shap = true;  // a distribution of two is fine for DeepLiftShap
  REQUIRE(deeplift_attribution(*m, in, r).attributions.size(0) == 3);
  r.baselines = at::zeros({2, 5, 3});
  REQUIRE_THROWS_CODE(deeplift_attribution(*m, in, r), ErrorCode::Shape);
  r.baselines = at::full({6, 3}, NAN);
  REQUIRE_THROWS_CODE(deeplift_attribution(*m, in, r), ErrorCode::NonFinite);
  DeepLiftRequest s;
  s.target.step = 7;
  REQUIRE_THROWS_CODE(deeplift_attribution(*m, in, s), ErrorCode::OutOfRange);
  DeepLiftRequest c;
  c.context_attributions = true;
  REQUIRE_THROWS_CODE(deeplift_attribution(*m, in, c), ErrorCode::InvalidArgument);
  DeepLiftRequest k;
  k.chunk_rows = -1;
  REQUIRE_THROWS_CODE(deeplift_attribution(*m, in, k), ErrorCode::InvalidArgument);
  ModelInput nan_in = in;
  nan_in.x = in.x.clone();
  nan_in.x[1][2][0] = NAN;
  REQUIRE_THROWS_CODE(deeplift_attribution(*m, nan_in, DeepLiftRequest{}), ErrorCode::NonFinite);
}
