// What a JS TFTModel owns natively, shared with trainers: the model and the mutex that serialises every job
// that touches it (predictions, weight I/O, training epochs).
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <mutex>

#include "core/model/tft_model.h"

namespace tft::binding {

struct ModelHandle {
  std::shared_ptr<model::TftModel> model;  // null once disposed
  std::mutex mu;
  // Asynchronous jobs submitted and not yet settled (touched on the JS thread only). Synchronous calls
  // refuse while it is non-zero: they must not overtake queued work on the same model.
  int pending = 0;
};

// Marks a job as pending on the handle until its promise settles.
inline std::function<void()> track_pending(const std::shared_ptr<ModelHandle>& h) {
  ++h->pending;
  return [h] { --h->pending; };
}

// The model's lock, for a synchronous call from the JS thread: refused with a Busy error naming `arg` while
// asynchronous jobs are queued (`queued`) or one holds the lock (`running`), rather than waiting.
std::unique_lock<std::mutex> lock_idle(Napi::Env env, ModelHandle& h, const char* arg, const char* queued,
                                       const char* running);

// The handle behind a NativeTftModel object; throws a typed error for anything else or a disposed model.
std::shared_ptr<ModelHandle> model_handle_of(const Napi::Value& v, const char* arg);

}  // namespace tft::binding
