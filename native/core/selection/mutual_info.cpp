// KSG mutual information (Kraskov, Stoegbauer & Grassberger 2004, estimator 1) per column, as scikit-learn's
// mutual_info_regression defines it. Each column is independent: gather the rows where x and y are finite,
// scale both to unit population standard deviation (sklearn.preprocessing.scale, zero scales left at 1), add
// the optional tie-breaking noise, find every point's distance to its k-th neighbour in the max-norm of (x, y)
// over rank slabs, and count the points strictly closer than that in x alone and in y alone by galloping
// search over the radix-sorted marginals. The counts are integers, so psi comes from one table per call.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/selection/selection_stats.h"

namespace tft::selection {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// psi(x) for x >= 1: recurrence up to 6, then the asymptotic series (error below 1e-15).
double digamma(double x) {
  double acc = 0;
  while (x < 6) acc -= 1 / x, x += 1;
  const double f = 1 / (x * x);
  return acc + std::log(x) - 0.5 / x -
         f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
}

uint64_t splitmix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A standard normal keyed by (seed, stream, index): Box-Muller on two counter-derived uniforms.
double keyed_normal(uint64_t seed, uint64_t stream, uint64_t index) {
  const uint64_t h = splitmix(splitmix(seed ^ splitmix(stream)) ^ index);
  const double u1 = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
  const double u2 = (static_cast<double>(splitmix(h) >> 11) + 0.5) * 0x1.0p-53;
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// sklearn.preprocessing.scale(v, with_mean=False) followed, with jitter, by
// v += 1e-10 * max(1, mean|v|) * N(0, 1).
void scale_and_jitter(std::vector<double>& v, const std::vector<int64_t>& rows, bool jitter, uint64_t seed,
                      uint64_t stream) {
  const double n = static_cast<double>(v.size());
  double mean = 0;
  for (double a : v) mean += a;
  mean /= n;
  double ss = 0;
  for (double a : v) ss += (a - mean) * (a - mean);
  double sd = std::sqrt(ss / n);
  if (sd < 10 * std::numeric_limits<double>::epsilon()) sd = 1;
  double mean_abs = 0;
  for (double& a : v) a /= sd, mean_abs += std::abs(a);
  if (!jitter) return;
  const double amp = 1e-10 * std::max(1.0, mean_abs / n);
  for (size_t i = 0; i < v.size(); ++i) v[i] += amp * keyed_normal(seed, stream, static_cast<uint64_t>(rows[i]));
}

struct Point {
  double x, y;
};

// All k-th nearest neighbour distances in the max-norm of the plane over "slabs": the points in x order cut
// into runs of m consecutive points, each run sorted by y. A query scans its own slab outward in y from its
// own place, then the slabs to its left and right (bisecting to y there), each scan stopping once |dy|
// reaches the current k-th best and the slab walk once a slab's x-gap does. Cutting by rank adapts the
// cells to the data (dependent or not, heavy-tailed or not), so with m ~ sqrt(n) a query looks at O(k)
// points in a few slabs; building costs one sort per slab on top of the x order the counts need anyway.
class SlabNeighbours {
 public:
  SlabNeighbours(const std::vector<Point>& pts, const std::vector<int64_t>& x_order) {
    const int64_t n = static_cast<int64_t>(pts.size());
    m_ = std::max<int64_t>(16, static_cast<int64_t>(std::sqrt(4.0 * static_cast<double>(n))));
    slabs_ = (n + m_ - 1) / m_;
    order_.assign(x_order.begin(), x_order.end());
    x_.resize(static_cast<size_t>(n)), y_.resize(static_cast<size_t>(n));
    xmin_.resize(static_cast<size_t>(slabs_)), xmax_.resize(static_cast<size_t>(slabs_));
    for (int64_t s = 0; s < slabs_; ++s) {
      const int64_t lo = s * m_, hi = std::min(n, lo + m_);
      xmin_[s] = pts[order_[lo]].x, xmax_[s] = pts[order_[hi - 1]].x;
      std::sort(order_.begin() + lo, order_.begin() + hi,
                [&](int64_t a, int64_t b) { return pts[a].y < pts[b].y || (pts[a].y == pts[b].y && a < b); });
      for (int64_t t = lo; t < hi; ++t) x_[t] = pts[order_[t]].x, y_[t] = pts[order_[t]].y;
    }
  }

  int64_t size() const { return static_cast<int64_t>(order_.size()); }
  // The point at slab-order place t.
  int64_t point(int64_t t) const { return order_[t]; }

  // Distance from the point at place t to its k-th nearest other point.
  double kth_distance(int64_t t, int64_t k) const {
    double best[64];
    for (int64_t i = 0; i < k; ++i) best[i] = kInf;
    const double px = x_[t], py = y_[t];
    const int64_t own = t / m_;
    scan_slab(own, t, px, py, k, best);
    for (int64_t s = own - 1; s >= 0 && std::abs(px - xmax_[s]) < best[k - 1]; --s) {
      scan_slab(s, -1, px, py, k, best);
    }
    for (int64_t s = own + 1; s < slabs_ && std::abs(xmin_[s] - px) < best[k - 1]; ++s) {
      scan_slab(s, -1, px, py, k, best);
    }
    return best[k - 1];
  }

 private:
  static void offer(double d, int64_t k, double* best) {
    if (!(d < best[k - 1])) return;
    int64_t t = k - 1;
    while (t > 0 && best[t - 1] > d) best[t] = best[t - 1], --t;
    best[t] = d;
  }

  // Scans slab s outward in y from the query's place (self = its own place in its slab, else bisected).
  void scan_slab(int64_t s, int64_t self, double px, double py, int64_t k, double* best) const {
    const int64_t lo = s * m_, hi = std::min(size(), lo + m_);
    int64_t up, down;
    if (self >= 0) {
      up = self + 1, down = self - 1;
    } else {
      up = std::lower_bound(y_.begin() + lo, y_.begin() + hi, py) - y_.begin();
      down = up - 1;
    }
    for (; up < hi; ++up) {
      const double dy = std::abs(y_[up] - py);
      if (!(dy < best[k - 1])) break;
      offer(std::max(dy, std::abs(x_[up] - px)), k, best);
    }
    for (; down >= lo; --down) {
      const double dy = std::abs(y_[down] - py);
      if (!(dy < best[k - 1])) break;
      offer(std::max(dy, std::abs(x_[down] - px)), k, best);
    }
  }

  int64_t m_ = 16, slabs_ = 0;
  std::vector<int64_t> order_;
  std::vector<double> x_, y_, xmin_, xmax_;
};

// One sorted marginal and where each point sits in it.
struct Marginal {
  std::vector<double> sorted;
  std::vector<int64_t> order;     // sorted[j] is point order[j]
  std::vector<int64_t> position;  // point i -> its index in `sorted`
};

// Order-preserving map of a double to an unsigned key (negative values flipped whole, positive ones get the
// sign bit), so an LSD radix sort of the keys sorts the values.
uint64_t sort_key(double v) {
  uint64_t u;
  std::memcpy(&u, &v, sizeof u);
  return (u >> 63) ? ~u : (u | 0x8000000000000000ull);
}

// The marginal sorted by an LSD radix sort of (key, point) pairs: 8 passes of 8 bits (small, cache-resident
// histograms), skipping a pass whose digit every key shares. O(n).
Marginal marginal(const std::vector<Point>& pts, bool x) {
  const size_t n = pts.size();
  std::vector<std::pair<uint64_t, int64_t>> a(n), b(n);
  for (size_t i = 0; i < n; ++i) a[i] = {sort_key(x ? pts[i].x : pts[i].y), static_cast<int64_t>(i)};
  size_t count[8][256] = {};
  for (const auto& e : a)
    for (int pass = 0; pass < 8; ++pass) ++count[pass][(e.first >> (8 * pass)) & 0xFF];
  for (int pass = 0; pass < 8; ++pass) {
    size_t* c = count[pass];
    if (n == 0 || c[(a[0].first >> (8 * pass)) & 0xFF] == n) continue;
    size_t sum = 0;
    for (int d = 0; d < 256; ++d) {
      const size_t t = c[d];
      c[d] = sum, sum += t;
    }
    for (const auto& e : a) b[c[(e.first >> (8 * pass)) & 0xFF]++] = e;
    a.swap(b);
  }
  Marginal m{std::vector<double>(n), std::vector<int64_t>(n), std::vector<int64_t>(n)};
  for (size_t j = 0; j < n; ++j) {
    const int64_t i = a[j].second;
    m.sorted[j] = x ? pts[i].x : pts[i].y, m.order[j] = i, m.position[i] = static_cast<int64_t>(j);
  }
  return m;
}

// Points of the sorted marginal `s` within `radius` of s[at] (|s_j - s[at]| <= radius), itself included:
// gallop out from `at` each way, then bisect. The predicate is monotone on each side because rounding a
// difference is monotone.
int64_t count_within(const std::vector<double>& s, int64_t at, double radius) {
  const double v = s[at];
  const int64_t n = static_cast<int64_t>(s.size());
  auto inside = [&](int64_t j) { return std::abs(s[j] - v) <= radius; };
  int64_t good = at, step = 1;  // the farthest place known inside
  while (good + step < n && inside(good + step)) good += step, step *= 2;
  int64_t bad = std::min(n, good + step);
  while (bad - good > 1) {
    const int64_t m = good + (bad - good) / 2;
    (inside(m) ? good : bad) = m;
  }
  const int64_t right = good;
  good = at, step = 1;
  while (good - step >= 0 && inside(good - step)) good -= step, step *= 2;
  bad = std::max<int64_t>(-1, good - step);
  while (good - bad > 1) {
    const int64_t m = bad + (good - bad) / 2;
    (inside(m) ? good : bad) = m;
  }
  return right - good + 1;
}

double column_mi(const std::vector<Point>& pts, int64_t k, const std::vector<double>& psi) {
  const int64_t n = static_cast<int64_t>(pts.size());
  const Marginal mx = marginal(pts, true), my = marginal(pts, false);
  const SlabNeighbours neighbours(pts, mx.order);
  double sum = 0;
  for (int64_t t = 0; t < n; ++t) {
    const int64_t p = neighbours.point(t);
    const double radius = std::nextafter(neighbours.kth_distance(t, k), 0.0);
    sum += psi[static_cast<size_t>(count_within(mx.sorted, mx.position[p], radius))] +
           psi[static_cast<size_t>(count_within(my.sorted, my.position[p], radius))];
  }
  const double mi = psi[static_cast<size_t>(n)] + digamma(static_cast<double>(k)) - sum / static_cast<double>(n);
  return std::max(0.0, mi);
}

double value_at(const MatrixView& x, int64_t r, int64_t c) {
  const size_t i = static_cast<size_t>(r * x.cols + c);
  return x.f32 ? static_cast<const float*>(x.data)[i] : static_cast<const double*>(x.data)[i];
}

}  // namespace

std::vector<double> mutual_info_regression(const MatrixView& x, const double* y, const MutualInfoOptions& o) {
  if (x.rows < 0 || x.cols < 0) fail(ErrorCode::Shape, "values", "rows and cols must be non-negative");
  if (o.n_neighbors < 1 || o.n_neighbors > 64) fail(ErrorCode::InvalidArgument, "nNeighbors", "must be in [1, 64]");
  // psi[m] for the integer counts 1..rows (psi[0] unused).
  std::vector<double> psi(static_cast<size_t>(x.rows + 1), kNaN);
  for (int64_t m = 1; m <= x.rows; ++m) psi[m] = digamma(static_cast<double>(m));
  std::vector<double> out(static_cast<size_t>(x.cols), kNaN);
  at::parallel_for(0, x.cols, 1, [&](int64_t c0, int64_t c1) {
    std::vector<double> xv, yv;
    std::vector<int64_t> rows;
    for (int64_t c = c0; c < c1; ++c) {
      xv.clear(), yv.clear(), rows.clear();
      for (int64_t r = 0; r < x.rows; ++r) {
        const double a = value_at(x, r, c);
        if (std::isfinite(a) && std::isfinite(y[r])) xv.push_back(a), yv.push_back(y[r]), rows.push_back(r);
      }
      if (static_cast<int64_t>(xv.size()) <= o.n_neighbors) continue;
      scale_and_jitter(xv, rows, o.jitter, o.seed, static_cast<uint64_t>(c));
      scale_and_jitter(yv, rows, o.jitter, o.seed, ~0ull);
      std::vector<Point> pts(xv.size());
      for (size_t i = 0; i < pts.size(); ++i) pts[i] = {xv[i], yv[i]};
      out[c] = column_mi(pts, o.n_neighbors, psi);
    }
  });
  return out;
}

}  // namespace tft::selection
