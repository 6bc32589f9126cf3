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
        const double val = x.at(r, c);
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
  std::vector<double> count, mean, variance;
};

// Finite count, mean and (ddof = 1) variance of each column: two passes over the rows, each thread summing
// a slab of rows into its own accumulators (added in slab order, so the result does not depend on threads).
Moments column_moments(const MatrixView& x) {
  const int64_t R = x.rows, C = x.cols;
  const int64_t slabs = std::max<int64_t>(1, (R + kBlockRows - 1) / kBlockRows);
  std::vector<double> sum(static_cast<size_t>(slabs * C)), cnt(static_cast<size_t>(slabs * C));
  std::vector<double> ss(static_cast<size_t>(slabs * C));
  at::parallel_for(0, slabs, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s)
      for (int64_t r = s * kBlockRows; r < std::min(R, (s + 1) * kBlockRows); ++r)
        for (int64_t c = 0; c < C; ++c) {
          const double v = x.at(r, c);
          if (std::isfinite(v)) sum[s * C + c] += v, cnt[s * C + c] += 1;
        }
  });
  Moments m{std::vector<double>(C, 0), std::vector<double>(C, 0), std::vector<double>(C, kNaN)};
  for (int64_t s = 0; s < slabs; ++s)
    for (int64_t c = 0; c < C; ++c) m.count[c] += cnt[s * C + c], m.mean[c] += sum[s * C + c];
  for (int64_t c = 0; c < C; ++c) m.mean[c] = m.count[c] > 0 ? m.mean[c] / m.count[c] : kNaN;
  at::parallel_for(0, slabs, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s)
      for (int64_t r = s * kBlockRows; r < std::min(R, (s + 1) * kBlockRows); ++r)
        for (int64_t c = 0; c < C; ++c) {
          const double v = x.at(r, c);
          if (std::isfinite(v)) ss[s * C + c] += (v - m.mean[c]) * (v - m.mean[c]);
        }
  });
  for (int64_t c = 0; c < C; ++c) {
    double t = 0;
    for (int64_t s = 0; s < slabs; ++s) t += ss[s * C + c];
    if (m.count[c] >= 2) m.variance[c] = t / (m.count[c] - 1);
  }
  return m;
}

// One block of rows, centred with missing values set to 0: every row in x0, and the rows with a gap again
// in gx (centred), gq (squared) and gm (the finite mask), compacted, for the three mask products.
struct Block {
  std::vector<double> x0, gx, gq, gm;
  std::vector<double> full_sum, full_sq;  // over the block's rows without a gap
  std::vector<char> full;                 // per row of the block: no value missing
  int64_t rows = 0, gaps = 0, full_rows = 0;
};

void fill_block(const MatrixView& x, int64_t r0, int64_t r1, const std::vector<double>& centre, Block& b) {
  const int64_t C = x.cols;
  b.rows = r1 - r0, b.gaps = 0, b.full_rows = 0;
  b.x0.resize(static_cast<size_t>(b.rows * C));
  b.full.resize(static_cast<size_t>(b.rows));
  at::parallel_for(r0, r1, 256, [&](int64_t a, int64_t e) {
    for (int64_t r = a; r < e; ++r) {
      double* row = b.x0.data() + (r - r0) * C;
      bool full = true;
      for (int64_t c = 0; c < C; ++c) {
        const double v = x.at(r, c);
        const bool ok = std::isfinite(v);
        row[c] = ok ? v - centre[c] : 0.0;
        full = full && ok;
      }
      b.full[r - r0] = full;
    }
  });
  b.full_sum.assign(static_cast<size_t>(C), 0), b.full_sq.assign(static_cast<size_t>(C), 0);
  for (int64_t r = r0; r < r1; ++r) {
    const double* row = b.x0.data() + (r - r0) * C;
    if (b.full[r - r0]) {
      for (int64_t c = 0; c < C; ++c) b.full_sum[c] += row[c], b.full_sq[c] += row[c] * row[c];
      ++b.full_rows;
      continue;
    }
    const size_t at = static_cast<size_t>(b.gaps * C);
    b.gx.resize(at + C), b.gq.resize(at + C), b.gm.resize(at + C);
    for (int64_t c = 0; c < C; ++c) {
      b.gx[at + c] = row[c], b.gq[at + c] = row[c] * row[c];
      b.gm[at + c] = std::isfinite(x.at(r, c)) ? 1.0 : 0.0;
    }
    ++b.gaps;
  }
}

