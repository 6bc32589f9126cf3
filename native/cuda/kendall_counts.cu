// Kendall tau-b counts for all row pairs on the GPU, with the same bit-plane encoding as the CPU path
// (core/rank/sign_bits.h) plus a third plane v = "both features present", needed for the tie counts over
// the features two rows share. One block per pair of rows; each thread strides over the words.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/cuda_api.h"
#include "core/error.h"

namespace tft::cuda {
namespace {

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    cudaGetLastError();
    throw Error(ErrorCode::CudaUnavailable, std::string("CUDA ") + what + " failed: " + cudaGetErrorString(err),
                "device");
  }
}

template <class T>
struct DeviceBuffer {
  T* ptr = nullptr;
  explicit DeviceBuffer(size_t count) { check(cudaMalloc(&ptr, count * sizeof(T)), "cudaMalloc"); }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

__global__ void build_planes(const double* x, int64_t m, int64_t n, const int32_t* owner, const int64_t* first_j,
                             int64_t words, uint64_t* z, uint64_t* p, uint64_t* v) {
  const int64_t row = blockIdx.y;
  for (int64_t w = blockIdx.x * blockDim.x + threadIdx.x; w < words; w += (int64_t)gridDim.x * blockDim.x) {
    const int32_t i = owner[w];
    uint64_t zz = 0, pp = 0, vv = 0;
    if (i >= 0) {
      const double xi = x[row * n + i];
      if (!isnan(xi)) {
        const int64_t j0 = first_j[w];
        for (int b = 0; b < 64; ++b) {
          const int64_t j = j0 + b;
          if (j >= n) break;
          const double xj = x[row * n + j];
          if (isnan(xj)) continue;
          vv |= 1ull << b;
          if (xj < xi) pp |= 1ull << b;
          if (xj != xi) zz |= 1ull << b;
        }
      }
    }
    z[row * words + w] = zz;
    p[row * words + w] = pp;
    v[row * words + w] = vv;
  }
}

__global__ void pair_counts(const uint64_t* z, const uint64_t* p, const uint64_t* v, int64_t m, int64_t words,
                            const int32_t* pair_a, const int32_t* pair_b, int64_t* cmd, int64_t* ua, int64_t* ub) {
  const int64_t t = blockIdx.x;
  const int64_t a = pair_a[t], b = pair_b[t];
  const uint64_t* za = z + a * words;
  const uint64_t* zb = z + b * words;
  const uint64_t* pa = p + a * words;
  const uint64_t* pb = p + b * words;
  const uint64_t* va = v + a * words;
  const uint64_t* vb = v + b * words;
  long long both = 0, dis = 0, una = 0, unb = 0;
  for (int64_t w = threadIdx.x; w < words; w += blockDim.x) {
    const uint64_t bz = za[w] & zb[w];
    both += __popcll(bz);
    dis += __popcll(bz & (pa[w] ^ pb[w]));
    una += __popcll(za[w] & vb[w]);
    unb += __popcll(zb[w] & va[w]);
  }
  for (int off = 16; off > 0; off >>= 1) {
    both += __shfl_down_sync(0xffffffffu, both, off);
    dis += __shfl_down_sync(0xffffffffu, dis, off);
    una += __shfl_down_sync(0xffffffffu, una, off);
    unb += __shfl_down_sync(0xffffffffu, unb, off);
  }
  __shared__ long long s[4][32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) {
    s[0][warp] = both;
    s[1][warp] = dis;
    s[2][warp] = una;
    s[3][warp] = unb;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    long long t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (int q = 0; q < (int)(blockDim.x / 32); ++q) {
      t0 += s[0][q];
      t1 += s[1][q];
      t2 += s[2][q];
      t3 += s[3][q];
    }
    cmd[a * m + b] = t0 - 2 * t1;
    ua[a * m + b] = t2;
    ub[a * m + b] = t3;
  }
}

}  // namespace

