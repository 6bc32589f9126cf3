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
#include "core/runtime.h"
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

// Two standard normals keyed by (seed, stream, pair): Box-Muller on two counter-derived uniforms. Row r
// takes component r & 1 of pair r >> 1, so consecutive rows share one logarithm.
void keyed_normal_pair(uint64_t seed, uint64_t stream, uint64_t pair, double& z0, double& z1) {
  const uint64_t h = splitmix(splitmix(seed ^ splitmix(stream)) ^ pair);
  const double u1 = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
  const double u2 = (static_cast<double>(splitmix(h) >> 11) + 0.5) * 0x1.0p-53;
  const double rad = std::sqrt(-2 * std::log(u1)), ang = 6.283185307179586 * u2;
  z0 = rad * std::cos(ang), z1 = rad * std::sin(ang);
}

// The jitter's N(0, 1) draw for each listed row of a stream.
void keyed_normals(uint64_t seed, uint64_t stream, const int64_t* rows, size_t n, double* out) {
  uint64_t cached = ~0ull;
  double z0 = 0, z1 = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t r = static_cast<uint64_t>(rows[i]);
    if ((r >> 1) != cached) cached = r >> 1, keyed_normal_pair(seed, stream, cached, z0, z1);
    out[i] = (r & 1) ? z1 : z0;
  }
}

// sklearn.preprocessing.scale(v, with_mean=False) followed, with jitter, by
// v += 1e-10 * max(1, mean|v|) * z, z the rows' N(0, 1) draws.
void scale_and_jitter(std::vector<double>& v, const double* z) {
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
  if (!z) return;
  const double amp = 1e-10 * std::max(1.0, mean_abs / n);
  for (size_t i = 0; i < v.size(); ++i) v[i] += amp * z[i];
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
  // Rebuilt for each column; the buffers are kept.
  void build(const std::vector<Point>& pts, const std::vector<int32_t>& x_order) {
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
                [&](int32_t a, int32_t b) { return pts[a].y < pts[b].y || (pts[a].y == pts[b].y && a < b); });
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
  // First place in [lo, hi) of slab order whose y is not below v, bisected without branches.
  int64_t lower_bound(int64_t lo, int64_t hi, double v) const {
    int64_t base = lo;
    for (int64_t len = hi - lo; len > 0;) {
      const int64_t half = len / 2;
      const bool below = y_[base + half] < v;
      base = below ? base + half + 1 : base;
      len = below ? len - half - 1 : half;
    }
    return base;
  }

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
      up = lower_bound(lo, hi, py);
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
  std::vector<int32_t> order_;
  std::vector<double> x_, y_, xmin_, xmax_;
};

// One sorted marginal and where each point sits in it.
struct Marginal {
  std::vector<double> sorted;
  std::vector<int32_t> order;     // sorted[j] is point order[j]
  std::vector<int32_t> position;  // point i -> its index in `sorted`
};

// Order-preserving map of a double to an unsigned key (negative values flipped whole, positive ones get the
// sign bit), so an LSD radix sort of the keys sorts the values.
uint64_t sort_key(double v) {
  uint64_t u;
  std::memcpy(&u, &v, sizeof u);
  return (u >> 63) ? ~u : (u | 0x8000000000000000ull);
}

// The marginal sorted by an LSD radix sort of (key, point) pairs: 8 passes of 8 bits (small, cache-resident
// histograms), skipping a pass whose digit every key shares. O(n). `a` and `b` are scratch. Indices are
// 32-bit so the arrays the neighbour counts read at random stay in cache.
void marginal(const std::vector<Point>& pts, bool x, Marginal& m, std::vector<std::pair<uint64_t, int32_t>>& a,
              std::vector<std::pair<uint64_t, int32_t>>& b) {
  const size_t n = pts.size();
  a.resize(n), b.resize(n);
  for (size_t i = 0; i < n; ++i) a[i] = {sort_key(x ? pts[i].x : pts[i].y), static_cast<int32_t>(i)};
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
  m.sorted.resize(n), m.order.resize(n), m.position.resize(n);
  for (size_t j = 0; j < n; ++j) {
    const int32_t i = a[j].second;
    m.sorted[j] = x ? pts[i].x : pts[i].y, m.order[j] = i, m.position[i] = static_cast<int32_t>(j);
  }
}

