// Kendall tau-b, as scipy.stats.kendalltau, over the features two rankings have in common.
//
// Two exact algorithms:
//  * Fenwick (Knight's O(L log L) per pair): walk a's presorted order restricted to common features, sort
//    b's ranks inside each tie group of a, and count strict inversions of b's ranks with a Fenwick tree.
//  * bitset: tau-b's numerator is the inner product of the two rows' pairwise-sign vectors. Each row's
//    n(n-1)/2 signs are packed once into two bit planes, and a pair then costs n^2/64 AND/XOR/popcounts.
//    For the sizes feature-importance tracking lives at (n up to a few thousand) this is 5-20x faster than
//    Fenwick; past that Fenwick's n log n wins. See sign_bits.h.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

#include "core/big_buffer.h"
#include "core/cuda_api.h"
#include "core/environment.h"
#include "core/error.h"
#include "core/rank/rank_detail.h"
#include "core/rank/rank_stats.h"
#include "core/rank/sign_bits.h"

namespace tft::rank {
namespace detail {

double tau_b(const KendallCounts& k) {
  if (k.common < 2 || k.untied_a == 0 || k.untied_b == 0) return std::numeric_limits<double>::quiet_NaN();
  const double tau = static_cast<double>(k.con_minus_dis) / std::sqrt(static_cast<double>(k.untied_a)) /
                     std::sqrt(static_cast<double>(k.untied_b));
  return std::min(1.0, std::max(-1.0, tau));
}

KendallCounts kendall_counts_pair(const RankRows& R, int64_t a, int64_t b, Scratch& s) {
  const int32_t* oa = R.row_order(a);
  const int32_t* da = R.row_dense(a);
  const int32_t* db = R.row_dense(b);
  s.ia.clear();
  s.ib.clear();
  for (int32_t q = 0; q < R.count[a]; ++q) {
    const int32_t f = oa[q];
    if (db[f] >= 0) {
      s.ia.push_back(da[f]);
      s.ib.push_back(db[f]);
    }
  }
  KendallCounts k;
  const int64_t L = static_cast<int64_t>(s.ia.size());
  k.common = L;
  if (L < 2) return k;
  const int64_t n0 = L * (L - 1) / 2;

  int64_t n1 = 0, n3 = 0;
  for (int64_t g = 0; g < L;) {
    int64_t h = g + 1;
    while (h < L && s.ia[h] == s.ia[g]) ++h;
    const int64_t len = h - g;
    if (len > 1) {
      n1 += len * (len - 1) / 2;
      std::sort(s.ib.begin() + g, s.ib.begin() + h);
      for (int64_t r = g; r < h;) {
        int64_t e = r + 1;
        while (e < h && s.ib[e] == s.ib[r]) ++e;
        n3 += (e - r) * (e - r - 1) / 2;
        r = e;
      }
    }
    g = h;
  }

  const int64_t nb = R.distinct[b];
  s.bucket.assign(static_cast<size_t>(nb), 0);
  for (int32_t v : s.ib) ++s.bucket[v];
  int64_t n2 = 0;
  for (int64_t c : s.bucket) n2 += c * (c - 1) / 2;

  // Strict inversions of b's ranks in (a, b)-sorted order = discordant pairs.
  s.fen.assign(static_cast<size_t>(nb + 1), 0);
  int64_t dis = 0;
  for (int64_t i = 0; i < L; ++i) {
    const int32_t v = s.ib[i] + 1;
    int64_t le = 0;
    for (int32_t p = v; p > 0; p -= p & -p) le += s.fen[p];
    dis += i - le;
    for (int32_t p = v; p <= nb; p += p & -p) ++s.fen[p];
  }
  k.con_minus_dis = n0 - n1 - n2 + n3 - 2 * dis;
  k.untied_a = n0 - n1;
  k.untied_b = n0 - n2;
  return k;
}

std::pair<int64_t, int64_t> untied_over_common(const RankRows& R, int64_t a, int64_t b) {
  const int32_t* oa = R.row_order(a);
  const int32_t* da = R.row_dense(a);
  const uint8_t* pb = R.row_present(b);
  int64_t L = 0, ties = 0, run = 0;
  int32_t prev = -1;
  for (int32_t q = 0; q < R.count[a]; ++q) {
    const int32_t f = oa[q];
    if (!pb[f]) continue;
    ++L;
    if (da[f] == prev) {
      ++run;
    } else {
      ties += run * (run - 1) / 2;
      run = 1;
      prev = da[f];
    }
  }
  ties += run * (run - 1) / 2;
  return {L, L * (L - 1) / 2 - ties};
}

void kendall_matrix_fenwick(const RankRows& R, double* out) {
  for_each_pair(R.m,
                [&](int64_t a, int64_t b, Scratch& s) { out[a * R.m + b] = tau_b(kendall_counts_pair(R, a, b, s)); });
  mirror(out, R.m);
}

int64_t memory_budget_bytes() {
  // 1 GiB of bit planes at most by default; bigger problems are tiled
  return environment::integer_at_least("TFT_RANK_MEMORY_MB", 1, 1024) << 20;
}

namespace {

// Bit planes of every row of a block, built in parallel.
struct BitBlock {
  int64_t first = 0, rows = 0;
  // Uninitialised on purpose: build_sign_bits writes every word, and zero-filling hundreds of MiB first
  // would cost as much as the build.
  BigBuffer<uint64_t> z, p;
  size_t capacity = 0;
  std::vector<int64_t> untied;  // popcount(z) per row: pairs untied in the row among its present features
  std::vector<uint8_t> clean;   // complete and tie-free: every pair of features is untied
};

void build_block(const RankRows& R, const SignBitLayout& layout, int64_t first, int64_t rows, BitBlock& blk) {
  blk.first = first;
  blk.rows = rows;
  const int64_t W = layout.words;
  const size_t need = static_cast<size_t>(rows * W);
  if (blk.capacity < need) {
    blk.z = allocate_big<uint64_t>(need);
    blk.p = allocate_big<uint64_t>(need);
    blk.capacity = need;
  }
  blk.untied.assign(static_cast<size_t>(rows), 0);
  blk.clean.assign(static_cast<size_t>(rows), 0);
  for (int64_t r = 0; r < rows; ++r) blk.clean[r] = R.count[first + r] == R.n && R.distinct[first + r] == R.n;
  at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> padded(static_cast<size_t>(R.n + 64), std::numeric_limits<float>::quiet_NaN());
    for (int64_t r = begin; r < end; ++r) {
      // Dense ranks order the features exactly as their values do (ties equal), and are exact as floats.
      const int32_t* dense = R.row_dense(first + r);
      for (int64_t j = 0; j < R.n; ++j)
        padded[static_cast<size_t>(j)] =
            dense[j] < 0 ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(dense[j]);
      uint64_t* z = blk.z.get() + r * W;
      uint64_t* p = blk.p.get() + r * W;
      build_sign_bits(padded.data(), layout, z, p);
      blk.untied[r] = popcount_words(z, W);
    }
  });
}

// All pairs a <= b between two blocks, blocked like a GEMM: word chunks of kChunk words so a panel of
// kPanel b-rows stays in L2 while every 4-row a-tile of a thread's group streams past it; 4x1 register
// tiles load each b word once for four pairs. Groups are dealt out heavy/light alternately because the
// triangle gives early rows more partners and ATen splits ranges statically.
void pair_block(const RankRows& R, const BitBlock& BI, const BitBlock& BJ, int64_t W, double* out) {
  // 256 words = 4 KiB of planes per row: a group of up to 128 a-rows plus a 48-row b panel fit in a 1 MiB
  // L2, so every b chunk is read from memory once per group rather than once per a-tile.
  constexpr int64_t kChunk = 256, kPanel = 48;
  const int64_t m = R.m, ni = BI.rows, nj = BJ.rows;
  const int64_t threads = std::max(1, at::get_num_threads());
  const int64_t kGroup = std::min<int64_t>(128, std::max<int64_t>(16, (ni / (4 * threads) + 3) / 4 * 4));
  BigBuffer<PopPair> acc = allocate_big<PopPair>(static_cast<size_t>(ni * nj));
  std::memset(static_cast<void*>(acc.get()), 0, sizeof(PopPair) * static_cast<size_t>(ni * nj));
  const int64_t groups = (ni + kGroup - 1) / kGroup;
  std::vector<int64_t> schedule;
  for (int64_t lo = 0, hi = groups - 1; lo <= hi; ++lo, --hi) {
    schedule.push_back(lo);
    if (hi != lo) schedule.push_back(hi);
  }
  at::parallel_for(0, groups, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t g0 = schedule[t] * kGroup, g1 = std::min(ni, g0 + kGroup);
      // Only b >= a is needed: the first b of this group is the one paired with its first row.
      const int64_t b_first = std::max<int64_t>(0, BI.first + g0 - BJ.first);
      for (int64_t w0 = 0; w0 < W; w0 += kChunk) {
        const int64_t cw = std::min(kChunk, W - w0);
        for (int64_t p0 = b_first; p0 < nj; p0 += kPanel) {
          const int64_t p1 = std::min(nj, p0 + kPanel);
          for (int64_t a0 = g0; a0 < g1; a0 += 4) {
            const uint64_t* za[4];
            const uint64_t* pa[4];
            bool a_clean = true;
            for (int r = 0; r < 4; ++r) {
              const int64_t ar = std::min(a0 + r, g1 - 1);
              za[r] = BI.z.get() + ar * W + w0;
              pa[r] = BI.p.get() + ar * W + w0;
              a_clean = a_clean && BI.clean[ar];
            }
            const int64_t b_lo = std::max(p0, BI.first + a0 - BJ.first);
            for (int64_t b = b_lo; b < p1; ++b) {
              if (a_clean && BJ.clean[b]) {  // the usual case for real-valued importances: half the work
                int64_t dis[4] = {0, 0, 0, 0};
                pop_dis_4x1(pa, BJ.p.get() + b * W + w0, cw, dis);
                for (int r = 0; r < 4 && a0 + r < g1; ++r) acc[(a0 + r) * nj + b].disagree += dis[r];
                continue;
              }
              PopPair pp[4];
              pop_4x1(za, pa, BJ.z.get() + b * W + w0, BJ.p.get() + b * W + w0, cw, pp);
              for (int r = 0; r < 4 && a0 + r < g1; ++r) {
                PopPair& dst = acc[(a0 + r) * nj + b];
                dst.both += pp[r].both;
                dst.disagree += pp[r].disagree;
              }
            }
          }
        }
      }
    }
  });
  // Tie counts over common features cost O(n) per pair when rows have absent features: also in parallel.
  at::parallel_for(0, ni, 8, [&](int64_t begin, int64_t end) {
    for (int64_t ai = begin; ai < end; ++ai)
      for (int64_t bj = 0; bj < nj; ++bj) {
        const int64_t a = BI.first + ai, b = BJ.first + bj;
        if (b < a) continue;
        const PopPair& pp = acc[ai * nj + bj];
        KendallCounts k;
        // Pairs of clean rows counted disagreements only: every pair of features is untied in both.
        const int64_t both = BI.clean[ai] && BJ.clean[bj] ? BI.untied[ai] : pp.both;
        k.con_minus_dis = both - 2 * pp.disagree;
        if (R.count[a] == R.n && R.count[b] == R.n) {
          k.common = R.n;
          k.untied_a = BI.untied[ai];
          k.untied_b = BJ.untied[bj];
        } else {
          const auto ua = untied_over_common(R, a, b);
          k.common = ua.first;
          k.untied_a = ua.second;
          k.untied_b = untied_over_common(R, b, a).second;
        }
        out[a * m + b] = tau_b(k);
      }
  });
}

}  // namespace

