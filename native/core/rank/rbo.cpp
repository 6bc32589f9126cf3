// Rank-biased overlap (Webber, Moffat & Zobel 2010), extrapolated form, for rankings of different lengths
// (eq. 32): with S the shorter list (length s), L the longer (length l) and X_d the overlap of their top d,
//   RBO_ext = (1-p)/p * ( sum_{d<=l} X_d/d p^d + sum_{d=s+1..l} X_s (d-s)/(s d) p^d ) + ((X_l - X_s)/l + X_s/s) p^l.
// A ranking here is a row's present features by decreasing value, ties to the lower feature index (the
// order the top-k Jaccard uses, and the order stability snapshots are stored in).
//
// O(n) per pair, no sorting or hashing: a feature at 0-based ranks r_a, r_b in both lists counts in X_d
// exactly for d > max(r_a, r_b), so sum_{d<=l} X_d/d p^d = sum_c T_l[max(r_a, r_b)] with the tail sums
// T_l[t] = sum_{d=t+1..l} p^d/d, tabled once per list length.
//
// lib/stability/metrics.ts (RboEvaluator) evaluates the same formula in TypeScript for what this all-pairs
// kernel does not serve: a single synchronous pair of lists and a sample of pairs of a large group. The
// tests compare the two; a change to one belongs in the other.
#include <algorithm>
#include <climits>
#include <cmath>
#include <map>

#include "core/error.h"
#include "core/rank/rank_detail.h"
#include "core/rank/rank_stats.h"
#include "core/runtime.h"

namespace tft::rank {
namespace {

constexpr int32_t kAbsent = INT32_MAX;

struct RboTables {
  double p = 0;
  std::vector<double> pw;                                // p^d, d = 0..max length
  std::map<int64_t, std::vector<double>> tail;           // length l -> T_l[0..l]
  std::map<std::pair<int64_t, int64_t>, double> uneven;  // (s, l) -> sum_{d=s+1..l} (d-s)/d p^d

  RboTables(double p_, const std::vector<int32_t>& lengths) : p(p_) {
    const int64_t lmax = *std::max_element(lengths.begin(), lengths.end());
    pw.resize(static_cast<size_t>(lmax + 1));
    pw[0] = 1;
    for (int64_t d = 1; d <= lmax; ++d) pw[static_cast<size_t>(d)] = pw[static_cast<size_t>(d - 1)] * p;
    std::vector<int64_t> distinct(lengths.begin(), lengths.end());
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (int64_t l : distinct) {
      std::vector<double> t(static_cast<size_t>(l + 1), 0.0);
      // From the deep end: each entry is a sum of positive terms, no cancellation.
      for (int64_t d = l; d >= 1; --d)
        t[static_cast<size_t>(d - 1)] = t[static_cast<size_t>(d)] + pw[static_cast<size_t>(d)] / static_cast<double>(d);
      tail.emplace(l, std::move(t));
    }
    // Pairs of distinct lengths: few in practice (complete groups have one); each O(l - s).
    for (size_t i = 0; i < distinct.size(); ++i)
      for (size_t j = i + 1; j < distinct.size(); ++j) {
        const int64_t s = distinct[i], l = distinct[j];
        double v = 0;
        for (int64_t d = s + 1; d <= l; ++d)
          v += (static_cast<double>(d - s) / static_cast<double>(d)) * pw[static_cast<size_t>(d)];
        uneven.emplace(std::make_pair(s, l), v);
      }
  }
};

double rbo_pair(const int32_t* pa, const int32_t* pb, int64_t n, int64_t len_a, int64_t len_b, const RboTables& t) {
  const int64_t s = std::min(len_a, len_b), l = std::max(len_a, len_b);
  if (s == 0) return std::numeric_limits<double>::quiet_NaN();
  const double* tail = t.tail.at(l).data();
  double acc = 0;
  int64_t xs = 0, xl = 0;
  for (int64_t c = 0; c < n; ++c) {
    const int32_t mx = std::max(pa[c], pb[c]);
    if (mx >= l) continue;  // absent from one of the two
    acc += tail[mx];
    ++xl;
    xs += mx < s;
  }
  const double extra = l > s && xs > 0 ? (static_cast<double>(xs) / static_cast<double>(s)) * t.uneven.at({s, l}) : 0.0;
  return ((1 - t.p) / t.p) * (acc + extra) +
         (static_cast<double>(xl - xs) / static_cast<double>(l) + static_cast<double>(xs) / static_cast<double>(s)) *
             t.pw[static_cast<size_t>(l)];
}

}  // namespace

std::vector<double> rbo_matrix(const double* x, int64_t m, int64_t n, double p) {
  apply_thread_setting();
  if (!(p > 0 && p < 1)) fail(ErrorCode::InvalidArgument, "p", "must be in (0, 1), got " + std::to_string(p));
  const RankRows R = prepare_rows(x, m, n, 2, "rankings");
  // 0-based rank of every feature from the top, ties to the lower index; kAbsent where a row lacks it.
  std::vector<int32_t> pos(static_cast<size_t>(m * n), kAbsent);
  for (int64_t r = 0; r < m; ++r) {
    const int32_t* o = R.row_order(r);  // ascending by value, ties by index
    const double* v = R.row(r);
    int32_t rank = 0;
    for (int64_t h = R.count[r]; h > 0;) {
      int64_t g = h - 1;
      while (g > 0 && v[o[g - 1]] == v[o[h - 1]]) --g;  // tie group [g, h), indices ascending
      for (int64_t q = g; q < h; ++q) pos[static_cast<size_t>(r * n + o[q])] = rank++;
      h = g;
    }
  }
  const RboTables tables(p, R.count);
  std::vector<double> out(static_cast<size_t>(m * m));
  detail::for_each_pair(m, [&](int64_t a, int64_t b, detail::Scratch&) {
    out[a * m + b] = a == b ? 1.0 : rbo_pair(pos.data() + a * n, pos.data() + b * n, n, R.count[a], R.count[b], tables);
  });
  detail::mirror(out.data(), m);
  return out;
}

}  // namespace tft::rank