at::Tensor view(std::vector<double>& v, int64_t rows, int64_t cols) {
  return at::from_blob(v.data(), {rows, cols}, at::TensorOptions().dtype(at::kDouble));
}

// The four sums of every pair (docs at the top), accumulated block by block (the GEMMs are threaded).
struct PairSums {
  at::Tensor P, S, Q, N;  // S, Q, N undefined when no value is missing
};

PairSums pair_sums(const MatrixView& x, const Moments& mo, bool complete) {
  const int64_t C = x.cols;
  auto opts = at::TensorOptions().dtype(at::kDouble);
  PairSums p{at::zeros({C, C}, opts), {}, {}, {}};
  std::vector<double> centre(mo.mean);
  for (double& c : centre) c = std::isfinite(c) ? c : 0.0;
  std::vector<double> full_sum(static_cast<size_t>(C), 0), full_sq(static_cast<size_t>(C), 0);
  double full_rows = 0;
  if (!complete) p.S = at::zeros({C, C}, opts), p.Q = at::zeros({C, C}, opts), p.N = at::zeros({C, C}, opts);
  Block b;
  for (int64_t r0 = 0; r0 < x.rows; r0 += kBlockRows) {
    fill_block(x, r0, std::min(x.rows, r0 + kBlockRows), centre, b);
    const at::Tensor x0 = view(b.x0, b.rows, C);
    p.P.addmm_(x0.t(), x0);
    if (complete) continue;
    for (int64_t c = 0; c < C; ++c) full_sum[c] += b.full_sum[c], full_sq[c] += b.full_sq[c];
    full_rows += static_cast<double>(b.full_rows);
    if (b.gaps == 0) continue;
    const at::Tensor gm = view(b.gm, b.gaps, C);
    p.S.addmm_(view(b.gx, b.gaps, C).t(), gm);
    p.Q.addmm_(view(b.gq, b.gaps, C).t(), gm);
    p.N.addmm_(gm.t(), gm);
  }
  if (!complete) {
    const at::Tensor fs = at::from_blob(full_sum.data(), {C, 1}, opts),
                     fq = at::from_blob(full_sq.data(), {C, 1}, opts);
    p.S += fs, p.Q += fq, p.N += full_rows;
    p.S = p.S.contiguous(), p.Q = p.Q.contiguous(), p.N = p.N.contiguous();
  }
  return p;
}

CorrelationResult pearson(const MatrixView& x, int64_t min_periods) {
  const int64_t C = x.cols;
  if (C == 0) return {};
  const Moments mo = column_moments(x);
  const bool complete = *std::min_element(mo.count.begin(), mo.count.end()) == static_cast<double>(x.rows);
  const PairSums sums = pair_sums(x, mo, complete);
  CorrelationResult res;
  res.r.assign(static_cast<size_t>(C * C), kNaN);
  res.nobs.assign(static_cast<size_t>(C * C), 0);
  res.mean = mo.mean, res.variance = mo.variance;
  res.finite.resize(static_cast<size_t>(C));
  for (int64_t i = 0; i < C; ++i) res.finite[i] = static_cast<int64_t>(mo.count[i]);
  const auto p = sums.P.accessor<double, 2>();
  const double* s = complete ? nullptr : sums.S.data_ptr<double>();
  const double* q = complete ? nullptr : sums.Q.data_ptr<double>();
  const double* nn = complete ? nullptr : sums.N.data_ptr<double>();
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
  res.mean = mo.mean, res.variance = mo.variance;
  return res;
}

}  // namespace tft::selection
