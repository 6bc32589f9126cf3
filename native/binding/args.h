// Argument conversion for the exported functions. Every check names the argument it rejects.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "binding/js_error.h"

namespace tft::binding {

inline int64_t get_int(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) throw_error(v.Env(), ErrorCode::InvalidArgument, "must be an integer", name);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9007199254740991.0)
    throw_error(v.Env(), ErrorCode::InvalidArgument, "must be an integer, got " + std::to_string(d), name);
  return static_cast<int64_t>(d);
}

// An integer option that must lie in [lo, hi] (a count, a window length): out-of-range values are refused,
// never replaced by a default.
inline int64_t get_int_in(const Napi::Value& v, const char* name, int64_t lo, int64_t hi) {
  const int64_t x = get_int(v, name);
  if (x < lo || x > hi)
    throw_error(
        v.Env(), ErrorCode::InvalidArgument,
        "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(x),
        name);
  return x;
}

// Whether an options object sets `key` (present and not undefined): an option left undefined means "default".
inline bool has(const Napi::Object& o, const char* key) { return o.Has(key) && !o.Get(key).IsUndefined(); }

inline Napi::Object require_object(const Napi::Value& v, const char* name) {
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray())
    throw_error(v.Env(), ErrorCode::InvalidArgument, "must be an object", name);
  return v.As<Napi::Object>();
}

inline double get_number(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) throw_error(v.Env(), ErrorCode::InvalidArgument, "must be a number", name);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) throw_error(v.Env(), ErrorCode::InvalidArgument, "must be a finite number", name);
  return d;
}

inline std::string get_string(const Napi::Value& v, const char* name) {
  if (!v.IsString()) throw_error(v.Env(), ErrorCode::InvalidArgument, "must be a string", name);
  return v.As<Napi::String>().Utf8Value();
}

inline bool get_bool(const Napi::Value& v, const char* name, bool fallback) {
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) throw_error(v.Env(), ErrorCode::InvalidArgument, "must be a boolean", name);
  return v.As<Napi::Boolean>().Value();
}

// A view of a Float32Array or Float64Array. `object` is a JS-thread handle: pass it to NativeJob's
// keep list so the memory outlives the job; capture only data/length/f32 in the job itself.
struct FloatInput {
  const void* data = nullptr;
  size_t length = 0;
  bool f32 = true;
  Napi::Object object;

  void copy_to(double* out) const {
    if (f32) {
      const float* p = static_cast<const float*>(data);
      for (size_t i = 0; i < length; ++i) out[i] = p[i];
    } else {
      std::memcpy(out, data, length * sizeof(double));
    }
  }
  std::vector<double> to_double() const {
    std::vector<double> v(length);
    copy_to(v.data());
    return v;
  }
};

// Whether a buffer of `length` elements holds exactly the given shape, without the overflow of multiplying
// the dimensions out (caller-supplied sizes whose product wraps would otherwise pass the check and send the
// kernels past the end of the buffer). Negative dimensions never fit.
inline bool holds_shape(const std::vector<int64_t>& shape, size_t length) {
  bool empty = false;
  for (int64_t d : shape) {
    if (d < 0) return false;
    empty |= d == 0;
  }
  if (empty) return length == 0;
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (static_cast<uint64_t>(d) > length / n) return false;
    n *= static_cast<uint64_t>(d);
  }
  return n == length;
}
inline bool holds_matrix(int64_t m, int64_t n, size_t length) { return holds_shape({m, n}, length); }

inline FloatInput get_float_array(const Napi::Value& v, const char* name) {
  if (!v.IsTypedArray()) throw_error(v.Env(), ErrorCode::DType, "must be a Float32Array or Float64Array", name);
  auto ta = v.As<Napi::TypedArray>();
  FloatInput in;
  if (ta.TypedArrayType() == napi_float32_array) {
    in.f32 = true;
  } else if (ta.TypedArrayType() == napi_float64_array) {
    in.f32 = false;
  } else {
    throw_error(v.Env(), ErrorCode::DType, "must be a Float32Array or Float64Array", name);
  }
  in.length = ta.ElementLength();
  in.data = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  in.object = ta.As<Napi::Object>();
  return in;
}

inline Napi::Float64Array to_float64_array(Napi::Env env, const std::vector<double>& v) {
  auto out = Napi::Float64Array::New(env, v.size());
  if (!v.empty()) std::memcpy(out.Data(), v.data(), v.size() * sizeof(double));
  return out;
}

inline Napi::Float32Array to_float32_array(Napi::Env env, const float* data, size_t n) {
  auto out = Napi::Float32Array::New(env, n);
  if (n) std::memcpy(out.Data(), data, n * sizeof(float));
  return out;
}

}  // namespace tft::binding
