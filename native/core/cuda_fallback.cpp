// Used when the addon is built without nvcc: the same API, honest answers.
#ifndef TFT_WITH_CUDA

#include "core/cuda_api.h"
#include "core/error.h"

namespace tft::cuda {

bool compiled() { return false; }

int device_count(std::string* why) {
  if (why) *why = "the CUDA kernels were not compiled in (nvcc was not found when the addon was built)";
  return 0;
}

void kendall_counts(const double*, int64_t, int64_t, int64_t*, int64_t*, int64_t*) {
  throw Error(ErrorCode::CudaUnavailable,
              "device: 'cuda' was requested but the CUDA kernels were not compiled in (rebuild with nvcc on PATH)",
              "device");
}

}  // namespace tft::cuda

#endif