// Points of the sorted marginal `s` within `radius` of s[at] (|s_j - s[at]| <= radius), itself included:
// gallop out from `at` each way to bracket the boundary, then bisect without branches (the bracket's
// outcome is unpredictable, so a conditional move beats a jump). The predicate is monotone on each side
// because rounding a difference is monotone.
inline int64_t count_within(const double* s, int64_t n, int64_t at, double radius) {
  const double v = s[at];
  auto inside = [&](int64_t j) { return std::abs(s[j] - v) <= radius; };
  int64_t step = 1, good = at;  // inside(good)
  while (good + step < n && inside(good + step)) good += step, step *= 2;
  for (int64_t len = std::min(step, n - good); len > 1;) {  // inside(good); good + len is outside or n
    const int64_t half = len / 2;
    good = inside(good + half) ? good + half : good;
    len -= half;
  }
  const int64_t right = good;
  step = 1, good = at;
  while (good - step >= 0 && inside(good - step)) good -= step, step *= 2;
  for (int64_t len = std::min(step, good + 1); len > 1;) {  // inside(good); good - len is outside or -1
    const int64_t half = len / 2;
    good = inside(good - half) ? good - half : good;
    len -= half;
  }
  return right - good + 1;
}

// Buffers one thread reuses from column to column.
struct Workspace {
  std::vector<double> x, y, z;
  std::vector<int64_t> rows;
  std::vector<Point> pts;
  Marginal mx, my;
  std::vector<std::pair<uint64_t, int32_t>> a, b;
  SlabNeighbours neighbours;
};

// `my` is the y marginal of these points (shared by every column with the same rows).
double column_mi(Workspace& w, const Marginal& my, int64_t k, const std::vector<double>& psi) {
  const int64_t n = static_cast<int64_t>(w.pts.size());
  marginal(w.pts, true, w.mx, w.a, w.b);
  w.neighbours.build(w.pts, w.mx.order);
  double sum = 0;
  for (int64_t t = 0; t < n; ++t) {
    const int64_t p = w.neighbours.point(t);
    const double radius = std::nextafter(w.neighbours.kth_distance(t, k), 0.0);
    sum += psi[static_cast<size_t>(count_within(w.mx.sorted.data(), n, w.mx.position[p], radius))] +
           psi[static_cast<size_t>(count_within(my.sorted.data(), n, my.position[p], radius))];
  }
  const double mi = psi[static_cast<size_t>(n)] + digamma(static_cast<double>(k)) - sum / static_cast<double>(n);
  return std::max(0.0, mi);
}

// y over the rows where it is finite, scaled and jittered, with its marginal: what every column without a
// gap in those rows uses as is.
struct SharedTarget {
  std::vector<int64_t> rows;
  std::vector<double> y;
  Marginal marginal;
};

SharedTarget shared_target(const double* y, int64_t n, const MutualInfoOptions& o) {
  SharedTarget s;
  for (int64_t r = 0; r < n; ++r)
    if (std::isfinite(y[r])) s.rows.push_back(r), s.y.push_back(y[r]);
  if (s.y.empty()) return s;
  std::vector<double> z(o.jitter ? s.rows.size() : 0);
  if (o.jitter) keyed_normals(o.seed, ~0ull, s.rows.data(), s.rows.size(), z.data());
  scale_and_jitter(s.y, o.jitter ? z.data() : nullptr);
  std::vector<Point> pts(s.y.size());
  for (size_t i = 0; i < pts.size(); ++i) pts[i] = {0, s.y[i]};
  std::vector<std::pair<uint64_t, int32_t>> a, b;
  marginal(pts, false, s.marginal, a, b);
  return s;
}

// Columns gathered together: one pass over the row-major values reads a group's adjacent values from each
// row's cache line, where a column at a time would touch a new line (and, past 512 columns of doubles, a new
// page) for every row — most of a column's time on wide matrices.
constexpr int64_t kGatherGroup = 8;

