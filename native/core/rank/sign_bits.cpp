#include "core/rank/sign_bits.h"

#include <immintrin.h>

#include <cstring>

#include "core/cpu_features.h"

namespace tft::rank {
namespace {

// Each kernel exists in a portable and an AVX-512 form; the choice is made once at run time
// (core/cpu_features.h), so a prebuilt binary runs on any x86-64 and still uses VPOPCNTQ where it can.
const bool kAvx512 = cpu::has_avx512_popcount();

void build_portable(const double* row, const SignBitLayout& L, uint64_t* z, uint64_t* p) {
  const int64_t n = L.n;
  std::memset(z, 0, sizeof(uint64_t) * L.words);
  std::memset(p, 0, sizeof(uint64_t) * L.words);
  for (int64_t i = 0; i + 1 < n; ++i) {
    const double xi = row[i];
    if (xi != xi) continue;  // absent: all its pairs stay 0
    const int64_t len = n - 1 - i;
    const int64_t nw = (len + 63) / 64;
    uint64_t* zs = z + L.segment[i];
    uint64_t* ps = p + L.segment[i];
    for (int64_t w = 0; w < nw; ++w) {
      const double* xj = row + i + 1 + 64 * w;
      uint64_t gt = 0, ne = 0;
      for (int b = 0; b < 64; ++b) {
        // Ordered comparisons are false against NaN, so absent partners and the padding give 0 bits.
        gt |= static_cast<uint64_t>(xj[b] < xi) << b;
        ne |= static_cast<uint64_t>((xj[b] < xi) | (xj[b] > xi)) << b;
      }
      zs[w] = ne;
      ps[w] = gt;
    }
  }
}

__attribute__((target("avx512f,avx512bw,avx512vpopcntdq"))) void build_avx512(const double* row,
                                                                              const SignBitLayout& L,
                                                                              uint64_t* z, uint64_t* p) {
  const int64_t n = L.n;
  std::memset(z, 0, sizeof(uint64_t) * L.words);
  std::memset(p, 0, sizeof(uint64_t) * L.words);
  for (int64_t i = 0; i + 1 < n; ++i) {
    const double xi = row[i];
    if (xi != xi) continue;
    const __m512d vi = _mm512_set1_pd(xi);
    const int64_t len = n - 1 - i;
    const int64_t nw = (len + 63) / 64;
    uint64_t* zs = z + L.segment[i];
    uint64_t* ps = p + L.segment[i];
    for (int64_t w = 0; w < nw; ++w) {
      const double* xj = row + i + 1 + 64 * w;
      uint64_t gt = 0, ne = 0;
      for (int q = 0; q < 8; ++q) {
        const __m512d v = _mm512_loadu_pd(xj + 8 * q);
        gt |= static_cast<uint64_t>(_mm512_cmp_pd_mask(v, vi, _CMP_LT_OQ)) << (8 * q);
        ne |= static_cast<uint64_t>(_mm512_cmp_pd_mask(v, vi, _CMP_NEQ_OQ)) << (8 * q);
      }
      zs[w] = ne;
      ps[w] = gt;
    }
  }
}

__attribute__((target("popcnt"))) PopPair pop_pair_portable(const uint64_t* za, const uint64_t* pa,
                                                            const uint64_t* zb, const uint64_t* pb, int64_t W) {
  int64_t both = 0, dis = 0;
  for (int64_t w = 0; w < W; ++w) {
    const uint64_t bz = za[w] & zb[w];
    both += __builtin_popcountll(bz);
    dis += __builtin_popcountll(bz & (pa[w] ^ pb[w]));
  }
  return {both, dis};
}

__attribute__((target("avx512f,avx512bw,avx512vpopcntdq"))) PopPair pop_pair_avx512(const uint64_t* za,
                                                                                    const uint64_t* pa,
                                                                                    const uint64_t* zb,
                                                                                    const uint64_t* pb,
                                                                                    int64_t W) {
  __m512i acc_both = _mm512_setzero_si512();
  __m512i acc_dis = _mm512_setzero_si512();
  for (int64_t w = 0; w < W; w += 8) {
    const __m512i bz = _mm512_and_si512(_mm512_loadu_si512(za + w), _mm512_loadu_si512(zb + w));
    const __m512i x = _mm512_xor_si512(_mm512_loadu_si512(pa + w), _mm512_loadu_si512(pb + w));
    acc_both = _mm512_add_epi64(acc_both, _mm512_popcnt_epi64(bz));
    acc_dis = _mm512_add_epi64(acc_dis, _mm512_popcnt_epi64(_mm512_and_si512(bz, x)));
  }
  alignas(64) int64_t lanes_both[8], lanes_dis[8];
  _mm512_store_si512(lanes_both, acc_both);
  _mm512_store_si512(lanes_dis, acc_dis);
  int64_t both = 0, dis = 0;
  for (int i = 0; i < 8; ++i) {
    both += lanes_both[i];
    dis += lanes_dis[i];
  }
  return {both, dis};
}

__attribute__((target("popcnt"))) void pop_4x1_portable(const uint64_t* const za[4], const uint64_t* const pa[4],
                                                        const uint64_t* zb, const uint64_t* pb, int64_t W,
                                                        PopPair out[4]) {
  for (int r = 0; r < 4; ++r) {
    const PopPair p = pop_pair_portable(za[r], pa[r], zb, pb, W);
    out[r].both += p.both;
    out[r].disagree += p.disagree;
  }
}

__attribute__((target("avx512f,avx512bw,avx512vpopcntdq"))) void pop_4x1_avx512(const uint64_t* const za[4],
                                                                               const uint64_t* const pa[4],
                                                                               const uint64_t* zb,
                                                                               const uint64_t* pb, int64_t W,
                                                                               PopPair out[4]) {
  __m512i both[4], dis[4];
  for (int r = 0; r < 4; ++r) both[r] = dis[r] = _mm512_setzero_si512();
  for (int64_t w = 0; w < W; w += 8) {
    const __m512i vz = _mm512_loadu_si512(zb + w);
    const __m512i vp = _mm512_loadu_si512(pb + w);
    for (int r = 0; r < 4; ++r) {
      const __m512i bz = _mm512_and_si512(_mm512_loadu_si512(za[r] + w), vz);
      const __m512i x = _mm512_xor_si512(_mm512_loadu_si512(pa[r] + w), vp);
      both[r] = _mm512_add_epi64(both[r], _mm512_popcnt_epi64(bz));
      dis[r] = _mm512_add_epi64(dis[r], _mm512_popcnt_epi64(_mm512_and_si512(bz, x)));
    }
  }
  for (int r = 0; r < 4; ++r) {
    alignas(64) int64_t lb[8], ld[8];
    _mm512_store_si512(lb, both[r]);
    _mm512_store_si512(ld, dis[r]);
    for (int i = 0; i < 8; ++i) {
      out[r].both += lb[i];
      out[r].disagree += ld[i];
    }
  }
}

}  // namespace

void pop_4x1(const uint64_t* const za[4], const uint64_t* const pa[4], const uint64_t* zb, const uint64_t* pb,
             int64_t words, PopPair out[4]) {
  if (kAvx512) pop_4x1_avx512(za, pa, zb, pb, words, out);
  else pop_4x1_portable(za, pa, zb, pb, words, out);
}

SignBitLayout make_sign_bit_layout(int64_t n) {
  SignBitLayout L;
  L.n = n;
  L.segment.resize(static_cast<size_t>(n));
  int64_t off = 0;
  for (int64_t i = 0; i < n; ++i) {
    L.segment[i] = off;
    off += (n - 1 - i + 63) / 64;
  }
  L.words = (off + 7) / 8 * 8;
  if (L.words == 0) L.words = 8;
  return L;
}

void build_sign_bits(const double* row, const SignBitLayout& layout, uint64_t* z, uint64_t* p) {
  if (kAvx512) build_avx512(row, layout, z, p);
  else build_portable(row, layout, z, p);
}

PopPair pop_pair(const uint64_t* za, const uint64_t* pa, const uint64_t* zb, const uint64_t* pb, int64_t words) {
  return kAvx512 ? pop_pair_avx512(za, pa, zb, pb, words) : pop_pair_portable(za, pa, zb, pb, words);
}

int64_t popcount_words(const uint64_t* w, int64_t words) {
  int64_t c = 0;
  for (int64_t i = 0; i < words; ++i) c += __builtin_popcountll(w[i]);
  return c;
}

bool has_vector_popcount() { return kAvx512; }

}  // namespace tft::rank
