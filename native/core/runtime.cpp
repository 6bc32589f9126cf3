#include "core/runtime.h"

#include "core/cpu_isa.h"
#include "core/environment.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <link.h>
#include <omp.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "core/cpu_allocator.h"
#include "core/cuda_api.h"
#include "core/error.h"

namespace tft {
namespace {

std::vector<std::string> loaded_libraries() {
  std::vector<std::string> names;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        if (info->dlpi_name && *info->dlpi_name)
          static_cast<std::vector<std::string>*>(data)->emplace_back(info->dlpi_name);
        return 0;
      },
      &names);
  return names;
}

std::string realpath_or(const std::string& p) {
  char buf[4096];
  return ::realpath(p.c_str(), buf) ? std::string(buf) : p;
}

// The BLAS that answers sgemm_ decides model speed by 15x on this class of machine (reference BLAS vs
// OpenBLAS), so we report the actual shared object, resolved through Debian's alternatives symlinks.
void detect_blas(Capabilities& caps) {
  void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
  if (sgemm) {
    Dl_info info{};
    if (dladdr(sgemm, &info) && info.dli_fname) caps.blas_library = realpath_or(info.dli_fname);
  }
  if (caps.blas_library.empty()) {
    for (const auto& lib : loaded_libraries()) {
      if (lib.find("blas") != std::string::npos || lib.find("mkl") != std::string::npos) {
        caps.blas_library = realpath_or(lib);
        break;
      }
    }
  }
  using ConfigFn = char* (*)();
  if (auto cfg = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
    caps.blas = cfg();
  } else if (caps.blas_library.find("mkl") != std::string::npos) {
    caps.blas = "Intel MKL";
  } else if (caps.blas_library.find("blis") != std::string::npos) {
    caps.blas = "BLIS";
  } else if (!caps.blas_library.empty()) {
    caps.blas = "reference BLAS (slow: install OpenBLAS, e.g. apt-get install libopenblas0-openmp)";
  } else {
    caps.blas = "none found";
  }
}

using OpenblasSetThreads = void (*)(int);

std::atomic<int> g_threads{0};

std::once_flag g_default_threads_once;

}  // namespace

void set_num_threads(int n) {
  if (n < 1) fail(ErrorCode::InvalidArgument, "n", "thread count must be >= 1, got " + std::to_string(n));
  g_threads = n;
  at::set_num_threads(n);
  if (auto fn = reinterpret_cast<OpenblasSetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(n);
}

int num_threads() {
  const int n = g_threads.load();
  return n > 0 ? n : at::get_num_threads();
}

void apply_thread_setting() {
  const int n = g_threads.load();
  if (n > 0 && omp_get_max_threads() != n) {
    at::get_num_threads();  // let libtorch run its once-per-thread initialisation first, then override it
    omp_set_num_threads(n);
  }
}

void init_default_threads() {
  std::call_once(g_default_threads_once, [] {
    install_cpu_allocator();
    int n = static_cast<int>(
        environment::integer_at_least("TFT_NUM_THREADS", 1, environment::integer_at_least("OMP_NUM_THREADS", 1, 0)));
    if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    set_num_threads(n);
  });
}

double measure_sgemm_gflops(int64_t n, int reps) {
  apply_thread_setting();
  if (n < 1 || reps < 1) fail(ErrorCode::InvalidArgument, "n", "n and reps must be >= 1");
  at::NoGradGuard no_grad;
  const at::Tensor a = at::randn({n, n}), b = at::randn({n, n});
  at::Tensor c = at::mm(a, b);  // warm-up: thread pools, packing buffers
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) at::mm_out(c, a, b);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) * reps / s / 1e9;
}

Capabilities capabilities() {
  Capabilities caps;
  caps.torch_version = TORCH_VERSION;
  caps.intra_op_threads = at::get_num_threads();
  caps.hardware_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
#if defined(TFT_TORCH_CUDA)
  caps.torch_cuda_compiled = true;
#endif
  caps.torch_cuda_devices = static_cast<int>(torch::cuda::device_count());
  caps.cuda_kernels_compiled = cuda::compiled();
  std::string why;
  caps.cuda_kernel_devices = cuda::device_count(&why);
  if (caps.cuda_kernel_devices == 0)
    caps.cuda_status = why;
  else if (!caps.torch_cuda_compiled)
    caps.cuda_status = "the rank kernels can use the GPU, but this libtorch has no CUDA (the model runs on CPU)";
  std::string info = at::get_parallel_info();
  auto pos = info.find("ATen parallel backend: ");
  if (pos != std::string::npos) {
    auto end = info.find('\n', pos);
    caps.parallel_backend = info.substr(pos + 23, end - pos - 23);
  }
  detect_blas(caps);
  for (cpu::Isa isa : cpu::supported_isas()) {
    caps.cpu_isas.emplace_back(cpu::isa_name(isa));
    if (isa == cpu::Isa::Avx2) caps.avx2 = true;
    if (isa == cpu::Isa::Avx512) caps.avx512 = true;
  }
  caps.avx512_vpopcnt = caps.avx512 && cpu::has_avx512_dl();
  caps.cpu_isa = cpu::isa_name(cpu::active_isa());
  return caps;
}

}  // namespace tft
