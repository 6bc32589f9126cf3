// Attribution properties that hold whatever the reference says (the values against Captum are checked by
// the TypeScript suite on committed fixtures): quadrature rules, IG completeness as the steps grow, exact
// zeros for a feature the model cannot see, gradients against finite differences, perturbation by hand.
#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "core/attribution/attribution.h"
#include "harness.h"
#include "model_inputs.h"

using namespace tft;
using namespace tft::attribution;
using namespace tft::model;

namespace {

std::shared_ptr<TftModel> small_model(int64_t F = 5, int64_t n_entities = 0, int64_t n_context = 0) {
  TftConfig c;
  c.n_features = F;
  c.d_hidden = 8;
  c.n_heads = 2;
  c.seq_len = 6;
  c.n_entities = n_entities;
  c.n_context = n_context;
  c.seed = 3;
  return std::make_shared<TftModel>(c);
}

ModelInput input(const TftModel& m, int64_t B, uint64_t seed = 1) { return test::random_input(m, B, seed); }

}  // namespace

TEST(quadrature_rules_match_numpy_and_captum) {
  const Rule g = quadrature_rule(Quadrature::GaussLegendre, 5);
  // numpy.polynomial.legendre.leggauss(5), mapped to [0, 1]
  const double x[5] = {-0.9061798459386640, -0.5384693101056831, 0.0, 0.5384693101056831, 0.9061798459386640};
  const double w[5] = {0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665,
                       0.2369268850561891};
  for (int i = 0; i < 5; ++i) {
    REQUIRE_NEAR(g.alphas[i], 0.5 * (1 + x[i]), 1e-14);
    REQUIRE_NEAR(g.weights[i], 0.5 * w[i], 1e-14);
  }
  const Rule t = quadrature_rule(Quadrature::RiemannTrapezoid, 4);
  REQUIRE_NEAR(t.weights[0], 0.125, 1e-15);
  REQUIRE_NEAR(t.weights[1], 0.25, 1e-15);
  REQUIRE_NEAR(t.alphas[3], 1.0, 1e-7);
  REQUIRE_NEAR(quadrature_rule(Quadrature::RiemannRight, 4).alphas[0], 0.25, 1e-7);
  REQUIRE_NEAR(quadrature_rule(Quadrature::RiemannMiddle, 4).alphas[0], 0.125, 1e-7);
  REQUIRE_THROWS_CODE(quadrature_rule(Quadrature::RiemannLeft, 1), ErrorCode::InvalidArgument);
  REQUIRE_THROWS_CODE(quadrature_rule(Quadrature::GaussLegendre, 0), ErrorCode::InvalidArgument);
  double sum = 0;
  for (double v : quadrature_rule(Quadrature::GaussLegendre, 64).weights) sum += v;
  REQUIRE_NEAR(sum, 1.0, 1e-12);
}

TEST(integrated_gradients_converge_to_completeness) {
  auto m = small_model(5, 3, 2);
  // Random biases and gains: a fresh model's zero biases make every LayerNorm input constant at x = 0
  // (the baseline), where its gradient is 1/sqrt(eps) per layer and the integrand is not smooth.
  {
    at::NoGradGuard ng;
    at::manual_seed(7);
    for (const at::Tensor& t : m->parameters().tensors()) t.add_(at::randn_like(t) * 0.2);
    m->parameters_changed();
  }
  const ModelInput in = input(*m, 4);
  // The delta is the quadrature error: Gauss-Legendre's falls fast with the steps for a smooth integrand,
  // and at 256 steps only float32 rounding is left. (Captum's trapezoid rule converges only as 1/n: its
  // weights sum to 1 - 1/n.)
  std::vector<double> worst;
  for (int64_t n : {2, 16, 256}) {
    GradientRequest r;
    r.n_steps = n;
    const Result res = gradient_attribution(*m, in, r);
    REQUIRE(res.attributions.sizes() == at::IntArrayRef({4, 6, 5}));
    worst.push_back(res.delta.abs().max().item<double>());
  }
  std::printf("            IG |delta| (Gauss-Legendre) at 2, 16, 256 steps: %.2e %.2e %.2e\n", worst[0], worst[1],
              worst[2]);
  REQUIRE(worst[1] < worst[0] && worst[2] < worst[1]);
  REQUIRE(worst[2] < 1e-4);
}

