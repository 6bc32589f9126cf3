// Model inputs from JS values, shared by every binding that runs the model (predictions, attribution):
// typed-array views checked against the shapes the configuration implies.
#pragma once

#include <napi.h>

#include <ATen/ATen.h>

#include <vector>

#include "binding/args.h"
#include "core/model/config.h"

namespace tft::binding {

// Int32Array ids of exactly the given shape, as an int64 tensor (a copy: ids are tiny).
at::Tensor int_ids(const Napi::Value& v, const char* name, std::vector<int64_t> shape);

// Wraps a Float32Array of exactly the given shape without copying; the array must be kept alive by the job.
at::Tensor float_view(const FloatInput& in, const std::vector<int64_t>& shape, const char* name, Napi::Env env);

// The X-Trend context set of an options object: `context` shaped [lead..., nContext, contextLen, F] and
// optional `contextEntityIds` [lead..., nContext]. The typed arrays go into `keep` so they outlive the job.
struct ContextArgs {
  at::Tensor context, context_entity;
};
ContextArgs parse_context(Napi::Env env, const Napi::Object& o, const model::TftConfig& cfg, std::vector<int64_t> lead,
                          std::vector<Napi::Object>& keep);

}  // namespace tft::binding
