// The inner kernel of weighted tau's bit-plane path (weighted_tau.cpp): for two rows' planes
// (word k of feature i's "ranked above" bitset at g[k * np + i]) and their weights,
//   sum_i (wa[i] + wb[i]) * d_i,   d_i = sum_k popcount(ga[k np + i] ^ gb[k np + i]).
// np is a multiple of 8 (the padding has zero bits and zero weights). Runs on the active instruction set's
// path (core/cpu_isa.h).
#pragma once

#include <cstdint>

namespace tft::rank {

double weighted_plane_discordance(const uint64_t* ga, const uint64_t* gb, const double* wa, const double* wb,
                                  int64_t np, int64_t W);

}  // namespace tft::rank