TEST(context_attributions_complete_the_x_trend_path) {
  auto m = small_model(4, 0, 3);
  {
    at::NoGradGuard ng;
    at::manual_seed(8);
    for (const at::Tensor& t : m->parameters().tensors()) t.add_(at::randn_like(t) * 0.2);
    m->parameters_changed();
  }
  const ModelInput in = input(*m, 3);
  GradientRequest r;
  r.n_steps = 128;
  r.context_attributions = true;
  r.context_baselines = at::full({1, 3, 4, 4}, 0.1);
  const Result res = gradient_attribution(*m, in, r);
  REQUIRE(res.context_attributions.sizes() == at::IntArrayRef({3, 3, 4, 4}));
  REQUIRE(res.context_attributions.abs().max().item<double>() > 0);
  // Completeness over both inputs: F(x, c) - F(x', c') is split between x and the context.
  REQUIRE(res.delta.abs().max().item<double>() < 1e-4);
  // Without the context's share the same sum misses F(x', c) - F(x', c').
  GradientRequest x_only;
  x_only.n_steps = 128;
  const Result xr = gradient_attribution(*m, in, x_only);
  REQUIRE(xr.delta.abs().max().item<double>() < 1e-4);
  REQUIRE(!xr.context_attributions.defined());
  // Saliency of the context equals the gradient by finite differences.
  GradientRequest s;
  s.method = Method::Saliency;
  s.abs = false;
  s.context_attributions = true;
  const at::Tensor g = gradient_attribution(*m, in, s).context_attributions.to(at::kDouble);
  ModelInput up = in, down = in;
  up.context = in.context.clone();
  down.context = in.context.clone();
  up.context[1][2][3][0] += 1e-2;
  down.context[1][2][3][0] -= 1e-2;
  const double fd =
      (m->predict_batch(up, {}).position[1] - m->predict_batch(down, {}).position[1]).item<double>() / 2e-2;
  REQUIRE_NEAR(g[1][2][3][0].item<double>(), fd, 2e-3);
  GradientRequest bad;
  bad.method = Method::GradientShap;
  bad.context_attributions = true;
  REQUIRE_THROWS_CODE(gradient_attribution(*m, in, bad), ErrorCode::InvalidArgument);
  GradientRequest plain;
  plain.context_attributions = true;
  auto no_context = small_model(4);
  REQUIRE_THROWS_CODE(gradient_attribution(*no_context, input(*no_context, 2), plain), ErrorCode::InvalidArgument);
}

TEST(a_feature_the_model_cannot_see_gets_exactly_zero) {
  auto m = small_model(4);
  // Every path of feature 2 into the network starts at its prescaler, e_2 = x_2 * w_2 + b_2: with w_2 = 0
  // the output cannot depend on x_2.
  at::NoGradGuard ng;
  const auto& specs = m->parameters().specs();
  for (size_t i = 0; i < specs.size(); ++i)
    if (specs[i].name == "vsn.prescalers.weight") m->parameters().tensors()[i].select(0, 2).zero_();
  m->parameters_changed();
  const ModelInput in = input(*m, 3);
  for (Method method : {Method::Saliency, Method::InputXGradient, Method::IntegratedGradients, Method::GradientShap}) {
    GradientRequest r;
    r.method = method;
    r.n_steps = 4;
    r.abs = false;
    const at::Tensor a = gradient_attribution(*m, in, r).attributions;
    REQUIRE(a.select(2, 2).abs().max().item<double>() == 0.0);
    REQUIRE(a.select(2, 1).abs().max().item<double>() > 0.0);
  }
  PerturbationRequest p;
  REQUIRE(perturbation_attribution(*m, in, p).attributions.select(2, 2).abs().max().item<double>() == 0.0);
}

TEST(saliency_is_the_gradient_by_finite_differences) {
  auto m = small_model(3);
  const ModelInput in = input(*m, 2);
  GradientRequest r;
  r.method = Method::Saliency;
  r.abs = false;
  r.target = Target{Output::Mu, 3};
  const at::Tensor g = gradient_attribution(*m, in, r).attributions.to(at::kDouble);
  const double h = 1e-2;
  for (int64_t t : {0, 3, 5}) {
    ModelInput up = in, down = in;
    up.x = in.x.clone();
    down.x = in.x.clone();
    up.x.select(1, t).select(1, 1).add_(h);
    down.x.select(1, t).select(1, 1).sub_(h);
    BatchOptions o;
    o.forward.all_steps = true;
    const at::Tensor fd =
        (m->predict_batch(up, o).mu.select(1, 3) - m->predict_batch(down, o).mu.select(1, 3)) / (2 * h);
    for (int64_t b = 0; b < 2; ++b) REQUIRE_NEAR(g[b][t][1].item<double>(), fd[b].item<double>(), 2e-3);
  }
  // Steps after the target step cannot influence it (the decoder attends causally).
  REQUIRE(g.narrow(1, 4, 2).abs().max().item<double>() == 0.0);
}

