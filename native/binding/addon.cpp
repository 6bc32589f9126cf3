// Module entry: per-environment state, the error factory hand-off, runtime queries and every capability's
// exports. Loaded once per environment (main thread or worker thread).
#include <napi.h>

#include "binding/args.h"
#include "binding/exports.h"
#include "binding/instance.h"
#include "core/cpu_isa.h"
#include "core/environment.h"
#include "core/error.h"
#include "core/runtime.h"

namespace tft::binding {
namespace {

Napi::Value Init(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    if (!info[0].IsFunction())
      throw_error(info.Env(), ErrorCode::InvalidArgument, "must be a function (code, message, argument) => Error",
                  "makeError");
    set_error_factory(info.Env(), info[0].As<Napi::Function>());
    return info.Env().Undefined();
  });
}

Napi::Array environment_to_js(Napi::Env env) {
  const auto& vars = tft::environment::variables();
  auto arr = Napi::Array::New(env, vars.size());
  for (size_t i = 0; i < vars.size(); ++i) {
    auto v = Napi::Object::New(env);
    v.Set("name", vars[i].name);
    v.Set("default", vars[i].fallback);
    v.Set("meaning", vars[i].meaning);
    arr.Set(static_cast<uint32_t>(i), v);
  }
  return arr;
}

Napi::Value ErrorCodes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr size_t n = sizeof(kAllErrorCodes) / sizeof(kAllErrorCodes[0]);
  auto arr = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; ++i) arr.Set(static_cast<uint32_t>(i), error_code_name(kAllErrorCodes[i]));
  return arr;
}

Napi::Value Capabilities(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const tft::Capabilities c = tft::capabilities();
    Napi::Env env = info.Env();
    auto o = Napi::Object::New(env);
    o.Set("torchVersion", c.torch_version);
    o.Set("torchCudaCompiled", c.torch_cuda_compiled);
    o.Set("torchCudaDevices", c.torch_cuda_devices);
    o.Set("cudaKernelsCompiled", c.cuda_kernels_compiled);
    o.Set("cudaKernelDevices", c.cuda_kernel_devices);
    o.Set("cudaStatus", c.cuda_status);
    o.Set("intraOpThreads", c.intra_op_threads);
    o.Set("hardwareThreads", c.hardware_threads);
    o.Set("parallelBackend", c.parallel_backend);
    o.Set("blas", c.blas);
    o.Set("blasLibrary", c.blas_library);
    o.Set("avx2", c.avx2);
    o.Set("avx512", c.avx512);
    o.Set("avx512Vpopcnt", c.avx512_vpopcnt);
    o.Set("cpuIsa", c.cpu_isa);
    auto isas = Napi::Array::New(env, c.cpu_isas.size());
    for (size_t i = 0; i < c.cpu_isas.size(); ++i) isas.Set(static_cast<uint32_t>(i), c.cpu_isas[i]);
    o.Set("cpuIsas", isas);
    o.Set("environment", environment_to_js(env));
    return o;
  });
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    tft::set_num_threads(static_cast<int>(get_int(info[0], "n")));
    return info.Env().Undefined();
  });
}

Napi::Value MeasureSgemm(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    return Napi::Number::New(
        info.Env(), tft::measure_sgemm_gflops(get_int(info[0], "n"), static_cast<int>(get_int(info[1], "reps"))));
  });
}

// The kernels' instruction set: reading it validates TFT_CPU_ISA (the loader calls it right after init, so a
// bad value fails the load with a typed error instead of surfacing in the first kernel call).
Napi::Value GetCpuIsa(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    return Napi::String::New(info.Env(), tft::cpu::isa_name(tft::cpu::active_isa()));
  });
}

Napi::Value SetCpuIsa(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    if (!info[0].IsString()) throw_error(info.Env(), ErrorCode::InvalidArgument, "must be a string", "isa");
    tft::cpu::set_active_isa(tft::cpu::parse_isa(info[0].As<Napi::String>().Utf8Value(), "isa"));
    return info.Env().Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), tft::num_threads()); }

}  // namespace

void register_runtime(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("errorCodes", Napi::Function::New(env, ErrorCodes, "errorCodes"));
  exports.Set("capabilities", Napi::Function::New(env, Capabilities, "capabilities"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("getCpuIsa", Napi::Function::New(env, GetCpuIsa, "getCpuIsa"));
  exports.Set("setCpuIsa", Napi::Function::New(env, SetCpuIsa, "setCpuIsa"));
  exports.Set("measureSgemmGflops", Napi::Function::New(env, MeasureSgemm, "measureSgemmGflops"));
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new Instance());
  tft::init_default_threads();
  register_runtime(env, exports);
  register_rank(env, exports);
  register_model(env, exports);
  register_trainer(env, exports);
  register_attribution(env, exports);
  register_selection(env, exports);
  return exports;
}

}  // namespace tft::binding

static Napi::Object InitTftNative(Napi::Env env, Napi::Object exports) {
  return tft::binding::InitModule(env, exports);
}

NODE_API_MODULE(tft_native, InitTftNative)
