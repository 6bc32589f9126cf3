#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include "core/cpu_isa.h"
#include "core/rank/rank_stats.h"
#include "harness.h"
#include "rank_reference.h"

using namespace tft;
using namespace tft::test;

namespace {

struct Shape {
  int64_t m, n;
  int levels;
  double nan_p;
};

const Shape kShapes[] = {
    {2, 2, 0, 0.0},    {5, 3, 2, 0.0},   {7, 63, 0, 0.0},    {9, 64, 5, 0.0}, {6, 65, 3, 0.1},
    {12, 130, 0, 0.2}, {4, 200, 1, 0.0}, {10, 257, 7, 0.05}, {3, 31, 2, 0.5}, {8, 90, 0, 0.0},
};

void check_matrix(rank::Statistic stat, double (*naive)(const std::vector<double>&, const std::vector<double>&)) {
  uint64_t seed = 1;
  for (const Shape& s : kShapes) {
    const auto x = random_rankings(s.m, s.n, s.levels, s.nan_p, seed++);
    const auto M = rank::matrix(x.data(), s.m, s.n, stat);
    for (int64_t a = 0; a < s.m; ++a)
      for (int64_t b = 0; b < s.m; ++b) REQUIRE_NEAR(M[a * s.m + b], naive(row(x, s.n, a), row(x, s.n, b)), 1e-12);
  }
}

}  // namespace

TEST(kendall_bitset_matches_definition) {
  rank::set_kendall_algorithm(rank::KendallAlgorithm::Bitset);
  check_matrix(rank::Statistic::KendallTauB, naive_kendall);
  rank::set_kendall_algorithm(rank::KendallAlgorithm::Auto);
}

TEST(kendall_fenwick_matches_definition) {
  rank::set_kendall_algorithm(rank::KendallAlgorithm::Fenwick);
  check_matrix(rank::Statistic::KendallTauB, naive_kendall);
  rank::set_kendall_algorithm(rank::KendallAlgorithm::Auto);
}

TEST(kendall_bitset_tiles_when_memory_is_short) {
  // 1 MiB budget forces many tiles at n=300 (each row's planes take ~12 KiB... times 40 rows).
  setenv("TFT_RANK_MEMORY_MB", "1", 1);
  rank::set_kendall_algorithm(rank::KendallAlgorithm::Bitset);
  const int64_t m = 150, n = 300;
  const auto x = random_rankings(m, n, 40, 0.02, 99);
  const auto tiled = rank::matrix(x.data(), m, n, rank::Statistic::KendallTauB);
  unsetenv("TFT_RANK_MEMORY_MB");
  rank::set_kendall_algorithm(rank::KendallAlgorithm::Fenwick);
  const auto ref = rank::matrix(x.data(), m, n, rank::Statistic::KendallTauB);
  rank::set_kendall_algorithm(rank::KendallAlgorithm::Auto);
  for (size_t i = 0; i < ref.size(); ++i) REQUIRE_NEAR(tiled[i], ref[i], 1e-13);
}

TEST(weighted_tau_matches_definition) { check_matrix(rank::Statistic::WeightedTau, naive_weighted_tau); }

TEST(spearman_matches_definition) { check_matrix(rank::Statistic::Spearman, naive_spearman); }

TEST(topk_jaccard_matches_definition) {
  uint64_t seed = 50;
  for (const Shape& s : kShapes)
    for (int64_t k : {int64_t{1}, int64_t{2}, s.n / 3 + 1, s.n}) {
      if (k > s.n) continue;
      const auto x = random_rankings(s.m, s.n, s.levels, s.nan_p, seed++);
      const auto M = rank::matrix(x.data(), s.m, s.n, rank::Statistic::TopKJaccard, k);
      for (int64_t a = 0; a < s.m; ++a)
        for (int64_t b = 0; b < s.m; ++b)
          REQUIRE_NEAR(M[a * s.m + b], naive_jaccard(row(x, s.n, a), row(x, s.n, b), k), 1e-15);
    }
}

