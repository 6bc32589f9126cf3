// The selector's statistics against their definitions written out naively: pairwise-complete Pearson and
// Spearman over the rows where both features are finite, and the KSG estimator by brute force.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/selection/selection_stats.h"
#include "harness.h"

using namespace tft;
using namespace tft::test;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> design(int64_t rows, int64_t cols, double nan_p, int levels, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<double> z;
  std::uniform_real_distribution<double> u;
  std::vector<double> x(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    const double common = z(g);
    for (int64_t c = 0; c < cols; ++c) {
      double v = 0.3 * c * common + z(g) + 5.0 * c;
      if (levels > 0) v = std::round(v * levels) / levels;  // ties
      x[r * cols + c] = u(g) < nan_p ? kNaN : v;
    }
  }
  return x;
}

std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t q = 0; q < idx.size();) {
    size_t e = q;
    while (e < idx.size() && v[idx[e]] == v[idx[q]]) ++e;
    for (size_t t = q; t < e; ++t) r[idx[t]] = (q + e - 1) / 2.0 + 1;
    q = e;
  }
  return r;
}

double naive_pearson(const std::vector<double>& a, const std::vector<double>& b) {
  double ma = 0, mb = 0;
  for (size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
  ma /= a.size(), mb /= b.size();
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i)
    sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) * (a[i] - ma), sbb += (b[i] - mb) * (b[i] - mb);
  return a.size() < 2 || saa <= 0 || sbb <= 0 ? kNaN : sab / std::sqrt(saa * sbb);
}

// Column c of x over its own finite rows (Spearman ranks them there), then paired with column d.
void pair_columns(const std::vector<double>& x, int64_t rows, int64_t cols, int64_t c, int64_t d, bool ranks,
                  std::vector<double>& a, std::vector<double>& b) {
  std::vector<double> ca(rows), cb(rows);
  for (int64_t r = 0; r < rows; ++r) ca[r] = x[r * cols + c], cb[r] = x[r * cols + d];
  if (ranks) {
    for (auto* col : {&ca, &cb}) {
      std::vector<double> fin;
      for (double v : *col)
        if (std::isfinite(v)) fin.push_back(v);
      const auto rk = average_ranks(fin);
      size_t k = 0;
      for (double& v : *col)
        if (std::isfinite(v)) v = rk[k++];
    }
  }
  a.clear(), b.clear();
  for (int64_t r = 0; r < rows; ++r)
    if (std::isfinite(ca[r]) && std::isfinite(cb[r])) a.push_back(ca[r]), b.push_back(cb[r]);
}

void check_correlation(selection::CorrelationMethod method, double nan_p, int levels, int64_t rows) {
  const int64_t cols = 7;
  const auto x = design(rows, cols, nan_p, levels, 11 + rows);
  const auto res = selection::pairwise_correlation({x.data(), rows, cols, false}, method, 3);
  std::vector<double> a, b;
  for (int64_t c = 0; c < cols; ++c)
    for (int64_t d = 0; d < cols; ++d) {
      pair_columns(x, rows, cols, c, d, method == selection::CorrelationMethod::Spearman, a, b);
      REQUIRE(res.nobs[c * cols + d] == static_cast<int64_t>(a.size()));
      const double want = a.size() < 3 ? kNaN : (c == d ? 1.0 : naive_pearson(a, b));
      REQUIRE_NEAR(res.r[c * cols + d], want, 1e-12);
    }
}

}  // namespace

TEST(pearson_complete_matches_definition) { check_correlation(selection::CorrelationMethod::Pearson, 0.0, 0, 20000); }
TEST(pearson_pairwise_complete_matches_definition) {
  check_correlation(selection::CorrelationMethod::Pearson, 0.3, 0, 9000);
}
TEST(spearman_with_ties_and_gaps_matches_definition) {
  check_correlation(selection::CorrelationMethod::Spearman, 0.2, 2, 3000);
}

TEST(correlation_reports_moments_and_float32_input) {
  const int64_t rows = 1000, cols = 3;
  const auto x = design(rows, cols, 0.1, 0, 5);
  std::vector<float> xf(x.begin(), x.end());
  const auto res =
      selection::pairwise_correlation({xf.data(), rows, cols, true}, selection::CorrelationMethod::Pearson, 1);
  for (int64_t c = 0; c < cols; ++c) {
    double s = 0, ss = 0;
    int64_t n = 0;
    for (int64_t r = 0; r < rows; ++r)
      if (std::isfinite(x[r * cols + c])) s += static_cast<float>(x[r * cols + c]), ++n;
    const double m = s / n;
    for (int64_t r = 0; r < rows; ++r)
      if (std::isfinite(x[r * cols + c]))
        ss += (static_cast<float>(x[r * cols + c]) - m) * (static_cast<float>(x[r * cols + c]) - m);
    REQUIRE(res.finite[c] == n);
    REQUIRE_NEAR(res.mean[c], m, 1e-9);
    REQUIRE_NEAR(res.variance[c], ss / (n - 1), 1e-8);
  }
}

