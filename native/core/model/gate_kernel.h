// The gated residual blocks of CPU inference (float32) fused row by row: GateAddNorm and the
// GatedResidualNetwork without a skip projection (input width = output width).
//
// Written with ATen ops, each block is ~8 passes over [rows, d] temporaries (GLU, sigmoid, add, LayerNorm,
// ELU, context add), every one dispatched and allocated on its own. Rolling prediction runs the post-LSTM
// gate and the static enrichment GRN for every step of every window, so those passes were a third of its
// time. Fused, each block of rows keeps its activations in L1 between the products (the row-deterministic
// dense kernel, dense_kernel.h) and the elementwise work; rows are independent, so results do not depend on
// the blocking, the batch around a row or the thread count.
#pragma once

#include <cstdint>

namespace tft::model {

// out = LayerNorm(skip + GLU(x glu_t + glu_b)) for M rows. glu_t [d, 2d] (input-major), x and skip rows
// have strides ldx and ldskip, out is [M, d] contiguous.
struct GateRowsArgs {
  const float* x;
  int64_t ldx;
  const float* skip;
  int64_t ldskip;
  int64_t m, d;
  const float *glu_t, *glu_b, *norm_w, *norm_b;
  float* out;
};
void gate_add_norm_rows(const GateRowsArgs& a);

// out = LayerNorm(a + GLU(fc2(ELU(fc1(a) + ctx)) glu)) for M rows of width d. ctx (optional) holds one
// [d] row per `ctx_group` consecutive rows (a sequence's static context for each of its T steps).
struct GrnRowsArgs {
  const float* a;
  int64_t lda;
  const float* ctx;
  int64_t ctx_group;
  int64_t m, d;
  const float *fc1_t, *fc1_b, *fc2_t, *fc2_b, *glu_t, *glu_b, *norm_w, *norm_b;
  float* out;
};
void grn_rows(const GrnRowsArgs& a);

}  // namespace tft::model