TEST(scipy_documented_examples) {
  // scipy.stats.weightedtau / kendalltau docstring examples.
  const std::vector<double> x{12, 2, 1, 12, 2}, y{1, 4, 7, 1, 0};
  REQUIRE_NEAR(rank::pair(x.data(), y.data(), 5, rank::Statistic::WeightedTau), -0.56694968153682723, 1e-15);
  REQUIRE_NEAR(rank::pair(x.data(), y.data(), 5, rank::Statistic::KendallTauB), -0.47140452079103173, 1e-15);
}

TEST(pairs_equal_matrix_entries) {
  const int64_t m = 6, n = 40;
  const auto x = random_rankings(m, n, 6, 0.1, 7);
  for (auto stat : {rank::Statistic::KendallTauB, rank::Statistic::WeightedTau, rank::Statistic::Spearman}) {
    const auto M = rank::matrix(x.data(), m, n, stat);
    for (int64_t a = 0; a < m; ++a)
      for (int64_t b = 0; b < m; ++b)
        REQUIRE_NEAR(rank::pair(x.data() + a * n, x.data() + b * n, n, stat), M[a * m + b], 1e-13);
  }
}

TEST(constant_rows_give_nan) {
  const std::vector<double> x{1, 1, 1, 1, 0.1, 0.2, 0.3, 0.4};
  for (auto stat : {rank::Statistic::KendallTauB, rank::Statistic::WeightedTau, rank::Statistic::Spearman}) {
    const auto M = rank::matrix(x.data(), 2, 4, stat);
    REQUIRE(std::isnan(M[0]) && std::isnan(M[1]) && std::isnan(M[2]));
    REQUIRE_NEAR(M[3], 1.0, 1e-15);
  }
}

TEST(bad_input_is_typed) {
  const std::vector<double> ok{1, 2, 3, 4, 5, 6};
  REQUIRE_THROWS_CODE(rank::matrix(ok.data(), 1, 6, rank::Statistic::KendallTauB), ErrorCode::Shape);
  REQUIRE_THROWS_CODE(rank::matrix(ok.data(), 6, 1, rank::Statistic::KendallTauB), ErrorCode::Shape);
  const std::vector<double> empty_row{1, 2, 3, kNaN, kNaN, kNaN};
  REQUIRE_THROWS_CODE(rank::matrix(empty_row.data(), 2, 3, rank::Statistic::Spearman), ErrorCode::NonFinite);
  const std::vector<double> inf{1, 2, 3, 4, INFINITY, 6};
  REQUIRE_THROWS_CODE(rank::matrix(inf.data(), 2, 3, rank::Statistic::Spearman), ErrorCode::NonFinite);
  REQUIRE_THROWS_CODE(rank::matrix(ok.data(), 2, 3, rank::Statistic::TopKJaccard, 0), ErrorCode::InvalidArgument);
  REQUIRE_THROWS_CODE(rank::matrix(ok.data(), 2, 3, rank::Statistic::TopKJaccard, 4), ErrorCode::InvalidArgument);
  REQUIRE_THROWS_CODE(rank::parse_statistic("pearson"), ErrorCode::InvalidArgument);
  REQUIRE_THROWS_CODE(rank::parse_device("tpu"), ErrorCode::InvalidArgument);
}