TEST(correlation_is_nan_for_constant_or_sparse_pairs) {
  // Column 1 is constant, column 2 is finite on 2 rows only.
  std::vector<double> x = {1, 4, kNaN, 2, 4, kNaN, 3, 4, 1, 4, 4, 2};
  const auto res = selection::pairwise_correlation({x.data(), 4, 3, false}, selection::CorrelationMethod::Pearson, 3);
  REQUIRE(std::isnan(res.r[0 * 3 + 1]) && std::isnan(res.r[1 * 3 + 1]));
  REQUIRE(std::isnan(res.r[0 * 3 + 2]) && res.nobs[0 * 3 + 2] == 2);
  REQUIRE_NEAR(res.r[0], 1.0, 0);
  REQUIRE_THROWS_CODE(
      selection::pairwise_correlation({x.data(), 4, 3, false}, selection::CorrelationMethod::Pearson, 0),
      ErrorCode::InvalidArgument);
}

namespace {

double psi(double x) {
  double acc = 0;
  while (x < 20) acc -= 1 / x, x += 1;
  return acc + std::log(x) - 0.5 / x - 1 / (12 * x * x) + 1 / (120 * x * x * x * x);
}

// KSG as sklearn's _compute_mi_cc on already scaled data, by brute force.
double naive_ksg(const std::vector<double>& x, const std::vector<double>& y, int k) {
  const size_t n = x.size();
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> d;
    for (size_t j = 0; j < n; ++j)
      if (j != i) d.push_back(std::max(std::abs(x[j] - x[i]), std::abs(y[j] - y[i])));
    std::nth_element(d.begin(), d.begin() + (k - 1), d.end());
    const double r = std::nextafter(d[k - 1], 0.0);
    int nx = 0, ny = 0;
    for (size_t j = 0; j < n; ++j) nx += std::abs(x[j] - x[i]) <= r, ny += std::abs(y[j] - y[i]) <= r;
    sum += psi(nx) + psi(ny);
  }
  return std::max(0.0, psi(n) + psi(k) - sum / n);
}

std::vector<double> scaled(std::vector<double> v) {
  double m = 0, ss = 0;
  for (double a : v) m += a;
  m /= v.size();
  for (double a : v) ss += (a - m) * (a - m);
  const double sd = std::sqrt(ss / v.size());
  for (double& a : v) a /= sd;
  return v;
}

}  // namespace

TEST(mutual_info_matches_brute_force_ksg) {
  std::mt19937_64 g(3);
  std::normal_distribution<double> z;
  const int64_t rows = 1500, cols = 4;
  std::vector<double> x(rows * cols), y(rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) x[r * cols + c] = z(g);
    y[r] = std::sin(2 * x[r * cols]) + 0.5 * x[r * cols + 1] * x[r * cols + 1] + 0.3 * z(g);
  }
  x[7 * cols + 2] = kNaN;  // column 2 drops a row
  for (int k : {1, 3, 5}) {
    selection::MutualInfoOptions o;
    o.n_neighbors = k, o.jitter = false;
    const auto mi = selection::mutual_info_regression({x.data(), rows, cols, false}, y.data(), o);
    for (int64_t c = 0; c < cols; ++c) {
      std::vector<double> xc, yc;
      for (int64_t r = 0; r < rows; ++r)
        if (std::isfinite(x[r * cols + c])) xc.push_back(x[r * cols + c]), yc.push_back(y[r]);
      REQUIRE_NEAR(mi[c], naive_ksg(scaled(xc), scaled(yc), k), 1e-9);
    }
    REQUIRE(mi[0] > 0.3 && mi[1] > 0.2 && mi[3] < 0.05);
  }
}

TEST(mutual_info_jitter_breaks_ties_reproducibly) {
  const int64_t rows = 400;
  std::vector<double> x(rows), y(rows);
  for (int64_t r = 0; r < rows; ++r) x[r] = r % 5, y[r] = (r % 5) + (r % 3);
  selection::MutualInfoOptions o;
  o.seed = 9;
  const auto a = selection::mutual_info_regression({x.data(), rows, 1, false}, y.data(), o);
  const auto b = selection::mutual_info_regression({x.data(), rows, 1, false}, y.data(), o);
  REQUIRE(a[0] == b[0] && a[0] > 0.5);
  o.n_neighbors = 0;
  REQUIRE_THROWS_CODE(selection::mutual_info_regression({x.data(), rows, 1, false}, y.data(), o),
                      ErrorCode::InvalidArgument);
  std::vector<double> few = {1, 2, 3};
  o.n_neighbors = 3;
  REQUIRE(std::isnan(selection::mutual_info_regression({few.data(), 3, 1, false}, few.data(), o)[0]));
}
