// TftModel for JS: one ObjectWrap over tft::model::TftModel. Slow calls run on the executor thread; the
// wrapper keeps itself and the input arrays alive for the job, serialises access with a mutex, and reports
// its native memory to V8.
#include <napi.h>

#include <c10/core/InferenceMode.h>
#include <torch/cuda.h>

#include <memory>
#include <mutex>

#include "binding/args.h"
#include "binding/exports.h"
#include "binding/instance.h"
#include "binding/model_handle.h"
#include "binding/model_inputs.h"
#include "binding/native_job.h"
#include "core/model/safetensors.h"
#include "core/model/tft_model.h"

namespace tft::binding {
namespace {

// Chunk sizes are counts of sequences or windows held at once: a bound far above any useful value refuses
// nonsense (1e12) instead of letting it through to an allocation.
constexpr int64_t kMaxChunk = int64_t{1} << 24;

using tft::model::TftModel;

model::TftConfig parse_config(const Napi::Value& v) {
  if (!v.IsObject()) throw_error(v.Env(), ErrorCode::InvalidArgument, "must be an object", "config");
  const Napi::Object o = v.As<Napi::Object>();
  auto num = [&](const char* k) -> double {
    const Napi::Value f = o.Get(k);
    if (!f.IsNumber()) throw_error(v.Env(), ErrorCode::InvalidArgument, "must be a number", std::string("config.") + k);
    return f.As<Napi::Number>().DoubleValue();
  };
  auto integer = [&](const char* k) { return get_int(o.Get(k), (std::string("config.") + k).c_str()); };
  model::TftConfig c;
  c.n_features = integer("nFeatures");
  c.d_hidden = integer("dHidden");
  c.n_heads = integer("nHeads");
  c.lstm_layers = integer("lstmLayers");
  c.dropout = num("dropout");
  c.seq_len = integer("seqLen");
  c.n_context = integer("nContext");
  c.max_position = num("maxPosition");
  c.n_entities = integer("nEntities");
  c.seed = static_cast<uint64_t>(integer("seed"));
  return c;
}

Napi::Object prediction_to_js(Napi::Env env, const model::ForwardOutput& r) {
  auto o = Napi::Object::New(env);
  auto put = [&](const char* k, const at::Tensor& t) {
    if (!t.defined()) return;
    const at::Tensor c = t.to(at::kCPU).to(at::kFloat).contiguous();
    o.Set(k, to_float32_array(env, c.data_ptr<float>(), static_cast<size_t>(c.numel())));
  };
  put("position", r.position);
  put("mu", r.mu);
  put("sigma", r.sigma);
  put("vsnWeights", r.vsn_weights);
  put("attention", r.attention);
  return o;
}

Napi::Array specs_to_js(Napi::Env env, const std::vector<model::ParamSpec>& specs) {
  auto arr = Napi::Array::New(env, specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    auto e = Napi::Object::New(env);
    e.Set("name", specs[i].name);
    auto shape = Napi::Array::New(env, specs[i].shape.size());
    for (size_t k = 0; k < specs[i].shape.size(); ++k)
      shape.Set(k, Napi::Number::New(env, static_cast<double>(specs[i].shape[k])));
    e.Set("shape", shape);
    arr.Set(i, e);
  }
  return arr;
}

class TftModelWrap : public Napi::ObjectWrap<TftModelWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeTftModel",
                       {
                           InstanceMethod<&TftModelWrap::PredictSync>("predictSync"),
                           InstanceMethod<&TftModelWrap::Predict>("predict"),
                           InstanceMethod<&TftModelWrap::PredictRolling>("predictRolling"),
                           InstanceMethod<&TftModelWrap::StateDict>("stateDict"),
                           InstanceMethod<&TftModelWrap::LoadStateDict>("loadStateDict"),
                           InstanceMethod<&TftModelWrap::SaveSafetensors>("saveSafetensors"),
                           InstanceMethod<&TftModelWrap::LoadSafetensors>("loadSafetensors"),
                           InstanceMethod<&TftModelWrap::ParameterSpecs>("parameterSpecs"),
                           InstanceMethod<&TftModelWrap::NumParameters>("numParameters"),
                           InstanceMethod<&TftModelWrap::Device>("device"),
                           InstanceMethod<&TftModelWrap::Dispose>("dispose"),
                       });
  }

  TftModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TftModelWrap>(info) {
    Napi::Env env = info.Env();
    try {
      const model::TftConfig config = parse_config(info[0]);
      const std::string device = info[1].IsUndefined() ? std::string("cpu") : get_string(info[1], "device");
      at::Device dev = at::kCPU;
      if (device == "cuda") {
#if !defined(TFT_TORCH_CUDA)
        throw Error(ErrorCode::CudaUnavailable,
                    "device: 'cuda' needs a libtorch built with CUDA; this addon was built against a CPU-only "
                    "libtorch (rebuild with LIBTORCH or LIBTORCH_USE_PYTORCH pointing at a CUDA libtorch)",
                    "device");
#else
        if (!torch::cuda::is_available())
          throw Error(ErrorCode::CudaUnavailable, "device: 'cuda' requested but no CUDA device is available", "device");
        dev = at::Device(at::kCUDA, 0);
#endif
      } else if (device != "cpu") {
        throw Error(ErrorCode::InvalidArgument, "device: unknown device '" + device + "' (expected 'cpu' or 'cuda')",
                    "device");
      }
      handle_->model = std::make_shared<TftModel>(config, dev);
      bytes_ = handle_->model->parameters().numel() * static_cast<int64_t>(sizeof(float));
      Napi::MemoryManagement::AdjustExternalMemory(env, bytes_);
    } catch (const Napi::Error&) {
      throw;
    } catch (...) {
      throw_error(env, capture_current_exception());
    }
  }

  ~TftModelWrap() override {
    if (bytes_) Napi::MemoryManagement::AdjustExternalMemory(Env(), -bytes_);
  }

 private:
  // A model that is present and not in use by a job, for synchronous calls from the JS thread.
  std::shared_ptr<TftModel> acquire_sync(Napi::Env env, std::unique_lock<std::mutex>& lock) {
    lock = lock_idle(env, *handle_, "model", "the model has asynchronous jobs pending; await them first",
                     "the model is running an asynchronous job; await it first");
    if (!handle_->model) throw_error(env, ErrorCode::Disposed, "the model was disposed", "model");
    return handle_->model;
  }
  std::shared_ptr<TftModel> require_model(Napi::Env env) {
    if (!handle_->model) throw_error(env, ErrorCode::Disposed, "the model was disposed", "model");
    return handle_->model;
  }

 public:
  const std::shared_ptr<ModelHandle>& handle() const { return handle_; }

 private:
  struct PredictArgs {
    model::ModelInput input;
    model::BatchOptions options;
    std::vector<Napi::Object> keep;
  };

  PredictArgs parse_predict(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto& cfg = require_model(env)->config();
    PredictArgs a;
    FloatInput x = get_float_array(info[0], "x");
    const int64_t B = get_int(info[1], "batch"), T = get_int(info[2], "steps");
    if (B < 0 || T < 1) throw_error(env, ErrorCode::Shape, "batch must be >= 0 and steps >= 1", "x");
    a.input.x = float_view(x, {B, T, cfg.n_features}, "x", env);
    a.keep.push_back(x.object);
    if (info[3].IsObject()) {
      const Napi::Object o = info[3].As<Napi::Object>();
      a.options.forward.all_steps = get_bool(o.Get("allSteps"), "allSteps", false);
      a.options.forward.vsn_weights = get_bool(o.Get("vsnWeights"), "vsnWeights", false);
      a.options.forward.attention = get_bool(o.Get("attention"), "attention", false);
      if (has(o, "nanPolicy"))
        a.options.nan_policy = model::parse_nan_policy(get_string(o.Get("nanPolicy"), "nanPolicy"));
      if (has(o, "chunkSize")) a.options.chunk_size = get_int_in(o.Get("chunkSize"), "chunkSize", 1, kMaxChunk);
      if (has(o, "entityIds")) a.input.entity = int_ids(o.Get("entityIds"), "entityIds", {B});
      ContextArgs c = parse_context(env, o, cfg, {B}, a.keep);
      a.input.context = c.context;
      a.input.context_entity = c.context_entity;
    }
    return a;
  }

  Napi::Value PredictSync(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      PredictArgs a = parse_predict(info);
      std::unique_lock<std::mutex> lock;
      auto m = acquire_sync(info.Env(), lock);
      return prediction_to_js(info.Env(), m->predict_batch(a.input, a.options));
    });
  }

  Napi::Value Predict(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      PredictArgs a = parse_predict(info);
      auto m = require_model(info.Env());
      a.keep.push_back(Value());
      auto input = a.input;
      auto options = a.options;
      return NativeJob<model::ForwardOutput>::Start(
          info.Env(),
          [h = handle_, m, input, options] {
            std::lock_guard<std::mutex> lock(h->mu);
            return m->predict_batch(input, options);
          },
          [](Napi::Env env, model::ForwardOutput& r) -> Napi::Value { return prediction_to_js(env, r); }, a.keep,
          track_pending(handle_));
    });
  }

  Napi::Value PredictRolling(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      auto m = require_model(env);
      const auto& cfg = m->config();
      FloatInput p = get_float_array(info[0], "panel");
      const int64_t A = get_int(info[1], "assets"), D = get_int(info[2], "days");
      if (A < 0 || D < 0) throw_error(env, ErrorCode::Shape, "assets and days must be >= 0", "panel");
      std::vector<Napi::Object> keep{p.object, Value()};
      at::Tensor panel = float_view(p, {A, D, cfg.n_features}, "panel", env);
      at::Tensor entity;
      model::RollingOptions ro;
      if (info[3].IsObject()) {
        const Napi::Object o = info[3].As<Napi::Object>();
        if (has(o, "window")) ro.window = get_int_in(o.Get("window"), "window", 1, 65536);
        if (has(o, "nanPolicy")) ro.nan_policy = model::parse_nan_policy(get_string(o.Get("nanPolicy"), "nanPolicy"));
        ro.skip_non_finite = get_bool(o.Get("skipNonFinite"), "skipNonFinite", false);
        ro.vsn_weights = get_bool(o.Get("vsnWeights"), "vsnWeights", false);
        if (has(o, "chunkWindows")) ro.chunk_windows = get_int_in(o.Get("chunkWindows"), "chunkWindows", 1, kMaxChunk);
        if (has(o, "entityIds")) entity = int_ids(o.Get("entityIds"), "entityIds", {A});
        ContextArgs c = parse_context(env, o, cfg, {}, keep);
        ro.context = c.context;
        ro.context_entity = c.context_entity;
      }
      return NativeJob<model::RollingOutput>::Start(
          env,
          [h = handle_, m, panel, entity, ro] {
            std::lock_guard<std::mutex> lock(h->mu);
            return m->predict_rolling(panel, entity, ro);
          },
          [](Napi::Env env, model::RollingOutput& r) -> Napi::Value {
            model::ForwardOutput f;
            f.position = r.position;
            f.mu = r.mu;
            f.sigma = r.sigma;
            f.vsn_weights = r.vsn_weights;
            return prediction_to_js(env, f);
          },
          keep, track_pending(handle_));
    });
  }

  Napi::Value StateDict(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      std::unique_lock<std::mutex> lock;
      auto m = acquire_sync(env, lock);
      const auto& specs = m->parameters().specs();
      const auto& tensors = m->parameters().tensors();
      Napi::Array arr = specs_to_js(env, specs);
      for (size_t i = 0; i < specs.size(); ++i) {
        const at::Tensor t = tensors[i].detach().to(at::kCPU).contiguous();
        arr.Get(static_cast<uint32_t>(i))
            .As<Napi::Object>()
            .Set("data", to_float32_array(env, t.data_ptr<float>(), static_cast<size_t>(t.numel())));
      }
      return arr;
    });
  }

  Napi::Value LoadStateDict(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      if (!info[0].IsArray())
        throw_error(env, ErrorCode::InvalidArgument, "must be an array of {name, shape, data}", "state");
      const Napi::Array arr = info[0].As<Napi::Array>();
      std::map<std::string, model::NamedTensor> state;
      for (uint32_t i = 0; i < arr.Length(); ++i) {
        const Napi::Value ev = arr.Get(i);
        if (!ev.IsObject())
          throw_error(env, ErrorCode::InvalidArgument, "entry " + std::to_string(i) + " is not an object", "state");
        const Napi::Object e = ev.As<Napi::Object>();
        const std::string name = get_string(e.Get("name"), "state[].name");
        if (!e.Get("shape").IsArray()) throw_error(env, ErrorCode::InvalidArgument, "shape must be an array", name);
        const Napi::Array sh = e.Get("shape").As<Napi::Array>();
        model::NamedTensor t;
        int64_t n = 1;
        for (uint32_t k = 0; k < sh.Length(); ++k) {
          t.shape.push_back(get_int(sh.Get(k), (name + ".shape").c_str()));
          if (t.shape.back() < 0) throw_error(env, ErrorCode::StateDict, "negative dimension", name);
          n *= t.shape.back();
        }
        FloatInput data = get_float_array(e.Get("data"), name.c_str());
        if (!data.f32) throw_error(env, ErrorCode::DType, "data must be a Float32Array", name);
        if (static_cast<int64_t>(data.length) != n)
          throw_error(env, ErrorCode::StateDict,
                      "has " + std::to_string(data.length) + " values for a shape of " + std::to_string(n), name);
        t.data = static_cast<const float*>(data.data);
        if (state.count(name)) throw_error(env, ErrorCode::StateDict, "appears twice", name);
        state[name] = t;
      }
      std::unique_lock<std::mutex> lock;
      auto m = acquire_sync(env, lock);
      m->parameters().load(state);
      return env.Undefined();
    });
  }

  Napi::Value SaveSafetensors(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      auto m = require_model(env);
      const std::string path = get_string(info[0], "path");
      std::map<std::string, std::string> meta;
      if (info[1].IsObject()) {
        const Napi::Object o = info[1].As<Napi::Object>();
        const Napi::Array keys = o.GetPropertyNames();
        for (uint32_t i = 0; i < keys.Length(); ++i) {
          const std::string k = keys.Get(i).As<Napi::String>().Utf8Value();
          meta[k] = get_string(o.Get(k), ("metadata." + k).c_str());
        }
      }
      return NativeJob<bool>::Start(
          env,
          [h = handle_, m, path, meta] {
            std::lock_guard<std::mutex> lock(h->mu);
            std::vector<std::pair<std::string, at::Tensor>> tensors;
            for (size_t i = 0; i < m->parameters().specs().size(); ++i)
              tensors.emplace_back(m->parameters().specs()[i].name, m->parameters().tensors()[i]);
            model::write_safetensors(path, tensors, meta);
            return true;
          },
          [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); }, {Value()}, track_pending(handle_));
    });
  }

  Napi::Value LoadSafetensors(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      auto m = require_model(env);
      const std::string path = get_string(info[0], "path");
      return NativeJob<bool>::Start(
          env,
          [h = handle_, m, path] {
            auto tensors = model::read_safetensors(path);
            std::map<std::string, model::NamedTensor> state;
            for (auto& [name, t] : tensors) {
              t = t.contiguous();
              if (t.scalar_type() != at::kFloat)
                throw Error(ErrorCode::StateDict, path + ": tensor '" + name + "' is not a floating-point tensor",
                            name);
              state[name] = model::NamedTensor{t.sizes().vec(), t.data_ptr<float>()};
            }
            std::lock_guard<std::mutex> lock(h->mu);
            m->parameters().load(state);
            return true;
          },
          [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); }, {Value()}, track_pending(handle_));
    });
  }

  Napi::Value ParameterSpecs(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      return specs_to_js(env, require_model(env)->parameters().specs());
    });
  }

  Napi::Value NumParameters(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      return Napi::Number::New(info.Env(), static_cast<double>(require_model(info.Env())->parameters().numel()));
    });
  }

  Napi::Value Device(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      return Napi::String::New(info.Env(), require_model(info.Env())->device().is_cpu() ? "cpu" : "cuda");
    });
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      if (!handle_->model) return env.Undefined();
      if (handle_->pending > 0)
        throw_error(env, ErrorCode::Busy, "the model has asynchronous jobs pending; await them first", "model");
      std::unique_lock<std::mutex> lock(handle_->mu, std::try_to_lock);
      if (!lock.owns_lock())
        throw_error(env, ErrorCode::Busy, "the model is running an asynchronous job; await it first", "model");
      handle_->model.reset();
      Napi::MemoryManagement::AdjustExternalMemory(env, -bytes_);
      bytes_ = 0;
      return env.Undefined();
    });
  }

  std::shared_ptr<ModelHandle> handle_ = std::make_shared<ModelHandle>();
  int64_t bytes_ = 0;
};

