// Per-environment addon state (the main thread and every worker_thread get their own), freed by Node when
// the environment is torn down, so nothing leaks across workers and the process exits cleanly.
#pragma once

#include <napi.h>

namespace tft::binding {

struct Instance {
  Napi::FunctionReference error_factory;
  Napi::FunctionReference model_constructor;
};

inline Instance& instance(Napi::Env env) { return *env.GetInstanceData<Instance>(); }

}  // namespace tft::binding
