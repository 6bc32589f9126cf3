#include "core/rank/rank_rows.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "core/error.h"

namespace tft::rank {

RankRows prepare_rows(const double* x, int64_t m, int64_t n, int64_t min_rows, const char* arg) {
  if (m < min_rows)
    fail(ErrorCode::Shape, arg,
         "needs at least " + std::to_string(min_rows) + " rankings (rows), got " + std::to_string(m));
  if (n < 2) fail(ErrorCode::Shape, arg, "needs at least 2 features (columns), got " + std::to_string(n));

  RankRows r;
  r.m = m;
  r.n = n;
  r.x = x;
  r.present.resize(static_cast<size_t>(m * n));
  r.count.assign(static_cast<size_t>(m), 0);
  r.order.resize(static_cast<size_t>(m * n));
  r.dense.assign(static_cast<size_t>(m * n), -1);
  r.distinct.assign(static_cast<size_t>(m), 0);

  for (int64_t i = 0; i < m; ++i) {
    const double* row = x + i * n;
    int32_t c = 0;
    for (int64_t j = 0; j < n; ++j) {
      const double v = row[j];
      if (std::isinf(v))
        fail(ErrorCode::NonFinite, arg,
             "row " + std::to_string(i) + ", feature " + std::to_string(j) +
                 " is infinite (use NaN to mark an absent feature)");
      const bool p = !std::isnan(v);
      r.present[i * n + j] = p;
      c += p;
    }
    if (c == 0) fail(ErrorCode::NonFinite, arg, "row " + std::to_string(i) + " has no present (non-NaN) feature");
    r.count[i] = c;
    if (c != n) r.any_absent = true;
  }

  at::parallel_for(0, m, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const double* row = x + i * n;
      int32_t* ord = r.order.data() + i * n;
      int32_t k = 0;
      for (int32_t j = 0; j < n; ++j)
        if (r.present[i * n + j]) ord[k++] = j;
      std::stable_sort(ord, ord + k, [row](int32_t a, int32_t b) { return row[a] < row[b]; });
      int32_t* dn = r.dense.data() + i * n;
      int32_t d = -1;
      for (int32_t q = 0; q < k; ++q) {
        if (q == 0 || row[ord[q]] != row[ord[q - 1]]) ++d;
        dn[ord[q]] = d;
      }
      r.distinct[i] = d + 1;
    }
  });
  return r;
}

}  // namespace tft::rank
