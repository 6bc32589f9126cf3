#include "binding/model_inputs.h"

#include <string>

#include "binding/js_error.h"

namespace tft::binding {
namespace {

// Inputs a model has no use for are refused (as entityIds are), before their shape is checked against a
// configuration that has no room for them.
void check_context_wanted(const model::TftConfig& cfg, const char* arg = "context") {
  if (cfg.n_context == 0)
    throw Error(ErrorCode::InvalidArgument, std::string(arg) + ": this model has no context set (config.nContext = 0)",
                arg);
}
void check_context_entities_wanted(const model::TftConfig& cfg) {
  if (cfg.n_entities == 0)
    throw Error(ErrorCode::InvalidArgument,
                "contextEntityIds: this model has no entity embedding (config.nEntities = 0)", "contextEntityIds");
}

}  // namespace

at::Tensor int_ids(const Napi::Value& v, const char* name, std::vector<int64_t> shape) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw_error(v.Env(), ErrorCode::DType, "must be an Int32Array", name);
  auto a = v.As<Napi::Int32Array>();
  int64_t n = 1;
  for (auto s : shape) n *= s;
  if (static_cast<int64_t>(a.ElementLength()) != n)
    throw_error(v.Env(), ErrorCode::Shape,
                "has " + std::to_string(a.ElementLength()) + " ids, expected " + std::to_string(n), name);
  return at::from_blob(a.Data(), shape, at::kInt).to(at::kLong);  // a copy: ids are tiny
}

// Wraps a Float32Array without copying; the array must be kept alive by the job.
at::Tensor float_view(const FloatInput& in, const std::vector<int64_t>& shape, const char* name, Napi::Env env) {
  if (!in.f32) throw_error(env, ErrorCode::DType, "must be a Float32Array", name);
  if (!holds_shape(shape, in.length)) {
    std::string dims;
    int64_t n = 1;
    bool fits = true;
    for (size_t i = 0; i < shape.size(); ++i) {
      dims += (i ? " x " : "") + std::to_string(shape[i]);
      fits = fits && !__builtin_mul_overflow(n, shape[i], &n);
    }
    throw_error(env, ErrorCode::Shape,
                "has " + std::to_string(in.length) + " values but the shape " + dims + " needs " +
                    (fits ? std::to_string(n) : std::string("more than 2^63")),
                name);
  }
  return at::from_blob(const_cast<void*>(in.data), shape, at::kFloat);
}

ContextArgs parse_context(Napi::Env env, const Napi::Object& o, const model::TftConfig& cfg, std::vector<int64_t> lead,
                          std::vector<Napi::Object>& keep) {
  ContextArgs c;
  if (!has(o, "context")) {
    // (with nContext > 0 the missing context set itself is the error the core reports)
    if (has(o, "contextEntityIds")) check_context_wanted(cfg, "contextEntityIds");
    return c;
  }
  check_context_wanted(cfg);
  FloatInput in = get_float_array(o.Get("context"), "context");
  const int64_t Tc = get_int(o.Get("contextLen"), "contextLen");
  std::vector<int64_t> shape = lead;
  shape.insert(shape.end(), {cfg.n_context, Tc, cfg.n_features});
  c.context = float_view(in, shape, "context", env);
  keep.push_back(in.object);
  if (has(o, "contextEntityIds")) {
    check_context_entities_wanted(cfg);
    lead.push_back(cfg.n_context);
    c.context_entity = int_ids(o.Get("contextEntityIds"), "contextEntityIds", lead);
  }
  return c;
}

}  // namespace tft::binding
