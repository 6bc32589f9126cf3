// The boundary between the core and the CUDA kernels in native/cuda. When nvcc was absent at build time
// cuda_fallback.cpp provides these with "not compiled" answers, so callers never need #ifdefs.
#pragma once

#include <cstdint>
#include <string>

namespace tft::cuda {

bool compiled();
// Number of usable devices; when zero, *why says what is missing (no driver, no device, not compiled).
int device_count(std::string* why);

// Kendall tau-b numerators and denominators for all row pairs of an m x n matrix (NaN = absent) on the GPU.
// Fills con_minus_dis, untied_a and untied_b (m*m each, row-major, pair (a,b) counts over common features).
// Throws tft::Error(CudaUnavailable) when no device can run it.
void kendall_counts(const double* x, int64_t m, int64_t n, int64_t* con_minus_dis, int64_t* untied_a,
                    int64_t* untied_b);

}  // namespace tft::cuda
