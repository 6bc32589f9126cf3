// Statistics the feature selector needs over a (rows x features) design matrix: pairwise-complete correlation
// and the KSG mutual information of each feature with a target. Rows are observations (an asset on a day),
// columns are features; NaN/±Inf marks a missing value. Both read float32 or float64 row-major input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tft::selection {

// A row-major (rows x cols) matrix in the caller's memory, float32 or float64.
struct MatrixView {
  const void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  bool f32 = true;

  // The value at row r, column c, widened to double.
  double at(int64_t r, int64_t c) const {
    const size_t i = static_cast<size_t>(r * cols + c);
    return f32 ? static_cast<const float*>(data)[i] : static_cast<const double*>(data)[i];
  }
};

enum class CorrelationMethod { Pearson, Spearman };

struct CorrelationResult {
  std::vector<double> r;         // cols x cols, symmetric; NaN where undefined (too few rows, a constant side)
  std::vector<int64_t> nobs;     // cols x cols, rows where both features are finite
  std::vector<double> mean;      // per column, over its finite rows
  std::vector<double> variance;  // per column, ddof = 1 over its finite rows (NaN below 2 rows)
  std::vector<int64_t> finite;   // per column, finite rows
};

// Pearson (or Spearman: Pearson of average ranks, each column ranked over its own finite values) correlation
// of every pair of columns over the rows where both are finite, as pandas.DataFrame.corr(min_periods) does.
// Computed as four accumulated GEMMs over row blocks of the column-centred data, so memory is
// O(block x cols + cols^2) for Pearson whatever `rows` is; Spearman keeps one rank matrix.
CorrelationResult pairwise_correlation(const MatrixView& x, CorrelationMethod method, int64_t min_periods);

struct MutualInfoOptions {
  int64_t n_neighbors = 3;
  // sklearn's tie-breaking noise: 1e-10 * max(1, mean|v|) * N(0, 1) on every scaled value of x and y, drawn
  // from a counter-based generator keyed by (seed, column, row), so results do not depend on thread count.
  bool jitter = true;
  uint64_t seed = 0;
};

// The KSG estimator (Kraskov et al. 2004, algorithm 1) of I(x_c; y) for each column c, exactly as
// sklearn.feature_selection.mutual_info_regression computes it for continuous features: both variables scaled
// to unit (population) standard deviation, the distance to the k-th neighbour in the max-norm of (x, y),
// neighbour counts strictly inside it in x and in y, psi(n) + psi(k) - <psi(n_x + 1)> - <psi(n_y + 1)>,
// clipped at 0. Each column uses the rows where it and y are finite; NaN when fewer than k + 1 remain.
// Columns run in parallel; each costs O(n log n).
std::vector<double> mutual_info_regression(const MatrixView& x, const double* y, const MutualInfoOptions& options);

}  // namespace tft::selection
