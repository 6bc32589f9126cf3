// Runs a job on the executor thread and settles a Promise with its result on the JS thread.
//
// The JS thread only converts arguments before and results after; the job never touches N-API. Failures
// are captured where they happen and raised as the façade's typed errors. A thread-safe function carries
// the completion back and keeps the event loop alive while the job is pending.
//
// Teardown (a worker_thread terminated, or its environment otherwise torn down, while a job is queued or
// running) is the hard case, because the job reads memory the environment owns (typed arrays, wrapped
// models) and the thread-safe function dies with the environment. Two rules make it safe:
//  - A per-job environment cleanup hook, registered after the thread-safe function (cleanup hooks run in
//    reverse order of registration, so it runs first, before Node closes the thread-safe function and
//    before any finaliser frees what the job reads), marks the job abandoned, asks it to stop early where
//    it can (`on_abandon`, e.g. a training epoch's cancel flag) and waits until it is not running. A queued
//    job that is abandoned never runs.
//  - What the executor thread touches lives in `Work`, shared between the executor and the JS side; the
//    thread-safe function's finaliser marks it gone under the same mutex the executor holds while it calls
//    the thread-safe function, so the executor never calls a destroyed one.
#pragma once

#include <napi.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
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
  // `on_abandon` (optional) runs on the JS thread if the environment is torn down while the job is pending;
  // it should make a running job return soon (it is waited for).
  static Napi::Promise Start(Napi::Env env, Job job, Convert convert, std::vector<Napi::Object> keep_alive = {},
                             std::function<void()> settled = {}, std::function<void()> on_abandon = {}) {
    auto work = std::make_shared<Work>();
    work->job = std::move(job);
    work->on_abandon = std::move(on_abandon);
    auto* state =
        new State{Napi::Promise::Deferred::New(env), std::move(convert), {}, std::move(settled), work, nullptr};
    for (const auto& o : keep_alive) state->keep.push_back(Napi::Persistent(o));
    Napi::Promise promise = state->deferred.Promise();
    work->tsfn = Tsfn::New(env, "tft-native", 0, 1, state, &Finalize, state);
    state->hook = new std::shared_ptr<Work>(work);
    if (napi_add_env_cleanup_hook(env, &OnTeardown, state->hook) != napi_ok) {
      delete state->hook;
      state->hook = nullptr;
    }
    Executor::instance().submit([work] { Run(*work); });
    return promise;
  }

 private:
  struct State;
  static void CallJs(Napi::Env env, Napi::Function, State* ctx, State* data);
  using Tsfn = Napi::TypedThreadSafeFunction<State, State, &NativeJob::CallJs>;

  enum class Phase { Queued, Running, Finished };

  // Touched by the executor thread; every field after `job` is guarded by `mu`.
  struct Work {
    Job job;
    std::function<void()> on_abandon;
    Result result{};
    CapturedError error;
    std::mutex mu;
    std::condition_variable cv;
    Phase phase = Phase::Queued;
    bool abandoned = false;  // the environment is being torn down: do not start the job
    bool tsfn_gone = false;  // the thread-safe function was finalised: never call it again
    bool hook_ran = false;   // the cleanup hook ran (and freed its argument)
    Tsfn tsfn;
  };

  // JS thread only; owned by the thread-safe function (freed by its finaliser).
  struct State {
    Napi::Promise::Deferred deferred;
    Convert convert;
    std::vector<Napi::ObjectReference> keep;
    std::function<void()> settled;
    std::shared_ptr<Work> work;
    std::shared_ptr<Work>* hook;  // the cleanup hook's argument while registered
  };

  static void Run(Work& w) {
    bool run = false;
    {
      std::lock_guard<std::mutex> lock(w.mu);
      run = !w.abandoned;
      if (run) w.phase = Phase::Running;
    }
    if (run) {
      try {
        w.result = w.job();
      } catch (...) {
        w.error = capture_current_exception();
      }
    }
    std::lock_guard<std::mutex> lock(w.mu);
    w.phase = Phase::Finished;
    w.cv.notify_all();
    if (w.tsfn_gone) return;
    // Neither call blocks (the queue is unbounded), so holding the mutex cannot stall the JS thread for long.
    w.tsfn.NonBlockingCall(nullptr);
    w.tsfn.Release();
  }

  static void OnTeardown(void* arg) {
    std::shared_ptr<Work> work = *static_cast<std::shared_ptr<Work>*>(arg);
    delete static_cast<std::shared_ptr<Work>*>(arg);
    std::unique_lock<std::mutex> lock(work->mu);
    work->hook_ran = true;
    work->abandoned = true;
    if (work->phase == Phase::Running && work->on_abandon) work->on_abandon();
    work->cv.wait(lock, [&] { return work->phase != Phase::Running; });
  }

  static void Finalize(Napi::Env, State* state, State*) {
    {
      std::lock_guard<std::mutex> lock(state->work->mu);
      state->work->tsfn_gone = true;
    }
    delete state;
  }
};

template <class Result>
void NativeJob<Result>::CallJs(Napi::Env env, Napi::Function, State* state, State*) {
  if (env == nullptr) return;  // environment shutting down: nothing to settle, Finalize frees the state
  Work& w = *state->work;
  if (state->hook != nullptr) {
    bool registered;
    {
      std::lock_guard<std::mutex> lock(w.mu);
      registered = !w.hook_ran;
    }
    if (registered) {
      napi_remove_env_cleanup_hook(env, &OnTeardown, state->hook);
      delete state->hook;
    }
    state->hook = nullptr;
  }
  Napi::HandleScope scope(env);
  if (state->settled) state->settled();
  if (w.error.set) {
    state->deferred.Reject(make_error(env, w.error));
    state->keep.clear();
    return;
  }
  try {
    state->deferred.Resolve(state->convert(env, w.result));
  } catch (const Napi::Error& e) {
    state->deferred.Reject(e.Value());
  } catch (...) {
    state->deferred.Reject(make_error(env, capture_current_exception()));
  }
  state->keep.clear();
}

}  // namespace tft::binding
