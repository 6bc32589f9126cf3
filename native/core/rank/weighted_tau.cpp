// Weighted tau, as scipy.stats.weightedtau with its defaults (additive hyperbolic weigher w(r) = 1/(r+1),
// rank=True): the mean of two weighted taus, one weighting elements by their rank in the decreasing
// lexicographic order of (a, b), the other by (b, a). Disagreements among the top features weigh most.
//
// With additive weights a discordant pair (i, j) contributes w_i + w_j, so the discordant weight is
// sum_i w_i d_i where d_i counts i's discordant partners. d_i does not depend on the weighting, so one
// Fenwick pass serves both halves: O(L log L) per pair for L common features.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/rank/rank_detail.h"

namespace tft::rank::detail {
namespace {

struct Halves {
  double tot, u, v, t, exch;
};

// Weighted tie sums for one half. `perm_x` is sorted by (x, y) (x = the half's primary key), `perm_y` by
// (y, x); ties of x are contiguous in the first, ties of y in the second, joint ties in both.
template <class KX, class KY>
bool tie_sums(const std::vector<int32_t>& perm_x, const std::vector<int32_t>& perm_y, const std::vector<double>& w,
              KX kx, KY ky, double& u, double& v, double& t) {
  const size_t L = perm_x.size();
  u = v = t = 0;
  bool x_constant = true, y_constant = true;
  for (size_t g = 0; g < L;) {
    size_t h = g + 1;
    double s = w[perm_x[g]];
    while (h < L && kx(perm_x[h]) == kx(perm_x[g])) s += w[perm_x[h++]];
    u += s * static_cast<double>(h - g - 1);
    if (h - g != L) x_constant = false;
    g = h;
  }
  for (size_t g = 0; g < L;) {
    size_t h = g + 1;
    double s = w[perm_x[g]];
    while (h < L && kx(perm_x[h]) == kx(perm_x[g]) && ky(perm_x[h]) == ky(perm_x[g])) s += w[perm_x[h++]];
    t += s * static_cast<double>(h - g - 1);
    g = h;
  }
  for (size_t g = 0; g < L;) {
    size_t h = g + 1;
    double s = w[perm_y[g]];
    while (h < L && ky(perm_y[h]) == ky(perm_y[g])) s += w[perm_y[h++]];
    v += s * static_cast<double>(h - g - 1);
    if (h - g != L) y_constant = false;
    g = h;
  }
  return !(x_constant || y_constant);
}

double half_tau(double s, int64_t L, double u, double v, double t, double exch) {
  const double tot = s * static_cast<double>(L - 1);
  const double tau = ((tot - (v + u - t)) - 2.0 * exch) / std::sqrt(tot - u) / std::sqrt(tot - v);
  return std::min(1.0, std::max(-1.0, tau));
}

}  // namespace

double weighted_tau_pair(const RankRows& R, int64_t a, int64_t b, Scratch& s) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  const int32_t* da = R.row_dense(a);
  const int32_t* db = R.row_dense(b);
  // Common features in index order: scipy sees the filtered arrays, and its tie-breaks follow position.
  s.ia.clear();
  s.ib.clear();
  s.fen.resize(static_cast<size_t>(R.n));  // reused below as the feature -> position map
  for (int64_t f = 0; f < R.n; ++f)
    if (da[f] >= 0 && db[f] >= 0) {
      s.fen[f] = static_cast<int64_t>(s.ia.size());
      s.ia.push_back(da[f]);
      s.ib.push_back(db[f]);
    }
  const int64_t L = static_cast<int64_t>(s.ia.size());
  if (L < 2) return kNaN;
  const auto& A = s.ia;
  const auto& B = s.ib;
  auto ka = [&A](int32_t i) { return A[i]; };
  auto kb = [&B](int32_t i) { return B[i]; };

  // Stable sorts by (a, b) and (b, a): equal keys keep position order, as numpy's lexsort does.
  // Without ties in a row, its presorted order restricted to the common features already is the
  // lexicographic order: no sort per pair (the common case for real-valued importances).
  auto order_of = [&](int64_t row, int64_t other, std::vector<int32_t>& out, const std::vector<int32_t>& K1,
                      const std::vector<int32_t>& K2) {
    out.resize(L);
    if (R.distinct[row] == R.count[row]) {
      const int32_t* o = R.row_order(row);
      const uint8_t* po = R.row_present(other);
      int64_t q = 0;
      for (int32_t t = 0; t < R.count[row]; ++t)
        if (po[o[t]]) out[q++] = static_cast<int32_t>(s.fen[o[t]]);
    } else {
      std::iota(out.begin(), out.end(), 0);
      std::stable_sort(out.begin(), out.end(), [&](int32_t i, int32_t j) { return K1[i] != K1[j] ? K1[i] < K1[j] : K2[i] < K2[j]; });
    }
  };
  order_of(a, b, s.idx, A, B);
  order_of(b, a, s.idx2, B, A);

  // Ranks: the last element of the ascending order is rank 0 (weight 1).
  s.wa.resize(L);
  s.wb.resize(L);
  for (int64_t q = 0; q < L; ++q) {
    s.wa[s.idx[q]] = 1.0 / static_cast<double>(L - q);   // 1 / (1 + (L-1-q))
    s.wb[s.idx2[q]] = 1.0 / static_cast<double>(L - q);
  }

  // d_i: partners discordant with i. Along (a, b) order, earlier elements with larger b, and later elements
  // with smaller b, are exactly i's discordant partners (tie groups of a are sorted by b, so contribute none).
  const int64_t nb = R.distinct[b];
  s.disc.assign(L, 0);
  s.fen.assign(nb + 1, 0);
  for (int64_t q = 0; q < L; ++q) {
    const int32_t i = s.idx[q];
    const int32_t v = B[i] + 1;
    int64_t le = 0;
    for (int32_t p = v; p > 0; p -= p & -p) le += s.fen[p];
    s.disc[i] += q - le;
    for (int32_t p = v; p <= nb; p += p & -p) ++s.fen[p];
  }
  std::fill(s.fen.begin(), s.fen.end(), 0);
  for (int64_t q = L - 1; q >= 0; --q) {
    const int32_t i = s.idx[q];
    const int32_t v = B[i];  // count later elements with b < B[i]: prefix up to rank v-1 (1-based v)
    int64_t lt = 0;
    for (int32_t p = v; p > 0; p -= p & -p) lt += s.fen[p];
    s.disc[i] += lt;
    for (int32_t p = v + 1; p <= nb; p += p & -p) ++s.fen[p];
  }

  double sa = 0, sb = 0, ea = 0, eb = 0;
  for (int64_t i = 0; i < L; ++i) {
    sa += s.wa[i];
    sb += s.wb[i];
    ea += s.wa[i] * static_cast<double>(s.disc[i]);
    eb += s.wb[i] * static_cast<double>(s.disc[i]);
  }
  double u1, v1, t1, u2, v2, t2;
  if (!tie_sums(s.idx, s.idx2, s.wa, ka, kb, u1, v1, t1)) return kNaN;
  if (!tie_sums(s.idx2, s.idx, s.wb, kb, ka, u2, v2, t2)) return kNaN;
  return (half_tau(sa, L, u1, v1, t1, ea) + half_tau(sb, L, u2, v2, t2, eb)) / 2.0;
}

}  // namespace tft::rank::detail