bool kendall_prefers_bitset(int64_t /*m*/, int64_t n) {
  // Per pair: bitset ~ n^2/128 words (8 per AVX-512 VPOPCNTQ), Fenwick ~ n log2 n branchy steps.
  return n <= (has_vector_popcount() ? 4096 : 1536);
}

void kendall_matrix_bitset(const RankRows& R, double* out) {
  const SignBitLayout layout = make_sign_bit_layout(R.n);
  const int64_t row_bytes = 2 * layout.words * static_cast<int64_t>(sizeof(uint64_t));
  const int64_t m = R.m;
  // Whole matrix in one block when it fits; otherwise tiles of `rows` rows, each pair of tiles visited once.
  // Rebuilding a tile costs about as much as 10 pair evaluations per row, so tiling adds ~20/rows overhead.
  int64_t rows = std::max<int64_t>(1, memory_budget_bytes() / row_bytes);
  if (rows < m) rows = std::max<int64_t>(8, rows / 2);
  rows = std::min(rows, m);

  BitBlock bi, bj;
  for (int64_t i0 = 0; i0 < m; i0 += rows) {
    build_block(R, layout, i0, std::min(rows, m - i0), bi);
    for (int64_t j0 = i0; j0 < m; j0 += rows) {
      const BitBlock* pj = &bi;
      if (j0 != i0) {
        build_block(R, layout, j0, std::min(rows, m - j0), bj);
        pj = &bj;
      }
      pair_block(R, bi, *pj, layout.words, out);
    }
  }
  mirror(out, m);
}

void kendall_matrix_cuda(const RankRows& R, double* out) {
  const int64_t m = R.m;
  std::vector<int64_t> cmd(static_cast<size_t>(m * m)), ua(static_cast<size_t>(m * m)), ub(static_cast<size_t>(m * m));
  cuda::kendall_counts(R.x, m, R.n, cmd.data(), ua.data(), ub.data());
  for (int64_t a = 0; a < m; ++a)
    for (int64_t b = a; b < m; ++b) {
      KendallCounts k;
      k.common = (R.count[a] == R.n && R.count[b] == R.n) ? R.n : untied_over_common(R, a, b).first;
      k.con_minus_dis = cmd[a * m + b];
      k.untied_a = ua[a * m + b];
      k.untied_b = ub[a * m + b];
      out[a * m + b] = tau_b(k);
    }
  mirror(out, m);
}

}  // namespace detail
}  // namespace tft::rank
