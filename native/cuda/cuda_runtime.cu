// Device discovery for the CUDA kernels. cudart is linked statically, so a binary built with nvcc still
// loads on machines without CUDA: cudaGetDeviceCount then reports no driver and the CPU path is used.
#include <cuda_runtime.h>

#include <string>

#include "core/cuda_api.h"

namespace tft::cuda {

bool compiled() { return true; }

int device_count(std::string* why) {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    if (why) *why = std::string("no usable CUDA device: ") + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error so later calls are not poisoned
    return 0;
  }
  if (n == 0 && why) *why = "no CUDA device is visible";
  return n;
}

}  // namespace tft::cuda
