// Runs a job on the executor thread and settles a Promise with its result on the JS thread.
//
// The JS thread only converts arguments before and results after; the job never touches N-API. Failures
// are captured where they happen and raised as the façade's typed errors. A thread-safe function carries
// the completion back and keeps the event loop alive while the job is pending; if the environment (say a
// worker thread) is torn down first, its finaliser frees the job's state and nothing is settled.
#pragma once

#include <napi.h>

#include <functional>
#include <utility>
#include <vector>

#include "binding/executor.h"
#include "binding/js_error.h"

namespace tft::binding {

template <class Result>
class NativeJob {
 public:
  using Job = std::function<Result()>;
  using Convert = std::function<Napi::Value(Napi::Env, Result&)>;

  // `keep_alive` holds the JS objects whose memory the job reads (typed arrays, the wrapped model), so the
  // garbage collector cannot free them while the job runs.
  // `settled` (optional) runs on the JS thread when the job's promise settles, success or failure.
  static Napi::Promise Start(Napi::Env env, Job job, Convert convert, std::vector<Napi::Object> keep_alive = {},
                             std::function<void()> settled = {}) {
    auto* state = new State{Napi::Promise::Deferred::New(env), std::move(job), std::move(convert), {}, {}, {}, {}, std::move(settled)};
    for (const auto& o : keep_alive) state->keep.push_back(Napi::Persistent(o));
    Napi::Promise promise = state->deferred.Promise();
    state->tsfn = Tsfn::New(env, "tft-native", 0, 1, state, &Finalize, state);
    Executor::instance().submit([state] {
      try {
        state->result = state->job();
      } catch (...) {
        state->error = capture_current_exception();
      }
      Tsfn tsfn = state->tsfn;  // `state` may be freed on the JS thread as soon as the call is queued
      tsfn.BlockingCall(state);
      tsfn.Release();
    });
    return promise;
  }

 private:
  struct State;
  static void CallJs(Napi::Env env, Napi::Function, State* ctx, State* state);
  using Tsfn = Napi::TypedThreadSafeFunction<State, State, &NativeJob::CallJs>;

  struct State {
    Napi::Promise::Deferred deferred;
    Job job;
    Convert convert;
    std::vector<Napi::ObjectReference> keep;
    Result result;
    CapturedError error;
    Tsfn tsfn;
    std::function<void()> settled;
  };

  static void Finalize(Napi::Env, State* state, State*) { delete state; }
};

template <class Result>
void NativeJob<Result>::CallJs(Napi::Env env, Napi::Function, State*, State* state) {
  if (env == nullptr) return;  // environment shutting down: nothing to settle, Finalize frees the state
  Napi::HandleScope scope(env);
  if (state->settled) state->settled();
  if (state->error.set) {
    state->deferred.Reject(make_error(env, state->error));
    return;
  }
  try {
    state->deferred.Resolve(state->convert(env, state->result));
  } catch (const Napi::Error& e) {
    state->deferred.Reject(e.Value());
  } catch (...) {
    state->deferred.Reject(make_error(env, capture_current_exception()));
  }
  state->keep.clear();
}

}  // namespace tft::binding
