// Compiled once per Highway target (hwy/foreach_target.h re-includes this file); the HWY_ONCE part holds
// the scalar path (hardware POPCNT, one word at a time) and the dispatch.
#include "core/rank/sign_bits.h"

#include <algorithm>
#include <cstring>

#include "core/simd/targets.h"
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/rank/sign_bits.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "core/simd/popcount-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tft::rank {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace sm = simd::HWY_NAMESPACE;

// 64 comparisons against xi per word, a vector of floats at a time; each comparison mask becomes Lanes bits.
void BuildSignBits(const float* row, const SignBitLayout& L, uint64_t* z, uint64_t* p) {
  const hn::ScalableTag<float> d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  const int64_t n = L.n;
  std::memset(z, 0, sizeof(uint64_t) * L.words);
  std::memset(p, 0, sizeof(uint64_t) * L.words);
  for (int64_t i = 0; i + 1 < n; ++i) {
    const float xi = row[i];
    if (xi != xi) continue;  // absent: all its pairs stay 0
    const auto vi = hn::Set(d, xi);
    const int64_t nw = (n - 1 - i + 63) / 64;
    uint64_t* zs = z + L.segment[i];
    uint64_t* ps = p + L.segment[i];
    for (int64_t w = 0; w < nw; ++w) {
      const float* xj = row + i + 1 + 64 * w;
      uint64_t gt = 0, ne = 0;
      for (int64_t q = 0; q < 64; q += lanes) {
        const auto v = hn::LoadU(d, xj + q);
        // Ordered comparisons are false against NaN, so absent partners and the padding give 0 bits.
        const auto lt = hn::Lt(v, vi);
        uint8_t blt[8] = {0}, bne[8] = {0};
        hn::StoreMaskBits(d, lt, blt);
        hn::StoreMaskBits(d, hn::Or(lt, hn::Gt(v, vi)), bne);
        uint64_t mlt = 0, mne = 0;
        std::memcpy(&mlt, blt, sizeof(blt));
        std::memcpy(&mne, bne, sizeof(bne));
        gt |= mlt << q;
        ne |= mne << q;
      }
      zs[w] = ne;
      ps[w] = gt;
    }
  }
}

// Four rows a against one row b over W words (a multiple of 8): b is loaded once for the four pairs.
void Pop4x1(const uint64_t* const za[4], const uint64_t* const pa[4], const uint64_t* zb, const uint64_t* pb, int64_t W,
            PopPair out[4]) {
  const hn::ScalableTag<uint64_t> d;
  using Counter = sm::BitCounter<decltype(d)>;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  Counter both[4], dis[4];
  for (int64_t w0 = 0; w0 < W; w0 += Counter::kFlushEvery * lanes) {
    const int64_t w1 = std::min<int64_t>(W, w0 + Counter::kFlushEvery * lanes);
    for (int64_t w = w0; w < w1; w += lanes) {
      const auto vz = hn::LoadU(d, zb + w);
      const auto vp = hn::LoadU(d, pb + w);
      for (int r = 0; r < 4; ++r) {
        const auto bz = hn::And(hn::LoadU(d, za[r] + w), vz);
        both[r].add(bz);
        dis[r].add(hn::And(bz, hn::Xor(hn::LoadU(d, pa[r] + w), vp)));
      }
    }
    for (int r = 0; r < 4; ++r) {
      both[r].flush();
      dis[r].flush();
    }
  }
  for (int r = 0; r < 4; ++r) {
    out[r].both += both[r].sum();
    out[r].disagree += dis[r].sum();
  }
}

// Four rows a against one row b when all five are complete and tie-free: every pair is untied in both, so
// only the disagreements are counted (popcount(pa ^ pb); padding bits are 0 in every p plane).
void PopDis4x1(const uint64_t* const pa[4], const uint64_t* pb, int64_t W, int64_t out[4]) {
  const hn::ScalableTag<uint64_t> d;
  using Counter = sm::BitCounter<decltype(d)>;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  Counter dis[4];
  for (int64_t w0 = 0; w0 < W; w0 += Counter::kFlushEvery * lanes) {
    const int64_t w1 = std::min<int64_t>(W, w0 + Counter::kFlushEvery * lanes);
    for (int64_t w = w0; w < w1; w += lanes) {
      const auto vp = hn::LoadU(d, pb + w);
      for (int r = 0; r < 4; ++r) dis[r].add(hn::Xor(hn::LoadU(d, pa[r] + w), vp));
    }
    for (int r = 0; r < 4; ++r) dis[r].flush();
  }
  for (int r = 0; r < 4; ++r) out[r] += dis[r].sum();
}

}  // namespace HWY_NAMESPACE
}  // namespace tft::rank
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "core/simd/dispatch.h"

namespace tft::rank {
namespace {

void build_portable(const float* row, const SignBitLayout& L, uint64_t* z, uint64_t* p) {
  const int64_t n = L.n;
  std::memset(z, 0, sizeof(uint64_t) * L.words);
  std::memset(p, 0, sizeof(uint64_t) * L.words);
  for (int64_t i = 0; i + 1 < n; ++i) {
    const float xi = row[i];
    if (xi != xi) continue;  // absent: all its pairs stay 0
    const int64_t len = n - 1 - i;
    const int64_t nw = (len + 63) / 64;
    uint64_t* zs = z + L.segment[i];
    uint64_t* ps = p + L.segment[i];
    for (int64_t w = 0; w < nw; ++w) {
      const float* xj = row + i + 1 + 64 * w;
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

__attribute__((target("popcnt"))) PopPair pop_pair_portable(const uint64_t* za, const uint64_t* pa, const uint64_t* zb,
                                                            const uint64_t* pb, int64_t W) {
  int64_t both = 0, dis = 0;
  for (int64_t w = 0; w < W; ++w) {
    const uint64_t bz = za[w] & zb[w];
    both += __builtin_popcountll(bz);
    dis += __builtin_popcountll(bz & (pa[w] ^ pb[w]));
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

}  // namespace

void pop_4x1(const uint64_t* const za[4], const uint64_t* const pa[4], const uint64_t* zb, const uint64_t* pb,
             int64_t words, PopPair out[4]) {
  if (auto* vec = TFT_SIMD_PICK(Pop4x1))
    vec(za, pa, zb, pb, words, out);
  else
    pop_4x1_portable(za, pa, zb, pb, words, out);
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

void build_sign_bits(const float* row, const SignBitLayout& layout, uint64_t* z, uint64_t* p) {
  if (auto* vec = TFT_SIMD_PICK(BuildSignBits))
    vec(row, layout, z, p);
  else
    build_portable(row, layout, z, p);
}

__attribute__((target("popcnt"))) int64_t popcount_words(const uint64_t* w, int64_t words) {
  int64_t c = 0;
  for (int64_t i = 0; i < words; ++i) c += __builtin_popcountll(w[i]);
  return c;
}

__attribute__((target("popcnt"))) void pop_dis_4x1(const uint64_t* const pa[4], const uint64_t* pb, int64_t words,
                                                   int64_t out[4]) {
  if (auto* vec = TFT_SIMD_PICK(PopDis4x1)) return vec(pa, pb, words, out);
  for (int r = 0; r < 4; ++r)
    for (int64_t w = 0; w < words; ++w) out[r] += __builtin_popcountll(pa[r][w] ^ pb[w]);
}

bool has_vector_popcount() { return TFT_SIMD_PICK(Pop4x1) != nullptr; }

}  // namespace tft::rank
#endif  // HWY_ONCE
