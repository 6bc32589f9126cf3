// Exports of the feature-selection statistics: pairwise-complete correlation and KSG mutual information,
// both off the JS thread.
#include <napi.h>

#include "binding/args.h"
#include "binding/exports.h"
#include "binding/native_job.h"
#include "core/selection/selection_stats.h"

namespace tft::binding {
namespace {

selection::MatrixView parse_matrix(const Napi::CallbackInfo& info, FloatInput& values) {
  values = get_float_array(info[0], "values");
  const int64_t rows = get_int(info[1], "rows"), cols = get_int(info[2], "cols");
  if (!holds_matrix(rows, cols, values.length))
    throw_error(info.Env(), ErrorCode::Shape,
                "has " + std::to_string(values.length) + " elements but rows x cols = " + std::to_string(rows) + " x " +
                    std::to_string(cols),
                "values");
  return {values.data, rows, cols, values.f32};
}

Napi::Float64Array int_array(Napi::Env env, const std::vector<int64_t>& v) {
  auto out = Napi::Float64Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<double>(v[i]);
  return out;
}

// pairwiseCorrelation(values, rows, cols, method, minPeriods) -> Promise<{ r, nobs, mean, variance, finite }>
Napi::Value PairwiseCorrelation(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    FloatInput values;
    const selection::MatrixView x = parse_matrix(info, values);
    const std::string name = get_string(info[3], "method");
    if (name != "pearson" && name != "spearman")
      throw_error(info.Env(), ErrorCode::InvalidArgument, "expected pearson or spearman", "method");
    const auto method =
        name == "pearson" ? selection::CorrelationMethod::Pearson : selection::CorrelationMethod::Spearman;
    const int64_t min_periods = get_int(info[4], "minPeriods");
    return NativeJob<selection::CorrelationResult>::Start(
        info.Env(), [=] { return selection::pairwise_correlation(x, method, min_periods); },
        [](Napi::Env env, selection::CorrelationResult& r) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("r", to_float64_array(env, r.r));
          o.Set("nobs", int_array(env, r.nobs));
          o.Set("mean", to_float64_array(env, r.mean));
          o.Set("variance", to_float64_array(env, r.variance));
          o.Set("finite", int_array(env, r.finite));
          return o;
        },
        {values.object});
  });
}

// mutualInfoRegression(values, rows, cols, y: Float64Array, nNeighbors, jitter, seed) -> Promise<Float64Array>
Napi::Value MutualInfoRegression(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    FloatInput values;
    const selection::MatrixView x = parse_matrix(info, values);
    const FloatInput y = get_float_array(info[3], "y");
    if (y.f32) throw_error(info.Env(), ErrorCode::DType, "must be a Float64Array", "y");
    if (static_cast<int64_t>(y.length) != x.rows)
      throw_error(info.Env(), ErrorCode::Shape,
                  "has " + std::to_string(y.length) + " values but the matrix has " + std::to_string(x.rows) + " rows",
                  "y");
    selection::MutualInfoOptions o;
    o.n_neighbors = get_int(info[4], "nNeighbors");
    o.jitter = get_bool(info[5], "jitter", true);
    o.seed = static_cast<uint64_t>(get_int(info[6], "seed"));
    const double* yd = static_cast<const double*>(y.data);
    return NativeJob<std::vector<double>>::Start(
        info.Env(), [=] { return selection::mutual_info_regression(x, yd, o); },
        [](Napi::Env env, std::vector<double>& r) -> Napi::Value { return to_float64_array(env, r); },
        {values.object, y.object});
  });
}

}  // namespace

void register_selection(Napi::Env env, Napi::Object exports) {
  exports.Set("pairwiseCorrelation", Napi::Function::New(env, PairwiseCorrelation, "pairwiseCorrelation"));
  exports.Set("mutualInfoRegression", Napi::Function::New(env, MutualInfoRegression, "mutualInfoRegression"));
}

}  // namespace tft::binding
