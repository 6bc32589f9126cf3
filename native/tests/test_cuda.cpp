// The CUDA path of the rank kernels. Skips (and says why) on machines without a usable GPU; on a CUDA
// machine it proves the GPU matrix equals the CPU one exactly.
#include "core/cuda_api.h"
#include "core/rank/rank_stats.h"
#include "harness.h"
#include "rank_reference.h"

using namespace tft;
using namespace tft::test;

TEST(cuda_kendall_matrix_equals_cpu) {
  std::string why;
  if (cuda::device_count(&why) == 0) SKIP(why);
  for (auto [m, n, levels, nan_p] : {std::tuple{40, 300, 0, 0.0}, {33, 129, 4, 0.1}, {3, 2, 0, 0.0}, {64, 1000, 50, 0.02}}) {
    const auto x = random_rankings(m, n, levels, nan_p, static_cast<uint64_t>(m * 1000 + n));
    const auto gpu = rank::matrix(x.data(), m, n, rank::Statistic::KendallTauB, 0, rank::Device::Cuda);
    const auto cpu = rank::matrix(x.data(), m, n, rank::Statistic::KendallTauB, 0, rank::Device::Cpu);
    for (size_t i = 0; i < cpu.size(); ++i) REQUIRE_NEAR(gpu[i], cpu[i], 1e-13);
  }
}

TEST(cuda_request_without_device_is_typed) {
  std::string why;
  if (cuda::device_count(&why) > 0) SKIP("a CUDA device is present");
  const std::vector<double> x{1, 2, 3, 3, 2, 1};
  REQUIRE_THROWS_CODE(rank::matrix(x.data(), 2, 3, rank::Statistic::KendallTauB, 0, rank::Device::Cuda),
                    ErrorCode::CudaUnavailable);
}