// Complete tie-free rows take the bitset path, the others the general one; a matrix mixing both (rows with
// ties, rows with absent features) must equal the O(n^2) definition everywhere, also when tiled.
TEST(weighted_tau_bitset_path_matches_definition_in_mixed_matrices) {
  for (const char* budget : {static_cast<const char*>(nullptr), "1"}) {
    if (budget) setenv("TFT_RANK_MEMORY_MB", budget, 1);
    const int64_t m = budget ? 90 : 24, n = budget ? 300 : 130;
    auto x = random_rankings(m, n, 0, 0.0, 4242);
    for (int64_t j = 0; j < n; j += 7) x[3 * n + j] = x[3 * n + 0];                              // ties in row 3
    for (int64_t j = 0; j < n; j += 5) x[8 * n + j] = std::numeric_limits<double>::quiet_NaN();  // absent in row 8
    x[11 * n + 1] = x[11 * n + 2];                                                               // one tie in row 11
    const auto M = rank::matrix(x.data(), m, n, rank::Statistic::WeightedTau);
    if (budget) unsetenv("TFT_RANK_MEMORY_MB");
    double worst = 0;
    for (int64_t a = 0; a < m; ++a)
      for (int64_t b = 0; b < m; ++b) {
        const double ref = naive_weighted_tau(row(x, n, a), row(x, n, b));
        REQUIRE_NEAR(M[a * m + b], ref, 1e-12);
        REQUIRE(M[a * m + b] == M[b * m + a]);
        worst = std::max(worst, std::abs(M[a * m + b] - ref));
      }
    std::printf("          %lld x %lld%s: max |matrix - definition| = %.1e\n", static_cast<long long>(m),
                static_cast<long long>(n), budget ? " (tiled)" : "", worst);
  }
}

TEST(rbo_matches_definition) {
  uint64_t seed = 7;
  for (const Shape& s : kShapes) {
    const auto x = random_rankings(s.m, s.n, s.levels, s.nan_p, seed++);
    for (double p : {0.5, 0.9, 0.98}) {
      const auto M = rank::rbo_matrix(x.data(), s.m, s.n, p);
      for (int64_t a = 0; a < s.m; ++a)
        for (int64_t b = 0; b < s.m; ++b) {
          const double ref = a == b ? 1.0 : naive_rbo(row(x, s.n, a), row(x, s.n, b), p);
          REQUIRE_NEAR(M[a * s.m + b], ref, 1e-12);
        }
    }
  }
  const auto x = random_rankings(3, 4, 0, 0.0, 1);
  REQUIRE_THROWS_CODE(rank::rbo_matrix(x.data(), 3, 4, 1.0), ErrorCode::InvalidArgument);
  REQUIRE_THROWS_CODE(rank::rbo_matrix(x.data(), 3, 4, 0.0), ErrorCode::InvalidArgument);
}

// Every instruction-set path this CPU supports gives the same matrices as the scalar one: Kendall through the
// bit planes exactly (integer counts), weighted tau through its planes to rounding of the weight sums, on a
// width that leaves partial words and vectors (n = 203) and rows with ties and absent features.
TEST(every_kernel_path_agrees) {
  const cpu::Isa before = cpu::active_isa();
  const int64_t m = 37, n = 203;
  const auto mixed = random_rankings(m, n, 60, 0.05, 17);  // ties and NaNs: the general paths too
  const auto clean = random_rankings(m, n, 0, 0.0, 18);    // complete and tie-free: weighted tau's planes
  rank::set_kendall_algorithm(rank::KendallAlgorithm::Bitset);
  std::vector<double> k0, w0, s0;
  for (cpu::Isa isa : cpu::supported_isas()) {
    cpu::set_active_isa(isa);
    const auto k = rank::matrix(mixed.data(), m, n, rank::Statistic::KendallTauB);
    const auto w = rank::matrix(clean.data(), m, n, rank::Statistic::WeightedTau);
    const auto s = rank::matrix(mixed.data(), m, n, rank::Statistic::Spearman);
    if (k0.empty()) {
      k0 = k;
      w0 = w;
      s0 = s;
    }
    double dw = 0;
    for (size_t i = 0; i < k.size(); ++i) {
      REQUIRE(k[i] == k0[i] || (std::isnan(k[i]) && std::isnan(k0[i])));
      REQUIRE(s[i] == s0[i] || (std::isnan(s[i]) && std::isnan(s0[i])));
      dw = std::max(dw, std::abs(w[i] - w0[i]));
    }
    std::printf("          %-7s Kendall identical to scalar, weighted tau within %.1e\n", cpu::isa_name(isa), dw);
    REQUIRE(dw <= 1e-12);
  }
  rank::set_kendall_algorithm(rank::KendallAlgorithm::Auto);
  cpu::set_active_isa(before);
}
