// Bit-packed pairwise signs of a ranking, for Kendall's numerator as popcounts.
//
// For a row x and every feature pair i < j, two bits: z = "both present and x_i != x_j", p = "x_i > x_j".
// The pairs of feature i occupy one segment of ceil((n-1-i)/64) words, padded to a word boundary so each
// word is built from 64 consecutive comparisons (vectorised), and the total is padded to 8 words so the
// AVX-512 loop needs no tail. Then for rows a and b:
//   concordant - discordant = popcount(za & zb) - 2 * popcount(za & zb & (pa ^ pb)).
#pragma once

#include <cstdint>
#include <vector>

namespace tft::rank {

struct SignBitLayout {
  int64_t n = 0;
  std::vector<int64_t> segment;  // word offset of feature i's segment
  int64_t words = 0;             // total words per plane (multiple of 8)
};

SignBitLayout make_sign_bit_layout(int64_t n);

// `row` must hold n values followed by at least 64 NaNs (absent features are NaN too). Only their order
// matters, so callers pass dense ranks as float (exact below 2^24), which puts twice as many comparisons in
// a vector as doubles would.
void build_sign_bits(const float* row, const SignBitLayout& layout, uint64_t* z, uint64_t* p);

struct PopPair {
  int64_t both = 0;      // pairs untied in both rows
  int64_t disagree = 0;  // ... of which the rows order differently
};

// Four rows a against one row b over `words` words (a multiple of 8), adding into
// out[0..3]. Loading b once for four pairs is what keeps the all-pairs loop compute-bound.
void pop_4x1(const uint64_t* const za[4], const uint64_t* const pa[4], const uint64_t* zb, const uint64_t* pb,
             int64_t words, PopPair out[4]);
// The same when the five rows are complete and tie-free (every pair untied in both): disagreements only,
// added into out[0..3].
void pop_dis_4x1(const uint64_t* const pa[4], const uint64_t* pb, int64_t words, int64_t out[4]);
int64_t popcount_words(const uint64_t* w, int64_t words);
bool has_vector_popcount();

}  // namespace tft::rank