// Column c's values where it and y are finite, with their rows, for every column of [c0, c1).
void gather(const MatrixView& x, const double* y, int64_t c0, int64_t c1, std::vector<std::vector<double>>& values,
            std::vector<std::vector<int64_t>>& rows) {
  const int64_t g = c1 - c0;
  for (int64_t j = 0; j < g; ++j) values[j].clear(), rows[j].clear();
  for (int64_t r = 0; r < x.rows; ++r) {
    if (!std::isfinite(y[r])) continue;
    for (int64_t j = 0; j < g; ++j) {
      const double a = x.at(r, c0 + j);
      if (std::isfinite(a)) values[j].push_back(a), rows[j].push_back(r);
    }
  }
}

// One column from its gathered rows (w.x, w.rows): scaled and jittered, then the estimator.
double column(const double* y, int64_t c, const SharedTarget& shared, const MutualInfoOptions& o,
              const std::vector<double>& psi, Workspace& w) {
  const size_t n = w.x.size();
  if (static_cast<int64_t>(n) <= o.n_neighbors) return kNaN;
  w.z.resize(o.jitter ? n : 0);
  if (o.jitter) keyed_normals(o.seed, static_cast<uint64_t>(c), w.rows.data(), n, w.z.data());
  scale_and_jitter(w.x, o.jitter ? w.z.data() : nullptr);
  const bool all_rows = n == shared.rows.size();
  if (!all_rows) {
    w.y.resize(n);
    for (size_t i = 0; i < n; ++i) w.y[i] = y[w.rows[i]];
    if (o.jitter) keyed_normals(o.seed, ~0ull, w.rows.data(), n, w.z.data());
    scale_and_jitter(w.y, o.jitter ? w.z.data() : nullptr);
  }
  const std::vector<double>& yv = all_rows ? shared.y : w.y;
  w.pts.resize(n);
  for (size_t i = 0; i < n; ++i) w.pts[i] = {w.x[i], yv[i]};
  if (all_rows) return column_mi(w, shared.marginal, o.n_neighbors, psi);
  marginal(w.pts, false, w.my, w.a, w.b);
  return column_mi(w, w.my, o.n_neighbors, psi);
}

}  // namespace

std::vector<double> mutual_info_regression(const MatrixView& x, const double* y, const MutualInfoOptions& o) {
  if (x.rows < 0 || x.cols < 0) fail(ErrorCode::Shape, "values", "rows and cols must be non-negative");
  if (o.n_neighbors < 1 || o.n_neighbors > 64) fail(ErrorCode::InvalidArgument, "nNeighbors", "must be in [1, 64]");
  if (x.rows > std::numeric_limits<int32_t>::max())
    fail(ErrorCode::InvalidArgument, "values", "more than 2^31 - 1 rows; subsample the rows (mutualInfo.maxRows)");
  apply_thread_setting();
  // psi[m] for the integer counts 1..rows (psi[0] unused).
  std::vector<double> psi(static_cast<size_t>(x.rows + 1), kNaN);
  for (int64_t m = 1; m <= x.rows; ++m) psi[m] = digamma(static_cast<double>(m));
  const SharedTarget shared = shared_target(y, x.rows, o);
  std::vector<double> out(static_cast<size_t>(x.cols), kNaN);
  const int64_t groups = (x.cols + kGatherGroup - 1) / kGatherGroup;
  at::parallel_for(0, groups, 1, [&](int64_t g0, int64_t g1) {
    Workspace w;
    std::vector<std::vector<double>> values(kGatherGroup);
    std::vector<std::vector<int64_t>> rows(kGatherGroup);
    for (int64_t g = g0; g < g1; ++g) {
      const int64_t c0 = g * kGatherGroup, c1 = std::min(x.cols, c0 + kGatherGroup);
      gather(x, y, c0, c1, values, rows);
      for (int64_t c = c0; c < c1; ++c) {
        w.x.swap(values[c - c0]), w.rows.swap(rows[c - c0]);
        out[c] = column(y, c, shared, o, psi, w);
      }
    }
  });
  return out;
}

}  // namespace tft::selection
