// Internals shared by the rank statistics (not part of the public API).
#pragma once

#include <ATen/Parallel.h>

#include <cstdint>
#include <vector>

#include "core/rank/rank_rows.h"

namespace tft::rank::detail {

// Per-thread working memory, sized lazily to n.
struct Scratch {
  std::vector<int32_t> ia, ib, idx, idx2;
  std::vector<int64_t> fen;
  std::vector<int64_t> bucket;
  std::vector<int64_t> disc;
  std::vector<double> da, db, wa, wb;
  std::vector<uint8_t> mark;
};

struct KendallCounts {
  int64_t common = 0;
  int64_t con_minus_dis = 0;
  int64_t untied_a = 0;  // pairs of common features not tied in a (n0 - n1)
  int64_t untied_b = 0;
};

double tau_b(const KendallCounts& k);
KendallCounts kendall_counts_pair(const RankRows& R, int64_t a, int64_t b, Scratch& s);
// (common features, pairs of them untied in a), walking a's order restricted to features present in b.
std::pair<int64_t, int64_t> untied_over_common(const RankRows& R, int64_t a, int64_t b);

void kendall_matrix_fenwick(const RankRows& R, double* out);
void kendall_matrix_bitset(const RankRows& R, double* out);
void kendall_matrix_cuda(const RankRows& R, double* out);
bool kendall_prefers_bitset(int64_t m, int64_t n);

double weighted_tau_pair(const RankRows& R, int64_t a, int64_t b, Scratch& s);
void weighted_tau_matrix(const RankRows& R, double* out);
// Bytes of bit planes the bitset kernels may hold at once (TFT_RANK_MEMORY_MB, default 1 GiB).
int64_t memory_budget_bytes();
double spearman_pair(const RankRows& R, int64_t a, int64_t b, Scratch& s);
void spearman_matrix(const RankRows& R, double* out);
double topk_jaccard_pair(const RankRows& R, int64_t a, int64_t b, int64_t k, Scratch& s);
void topk_jaccard_matrix(const RankRows& R, int64_t k, double* out);

// Calls f(a, b, scratch) for every pair a <= b of [0, m), spread over the intra-op pool in balanced chunks
// (row a has m - a partners, so splitting by rows would leave the last threads idle).
template <class F>
void for_each_pair(int64_t m, F&& f) {
  const int64_t total = m * (m + 1) / 2;
  at::parallel_for(0, total, 256, [&](int64_t begin, int64_t end) {
    Scratch scratch;
    // Locate the pair with flat index `begin`: row a starts at a*m - a*(a-1)/2.
    int64_t a = 0;
    int64_t lo = 0, hi = m - 1;
    while (lo < hi) {
      const int64_t mid = (lo + hi + 1) / 2;
      if (mid * m - mid * (mid - 1) / 2 <= begin)
        lo = mid;
      else
        hi = mid - 1;
    }
    a = lo;
    int64_t b = a + (begin - (a * m - a * (a - 1) / 2));
    for (int64_t t = begin; t < end; ++t) {
      f(a, b, scratch);
      if (++b == m) {
        ++a;
        b = a;
      }
    }
  });
}

inline void mirror(double* out, int64_t m) {
  for (int64_t a = 0; a < m; ++a)
    for (int64_t b = a + 1; b < m; ++b) out[b * m + a] = out[a * m + b];
}

}  // namespace tft::rank::detail
