// Exports of the rank module: all-pairs matrices (async and sync) and single pairs.
#include <napi.h>

#include "binding/args.h"
#include "binding/exports.h"
#include "binding/native_job.h"
#include "core/rank/rank_stats.h"

namespace tft::binding {
namespace {

struct MatrixArgs {
  FloatInput values;
  int64_t m, n, k;
  rank::Statistic stat;
  rank::Device device;
};

MatrixArgs parse_matrix_args(const Napi::CallbackInfo& info) {
  MatrixArgs a;
  a.values = get_float_array(info[0], "values");
  a.m = get_int(info[1], "m");
  a.n = get_int(info[2], "n");
  a.stat = rank::parse_statistic(get_string(info[3], "statistic"));
  a.k = info[4].IsUndefined() ? 0 : get_int(info[4], "k");
  a.device = rank::parse_device(info[5].IsUndefined() ? std::string("cpu") : get_string(info[5], "device"));
  if (!holds_matrix(a.m, a.n, a.values.length))
    throw_error(info.Env(), ErrorCode::Shape,
                "has " + std::to_string(a.values.length) + " elements but m x n = " + std::to_string(a.m) + " x " +
                    std::to_string(a.n),
                "values");
  return a;
}

std::vector<double> run_matrix(const void* data, size_t length, bool f32, int64_t m, int64_t n, rank::Statistic stat,
                               int64_t k, rank::Device device) {
  FloatInput in;
  in.data = data;
  in.length = length;
  in.f32 = f32;
  const std::vector<double> x = in.to_double();
  return rank::matrix(x.data(), m, n, stat, k, device);
}

Napi::Value RankMatrix(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    MatrixArgs a = parse_matrix_args(info);
    const void* data = a.values.data;
    const size_t length = a.values.length;
    const bool f32 = a.values.f32;
    return NativeJob<std::vector<double>>::Start(
        info.Env(), [=] { return run_matrix(data, length, f32, a.m, a.n, a.stat, a.k, a.device); },
        [](Napi::Env env, std::vector<double>& r) -> Napi::Value { return to_float64_array(env, r); },
        {a.values.object});
  });
}

Napi::Value RankMatrixSync(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    MatrixArgs a = parse_matrix_args(info);
    return to_float64_array(info.Env(),
                            run_matrix(a.values.data, a.values.length, a.values.f32, a.m, a.n, a.stat, a.k, a.device));
  });
}

Napi::Value RankPair(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    FloatInput a = get_float_array(info[0], "a");
    FloatInput b = get_float_array(info[1], "b");
    const rank::Statistic stat = rank::parse_statistic(get_string(info[2], "statistic"));
    const int64_t k = info[3].IsUndefined() ? 0 : get_int(info[3], "k");
    if (a.length != b.length)
      throw_error(info.Env(), ErrorCode::Shape,
                  "a has " + std::to_string(a.length) + " elements but b has " + std::to_string(b.length), "b");
    const auto va = a.to_double(), vb = b.to_double();
    return Napi::Number::New(info.Env(), rank::pair(va.data(), vb.data(), static_cast<int64_t>(va.size()), stat, k));
  });
}

// rankPairs(values, m, n, statistic, k, device, pairs: Int32Array) -> Promise<Float64Array>
Napi::Value RankPairs(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    MatrixArgs a = parse_matrix_args(info);
    const Napi::Value pv = info[6];
    if (!pv.IsTypedArray() || pv.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      throw_error(info.Env(), ErrorCode::DType, "must be an Int32Array of (row, row) pairs", "pairs");
    auto arr = pv.As<Napi::Int32Array>();
    std::vector<int64_t> list(arr.Data(), arr.Data() + arr.ElementLength());
    const void* data = a.values.data;
    const size_t length = a.values.length;
    const bool f32 = a.values.f32;
    const int64_t m = a.m, n = a.n, k = a.k;
    const rank::Statistic stat = a.stat;
    return NativeJob<std::vector<double>>::Start(
        info.Env(),
        [=] {
          FloatInput in;
          in.data = data;
          in.length = length;
          in.f32 = f32;
          const std::vector<double> x = in.to_double();
          return rank::pairs(x.data(), m, n, stat, list, k);
        },
        [](Napi::Env env, std::vector<double>& r) -> Napi::Value { return to_float64_array(env, r); },
        {a.values.object});
  });
}

Napi::Value SetKendallAlgorithm(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const std::string name = get_string(info[0], "algorithm");
    if (name == "auto")
      rank::set_kendall_algorithm(rank::KendallAlgorithm::Auto);
    else if (name == "bitset")
      rank::set_kendall_algorithm(rank::KendallAlgorithm::Bitset);
    else if (name == "fenwick")
      rank::set_kendall_algorithm(rank::KendallAlgorithm::Fenwick);
    else
      throw_error(info.Env(), ErrorCode::InvalidArgument, "expected auto, bitset or fenwick", "algorithm");
    return info.Env().Undefined();
  });
}

Napi::Value KendallAlgorithmFor(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto alg = rank::kendall_algorithm_for(get_int(info[0], "m"), get_int(info[1], "n"));
    return Napi::String::New(info.Env(), alg == rank::KendallAlgorithm::Bitset ? "bitset" : "fenwick");
  });
}

}  // namespace

// rboMatrix(values, m, n, p): all-pairs rank-biased overlap, off the JS thread.
Napi::Value RboMatrix(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    FloatInput values = get_float_array(info[0], "values");
    const int64_t m = get_int(info[1], "m"), n = get_int(info[2], "n");
    if (!info[3].IsNumber()) throw_error(info.Env(), ErrorCode::InvalidArgument, "must be a number in (0, 1)", "p");
    const double p = info[3].As<Napi::Number>().DoubleValue();
    if (!holds_matrix(m, n, values.length))
      throw_error(info.Env(), ErrorCode::Shape,
                  "has " + std::to_string(values.length) + " elements but m x n = " + std::to_string(m) + " x " +
                      std::to_string(n),
                  "values");
    const void* data = values.data;
    const size_t length = values.length;
    const bool f32 = values.f32;
    return NativeJob<std::vector<double>>::Start(
        info.Env(),
        [data, length, f32, m, n, p] {
          FloatInput in;
          in.data = data;
          in.length = length;
          in.f32 = f32;
          const std::vector<double> x = in.to_double();
          return rank::rbo_matrix(x.data(), m, n, p);
        },
        [](Napi::Env env, std::vector<double>& r) -> Napi::Value { return to_float64_array(env, r); }, {values.object});
  });
}

void register_rank(Napi::Env env, Napi::Object exports) {
  exports.Set("rboMatrix", Napi::Function::New(env, RboMatrix, "rboMatrix"));
  exports.Set("rankMatrix", Napi::Function::New(env, RankMatrix, "rankMatrix"));
  exports.Set("rankMatrixSync", Napi::Function::New(env, RankMatrixSync, "rankMatrixSync"));
  exports.Set("rankPair", Napi::Function::New(env, RankPair, "rankPair"));
  exports.Set("rankPairs", Napi::Function::New(env, RankPairs, "rankPairs"));
  exports.Set("setKendallAlgorithm", Napi::Function::New(env, SetKendallAlgorithm, "setKendallAlgorithm"));
  exports.Set("kendallAlgorithmFor", Napi::Function::New(env, KendallAlgorithmFor, "kendallAlgorithmFor"));
}

}  // namespace tft::binding
