// Jaccard overlap of top-k sets. Order: descending value, ties broken towards the lower feature index, so
// the k-th place is deterministic. With fewer than k common features, the set is all of them.
#include <limits>

#include "core/rank/rank_detail.h"

namespace tft::rank::detail {
namespace {

// Marks (with `tag`) the top-k features of row a among those present in row b; returns how many.
template <class Visit>
int64_t top_k_over_common(const RankRows& R, int64_t a, int64_t b, int64_t k, Visit visit) {
  const int32_t* oa = R.row_order(a);
  const int32_t* da = R.row_dense(a);
  const uint8_t* pb = R.row_present(b);
  int64_t taken = 0;
  // The ascending order keeps ties by increasing index; walking tie groups from the top and each group
  // forwards gives (value desc, index asc).
  int32_t hi = R.count[a];
  while (hi > 0 && taken < k) {
    int32_t lo = hi - 1;
    while (lo > 0 && da[oa[lo - 1]] == da[oa[hi - 1]]) --lo;
    for (int32_t q = lo; q < hi && taken < k; ++q)
      if (pb[oa[q]]) {
        visit(oa[q]);
        ++taken;
      }
    hi = lo;
  }
  return taken;
}

}  // namespace

double topk_jaccard_pair(const RankRows& R, int64_t a, int64_t b, int64_t k, Scratch& s) {
  s.mark.assign(static_cast<size_t>(R.n), 0);
  int64_t common = 0;
  const uint8_t* pa = R.row_present(a);
  const uint8_t* pb = R.row_present(b);
  for (int64_t f = 0; f < R.n; ++f) common += pa[f] && pb[f];
  if (common < 2) return std::numeric_limits<double>::quiet_NaN();
  const int64_t na = top_k_over_common(R, a, b, k, [&](int32_t f) { s.mark[f] = 1; });
  int64_t inter = 0;
  const int64_t nb = top_k_over_common(R, b, a, k, [&](int32_t f) { inter += s.mark[f]; });
  return static_cast<double>(inter) / static_cast<double>(na + nb - inter);
}

void topk_jaccard_matrix(const RankRows& R, int64_t k, double* out) {
  const int64_t m = R.m, n = R.n;
  const int64_t W = (n + 63) / 64;
  // Complete rows: one bitset per row, a pair is two popcounts.
  std::vector<uint64_t> sets(static_cast<size_t>(m * W), 0);
  std::vector<int64_t> sizes(static_cast<size_t>(m), 0);
  for (int64_t r = 0; r < m; ++r) {
    if (R.count[r] != n) continue;
    uint64_t* set = sets.data() + r * W;
    sizes[r] = top_k_over_common(R, r, r, k, [&](int32_t f) { set[f / 64] |= uint64_t{1} << (f % 64); });
  }
  for_each_pair(m, [&](int64_t a, int64_t b, Scratch& s) {
    if (R.count[a] == n && R.count[b] == n) {
      int64_t inter = 0;
      const uint64_t* sa = sets.data() + a * W;
      const uint64_t* sb = sets.data() + b * W;
      for (int64_t w = 0; w < W; ++w) inter += __builtin_popcountll(sa[w] & sb[w]);
      out[a * m + b] = static_cast<double>(inter) / static_cast<double>(sizes[a] + sizes[b] - inter);
    } else {
      out[a * m + b] = topk_jaccard_pair(R, a, b, k, s);
    }
  });
  mirror(out, m);
}

}  // namespace tft::rank::detail