TEST(attributions_do_not_depend_on_chunking_and_seeds_reproduce) {
  auto m = small_model(4);
  const ModelInput in = input(*m, 3);
  GradientRequest r;
  r.method = Method::GradientShap;
  r.shap_samples = 6;
  r.shap_stdev = 0.1;
  r.baselines = at::randn({5, 6, 4});
  r.tunnel.type = Smoothing::VarGrad;
  r.tunnel.samples = 3;
  r.seed = 42;
  r.chunk_rows = 1;
  const at::Tensor a1 = gradient_attribution(*m, in, r).attributions;
  r.chunk_rows = 0;
  const at::Tensor a2 = gradient_attribution(*m, in, r).attributions;
  REQUIRE((a1 - a2).abs().max().item<double>() < 1e-6);
  REQUIRE(gradient_attribution(*m, in, r).attributions.equal(a2));
  r.seed = 43;
  REQUIRE(!gradient_attribution(*m, in, r).attributions.equal(a2));
}

TEST(ablation_is_the_output_change_when_a_feature_is_replaced) {
  auto m = small_model(3);
  const ModelInput in = input(*m, 2);
  PerturbationRequest p;
  p.baselines = at::full({6, 3}, 0.5);
  const Result res = perturbation_attribution(*m, in, p);
  ModelInput abl = in;
  abl.x = in.x.clone();
  abl.x.select(2, 1).fill_(0.5);
  const at::Tensor diff = m->predict_batch(in, {}).position - m->predict_batch(abl, {}).position;
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 6; ++t)
      REQUIRE_NEAR(res.attributions[b][t][1].item<double>(), diff[b].item<double>(), 1e-6);
  PerturbationRequest q;
  q.permutation = true;
  q.permutations = at::tensor({1, 0, 1, 0, 1, 0}, at::kLong).view({3, 2});
  const at::Tensor pa = perturbation_attribution(*m, in, q).attributions;
  ModelInput sw = in;
  sw.x = in.x.clone();
  sw.x.select(2, 0).copy_(in.x.select(2, 0).flip(0));
  const at::Tensor pd = m->predict_batch(in, {}).position - m->predict_batch(sw, {}).position;
  REQUIRE_NEAR(pa[0][0][0].item<double>(), pd[0].item<double>(), 1e-6);
  REQUIRE_THROWS_CODE(perturbation_attribution(*m, in,
                                               [] {
                                                 PerturbationRequest bad;
                                                 bad.permutation = true;
                                                 bad.permutations = at::zeros({3, 2}, at::kLong);
                                                 return bad;
                                               }()),
                      ErrorCode::InvalidArgument);
}

TEST(bad_attribution_requests_are_typed_errors) {
  auto m = small_model(3);
  const ModelInput in = input(*m, 2);
  GradientRequest r;
  r.baselines = at::zeros({3, 6, 3});
  REQUIRE_THROWS_CODE(gradient_attribution(*m, in, r), ErrorCode::Shape);
  r.baselines = at::full({6, 3}, NAN);
  REQUIRE_THROWS_CODE(gradient_attribution(*m, in, r), ErrorCode::NonFinite);
  GradientRequest s;
  s.target.step = 6;
  REQUIRE_THROWS_CODE(gradient_attribution(*m, in, s), ErrorCode::OutOfRange);
  GradientRequest n;
  n.n_steps = 0;
  REQUIRE_THROWS_CODE(gradient_attribution(*m, in, n), ErrorCode::InvalidArgument);
  REQUIRE_THROWS_CODE(parse_method("deepLiftX"), ErrorCode::InvalidArgument);
  ModelInput nan_in = in;
  nan_in.x = in.x.clone();
  nan_in.x[0][0][0] = NAN;
  REQUIRE_THROWS_CODE(gradient_attribution(*m, nan_in, GradientRequest{}), ErrorCode::NonFinite);
}
