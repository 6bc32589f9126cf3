// Bulk rank statistics between rankings: the public face of the rank module.
//
// Inputs are m rankings over n features, row-major, NaN marking a feature absent from a ranking. Every pair
// is computed over the features present in both rows, exactly as the scipy function on that subset:
//   KendallTauB  scipy.stats.kendalltau (tau-b)
//   WeightedTau  scipy.stats.weightedtau (additive hyperbolic weigher 1/(r+1), rank=True)
//   Spearman     scipy.stats.spearmanr (Pearson on average ranks)
//   TopKJaccard  |top_k(a) ∩ top_k(b)| / |top_k(a) ∪ top_k(b)|, top_k by descending value; ties at the k-th
//                place go to the lower feature index; with fewer than k common features, all of them.
// A pair with fewer than 2 common features, or a constant side (where scipy returns NaN), gives NaN.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tft::rank {

enum class Statistic { KendallTauB, WeightedTau, Spearman, TopKJaccard };
enum class Device { Auto, Cpu, Cuda };

Statistic parse_statistic(const std::string& name);  // "kendall", "weighted_tau", "spearman", "topk_jaccard"
Device parse_device(const std::string& name);        // "auto", "cpu", "cuda"

// m x m, row-major, symmetric. `k` is used by TopKJaccard only (1 <= k <= n).
std::vector<double> matrix(const double* x, int64_t m, int64_t n, Statistic stat, int64_t k = 0,
                           Device device = Device::Cpu);

// The statistic for the listed pairs of rows only (pairs[2i], pairs[2i+1]), e.g. a sample of the m^2/2 pairs
// of a large group. Same semantics as `matrix`.
std::vector<double> pairs(const double* x, int64_t m, int64_t n, Statistic stat, const std::vector<int64_t>& pairs,
                          int64_t k = 0);

// Rank-biased overlap (Webber et al. 2010, extrapolated, eq. 32 for lists of different lengths) between the
// rows' rankings (present features by decreasing value, ties to the lower index), m x m; 0 < p < 1.
std::vector<double> rbo_matrix(const double* x, int64_t m, int64_t n, double p);

// One pair of rankings of length n.
double pair(const double* a, const double* b, int64_t n, Statistic stat, int64_t k = 0);

// Which Kendall algorithm `matrix` uses for this size and memory budget ("bitset" or "fenwick"); exposed so
// tests can force both and benchmarks can report which one ran.
enum class KendallAlgorithm { Auto, Bitset, Fenwick };
void set_kendall_algorithm(KendallAlgorithm a);
KendallAlgorithm kendall_algorithm_for(int64_t m, int64_t n);

}  // namespace tft::rank
