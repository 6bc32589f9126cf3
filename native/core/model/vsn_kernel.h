// The Variable Selection Network's per-variable GRNs and weighted sum, fused into one cache-resident pass
// for CPU inference (float32).
//
// Written with ATen ops, this stage makes ~12 passes over [F, N, d] temporaries (hundreds of MiB per chunk)
// and is bound by memory traffic and page faults, not arithmetic: profiled, sgemm was 3% of predict time.
// Fused, each block of 128 rows keeps its activations in L1/L2 while it walks the F variables, and the only
// real work left is the [rows x d] x [d x 2d] product per variable (folded fc2 + GLU, see VsnFolded).
#pragma once

#include <cstdint>

namespace tft::model {

struct VsnKernelArgs {
  const float* x;  // [N, F] inputs
  const float* w;  // [N, F] selection weights (softmax over F)
  int64_t n, f, d;
  const float* pre_p;   // [F, d] prescaler slope
  const float* pre_b;   // [F, d] prescaler offset
  const float* u;       // [F, d] folded fc1 slope
  const float* c;       // [F, d] folded fc1 offset
  const float* g_t;     // [F, d, 2d] folded fc2+GLU weights (input-major)
  const float* g_b;     // [F, 2d]
  const float* norm_w;  // [F, d]
  const float* norm_b;  // [F, d]
  float* xi;            // [N, d] output
};

// Runs over the intra-op thread pool, on the active instruction set's path (core/cpu_isa.h).
void vsn_fused_forward(const VsnKernelArgs& a);

}  // namespace tft::model
