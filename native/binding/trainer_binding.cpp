// NativeTrainer for JS: trains a TFTModel on a panel held in JS typed arrays (used in place, kept alive by the
// trainer). Epochs run on the executor thread holding the model's lock; progress reaches JS through a
// thread-safe function without blocking the loop; cancel() stops an epoch between steps.
#include <napi.h>

#include <atomic>
#include <memory>

#include "binding/args.h"
#include "binding/exports.h"
#include "binding/model_handle.h"
#include "binding/native_job.h"
#include "core/train/trainer.h"

namespace tft::binding {
namespace {

using train::Trainer;

at::Tensor float_array_view(const Napi::Value& v, const char* name, std::vector<int64_t> shape,
                            std::vector<Napi::ObjectReference>& keep) {
  FloatInput in = get_float_array(v, name);
  if (!in.f32) throw_error(v.Env(), ErrorCode::DType, "must be a Float32Array", name);
  if (!holds_shape(shape, in.length)) {
    std::string dims;
    for (size_t i = 0; i < shape.size(); ++i) dims += (i ? " x " : "") + std::to_string(shape[i]);
    throw_error(v.Env(), ErrorCode::Shape, "has " + std::to_string(in.length) + " values, expected " + dims, name);
  }
  keep.push_back(Napi::Persistent(in.object));
  return at::from_blob(const_cast<void*>(in.data), shape, at::kFloat);
}

std::vector<train::Window> windows_of(const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw_error(v.Env(), ErrorCode::DType, "must be an Int32Array of (asset, lastDay) pairs", "windows");
  auto a = v.As<Napi::Int32Array>();
  if (a.ElementLength() % 2 != 0) throw_error(v.Env(), ErrorCode::Shape, "must hold (asset, lastDay) pairs", "windows");
  std::vector<train::Window> w(a.ElementLength() / 2);
  for (size_t i = 0; i < w.size(); ++i) w[i] = {a[2 * i], a[2 * i + 1]};
  return w;
}

Napi::Object epoch_to_js(Napi::Env env, const train::EpochStats& s) {
  auto o = Napi::Object::New(env);
  o.Set("loss", s.loss);
  o.Set("sharpe", s.sharpe);
  o.Set("nll", s.nll);
  o.Set("steps", static_cast<double>(s.steps));
  o.Set("windows", static_cast<double>(s.windows));
  o.Set("gradNorm", s.grad_norm);
  o.Set("seconds", s.seconds);
  auto g = Napi::Array::New(env, s.gradients.size());
  for (size_t i = 0; i < s.gradients.size(); ++i) {
    const auto& lg = s.gradients[i];
    auto e = Napi::Object::New(env);
    e.Set("layer", lg.name);
    e.Set("norm", lg.norm);
    e.Set("meanAbs", lg.mean_abs);
    e.Set("maxNorm", lg.max_norm);
    e.Set("vanishing", lg.vanishing);
    e.Set("exploding", lg.exploding);
    g.Set(i, e);
  }
  o.Set("gradients", g);
  return o;
}

Napi::Int32Array windows_to_js(Napi::Env env, const std::vector<train::Window>& w) {
  auto out = Napi::Int32Array::New(env, 2 * w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    out[2 * i] = static_cast<int32_t>(w[i].asset);
    out[2 * i + 1] = static_cast<int32_t>(w[i].last);
  }
  return out;
}

class TrainerWrap : public Napi::ObjectWrap<TrainerWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeTrainer",
                       {
                           InstanceMethod<&TrainerWrap::TrainEpoch>("trainEpoch"),
                           InstanceMethod<&TrainerWrap::Evaluate>("evaluate"),
                           InstanceMethod<&TrainerWrap::VsnImportance>("vsnImportance"),
                           InstanceMethod<&TrainerWrap::ValidWindows>("validWindows"),
                           InstanceMethod<&TrainerWrap::SampleContext>("sampleContext"),
                           InstanceMethod<&TrainerWrap::ContextLength>("contextLength"),
                           InstanceMethod<&TrainerWrap::SetLearningRate>("setLearningRate"),
                           InstanceMethod<&TrainerWrap::SaveBest>("saveBest"),
                           InstanceMethod<&TrainerWrap::RestoreBest>("restoreBest"),
                           InstanceMethod<&TrainerWrap::Cancel>("cancel"),
                           InstanceMethod<&TrainerWrap::Dispose>("dispose"),
                       });
  }

  TrainerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TrainerWrap>(info) {
    Napi::Env env = info.Env();
    try {
      handle_ = model_handle_of(info[0], "model");
      model_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
      if (!info[1].IsObject()) throw_error(env, ErrorCode::InvalidArgument, "must be an object", "data");
      const Napi::Object d = info[1].As<Napi::Object>();
      const int64_t A = get_int(d.Get("assets"), "data.assets"), D = get_int(d.Get("days"), "data.days");
      const int64_t F = handle_->model->config().n_features;
      train::TrainData data;
      data.features = float_array_view(d.Get("features"), "data.features", {A, D, F}, keep_);
      data.target = float_array_view(d.Get("target"), "data.target", {A, D}, keep_);
      if (has(d, "scale")) data.scale = float_array_view(d.Get("scale"), "data.scale", {A, D}, keep_);
      if (has(d, "entityIds")) {
        const Napi::Value ids = d.Get("entityIds");
        if (!ids.IsTypedArray() || ids.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
          throw_error(env, ErrorCode::DType, "must be an Int32Array", "data.entityIds");
        auto a = ids.As<Napi::Int32Array>();
        if (static_cast<int64_t>(a.ElementLength()) != A)
          throw_error(env, ErrorCode::Shape, "needs one id per asset", "data.entityIds");
        data.entity = at::from_blob(a.Data(), {A}, at::kInt).to(at::kLong);
      }
      train::TrainOptions o;
      if (info[2].IsObject()) {
        const Napi::Object op = info[2].As<Napi::Object>();
        auto num = [&](const char* k, double def) {
          const Napi::Value v = op.Get(k);
          if (v.IsUndefined()) return def;
          if (!v.IsNumber()) throw_error(env, ErrorCode::InvalidArgument, "must be a number", k);
          return v.As<Napi::Number>().DoubleValue();
        };
        o.learning_rate = num("learningRate", o.learning_rate);
        o.weight_decay = num("weightDecay", o.weight_decay);
        o.clip_norm = num("clipNorm", o.clip_norm);
        o.batch_size = static_cast<int64_t>(num("batchSize", static_cast<double>(o.batch_size)));
        o.window = static_cast<int64_t>(num("window", 0));
        if (!op.Get("contextLen").IsUndefined()) o.context_len = get_int(op.Get("contextLen"), "contextLen");
        o.seed = static_cast<uint64_t>(num("seed", 0));
        o.loss.mle_weight = num("mleWeight", o.loss.mle_weight);
        o.loss.warmup = static_cast<int64_t>(num("warmupSteps", 0));
        o.loss.cost_bps = num("costBps", 0);
        if (!op.Get("lossMode").IsUndefined())
          o.loss.mode = train::parse_loss_mode(get_string(op.Get("lossMode"), "lossMode"));
      }
      std::lock_guard<std::mutex> lock(handle_->mu);
      trainer_ = std::make_shared<Trainer>(handle_->model, data, o);
    } catch (const Napi::Error&) {
      throw;
    } catch (...) {
      throw_error(env, capture_current_exception());
    }
  }

 private:
  std::shared_ptr<Trainer> require(Napi::Env env) {
    if (!trainer_) throw_error(env, ErrorCode::Disposed, "the trainer was disposed", "trainer");
    if (!handle_->model) throw_error(env, ErrorCode::Disposed, "the trainer's model was disposed", "model");
    return trainer_;
  }

  Napi::Value TrainEpoch(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      auto t = require(env);
      auto windows = windows_of(info[0]);
      const uint64_t seed = static_cast<uint64_t>(get_int(info[1], "shuffleSeed"));
      std::shared_ptr<Napi::ThreadSafeFunction> progress;
      if (info[2].IsFunction()) {
        progress = std::make_shared<Napi::ThreadSafeFunction>(
            Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "tft-native progress", 16, 1));
      }
      cancelled_->store(false);
      auto h = handle_;
      auto cancelled = cancelled_;
      return NativeJob<train::EpochStats>::Start(
          env,
          [t, h, windows, seed, progress, cancelled] {
            struct Release {
              std::shared_ptr<Napi::ThreadSafeFunction> p;
              ~Release() {
                if (p) p->Release();
              }
            } release{progress};
            std::lock_guard<std::mutex> lock(h->mu);
            train::ProgressFn report;
            if (progress) {
              report = [progress](const train::StepProgress& s) {
                auto* copy = new train::StepProgress(s);
                // Non-blocking: a slow listener drops updates rather than stalling training.
                const napi_status st =
                    progress->NonBlockingCall(copy, [](Napi::Env env, Napi::Function fn, train::StepProgress* p) {
                      std::unique_ptr<train::StepProgress> owned(p);
                      if (env == nullptr) return;
                      auto o = Napi::Object::New(env);
                      o.Set("step", static_cast<double>(p->step));
                      o.Set("steps", static_cast<double>(p->steps));
                      o.Set("loss", p->loss);
                      o.Set("sharpe", p->sharpe);
                      o.Set("learningRate", p->learning_rate);
                      try {
                        fn.Call({o});
                      } catch (const Napi::Error&) {
                        // A throwing progress listener must not take training down; the error is dropped.
                      }
                    });
                if (st != napi_ok) delete copy;
              };
            }
            return t->train_epoch(windows, seed, report, [cancelled] { return cancelled->load(); });
          },
          [](Napi::Env env, train::EpochStats& s) -> Napi::Value { return epoch_to_js(env, s); }, {Value()},
          track_pending(handle_), [cancelled] { cancelled->store(true); });
    });
  }

  Napi::Value Evaluate(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      auto t = require(info.Env());
      auto windows = windows_of(info[0]);
      auto h = handle_;
      return NativeJob<train::EvalStats>::Start(
          info.Env(),
          [t, h, windows] {
            std::lock_guard<std::mutex> lock(h->mu);
            return t->evaluate(windows);
          },
          [](Napi::Env env, train::EvalStats& s) -> Napi::Value {
            auto o = Napi::Object::New(env);
            o.Set("loss", s.loss);
            o.Set("sharpe", s.sharpe);
            o.Set("nll", s.nll);
            o.Set("windows", static_cast<double>(s.windows));
            return o;
          },
          {Value()}, track_pending(handle_));
    });
  }

  Napi::Value VsnImportance(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      auto t = require(info.Env());
      auto windows = windows_of(info[0]);
      auto h = handle_;
      return NativeJob<std::vector<double>>::Start(
          info.Env(),
          [t, h, windows] {
            std::lock_guard<std::mutex> lock(h->mu);
            const at::Tensor imp = t->vsn_importance(windows).contiguous();
            return std::vector<double>(imp.data_ptr<double>(), imp.data_ptr<double>() + imp.numel());
          },
          [](Napi::Env env, std::vector<double>& v) -> Napi::Value { return to_float64_array(env, v); }, {Value()},
          track_pending(handle_));
    });
  }

  Napi::Value ValidWindows(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      auto t = require(info.Env());
      return windows_to_js(info.Env(),
                           t->valid_windows(get_int(info[0], "firstLastDay"), get_int(info[1], "lastLastDay")));
    });
  }

  // The candidates are fixed when the trainer is built, so these read no state an epoch changes.
  Napi::Value SampleContext(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      auto t = require(info.Env());
      const int64_t first = get_int(info[0], "firstDay");
      const int64_t key = info[1].IsUndefined() ? 0 : get_int(info[1], "key");
      const auto w = t->sample_context(first, static_cast<uint64_t>(key), ~uint64_t{0}, t->seed());
      return windows_to_js(info.Env(), w);
    });
  }

  Napi::Value ContextLength(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      return Napi::Number::New(info.Env(), static_cast<double>(require(info.Env())->context_len()));
    });
  }

  Napi::Value SetLearningRate(const Napi::CallbackInfo& info) {
    if (!info[0].IsNumber())
      return guarded(info.Env(), [&]() -> Napi::Value {
        require(info.Env());
        throw_error(info.Env(), ErrorCode::InvalidArgument, "must be a number", "learningRate");
      });
    const double lr = info[0].As<Napi::Number>().DoubleValue();
    return locked(info, [lr](Trainer& t) { t.set_learning_rate(lr); });
  }

  // Runs f on the trainer from the JS thread, refusing (Busy) while an epoch or a job of the model is queued
  // or running.
  template <class F>
  Napi::Value locked(const Napi::CallbackInfo& info, F f) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      auto t = require(info.Env());
      auto lock = lock_idle(info.Env(), *handle_, "trainer", "jobs of this model are pending; await them first",
                            "an epoch is running; await it first");
      f(*t);
      return info.Env().Undefined();
    });
  }

  Napi::Value SaveBest(const Napi::CallbackInfo& info) {
    return locked(info, [](Trainer& t) { t.save_best(); });
  }
  Napi::Value RestoreBest(const Napi::CallbackInfo& info) {
    return locked(info, [](Trainer& t) { t.restore_best(); });
  }

  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    cancelled_->store(true);
    return info.Env().Undefined();
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      if (!trainer_) return info.Env().Undefined();
      std::unique_lock<std::mutex> lock(handle_->mu, std::try_to_lock);
      if (!lock.owns_lock())
        throw_error(info.Env(), ErrorCode::Busy, "an epoch is running; cancel or await it first", "trainer");
      trainer_.reset();
      keep_.clear();
      return info.Env().Undefined();
    });
  }

  std::shared_ptr<ModelHandle> handle_;
  Napi::ObjectReference model_ref_;
  std::vector<Napi::ObjectReference> keep_;
  std::shared_ptr<Trainer> trainer_;
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace

void register_trainer(Napi::Env env, Napi::Object exports) { exports.Set("NativeTrainer", TrainerWrap::Define(env)); }

}  // namespace tft::binding
