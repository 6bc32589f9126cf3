// Attribution for JS: one asynchronous call per job (core/attribution), run on the executor thread under
// the model's lock. Options are read here; every check of their meaning is the core's.
#include <napi.h>

#include <memory>
#include <mutex>

#include "binding/args.h"
#include "binding/exports.h"
#include "binding/model_handle.h"
#include "binding/model_inputs.h"
#include "binding/native_job.h"
#include "core/attribution/attribution.h"

namespace tft::binding {
namespace {

using attribution::Result;

struct Call {
  std::shared_ptr<ModelHandle> handle;
  std::shared_ptr<model::TftModel> model;
  model::ModelInput input;
  std::vector<Napi::Object> keep;
  Napi::Object options;
  int64_t B = 0, T = 0, F = 0;
};

Napi::Object options_of(const Napi::Value& v) {
  if (v.IsUndefined()) return Napi::Object::New(v.Env());
  return require_object(v, "options");
}

// model, x, batch, steps, options: the model input, with entity ids and context sets from the options.
Call parse_call(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Call c;
  c.handle = model_handle_of(info[0], "model");
  c.model = c.handle->model;
  const auto& cfg = c.model->config();
  FloatInput x = get_float_array(info[1], "x");
  c.B = get_int(info[2], "batch");
  c.T = get_int(info[3], "steps");
  c.F = cfg.n_features;
  if (c.B < 0 || c.T < 1) throw_error(env, ErrorCode::Shape, "batch must be >= 0 and steps >= 1", "x");
  c.input.x = float_view(x, {c.B, c.T, c.F}, "x", env);
  c.keep.push_back(x.object);
  c.options = options_of(info[4]);
  if (has(c.options, "entityIds")) c.input.entity = int_ids(c.options.Get("entityIds"), "entityIds", {c.B});
  ContextArgs ctx = parse_context(env, c.options, cfg, {c.B}, c.keep);
  c.input.context = ctx.context;
  c.input.context_entity = ctx.context_entity;
  return c;
}

attribution::Target parse_target(const Napi::Object& o) {
  attribution::Target t;
  if (has(o, "target")) t.output = attribution::parse_output(get_string(o.Get("target"), "target"));
  if (has(o, "step")) t.step = get_int(o.Get("step"), "step");
  return t;
}

uint64_t parse_seed(const Napi::Object& o) {
  if (!has(o, "seed")) return 0;
  return static_cast<uint64_t>(get_int_in(o.Get("seed"), "seed", 0, int64_t{1} << 53));
}

// Baselines: `baselines` (Float32Array) with `baselineRows` rows of [T, F].
at::Tensor parse_baselines(Call& c) {
  if (!has(c.options, "baselines")) return {};
  FloatInput b = get_float_array(c.options.Get("baselines"), "baselines");
  const int64_t rows = get_int_in(c.options.Get("baselineRows"), "baselineRows", 1, int64_t{1} << 31);
  c.keep.push_back(b.object);
  return float_view(b, {rows, c.T, c.F}, "baselines", c.options.Env());
}

// A float draw of `rows` rows of `row_shape`, or undefined.
at::Tensor float_draw(Call& c, const Napi::Object& d, const char* key, const char* name, std::vector<int64_t> shape) {
  if (!has(d, key)) return {};
  FloatInput f = get_float_array(d.Get(key), name);
  c.keep.push_back(f.object);
  return float_view(f, shape, name, d.Env());
}

attribution::Draws parse_draws(Call& c, int64_t copies, int64_t rows) {
  attribution::Draws dr;
  if (!has(c.options, "draws")) return dr;
  const Napi::Object d = require_object(c.options.Get("draws"), "draws");
  dr.noise = float_draw(c, d, "noise", "draws.noise", {copies, c.T, c.F});
  dr.shap_noise = float_draw(c, d, "shapNoise", "draws.shapNoise", {rows, c.T, c.F});
  dr.shap_alpha = float_draw(c, d, "shapAlpha", "draws.shapAlpha", {rows});
  if (has(d, "tunnelBaseline")) dr.tunnel_baseline = int_ids(d.Get("tunnelBaseline"), "draws.tunnelBaseline", {copies});
  if (has(d, "shapBaseline")) dr.shap_baseline = int_ids(d.Get("shapBaseline"), "draws.shapBaseline", {rows});
  return dr;
}

// `contextBaselines` (Float32Array) with `contextBaselineRows` rows shaped like one input's context set.
at::Tensor parse_context_baselines(Call& c) {
  if (!c.input.context.defined())
    throw_error(c.options.Env(), ErrorCode::InvalidArgument, "needs a context set", "contextBaselines");
  FloatInput b = get_float_array(c.options.Get("contextBaselines"), "contextBaselines");
  const int64_t rows = get_int_in(c.options.Get("contextBaselineRows"), "contextBaselineRows", 1, int64_t{1} << 31);
  c.keep.push_back(b.object);
  const auto& ctx = c.input.context;
  return float_view(b, {rows, ctx.size(1), ctx.size(2), ctx.size(3)}, "contextBaselines", c.options.Env());
}

attribution::NoiseTunnel parse_tunnel(const Napi::Object& o) {
  attribution::NoiseTunnel t;
  if (!has(o, "tunnel")) return t;
  const Napi::Object n = require_object(o.Get("tunnel"), "tunnel");
  t.type = attribution::parse_smoothing(has(n, "type") ? get_string(n.Get("type"), "tunnel.type") : "smoothgrad");
  if (has(n, "nSamples")) t.samples = get_int_in(n.Get("nSamples"), "tunnel.nSamples", 1, int64_t{1} << 20);
  if (has(n, "stdevs")) t.stdev = get_number(n.Get("stdevs"), "tunnel.stdevs");
  t.draw_baseline_per_noise = get_bool(n.Get("drawBaselinePerNoise"), "tunnel.drawBaselinePerNoise", false);
  return t;
}

// What the gradient methods and DeepLift read alike: baselines (given or gaussian), the seed, the chunk
// size and the context's attribution. Both requests name these fields the same.
template <class Request>
void parse_inputs_and_chunking(Call& c, Request& r) {
  const Napi::Object& o = c.options;
  r.baselines = parse_baselines(c);
  r.gaussian_baselines = get_bool(o.Get("gaussianBaselines"), "gaussianBaselines", false);
  r.seed = parse_seed(o);
  if (has(o, "internalBatchSize"))
    r.chunk_rows = get_int_in(o.Get("internalBatchSize"), "internalBatchSize", 1, int64_t{1} << 24);
  r.context_attributions = get_bool(o.Get("contextAttributions"), "contextAttributions", false);
  if (has(o, "contextBaselines")) r.context_baselines = parse_context_baselines(c);
}

attribution::GradientRequest parse_gradient_request(Call& c) {
  const Napi::Object& o = c.options;
  attribution::GradientRequest r;
  r.method =
      attribution::parse_method(has(o, "method") ? get_string(o.Get("method"), "method") : "integratedGradients");
  r.target = parse_target(o);
  r.abs = get_bool(o.Get("abs"), "abs", true);
  if (has(o, "nSteps")) r.n_steps = get_int_in(o.Get("nSteps"), "nSteps", 1, int64_t{1} << 20);
  if (has(o, "integration")) r.quadrature = attribution::parse_quadrature(get_string(o.Get("integration"), "method"));
  if (has(o, "nSamples")) r.shap_samples = get_int_in(o.Get("nSamples"), "nSamples", 1, int64_t{1} << 20);
  if (has(o, "stdevs")) r.shap_stdev = get_number(o.Get("stdevs"), "stdevs");
  r.tunnel = parse_tunnel(o);
  parse_inputs_and_chunking(c, r);
  const int64_t copies = c.B * (r.tunnel.type == attribution::Smoothing::None ? 1 : r.tunnel.samples);
  r.draws = parse_draws(c, copies, copies * r.shap_samples);
  return r;
}

attribution::PerturbationRequest parse_perturbation_request(Call& c) {
  const Napi::Object& o = c.options;
  attribution::PerturbationRequest r;
  r.permutation = get_bool(o.Get("permutation"), "permutation", false);
  r.target = parse_target(o);
  if (has(o, "groups")) r.groups = int_ids(o.Get("groups"), "groups", {c.T, c.F});
  r.baselines = parse_baselines(c);
  r.seed = parse_seed(o);
  if (has(o, "permutations")) {
    const int64_t G = get_int_in(o.Get("groupCount"), "groupCount", 0, c.T * c.F);
    r.permutations = int_ids(o.Get("permutations"), "permutations", {G, c.B});
  }
  return r;
}

attribution::DeepLiftRequest parse_deeplift_request(Call& c) {
  const Napi::Object& o = c.options;
  attribution::DeepLiftRequest r;
  r.shap = get_bool(o.Get("shap"), "shap", false);
  r.target = parse_target(o);
  parse_inputs_and_chunking(c, r);
  return r;
}

Napi::Value result_to_js(Napi::Env env, Result& r) {
  auto o = Napi::Object::New(env);
  o.Set("attributions", to_float32_array(env, r.attributions.data_ptr<float>(), r.attributions.numel()));
  const at::Tensor out = r.outputs.contiguous();
  o.Set("outputs", to_float32_array(env, out.data_ptr<float>(), out.numel()));
  if (r.context_attributions.defined()) {
    const at::Tensor ca = r.context_attributions.contiguous();
    o.Set("contextAttributions", to_float32_array(env, ca.data_ptr<float>(), ca.numel()));
  }
  if (r.delta.defined()) {
    const at::Tensor d = r.delta.to(at::kDouble).contiguous();
    o.Set("delta", to_float64_array(env, std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel())));
  }
  return o;
}

template <class Request, class Run>
Napi::Value start(Napi::Env env, Call& c, Request request, Run run) {
  c.keep.push_back(c.options);
  return NativeJob<Result>::Start(
      env,
      [h = c.handle, m = c.model, input = c.input, request, run] {
        std::lock_guard<std::mutex> lock(h->mu);
        if (!h->model) throw Error(ErrorCode::Disposed, "model: the model was disposed", "model");
        return run(*m, input, request);
      },
      result_to_js, c.keep, track_pending(c.handle));
}

Napi::Value AttributeGradients(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Call c = parse_call(info);
    return start(info.Env(), c, parse_gradient_request(c), &attribution::gradient_attribution);
  });
}

Napi::Value AttributePerturbation(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Call c = parse_call(info);
    return start(info.Env(), c, parse_perturbation_request(c), &attribution::perturbation_attribution);
  });
}

Napi::Value AttributeDeepLift(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Call c = parse_call(info);
    return start(info.Env(), c, parse_deeplift_request(c), &attribution::deeplift_attribution);
  });
}

}  // namespace

void register_attribution(Napi::Env env, Napi::Object exports) {
  exports.Set("attributeGradients", Napi::Function::New(env, AttributeGradients, "attributeGradients"));
  exports.Set("attributePerturbation", Napi::Function::New(env, AttributePerturbation, "attributePerturbation"));
  exports.Set("attributeDeepLift", Napi::Function::New(env, AttributeDeepLift, "attributeDeepLift"));
}

}  // namespace tft::binding
