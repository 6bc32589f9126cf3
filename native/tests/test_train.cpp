// Native training against the PyTorch reference on a fixed batch (reference/fixtures/
// make_training_fixtures.py): outputs, loss values, every parameter's gradient and one Adam step; plus
// determinism and evidence that a planted signal is learned.
#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "core/model/safetensors.h"
#include "core/train/trainer.h"
#include "fixtures.h"
#include "harness.h"

using namespace tft;
using namespace tft::model;
using tft::test::config_from_metadata;
using tft::test::fixtures_dir;
using namespace tft::train;

namespace {

struct Batch {
  TftConfig config;
  std::map<std::string, at::Tensor> t;
  std::map<std::string, std::string> meta;
};

Batch load_batch(const std::string& dir = "training") {
  Batch b;
  SafetensorsHeader h;
  for (auto& [k, v] : read_safetensors(fixtures_dir() + "/" + dir + "/batch.safetensors", &h)) b.t[k] = v.contiguous();
  b.meta = h.metadata;
  b.config = config_from_metadata(h.metadata);
  return b;
}

std::shared_ptr<TftModel> fixture_model(const Batch& b, const std::string& dir = "training") {
  auto m = std::make_shared<TftModel>(b.config);
  std::map<std::string, at::Tensor> w;
  for (auto& [k, v] : read_safetensors(fixtures_dir() + "/" + dir + "/weights.safetensors")) w[k] = v.contiguous();
  std::map<std::string, NamedTensor> state;
  for (const auto& [k, v] : w) state[k] = NamedTensor{v.sizes().vec(), v.data_ptr<float>()};
  m->parameters().load(state);
  return m;
}

double max_abs(const at::Tensor& a, const at::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

}  // namespace

namespace {

// Forward with outputs at every step, both losses and every parameter's gradient against the fixture.
void check_losses_and_gradients(const std::string& dir) {
  const Batch b = load_batch(dir);
  auto m = fixture_model(b, dir);
  m->parameters().set_requires_grad(true);
  ModelInput in;
  in.x = b.t.at("x");
  in.entity = b.t.at("entity").to(at::kLong);
  if (b.t.count("context")) {
    in.context = b.t.at("context");
    in.context_entity = b.t.at("context_entity").to(at::kLong);
  }
  ForwardOptions fo;
  fo.all_steps = true;
  fo.training = true;
  const ForwardOutput out = m->forward(in, fo);
  REQUIRE(max_abs(out.position, b.t.at("position")) <= 1e-5);
  LossInputs li{out.position, out.mu, out.sigma, b.t.at("target"), b.t.at("scale")};
  LossOptions sharpe;
  sharpe.warmup = 3;
  REQUIRE_NEAR(compute_loss(li, sharpe).total.item<double>(), b.t.at("loss_sharpe").item<double>(), 1e-5);
  LossOptions joint;
  joint.mode = LossMode::JointMle;
  joint.mle_weight = 0.2;
  joint.warmup = 3;
  joint.cost_bps = 5.0;
  const LossValue v = compute_loss(li, joint);
  REQUIRE_NEAR(v.total.item<double>(), b.t.at("loss_joint").item<double>(), 1e-5);
  v.total.backward();
  double worst = 0, worst_rel = 0;
  const auto& specs = m->parameters().specs();
  for (size_t i = 0; i < specs.size(); ++i) {
    const at::Tensor& ref = b.t.at("grad." + specs[i].name);
    const at::Tensor g = m->parameters().tensors()[i].grad();
    REQUIRE(g.defined());
    const double err = max_abs(g, ref);
    const double scale = ref.abs().max().item<double>();
    // float32 gradients of magnitude ~5 carry ~1e-5 of rounding on either side: compare relative to the
    // tensor's scale (absolute below 1).
    REQUIRE(err <= 1e-5 * std::max(1.0, scale));
    worst = std::max(worst, err);
    if (scale > 1e-3) worst_rel = std::max(worst_rel, err / scale);
    if (std::getenv("TFT_TRACE"))
      std::printf("            %-40s err %.2e scale %.2e\n", specs[i].name.c_str(), err,
                  ref.abs().max().item<double>());
  }
  std::printf("          %s: %zu gradients, max |native - pytorch| = %.2e, max relative to the tensor's scale %.2e\n",
              dir.c_str(), specs.size(), worst, worst_rel);
  REQUIRE(worst_rel <= 1e-5);
}

}  // namespace

TEST(training_loss_and_gradients_match_pytorch) { check_losses_and_gradients("training"); }

// X-Trend: gradients flow through the context encoder, its self-attention and the cross-attention.
TEST(training_with_a_context_set_matches_pytorch) { check_losses_and_gradients("training_context"); }

TEST(one_adam_step_matches_pytorch) {
  const Batch b = load_batch();
  auto m = fixture_model(b);
  TrainData data;
  data.features = b.t.at("x");  // 5 assets x 12 days: each asset is one window
  data.target = b.t.at("target");
  data.scale = b.t.at("scale");
  data.entity = b.t.at("entity").to(at::kLong);
  TrainOptions o;
  o.learning_rate = std::stod(b.meta.at("lr"));
  o.weight_decay = std::stod(b.meta.at("weightDecay"));
  o.clip_norm = std::stod(b.meta.at("clipNorm"));
  o.batch_size = 5;
  o.loss.mode = LossMode::JointMle;
  o.loss.mle_weight = 0.2;
  o.loss.warmup = 3;
  o.loss.cost_bps = 5.0;
  Trainer trainer(m, data, o);
  const auto windows = trainer.valid_windows(0, 11);
  REQUIRE(windows.size() == 5);
  const EpochStats st = trainer.train_epoch(windows, 1, nullptr, nullptr);
  REQUIRE(st.steps == 1);
  REQUIRE_NEAR(st.loss, b.t.at("loss_joint").item<double>(), 1e-5);
  double worst = 0;
  const auto& specs = m->parameters().specs();
  for (size_t i = 0; i < specs.size(); ++i) {
    const double e = max_abs(m->parameters().tensors()[i].detach(), b.t.at("after." + specs[i].name));
    if (std::getenv("TFT_TRACE")) std::printf("            %-40s err %.2e\n", specs[i].name.c_str(), e);
    worst = std::max(worst, e);
  }
  std::printf("          weights after one Adam step: max |native - pytorch| = %.2e\n", worst);
  // Adam's first step is lr * g / (|g| + eps): for entries with tiny gradients it amplifies float32
  // rounding of g into the update, so the bound is 0.5% of the learning rate rather than 1e-5.
  REQUIRE(worst <= 5e-5);
  REQUIRE(!st.gradients.empty());
  for (const auto& lg : st.gradients) REQUIRE(std::isfinite(lg.norm) && !lg.exploding);
}

namespace {

// A panel whose next-day return is driven by feature 0 (plus noise): y_t = 0.5 * tanh(f0_t) * 0.01 + noise.
TrainData planted_panel(int64_t A, int64_t D, int64_t F, uint64_t seed) {
  at::manual_seed(seed);
  TrainData d;
  d.features = at::randn({A, D, F});
  d.target = 0.005 * at::tanh(d.features.select(2, 0)) + 0.01 * at::randn({A, D});
  return d;
}

}  // namespace

TEST(training_is_deterministic_and_learns_a_planted_signal) {
  TftConfig c;
  c.n_features = 5;
  c.d_hidden = 16;
  c.n_heads = 2;
  c.seq_len = 10;
  c.dropout = 0.1;
  c.seed = 3;
  const TrainData data = planted_panel(4, 300, c.n_features, 17);
  TrainOptions o;
  o.learning_rate = 3e-3;
  o.batch_size = 32;
  o.loss.warmup = 2;
  o.seed = 9;
  auto m1 = std::make_shared<TftModel>(c), m2 = std::make_shared<TftModel>(c);
  Trainer t1(m1, data, o), t2(m2, data, o);
  const auto train = t1.valid_windows(0, 199), valid = t1.valid_windows(200, 299);
  const EvalStats before = t1.evaluate(valid);
  EpochStats e1, e2;
  for (int epoch = 0; epoch < 6; ++epoch) {
    e1 = t1.train_epoch(train, 100 + epoch, nullptr, nullptr);
    e2 = t2.train_epoch(train, 100 + epoch, nullptr, nullptr);
  }
  for (size_t i = 0; i < m1->parameters().tensors().size(); ++i)
    REQUIRE(at::equal(m1->parameters().tensors()[i], m2->parameters().tensors()[i]));
  REQUIRE(e1.loss == e2.loss);
  const EvalStats after = t1.evaluate(valid);
  std::printf("          validation Sharpe before %.2f, after 6 epochs %.2f\n", before.sharpe, after.sharpe);
  REQUIRE(after.sharpe > before.sharpe + 1.0);
  REQUIRE(after.sharpe > 2.0);
  const at::Tensor imp = t1.vsn_importance(valid);
  REQUIRE(imp.argmax().item<int64_t>() == 0);  // the planted feature gets the largest VSN weight
  REQUIRE_NEAR(imp.sum().item<double>(), 1.0, 1e-6);
  // early stopping support: restore a snapshot exactly
  t1.save_best();
  const at::Tensor snap = m1->parameters().tensors()[4].detach().clone();
  t1.train_epoch(train, 999, nullptr, nullptr);
  REQUIRE(!at::equal(snap, m1->parameters().tensors()[4]));
  t1.restore_best();
  REQUIRE(at::equal(snap, m1->parameters().tensors()[4]));
}

TEST(training_rejects_bad_windows_and_options) {
  TftConfig c;
  c.n_features = 3;
  c.d_hidden = 8;
  c.n_heads = 2;
  c.seq_len = 5;
  TrainData d = planted_panel(2, 30, 3, 1);
  d.features[1][12][0] = NAN;
  auto m = std::make_shared<TftModel>(c);
  Trainer t(m, d, TrainOptions{});
  const auto ok = t.valid_windows(0, 29);
  for (const auto& w : ok) REQUIRE(!(w.asset == 1 && w.last >= 12 && w.last <= 16));
  REQUIRE(ok.size() == 2 * 26 - 5);
  REQUIRE_THROWS_CODE(t.train_epoch({{1, 14}}, 0, nullptr, nullptr), ErrorCode::NonFinite);
  REQUIRE_THROWS_CODE(t.train_epoch({{5, 14}}, 0, nullptr, nullptr), ErrorCode::OutOfRange);
  REQUIRE_THROWS_CODE(t.train_epoch({{0, 2}}, 0, nullptr, nullptr), ErrorCode::OutOfRange);
  TrainOptions bad;
  bad.loss.warmup = 5;
  REQUIRE_THROWS_CODE(Trainer(m, d, bad), ErrorCode::InvalidArgument);
  REQUIRE_THROWS_CODE(parse_loss_mode("mse"), ErrorCode::InvalidArgument);
  REQUIRE_THROWS_CODE(t.train_epoch(ok, 0, nullptr, [] { return true; }), ErrorCode::Cancelled);
}

TEST(training_with_context_sets_is_causal_deterministic_and_learns) {
  TftConfig c;
  c.n_features = 5;
  c.d_hidden = 16;
  c.n_heads = 2;
  c.seq_len = 10;
  c.n_context = 3;
  c.n_entities = 4;
  c.dropout = 0.1;
  c.seed = 5;
  TrainData data = planted_panel(4, 300, c.n_features, 23);
  data.entity = at::arange(4, at::kLong);
  data.features[2][40][1] = NAN;  // context candidates must skip sequences through a missing day
  TrainOptions o;
  o.learning_rate = 3e-3;
  o.batch_size = 32;
  o.loss.warmup = 2;
  o.seed = 4;
  o.context_len = 8;
  auto m1 = std::make_shared<TftModel>(c), m2 = std::make_shared<TftModel>(c);
  Trainer t1(m1, data, o), t2(m2, data, o);
  REQUIRE(t1.context_len() == 8);
  // The first window that can have a context starts after the first 8-day sequence ends (day 7).
  const auto all = t1.valid_windows(0, 299);
  for (const auto& w : all) REQUIRE(w.last - 10 + 1 > 7);
  REQUIRE(all.front().last == 17);
  for (const auto& w : all) {
    const auto ctx = t1.context_of(w, 77);
    REQUIRE(ctx.size() == 3);
    for (const auto& cw : ctx) {
      REQUIRE(cw.last < w.last - 10 + 1);  // ends before the target window's first day
      REQUIRE(cw.last >= 7);
      REQUIRE(!(cw.asset == 2 && cw.last >= 40 && cw.last < 48));  // through the missing day
    }
    const auto again = t1.context_of(w, 77);
    for (size_t k = 0; k < ctx.size(); ++k) REQUIRE(again[k].asset == ctx[k].asset && again[k].last == ctx[k].last);
  }
  // Contexts differ between epochs (fresh draws) but not between calls with the same seed.
  size_t differ = 0;
  for (const auto& w : all) differ += t1.context_of(w, 1)[0].last != t1.context_of(w, 2)[0].last;
  REQUIRE(differ > all.size() / 2);
  REQUIRE_THROWS_CODE(t1.train_epoch({{0, 12}}, 0, nullptr, nullptr), ErrorCode::InvalidArgument);
  const auto block = t1.sample_context(250, 0, 1, 4);
  for (const auto& cw : block) REQUIRE(cw.last < 250);

  const auto train = t1.valid_windows(0, 199), valid = t1.valid_windows(200, 299);
  const EvalStats before = t1.evaluate(valid);
  REQUIRE(t1.evaluate(valid).loss == before.loss);  // evaluation contexts are fixed
  EpochStats e1, e2;
  for (int epoch = 0; epoch < 6; ++epoch) {
    e1 = t1.train_epoch(train, 300 + epoch, nullptr, nullptr);
    e2 = t2.train_epoch(train, 300 + epoch, nullptr, nullptr);
  }
  for (size_t i = 0; i < m1->parameters().tensors().size(); ++i)
    REQUIRE(at::equal(m1->parameters().tensors()[i], m2->parameters().tensors()[i]));
  REQUIRE(e1.loss == e2.loss);
  bool context_learned = false;
  for (const auto& lg : e1.gradients)
    if (lg.name.rfind("context_self", 0) == 0 || lg.name.rfind("cross", 0) == 0) context_learned |= lg.norm > 0;
  REQUIRE(context_learned);
  const EvalStats after = t1.evaluate(valid);
  std::printf("          X-Trend (3 contexts): validation Sharpe before %.2f, after 6 epochs %.2f\n", before.sharpe,
              after.sharpe);
  REQUIRE(after.sharpe > before.sharpe + 1.0);
  // Which feature the VSN ranks first after 6 epochs at this size depends on the seed (also without
  // context sets); the planted-signal test above checks VSN importance. Here: it is a distribution.
  REQUIRE_NEAR(t1.vsn_importance(valid).sum().item<double>(), 1.0, 1e-6);

  TrainOptions bad = o;
  bad.context_len = -1;
  REQUIRE_THROWS_CODE(Trainer(m1, data, bad), ErrorCode::InvalidArgument);
  bad.context_len = 301;
  REQUIRE_THROWS_CODE(Trainer(m1, data, bad), ErrorCode::InvalidArgument);
  TftConfig plain = c;
  plain.n_context = 0;
  REQUIRE_THROWS_CODE(Trainer(std::make_shared<TftModel>(plain), data, o), ErrorCode::InvalidArgument);
}
