// Weighted tau, as scipy.stats.weightedtau with its defaults (additive hyperbolic weigher w(r) = 1/(r+1),
// rank=True): the mean of two weighted taus, one weighting elements by their rank in the decreasing
// lexicographic order of (a, b), the other by (b, a). Disagreements among the top features weigh most.
//
// With additive weights a discordant pair (i, j) contributes w_i + w_j, so the discordant weight is
// sum_i w_i d_i where d_i counts i's discordant partners. d_i does not depend on the weighting, so one
// Fenwick pass serves both halves: O(L log L) per pair for L common features.
//
// The matrix has a faster path for pairs of rows that are complete (no absent feature) and tie-free, the
// usual case for real-valued importances. Then every weight depends on its own row alone, scipy's tie terms
// vanish, and with G_r[i] the bitset of features ranked above i in row r, d_i = popcount(G_a[i] ^ G_b[i]):
//   tau = 1 - sum_i (w_a(i) + w_b(i)) d_i / ((n - 1) H_n),   w_r(i) = 1 / (1 + rank of i from the top in r),
// n * ceil(n/64) XOR-popcounts per pair instead of two Fenwick passes with their scattered loads
// (1,000 x 300: 0.1 s instead of 2-4 s on two cores). Other pairs take the general path.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/rank/rank_detail.h"
#include "core/rank/weighted_planes.h"

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
      std::stable_sort(out.begin(), out.end(),
                       [&](int32_t i, int32_t j) { return K1[i] != K1[j] ? K1[i] < K1[j] : K2[i] < K2[j]; });
    }
  };
  order_of(a, b, s.idx, A, B);
  order_of(b, a, s.idx2, B, A);

  // Ranks: the last element of the ascending order is rank 0 (weight 1).
  s.wa.resize(L);
  s.wb.resize(L);
  for (int64_t q = 0; q < L; ++q) {
    s.wa[s.idx[q]] = 1.0 / static_cast<double>(L - q);  // 1 / (1 + (L-1-q))
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

namespace {

// The bit planes of a block of complete, tie-free rows and their weights w_c(i). Bit j of feature i's
// bitset is set when j ranks above i; word k of every feature's bitset is stored contiguously (a "slice"
// of np = n rounded up to 8 words), so one pair is W passes of 8-wide XOR-popcounts over the features.
// Built from each row's presorted order in O(n W).
struct CleanBlock {
  int64_t n = 0, np = 0, W = 0;
  std::vector<uint64_t> bits;  // [row][k][np]
  std::vector<double> w;       // [row][np], 0 in the padding
  const uint64_t* slices(int64_t c) const { return bits.data() + c * W * np; }
  const double* weights(int64_t c) const { return w.data() + c * np; }
};

void build_clean(const RankRows& R, const int64_t* rows, int64_t count, CleanBlock& blk) {
  const int64_t n = R.n, W = (n + 63) / 64, np = (n + 7) / 8 * 8;
  blk.n = n;
  blk.W = W;
  blk.np = np;
  blk.bits.assign(static_cast<size_t>(count * W * np), 0);
  blk.w.assign(static_cast<size_t>(count * np), 0.0);
  at::parallel_for(0, count, 1, [&](int64_t begin, int64_t end) {
    std::vector<uint64_t> above(static_cast<size_t>(W));
    for (int64_t c = begin; c < end; ++c) {
      const int32_t* o = R.row_order(rows[c]);  // ascending: o[n-1] ranks first
      uint64_t* planes = blk.bits.data() + c * W * np;
      std::fill(above.begin(), above.end(), 0);
      for (int64_t q = n - 1; q >= 0; --q) {
        const int32_t i = o[q];
        for (int64_t k = 0; k < W; ++k) planes[k * np + i] = above[static_cast<size_t>(k)];
        blk.w[static_cast<size_t>(c * np + i)] = 1.0 / static_cast<double>(n - q);
        above[static_cast<size_t>(i / 64)] |= uint64_t{1} << (i % 64);
      }
    }
  });
}

double clean_tau(const CleanBlock& A, int64_t ca, const CleanBlock& B, int64_t cb, double denom) {
  // sum_i (w_a(i) + w_b(i)) d_i
  const double acc = weighted_plane_discordance(A.slices(ca), B.slices(cb), A.weights(ca), B.weights(cb), A.np, A.W);
  return std::min(1.0, std::max(-1.0, 1.0 - acc / denom));
}

}  // namespace

void weighted_tau_matrix(const RankRows& R, double* out) {
  const int64_t m = R.m, n = R.n;
  std::vector<int64_t> clean;
  std::vector<uint8_t> is_clean(static_cast<size_t>(m), 0);
  for (int64_t r = 0; r < m; ++r)
    if (R.count[r] == n && R.distinct[r] == n) {
      is_clean[r] = 1;
      clean.push_back(r);
    }
  if (static_cast<int64_t>(clean.size()) < m)
    for_each_pair(m, [&](int64_t a, int64_t b, Scratch& s) {
      if (!(is_clean[a] && is_clean[b])) out[a * m + b] = weighted_tau_pair(R, a, b, s);
    });
  const int64_t K = static_cast<int64_t>(clean.size());
  if (K > 0) {
    double harmonic = 0;
    for (int64_t k = n; k >= 1; --k) harmonic += 1.0 / static_cast<double>(k);
    const double denom = static_cast<double>(n - 1) * harmonic;
    // Tiles of rows whose planes fit the memory budget two at a time (one tile when all fit); inside a tile
    // pair the rows of both stay in L2/L3 while every pair between them is formed.
    const int64_t row_bytes = ((n + 7) / 8 * 8) * ((n + 63) / 64 + 1) * 8;
    const int64_t tile = std::max<int64_t>(1, std::min<int64_t>(K, memory_budget_bytes() / (2 * row_bytes)));
    CleanBlock bi, bj;
    for (int64_t i0 = 0; i0 < K; i0 += tile) {
      const int64_t ni = std::min(tile, K - i0);
      build_clean(R, clean.data() + i0, ni, bi);
      for (int64_t j0 = i0; j0 < K; j0 += tile) {
        const int64_t nj = std::min(tile, K - j0);
        const CleanBlock* pj = &bi;
        if (j0 != i0) {
          build_clean(R, clean.data() + j0, nj, bj);
          pj = &bj;
        }
        // Pairs (ci, cj) with global index i0+ci <= j0+cj, in blocks of 16 x 16 rows so both stay in cache.
        constexpr int64_t kB = 16;
        const int64_t bi_n = (ni + kB - 1) / kB, bj_n = (nj + kB - 1) / kB;
        at::parallel_for(0, bi_n * bj_n, 1, [&](int64_t begin, int64_t end) {
          for (int64_t t = begin; t < end; ++t) {
            const int64_t ti = t / bj_n, tj = t % bj_n;
            for (int64_t ci = ti * kB; ci < std::min(ni, (ti + 1) * kB); ++ci)
              for (int64_t cj = tj * kB; cj < std::min(nj, (tj + 1) * kB); ++cj) {
                if (j0 == i0 && cj < ci) continue;
                const int64_t a = clean[i0 + ci], b = clean[j0 + cj];
                const double tau = clean_tau(bi, ci, *pj, cj, denom);
                out[std::min(a, b) * m + std::max(a, b)] = tau;
              }
          }
        });
      }
    }
  }
  mirror(out, m);
}

}  // namespace tft::rank::detail
