// LSTM inference with precomputed input projections.
//
// libtorch's LSTM recomputes W_ih x_t for every sequence. In rolling prediction every day's x_t is shared by
// the T windows that contain it, so the first layer's input projection is computed once per (asset, day)
// and each window only runs the recurrent half (h W_hh^T): half the LSTM FLOPs. The cell update (four
// gates, two nonlinearities, state update) is fused into one vectorised pass instead of ~10 ATen ops.
#pragma once

#include <ATen/ATen.h>

#include <functional>

namespace tft::model {

// Runs one layer for n sequences of T steps. step_input(t) returns the [n, 4d] input projection of step t
// (W_ih x_t + b_ih + b_hh; rows may be strided, columns contiguous). w_hh_t: the recurrent weights
// transposed, [d, 4d]. h0, c0: [n, d]. Returns h for every step: [n, T, d]. Gate order i, f, g, o
// (PyTorch's). Every row is computed on its own (see dense_kernel.h), so a sequence's result does not
// depend on which other sequences share the call.
at::Tensor lstm_layer_inference(const std::function<at::Tensor(int64_t)>& step_input, int64_t T,
                                const at::Tensor& w_hh_t, const at::Tensor& h0, const at::Tensor& c0);

}  // namespace tft::model
