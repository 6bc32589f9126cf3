// Straightforward O(n^2) definitions of the rank statistics, written independently of the fast kernels,
// for the C++ tests to compare against.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

namespace tft::test {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

inline void common(const std::vector<double>& a, const std::vector<double>& b, std::vector<double>& x,
                   std::vector<double>& y) {
  x.clear();
  y.clear();
  for (size_t i = 0; i < a.size(); ++i)
    if (!std::isnan(a[i]) && !std::isnan(b[i])) {
      x.push_back(a[i]);
      y.push_back(b[i]);
    }
}

inline int sgn(double v) { return (v > 0) - (v < 0); }

inline double naive_kendall(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> x, y;
  common(a, b, x, y);
  const int64_t L = static_cast<int64_t>(x.size());
  if (L < 2) return kNaN;
  int64_t cmd = 0, tx = 0, ty = 0;
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = i + 1; j < L; ++j) {
      const int sx = sgn(x[i] - x[j]), sy = sgn(y[i] - y[j]);
      cmd += sx * sy;
      tx += sx == 0;
      ty += sy == 0;
    }
  const int64_t n0 = L * (L - 1) / 2;
  if (n0 == tx || n0 == ty) return kNaN;
  return static_cast<double>(cmd) / std::sqrt(static_cast<double>(n0 - tx)) / std::sqrt(static_cast<double>(n0 - ty));
}

inline double naive_weighted_half(const std::vector<double>& x, const std::vector<double>& y) {
  const int64_t L = static_cast<int64_t>(x.size());
  std::vector<int64_t> perm(L);
  std::iota(perm.begin(), perm.end(), 0);
  std::stable_sort(perm.begin(), perm.end(),
                   [&](int64_t i, int64_t j) { return x[i] != x[j] ? x[i] < x[j] : y[i] < y[j]; });
  std::vector<double> w(L);
  for (int64_t q = 0; q < L; ++q) w[perm[q]] = 1.0 / (1.0 + static_cast<double>(L - 1 - q));
  double tot = 0, u = 0, v = 0, t = 0, ex = 0;
  bool xc = true, yc = true;
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = i + 1; j < L; ++j) {
      const double wij = w[i] + w[j];
      tot += wij;
      const bool tx = x[i] == x[j], ty = y[i] == y[j];
      if (tx) u += wij;
      if (ty) v += wij;
      if (tx && ty) t += wij;
      if (!tx) xc = false;
      if (!ty) yc = false;
      if ((x[i] - x[j]) * (y[i] - y[j]) < 0) ex += wij;
    }
  if (xc || yc) return kNaN;
  return std::min(1.0, std::max(-1.0, ((tot - (v + u - t)) - 2 * ex) / std::sqrt(tot - u) / std::sqrt(tot - v)));
}

inline double naive_weighted_tau(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> x, y;
  common(a, b, x, y);
  if (x.size() < 2) return kNaN;
  return (naive_weighted_half(x, y) + naive_weighted_half(y, x)) / 2;
}

inline std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<double> r(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    double less = 0, equal = 0;
    for (size_t j = 0; j < x.size(); ++j) {
      less += x[j] < x[i];
      equal += x[j] == x[i];
    }
    r[i] = 1 + less + (equal - 1) / 2;
  }
  return r;
}

inline double naive_spearman(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> x, y;
  common(a, b, x, y);
  if (x.size() < 2) return kNaN;
  auto rx = average_ranks(x), ry = average_ranks(y);
  const double mean = (x.size() + 1.0) / 2;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (rx[i] - mean) * (ry[i] - mean);
    sxx += (rx[i] - mean) * (rx[i] - mean);
    syy += (ry[i] - mean) * (ry[i] - mean);
  }
  if (sxx == 0 || syy == 0) return kNaN;
  return sxy / std::sqrt(sxx * syy);
}

inline std::vector<int64_t> naive_top_k(const std::vector<double>& a, const std::vector<double>& b, int64_t k) {
  std::vector<int64_t> idx;
  for (size_t i = 0; i < a.size(); ++i)
    if (!std::isnan(a[i]) && !std::isnan(b[i])) idx.push_back(static_cast<int64_t>(i));
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t i, int64_t j) { return a[i] > a[j]; });
  if (static_cast<int64_t>(idx.size()) > k) idx.resize(k);
  return idx;
}

inline double naive_jaccard(const std::vector<double>& a, const std::vector<double>& b, int64_t k) {
  int64_t L = 0;
  for (size_t i = 0; i < a.size(); ++i) L += !std::isnan(a[i]) && !std::isnan(b[i]);
  if (L < 2) return kNaN;
  auto ta = naive_top_k(a, b, k), tb = naive_top_k(b, a, k);
  int64_t inter = 0;
  for (auto i : ta) inter += std::count(tb.begin(), tb.end(), i);
  return static_cast<double>(inter) / static_cast<double>(ta.size() + tb.size() - inter);
}

// Random rankings with controllable ties (values drawn from `levels` distinct values; 0 = continuous) and
// absent features (probability nan_p).
// Rank-biased overlap, eq. 32 of Webber et al. (2010) written out with explicit prefix sets (O(l^2)).
inline std::vector<int64_t> decreasing(const std::vector<double>& x) {
  std::vector<int64_t> r;
  for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i)
    if (x[i] == x[i]) r.push_back(i);
  std::stable_sort(r.begin(), r.end(), [&](int64_t i, int64_t j) { return x[i] > x[j]; });
  return r;
}

inline double naive_rbo(const std::vector<double>& a, const std::vector<double>& b, double p) {
  auto A = decreasing(a), B = decreasing(b);
  if (A.size() > B.size()) std::swap(A, B);
  const int64_t s = static_cast<int64_t>(A.size()), l = static_cast<int64_t>(B.size());
  if (s == 0) return kNaN;
  auto overlap = [&](int64_t d) {
    int64_t x = 0;
    for (int64_t i = 0; i < std::min(d, s); ++i)
      for (int64_t j = 0; j < std::min(d, l); ++j) x += A[i] == B[j];
    return static_cast<double>(x);
  };
  const double xs = overlap(s), xl = overlap(l);
  double sum = 0;
  for (int64_t d = 1; d <= l; ++d) sum += overlap(d) / d * std::pow(p, d);
  for (int64_t d = s + 1; d <= l; ++d) sum += xs * (d - s) / (static_cast<double>(s) * d) * std::pow(p, d);
  return (1 - p) / p * sum + ((xl - xs) / l + xs / s) * std::pow(p, l);
}

inline std::vector<double> random_rankings(int64_t m, int64_t n, int levels, double nan_p, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> x(static_cast<size_t>(m * n));
  for (auto& v : x) {
    v = levels > 0 ? std::floor(u(rng) * levels) : u(rng);
    if (u(rng) < nan_p) v = kNaN;
  }
  for (int64_t r = 0; r < m; ++r) {  // keep every row non-empty
    bool any = false;
    for (int64_t j = 0; j < n; ++j) any |= !std::isnan(x[r * n + j]);
    if (!any) x[r * n] = 0.5;
  }
  return x;
}

inline std::vector<double> row(const std::vector<double>& x, int64_t n, int64_t r) {
  return std::vector<double>(x.begin() + r * n, x.begin() + (r + 1) * n);
}

}  // namespace tft::test