void kendall_counts(const double* x, int64_t m, int64_t n, int64_t* con_minus_dis, int64_t* untied_a,
                    int64_t* untied_b) {
  std::string why;
  if (device_count(&why) == 0) throw Error(ErrorCode::CudaUnavailable, "device: " + why, "device");

  // Word ownership: feature i's pairs (i, j > i) fill ceil((n-1-i)/64) consecutive words.
  std::vector<int32_t> owner;
  std::vector<int64_t> first_j;
  for (int64_t i = 0; i + 1 < n; ++i)
    for (int64_t j0 = i + 1; j0 < n; j0 += 64) {
      owner.push_back(static_cast<int32_t>(i));
      first_j.push_back(j0);
    }
  const int64_t words = static_cast<int64_t>(owner.size());
  std::vector<int32_t> pa, pb;
  for (int64_t a = 0; a < m; ++a)
    for (int64_t b = a; b < m; ++b) {
      pa.push_back(static_cast<int32_t>(a));
      pb.push_back(static_cast<int32_t>(b));
    }
  const int64_t pairs = static_cast<int64_t>(pa.size());

  DeviceBuffer<double> dx(static_cast<size_t>(m * n));
  DeviceBuffer<int32_t> downer(static_cast<size_t>(words));
  DeviceBuffer<int64_t> dfirst(static_cast<size_t>(words));
  DeviceBuffer<uint64_t> dz(static_cast<size_t>(m * words)), dp(static_cast<size_t>(m * words)),
      dv(static_cast<size_t>(m * words));
  DeviceBuffer<int32_t> dpa(static_cast<size_t>(pairs)), dpb(static_cast<size_t>(pairs));
  DeviceBuffer<int64_t> dcmd(static_cast<size_t>(m * m)), dua(static_cast<size_t>(m * m)),
      dub(static_cast<size_t>(m * m));

  check(cudaMemcpy(dx.ptr, x, sizeof(double) * m * n, cudaMemcpyHostToDevice), "copy of the rankings");
  check(cudaMemcpy(downer.ptr, owner.data(), sizeof(int32_t) * words, cudaMemcpyHostToDevice), "copy");
  check(cudaMemcpy(dfirst.ptr, first_j.data(), sizeof(int64_t) * words, cudaMemcpyHostToDevice), "copy");
  check(cudaMemcpy(dpa.ptr, pa.data(), sizeof(int32_t) * pairs, cudaMemcpyHostToDevice), "copy");
  check(cudaMemcpy(dpb.ptr, pb.data(), sizeof(int32_t) * pairs, cudaMemcpyHostToDevice), "copy");

  const int threads = 256;
  dim3 grid(static_cast<unsigned>((words + threads - 1) / threads), static_cast<unsigned>(m));
  build_planes<<<grid, threads>>>(dx.ptr, m, n, downer.ptr, dfirst.ptr, words, dz.ptr, dp.ptr, dv.ptr);
  check(cudaGetLastError(), "bit-plane kernel launch");
  pair_counts<<<static_cast<unsigned>(pairs), threads>>>(dz.ptr, dp.ptr, dv.ptr, m, words, dpa.ptr, dpb.ptr, dcmd.ptr,
                                                         dua.ptr, dub.ptr);
  check(cudaGetLastError(), "pair kernel launch");
  check(cudaDeviceSynchronize(), "kernel execution");
  check(cudaMemcpy(con_minus_dis, dcmd.ptr, sizeof(int64_t) * m * m, cudaMemcpyDeviceToHost), "copy back");
  check(cudaMemcpy(untied_a, dua.ptr, sizeof(int64_t) * m * m, cudaMemcpyDeviceToHost), "copy back");
  check(cudaMemcpy(untied_b, dub.ptr, sizeof(int64_t) * m * m, cudaMemcpyDeviceToHost), "copy back");
}

}  // namespace tft::cuda