Napi::Value ReadSafetensorsHeader(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const model::SafetensorsHeader h = model::read_safetensors_header(get_string(info[0], "path"));
    auto o = Napi::Object::New(env);
    auto ts = Napi::Array::New(env, h.tensors.size());
    for (size_t i = 0; i < h.tensors.size(); ++i) {
      auto e = Napi::Object::New(env);
      e.Set("name", h.tensors[i].name);
      e.Set("dtype", h.tensors[i].dtype);
      auto shape = Napi::Array::New(env, h.tensors[i].shape.size());
      for (size_t k = 0; k < h.tensors[i].shape.size(); ++k)
        shape.Set(k, Napi::Number::New(env, static_cast<double>(h.tensors[i].shape[k])));
      e.Set("shape", shape);
      ts.Set(i, e);
    }
    o.Set("tensors", ts);
    auto meta = Napi::Object::New(env);
    for (const auto& [k, v] : h.metadata) meta.Set(k, v);
    o.Set("metadata", meta);
    return o;
  });
}

// The parameters a config implies, without allocating them: checkpoints compare a file's header with this
// before building a model, so an edited config cannot make `load` allocate more than the file holds.
Napi::Value ParameterSpecsFor(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const model::TftConfig config = parse_config(info[0]);
    model::validate(config);
    return specs_to_js(info.Env(), model::parameter_specs(config));
  });
}

