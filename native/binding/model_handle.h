// What a JS TFTModel owns natively, shared with trainers: the model and the mutex that serialises every job
// that touches it (predictions, weight I/O, training epochs).
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>

#include "core/model/tft_model.h"

namespace tft::binding {

struct ModelHandle {
  std::shared_ptr<model::TftModel> model;  // null once disposed
  std::mutex mu;
};

// The handle behind a NativeTftModel object; throws a typed error for anything else or a disposed model.
std::shared_ptr<ModelHandle> model_handle_of(const Napi::Value& v, const char* arg);

}  // namespace tft::binding
