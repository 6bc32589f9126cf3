// Runs a job on libuv's thread pool and settles a Promise with its result. The JS thread only converts
// arguments before and results after; the job itself never touches N-API. Failures are captured in the
// worker thread and raised as the façade's typed errors on the JS thread.
#pragma once

#include <napi.h>

#include <functional>
#include <utility>
#include <vector>

#include "binding/js_error.h"

namespace tft::binding {

template <class Result>
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Job = std::function<Result()>;
  using Convert = std::function<Napi::Value(Napi::Env, Result&)>;

  // `keep_alive` holds the JS objects whose memory the job reads (typed arrays, the wrapped model), so the
  // garbage collector cannot free them while the job runs.
  static Napi::Promise Start(Napi::Env env, Job job, Convert convert, std::vector<Napi::Object> keep_alive = {}) {
    auto* w = new PromiseWorker(env, std::move(job), std::move(convert), keep_alive);
    auto promise = w->deferred_.Promise();
    w->Queue();
    return promise;
  }

 protected:
  void Execute() override {
    try {
      result_ = job_();
    } catch (...) {
      error_ = capture_current_exception();
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (error_.set) {
      deferred_.Reject(make_error(env, error_));
      return;
    }
    try {
      deferred_.Resolve(convert_(env, result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      deferred_.Reject(make_error(env, capture_current_exception()));
    }
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  PromiseWorker(Napi::Env env, Job job, Convert convert, const std::vector<Napi::Object>& keep_alive)
      : Napi::AsyncWorker(env, "tft-native"), deferred_(Napi::Promise::Deferred::New(env)), job_(std::move(job)),
        convert_(std::move(convert)) {
    for (const auto& o : keep_alive) keep_.push_back(Napi::Persistent(o));
  }

  Napi::Promise::Deferred deferred_;
  Job job_;
  Convert convert_;
  Result result_{};
  CapturedError error_;
  std::vector<Napi::ObjectReference> keep_;
};

}  // namespace tft::binding
