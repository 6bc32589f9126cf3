// Compiled once per Highway target (hwy/foreach_target.h re-includes this file); the HWY_ONCE part holds
// the scalar path (hardware POPCNT) and the dispatch.
#include "core/rank/weighted_planes.h"

#include "core/simd/targets.h"
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/rank/weighted_planes.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "core/simd/popcount-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tft::rank {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace sm = simd::HWY_NAMESPACE;

// A vector of features at a time: their d_i accumulate in u64 lanes over the W planes, then one
// multiply-add with the summed weights.
double WeightedPlaneDiscordance(const uint64_t* ga, const uint64_t* gb, const double* wa, const double* wb, int64_t np,
                                int64_t W) {
  const hn::ScalableTag<uint64_t> du;
  const hn::ScalableTag<double> df;
  const hn::RebindToSigned<decltype(du)> di;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(du));
  auto acc = hn::Zero(df);
  for (int64_t i = 0; i < np; i += lanes) {
    auto d = hn::Zero(du);
    for (int64_t k = 0; k < W; ++k)
      d = hn::Add(d, sm::PopCount64(du, hn::Xor(hn::LoadU(du, ga + k * np + i), hn::LoadU(du, gb + k * np + i))));
    const auto wsum = hn::Add(hn::LoadU(df, wa + i), hn::LoadU(df, wb + i));
    acc = hn::MulAdd(wsum, hn::ConvertTo(df, hn::BitCast(di, d)), acc);
  }
  return hn::GetLane(hn::SumOfLanes(df, acc));
}

}  // namespace HWY_NAMESPACE
}  // namespace tft::rank
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "core/simd/dispatch.h"

namespace tft::rank {
namespace {

__attribute__((target("popcnt"))) double scalar_discordance(const uint64_t* ga, const uint64_t* gb, const double* wa,
                                                            const double* wb, int64_t np, int64_t W) {
  double acc = 0;
  for (int64_t i = 0; i < np; ++i) {
    int64_t d = 0;
    for (int64_t k = 0; k < W; ++k) d += __builtin_popcountll(ga[k * np + i] ^ gb[k * np + i]);
    acc += (wa[i] + wb[i]) * static_cast<double>(d);
  }
  return acc;
}

}  // namespace

double weighted_plane_discordance(const uint64_t* ga, const uint64_t* gb, const double* wa, const double* wb,
                                  int64_t np, int64_t W) {
  if (auto* vec = TFT_SIMD_PICK(WeightedPlaneDiscordance)) return vec(ga, gb, wa, wb, np, W);
  return scalar_discordance(ga, gb, wa, wb, np, W);
}

}  // namespace tft::rank
#endif  // HWY_ONCE