Napi::Value ReadSafetensors(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const std::string path = get_string(info[0], "path");
    using Tensors = std::vector<std::pair<std::string, at::Tensor>>;
    return NativeJob<Tensors>::Start(
        info.Env(), [path] { return model::read_safetensors(path); },
        [](Napi::Env env, Tensors& ts) -> Napi::Value {
          auto arr = Napi::Array::New(env, ts.size());
          for (size_t i = 0; i < ts.size(); ++i) {
            const at::Tensor t = ts[i].second.to(at::kFloat).contiguous();
            auto e = Napi::Object::New(env);
            e.Set("name", ts[i].first);
            auto shape = Napi::Array::New(env, static_cast<size_t>(t.dim()));
            for (int64_t k = 0; k < t.dim(); ++k)
              shape.Set(static_cast<uint32_t>(k), Napi::Number::New(env, static_cast<double>(t.size(k))));
            e.Set("shape", shape);
            e.Set("data", to_float32_array(env, t.data_ptr<float>(), static_cast<size_t>(t.numel())));
            arr.Set(i, e);
          }
          return arr;
        });
  });
}

}  // namespace

std::shared_ptr<ModelHandle> model_handle_of(const Napi::Value& v, const char* arg) {
  Napi::Env env = v.Env();
  auto& ctor = instance(env).model_constructor;
  if (!v.IsObject() || ctor.IsEmpty() || !v.As<Napi::Object>().InstanceOf(ctor.Value()))
    throw_error(env, ErrorCode::InvalidArgument, "must be a TFTModel", arg);
  auto handle = TftModelWrap::Unwrap(v.As<Napi::Object>())->handle();
  if (!handle->model) throw_error(env, ErrorCode::Disposed, "the model was disposed", arg);
  return handle;
}

std::unique_lock<std::mutex> lock_idle(Napi::Env env, ModelHandle& h, const char* arg, const char* queued,
                                       const char* running) {
  if (h.pending > 0) throw_error(env, ErrorCode::Busy, queued, arg);
  std::unique_lock<std::mutex> lock(h.mu, std::try_to_lock);
  if (!lock.owns_lock()) throw_error(env, ErrorCode::Busy, running, arg);
  return lock;
}

void register_model(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = TftModelWrap::Define(env);
  instance(env).model_constructor = Napi::Persistent(ctor);
  exports.Set("NativeTftModel", ctor);
  exports.Set("readSafetensorsHeader", Napi::Function::New(env, ReadSafetensorsHeader, "readSafetensorsHeader"));
  exports.Set("readSafetensors", Napi::Function::New(env, ReadSafetensors, "readSafetensors"));
  exports.Set("parameterSpecsFor", Napi::Function::New(env, ParameterSpecsFor, "parameterSpecsFor"));
}

}  // namespace tft::binding
