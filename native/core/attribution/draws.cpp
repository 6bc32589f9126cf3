#include "core/attribution/draws.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace tft::attribution {
namespace {

uint64_t mix(uint64_t z) {  // splitmix64's finaliser
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t draw(uint64_t seed, uint64_t stream, uint64_t i) { return mix(mix(seed ^ mix(stream)) + i); }

double unit(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }  // [0, 1)

}  // namespace

at::Tensor normal_rows(uint64_t seed, Stream stream, const at::Tensor& ids, int64_t row_len, double stdev) {
  const at::Tensor id = ids.to(at::kCPU, at::kLong).contiguous();
  const int64_t n = id.numel();
  at::Tensor out = at::empty({n, row_len}, at::kFloat);
  const int64_t* ip = id.data_ptr<int64_t>();
  float* op = out.data_ptr<float>();
  const double two_pi = 2 * std::acos(-1.0);
  at::parallel_for(0, n * row_len, 4096, [&](int64_t lo, int64_t hi) {
    for (int64_t e = lo; e < hi; ++e) {
      const uint64_t k =
          static_cast<uint64_t>(ip[e / row_len]) * static_cast<uint64_t>(row_len) + static_cast<uint64_t>(e % row_len);
      const double u1 = 1.0 - unit(draw(seed, stream, 2 * k));  // (0, 1]: log is finite
      const double u2 = unit(draw(seed, stream, 2 * k + 1));
      op[e] = static_cast<float>(stdev * std::sqrt(-2 * std::log(u1)) * std::cos(two_pi * u2));
    }
  });
  return out;
}

at::Tensor uniform_at(uint64_t seed, Stream stream, const at::Tensor& ids) {
  const at::Tensor id = ids.to(at::kCPU, at::kLong).contiguous();
  at::Tensor out = at::empty({id.numel()}, at::kDouble);
  for (int64_t i = 0; i < id.numel(); ++i)
    out.data_ptr<double>()[i] = unit(draw(seed, stream, static_cast<uint64_t>(id.data_ptr<int64_t>()[i])));
  return out;
}

at::Tensor index_at(uint64_t seed, Stream stream, const at::Tensor& ids, int64_t k) {
  const at::Tensor u = uniform_at(seed, stream, ids);
  return at::clamp_max((u * static_cast<double>(k)).floor().to(at::kLong), k - 1);
}

at::Tensor permutation(uint64_t seed, uint64_t which, int64_t n) {
  at::Tensor p = at::arange(n, at::kLong);
  int64_t* pp = p.data_ptr<int64_t>();
  for (uint64_t attempt = 0;; ++attempt) {
    for (int64_t i = 0; i < n; ++i) pp[i] = i;
    const uint64_t base = (which * 1024 + attempt) * static_cast<uint64_t>(n);
    for (int64_t i = n - 1; i > 0; --i) {
      const auto j = static_cast<int64_t>(unit(draw(seed, kPermutation, base + static_cast<uint64_t>(i))) *
                                          static_cast<double>(i + 1));
      std::swap(pp[i], pp[std::min(j, i)]);
    }
    bool identity = true;
    for (int64_t i = 0; i < n && identity; ++i) identity = pp[i] == i;
    if (!identity || n < 2 || attempt > 64) return p;
  }
}

}  // namespace tft::attribution
