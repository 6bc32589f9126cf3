// Spearman's rho, as scipy.stats.spearmanr: Pearson correlation of average ranks (ties share the mean rank).
// Rows with every feature present are ranked once, centred and normalised, and the whole block of them is a
// single GEMM (Z Z^T). A pair involving a row with absent features is re-ranked on the common subset, as
// scipy would see it.
#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "core/rank/rank_detail.h"

namespace tft::rank::detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Average ranks (1-based) over the features of `a` that are present in `b`, written to r[f].
// Returns the number of such features.
int64_t average_ranks_over_common(const RankRows& R, int64_t a, int64_t b, double* r) {
  const int32_t* oa = R.row_order(a);
  const int32_t* da = R.row_dense(a);
  const uint8_t* pb = R.row_present(b);
  int64_t L = 0;
  int32_t q = 0;
  const int32_t ca = R.count[a];
  while (q < ca) {
    int32_t e = q;
    int64_t first = L;
    while (e < ca && da[oa[e]] == da[oa[q]]) {
      if (pb[oa[e]]) ++L;
      ++e;
    }
    const double avg = (static_cast<double>(first) + static_cast<double>(L - 1)) / 2.0 + 1.0;
    for (int32_t t = q; t < e; ++t)
      if (pb[oa[t]]) r[oa[t]] = avg;
    q = e;
  }
  return L;
}

}  // namespace

double spearman_pair(const RankRows& R, int64_t a, int64_t b, Scratch& s) {
  s.da.resize(R.n);
  s.db.resize(R.n);
  const int64_t L = average_ranks_over_common(R, a, b, s.da.data());
  average_ranks_over_common(R, b, a, s.db.data());
  if (L < 2) return kNaN;
  const double mean = (static_cast<double>(L) + 1.0) / 2.0;
  const uint8_t* pa = R.row_present(a);
  const uint8_t* pb = R.row_present(b);
  double sab = 0, saa = 0, sbb = 0;
  for (int64_t f = 0; f < R.n; ++f) {
    if (!pa[f] || !pb[f]) continue;
    const double x = s.da[f] - mean, y = s.db[f] - mean;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  if (saa == 0 || sbb == 0) return kNaN;
  const double r = sab / std::sqrt(saa) / std::sqrt(sbb);
  return std::min(1.0, std::max(-1.0, r));
}

void spearman_matrix(const RankRows& R, double* out) {
  const int64_t m = R.m, n = R.n;
  std::vector<int64_t> full;
  for (int64_t r = 0; r < m; ++r)
    if (R.count[r] == n) full.push_back(r);
  const int64_t nf = static_cast<int64_t>(full.size());
  std::vector<uint8_t> constant(static_cast<size_t>(m), 0);
  if (nf > 0) {
    at::Tensor Z = at::empty({nf, n}, at::kDouble);
    double* z = Z.data_ptr<double>();
    at::parallel_for(0, nf, 16, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        const int64_t r = full[t];
        double* zr = z + t * n;
        average_ranks_over_common(R, r, r, zr);
        const double mean = (static_cast<double>(n) + 1.0) / 2.0;
        double ss = 0;
        for (int64_t f = 0; f < n; ++f) {
          zr[f] -= mean;
          ss += zr[f] * zr[f];
        }
        if (ss == 0) {
          constant[r] = 1;
          continue;
        }
        const double inv = 1.0 / std::sqrt(ss);
        for (int64_t f = 0; f < n; ++f) zr[f] *= inv;
      }
    });
    at::Tensor C = at::mm(Z, Z.t()).contiguous();
    const double* c = C.data_ptr<double>();
    for (int64_t i = 0; i < nf; ++i)
      for (int64_t j = 0; j < nf; ++j) {
        const int64_t a = full[i], b = full[j];
        out[a * m + b] = (constant[a] || constant[b]) ? kNaN : std::min(1.0, std::max(-1.0, c[i * nf + j]));
      }
  }
  if (nf == m) return;
  for_each_pair(m, [&](int64_t a, int64_t b, Scratch& s) {
    if (R.count[a] == n && R.count[b] == n) return;
    out[a * m + b] = spearman_pair(R, a, b, s);
  });
  for (int64_t a = 0; a < m; ++a)
    for (int64_t b = a + 1; b < m; ++b)
      if (R.count[a] != n || R.count[b] != n) out[b * m + a] = out[a * m + b];
}

}  // namespace tft::rank::detail
