// Validated rankings (one per row, NaN = feature absent) with what every statistic needs precomputed once:
// which features are present, each row's ascending order and dense ranks. Sorting each row once and reusing
// it for all m-1 partners is what makes the all-pairs matrices O(m^2 n) on top of O(m n log n).
#pragma once

#include <cstdint>
#include <vector>

namespace tft::rank {

struct RankRows {
  int64_t m = 0;
  int64_t n = 0;
  const double* x = nullptr;      // m*n row-major, not owned
  std::vector<uint8_t> present;   // m*n
  std::vector<int32_t> count;     // present features per row
  std::vector<int32_t> order;     // m*n; row r: its present features, ascending by value, ties by index
  std::vector<int32_t> dense;     // m*n; 0-based dense rank among the row's present values, -1 if absent
  std::vector<int32_t> distinct;  // number of distinct present values per row
  bool any_absent = false;

  const double* row(int64_t r) const { return x + r * n; }
  const int32_t* row_order(int64_t r) const { return order.data() + r * n; }
  const int32_t* row_dense(int64_t r) const { return dense.data() + r * n; }
  const uint8_t* row_present(int64_t r) const { return present.data() + r * n; }
};

// Validates (finite or NaN values, no row without any present feature, m >= min_rows, n >= 2) and
// precomputes. `arg` names the argument in error messages.
RankRows prepare_rows(const double* x, int64_t m, int64_t n, int64_t min_rows, const char* arg);

}  // namespace tft::rank
