// What this build and this machine can do, and the one knob for CPU threads.
#pragma once

#include <string>
#include <vector>

namespace tft {

struct Capabilities {
  std::string torch_version;  // libtorch the addon was compiled against (== the one loaded)
  bool torch_cuda_compiled = false;
  int torch_cuda_devices = 0;          // devices libtorch can use for the model
  bool cuda_kernels_compiled = false;  // our own .cu kernels (rank statistics) are in the binary
  int cuda_kernel_devices = 0;         // devices those kernels can use
  std::string cuda_status;             // why CUDA is not usable, empty when it is
  int intra_op_threads = 1;
  int hardware_threads = 1;
  std::string parallel_backend;       // OpenMP / native thread pool
  std::string blas;                   // e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ..."
  std::string blas_library;           // the shared object that provides sgemm
  bool avx2 = false;                  // the CPU has AVX2 + FMA
  bool avx512 = false;                // ... AVX-512 F/VL/DQ/BW
  bool avx512_vpopcnt = false;        // ... and VPOPCNTDQ with the rest of AVX3_DL
  std::string cpu_isa;                // the kernels' active path (core/cpu_isa.h)
  std::vector<std::string> cpu_isas;  // every path this CPU can run
};

Capabilities capabilities();

// Measured single-precision GEMM throughput (GFLOP/s) of the BLAS libtorch uses, on n x n matrices with the
// current thread count: the physical limit benchmarks compare the model's achieved FLOP rate against.
double measure_sgemm_gflops(int64_t n, int reps);

// Sets libtorch's intra-op pool and OpenBLAS's pool together: letting both default independently
// oversubscribes the cores as soon as a parallel region calls a GEMM.
void set_num_threads(int n);
int num_threads();

// OpenMP keeps the thread count per calling thread, and libtorch fixes it the first time a thread runs
// parallel work; jobs run on pool threads (libuv's, or a C++ caller's), so every core entry point calls this
// to apply the process-wide setting to whatever thread it finds itself on. Cheap when nothing changed.
void apply_thread_setting();

// Process set-up, idempotent: installs the caching CPU allocator (cpu_allocator.h) and the thread count.
// Debian's libtorch starts with one intra-op thread; use every core unless the user said otherwise
// (OMP_NUM_THREADS / TFT_NUM_THREADS).
void init_default_threads();

}  // namespace tft
