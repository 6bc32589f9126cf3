// Pairwise-complete correlation of every pair of features as accumulated GEMMs.
//
// With X0 the column-centred data (missing values set to 0) and M its finite mask, the pair (i, j) sums over
// the rows where both are finite are entries of four cols x cols products:
//   n_ij = (M^T M)_ij,  s_i|j = (X0^T M)_ij,  q_i|j = ((X0 . X0)^T M)_ij,  p_ij = (X0^T X0)_ij
// and r_ij = (p - s_i s_j / n) / sqrt((q_i - s_i^2 / n)(q_j - s_j^2 / n)). Centring by the column mean first
// keeps the subtraction well conditioned, so double precision gives pandas' two-pass result to ~1e-13.
// When no value is missing only X0^T X0 is needed; otherwise the three mask products run over the rows that
// have a gap only (in a price panel, mostly the warm-up days of each asset).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "core/runtime.h"
#include "core/selection/selection_stats.h"

namespace tft::selection {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kBlockRows = 8192;

at::Tensor block_of(const MatrixView& x, int64_t r0, int64_t r1) {
  const auto dtype = x.f32 ? at::kFloat : at::kDouble;
  const size_t elem = x.f32 ? sizeof(float) : sizeof(double);
  void* base = const_cast<char*>(static_cast<const char*>(x.data) + static_cast<size_t>(r0 * x.cols) * elem);
  return at::from_blob(base, {r1 - r0, x.cols}, at::TensorOptions().dtype(dtype)).to(at::kDouble);
}

// Average ranks (1-based, ties share their mean rank) of each column over its finite values; NaN elsewhere.
std::vector<double> column_ranks(const MatrixView& x) {
  const int64_t R = x.rows, C = x.cols;
  std::vector<double> out(static_cast<size_t>(R * C), kNaN);
  at::parallel_for(0, C, 1, [&](int64_t c0, int64_t c1) {
    std::vector<std::pair<double, int64_t>> v;
    v.reserve(static_cast<size_t>(R));
    for (int64_t c = c0; c < c1; ++c) {
      v.clear();
      for (int64_t r = 0; r < R; ++r) {
        const double val =
            x.f32 ? static_cast<const float*>(x.data)[r * C + c] : static_cast<const double*>(x.data)[r * C + c];
        if (std::isfinite(val)) v.emplace_back(val, r);
      }
      std::sort(v.begin(), v.end());
      for (size_t q = 0; q < v.size();) {
        size_t e = q;
        while (e < v.size() && v[e].first == v[q].first) ++e;
        const double avg = (static_cast<double>(q) + static_cast<double>(e - 1)) / 2.0 + 1.0;
        for (size_t t = q; t < e; ++t) out[static_cast<size_t>(v[t].second * C + c)] = avg;
        q = e;
      }
    }
  });
  return out;
}

struct Moments {
  at::Tensor count, mean, variance;
};

// Finite count, mean and (ddof = 1) variance of each column, two passes over row blocks.
Moments column_moments(const MatrixView& x) {
  auto opts = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor zero = at::zeros({}, opts);
  at::Tensor sum = at::zeros({x.cols}, opts), count = at::zeros({x.cols}, opts), ss = at::zeros({x.cols}, opts);
  for (int64_t r0 = 0; r0 < x.rows; r0 += kBlockRows) {
    const at::Tensor b = block_of(x, r0, std::min(x.rows, r0 + kBlockRows));
    const at::Tensor m = at::isfinite(b);
    sum += at::where(m, b, zero).sum(0);
    count += m.sum(0).to(at::kDouble);
  }
  const at::Tensor mean = sum / count.clamp_min(1);
  for (int64_t r0 = 0; r0 < x.rows; r0 += kBlockRows) {
    const at::Tensor b = block_of(x, r0, std::min(x.rows, r0 + kBlockRows));
    ss += at::where(at::isfinite(b), (b - mean).square(), zero).sum(0);
  }
  const at::Tensor variance = at::where(count >= 2, ss / (count - 1).clamp_min(1), at::full({}, kNaN, opts));
  return {count, at::where(count > 0, mean, at::full({}, kNaN, opts)), variance};
}

CorrelationResult pearson(const MatrixView& x, int64_t min_periods) {
  const int64_t C = x.cols;
  auto opts = at::TensorOptions().dtype(at::kDouble);
  if (C == 0) return {};
  const Moments mo = column_moments(x);
  const bool complete = mo.count.min().item<double>() == static_cast<double>(x.rows);
  at::Tensor P = at::zeros({C, C}, opts), S, Q, N;
  const at::Tensor centre = at::nan_to_num(mo.mean, 0.0);
  // Rows with every feature finite add the same to every pair: their sums go into S, Q and N as vectors,
  // and only rows with a gap go through the three mask GEMMs.
  at::Tensor full_sum, full_sq;
  double full_rows = 0;
  if (!complete) {
    S = at::zeros({C, C}, opts), Q = at::zeros({C, C}, opts), N = at::zeros({C, C}, opts);
    full_sum = at::zeros({C}, opts), full_sq = at::zeros({C}, opts);
  }
  for (int64_t r0 = 0; r0 < x.rows; r0 += kBlockRows) {
    const at::Tensor b = block_of(x, r0, std::min(x.rows, r0 + kBlockRows));
    const at::Tensor m = at::isfinite(b);
    const at::Tensor x0 = at::where(m, b - centre, at::zeros({}, opts));
    P.addmm_(x0.t(), x0);
    if (complete) continue;
    const at::Tensor full = m.all(1);
    const at::Tensor fx = x0.index_select(0, full.nonzero().squeeze(1));
    full_sum += fx.sum(0), full_sq += fx.square().sum(0), full_rows += static_cast<double>(fx.size(0));
    const at::Tensor gaps = (~full).nonzero().squeeze(1);
    if (gaps.numel() == 0) continue;
    const at::Tensor gx = x0.index_select(0, gaps), gm = m.index_select(0, gaps).to(at::kDouble);
    S.addmm_(gx.t(), gm);
    Q.addmm_(gx.square().t(), gm);
    N.addmm_(gm.t(), gm);
  }
  if (!complete) S += full_sum.unsqueeze(1), Q += full_sq.unsqueeze(1), N += full_rows;
  CorrelationResult res;
  res.r.assign(static_cast<size_t>(C * C), kNaN);
  res.nobs.assign(static_cast<size_t>(C * C), 0);
  res.mean.resize(static_cast<size_t>(C));
  res.variance.resize(static_cast<size_t>(C));
  res.finite.resize(static_cast<size_t>(C));
  const auto p = P.accessor<double, 2>();
  const double* cnt = mo.count.data_ptr<double>();
  for (int64_t i = 0; i < C; ++i) {
    res.mean[i] = mo.mean.data_ptr<double>()[i];
    res.finite[i] = static_cast<int64_t>(cnt[i]);
    res.variance[i] = mo.variance.data_ptr<double>()[i];
  }
  if (!complete) S = S.contiguous(), Q = Q.contiguous(), N = N.contiguous();
  const double* s = complete ? nullptr : S.data_ptr<double>();
  const double* q = complete ? nullptr : Q.data_ptr<double>();
  const double* nn = complete ? nullptr : N.data_ptr<double>();
  const int64_t need = std::max<int64_t>(min_periods, 2);
  for (int64_t i = 0; i < C; ++i) {
    for (int64_t j = i; j < C; ++j) {
      double n, si, sj, qi, qj;
      if (complete) {
        n = static_cast<double>(x.rows), si = sj = 0, qi = p[i][i], qj = p[j][j];
      } else {
        n = nn[i * C + j];
        si = s[i * C + j], sj = s[j * C + i];
        qi = q[i * C + j], qj = q[j * C + i];
      }
      res.nobs[i * C + j] = res.nobs[j * C + i] = static_cast<int64_t>(n);
      if (n < static_cast<double>(need)) continue;
      const double vi = qi - si * si / n, vj = qj - sj * sj / n;
      if (!(vi > 0) || !(vj > 0)) continue;
      const double r = i == j ? 1.0 : std::clamp((p[i][j] - si * sj / n) / std::sqrt(vi * vj), -1.0, 1.0);
      res.r[i * C + j] = res.r[j * C + i] = r;
    }
  }
  return res;
}

}  // namespace

CorrelationResult pairwise_correlation(const MatrixView& x, CorrelationMethod method, int64_t min_periods) {
  if (x.rows < 0 || x.cols < 0) fail(ErrorCode::Shape, "values", "rows and cols must be non-negative");
  if (min_periods < 1) fail(ErrorCode::InvalidArgument, "minPeriods", "must be at least 1");
  apply_thread_setting();
  if (method == CorrelationMethod::Pearson) return pearson(x, min_periods);
  const std::vector<double> ranks = column_ranks(x);
  CorrelationResult res = pearson(MatrixView{ranks.data(), x.rows, x.cols, false}, min_periods);
  // Mean and variance describe the features, not their ranks.
  const Moments mo = column_moments(x);
  for (int64_t i = 0; i < x.cols; ++i) {
    res.mean[i] = mo.mean.data_ptr<double>()[i];
    res.variance[i] = mo.variance.data_ptr<double>()[i];
  }
  return res;
}

}  // namespace tft::selection
