#include "core/rank/rank_stats.h"

#include <atomic>
#include <string>

#include "core/cuda_api.h"
#include "core/error.h"
#include "core/runtime.h"
#include "core/rank/rank_detail.h"

namespace tft::rank {
namespace {

std::atomic<KendallAlgorithm> g_kendall{KendallAlgorithm::Auto};

// Below this much work the GPU's launch and transfer costs dominate.
constexpr double kCudaMinWork = 2e8;

bool use_cuda(Device device, Statistic stat, int64_t m, int64_t n) {
  if (device == Device::Cpu) return false;
  if (device == Device::Cuda) {
    if (stat != Statistic::KendallTauB)
      fail(ErrorCode::CudaUnavailable, "device",
           "only the Kendall matrix has a CUDA kernel; use device 'cpu' or 'auto' for this statistic");
    std::string why;
    if (cuda::device_count(&why) == 0) fail(ErrorCode::CudaUnavailable, "device", why);
    return true;
  }
  if (stat != Statistic::KendallTauB) return false;
  const double work =
      static_cast<double>(m) * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(n) / 128.0;
  if (work < kCudaMinWork) return false;
  std::string why;
  return cuda::device_count(&why) > 0;
}

}  // namespace

Statistic parse_statistic(const std::string& name) {
  if (name == "kendall") return Statistic::KendallTauB;
  if (name == "weighted_tau") return Statistic::WeightedTau;
  if (name == "spearman") return Statistic::Spearman;
  if (name == "topk_jaccard") return Statistic::TopKJaccard;
  fail(ErrorCode::InvalidArgument, "statistic",
       "unknown statistic '" + name + "' (expected kendall, weighted_tau, spearman or topk_jaccard)");
}

Device parse_device(const std::string& name) {
  if (name == "auto") return Device::Auto;
  if (name == "cpu") return Device::Cpu;
  if (name == "cuda") return Device::Cuda;
  fail(ErrorCode::InvalidArgument, "device", "unknown device '" + name + "' (expected auto, cpu or cuda)");
}

void set_kendall_algorithm(KendallAlgorithm a) { g_kendall = a; }

KendallAlgorithm kendall_algorithm_for(int64_t m, int64_t n) {
  const KendallAlgorithm forced = g_kendall.load();
  if (forced != KendallAlgorithm::Auto) return forced;
  return detail::kendall_prefers_bitset(m, n) ? KendallAlgorithm::Bitset : KendallAlgorithm::Fenwick;
}

static void check_k(Statistic stat, int64_t k, int64_t n) {
  if (stat != Statistic::TopKJaccard) return;
  if (k < 1 || k > n)
    fail(ErrorCode::InvalidArgument, "k",
         "must be between 1 and the number of features (" + std::to_string(n) + "), got " + std::to_string(k));
}

std::vector<double> matrix(const double* x, int64_t m, int64_t n, Statistic stat, int64_t k, Device device) {
  apply_thread_setting();
  const RankRows R = prepare_rows(x, m, n, 2, "rankings");
  check_k(stat, k, n);
  std::vector<double> out(static_cast<size_t>(m * m));
  switch (stat) {
    case Statistic::KendallTauB:
      if (use_cuda(device, stat, m, n))
        detail::kendall_matrix_cuda(R, out.data());
      else if (kendall_algorithm_for(m, n) == KendallAlgorithm::Bitset)
        detail::kendall_matrix_bitset(R, out.data());
      else
        detail::kendall_matrix_fenwick(R, out.data());
      break;
    case Statistic::WeightedTau:
      use_cuda(device, stat, m, n);
      detail::weighted_tau_matrix(R, out.data());
      break;
    case Statistic::Spearman:
      use_cuda(device, stat, m, n);
      detail::spearman_matrix(R, out.data());
      break;
    case Statistic::TopKJaccard:
      use_cuda(device, stat, m, n);
      detail::topk_jaccard_matrix(R, k, out.data());
      break;
  }
  return out;
}

std::vector<double> pairs(const double* x, int64_t m, int64_t n, Statistic stat, const std::vector<int64_t>& list,
                          int64_t k) {
  apply_thread_setting();
  const RankRows R = prepare_rows(x, m, n, 2, "rankings");
  check_k(stat, k, n);
  if (list.size() % 2 != 0) fail(ErrorCode::Shape, "pairs", "must hold (row, row) pairs");
  for (size_t i = 0; i < list.size(); ++i)
    if (list[i] < 0 || list[i] >= m)
      fail(ErrorCode::OutOfRange, "pairs",
           "row " + std::to_string(list[i]) + " is outside [0, " + std::to_string(m) + ")");
  const int64_t np = static_cast<int64_t>(list.size() / 2);
  std::vector<double> out(static_cast<size_t>(np));
  at::parallel_for(0, np, 64, [&](int64_t begin, int64_t end) {
    detail::Scratch s;
    for (int64_t i = begin; i < end; ++i) {
      const int64_t a = list[2 * i], b = list[2 * i + 1];
      switch (stat) {
        case Statistic::KendallTauB:
          out[i] = detail::tau_b(detail::kendall_counts_pair(R, a, b, s));
          break;
        case Statistic::WeightedTau:
          out[i] = detail::weighted_tau_pair(R, a, b, s);
          break;
        case Statistic::Spearman:
          out[i] = detail::spearman_pair(R, a, b, s);
          break;
        case Statistic::TopKJaccard:
          out[i] = detail::topk_jaccard_pair(R, a, b, k, s);
          break;
      }
    }
  });
  return out;
}

double pair(const double* a, const double* b, int64_t n, Statistic stat, int64_t k) {
  apply_thread_setting();
  std::vector<double> both(static_cast<size_t>(2 * n));
  std::copy(a, a + n, both.begin());
  std::copy(b, b + n, both.begin() + n);
  const RankRows R = prepare_rows(both.data(), 2, n, 2, "a, b");
  check_k(stat, k, n);
  detail::Scratch s;
  switch (stat) {
    case Statistic::KendallTauB:
      return detail::tau_b(detail::kendall_counts_pair(R, 0, 1, s));
    case Statistic::WeightedTau:
      return detail::weighted_tau_pair(R, 0, 1, s);
    case Statistic::Spearman:
      return detail::spearman_pair(R, 0, 1, s);
    case Statistic::TopKJaccard:
      return detail::topk_jaccard_pair(R, 0, 1, k, s);
  }
  return 0;
}

}  // namespace tft::rank
