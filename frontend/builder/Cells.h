//===- Cells.h - recurrent cells unrolled on a GraphBuilder ------*- C++ -*-===//
//
// Recurrent layers written as per-timestep cells in the graph: the input
// projection of all timesteps is one matmul (hoisted), then every step is
// one recurrent matmul (4H wide for the LSTMs, 3H for the GRU) and its
// pointwise cell, which nn-fuse-elementwise makes one kernel. The memory
// planner reuses the step buffers; autodiff differentiates the cells like
// any other ops, so a builder model trains with nncc's Trainer machinery.
//
// Weights are matmul-ready: W [I, gates*H], R [H, gates*H]. Gate order as in
// ONNX: LSTM (i, o, f, c), GRU (z, r, h). Initial states are zero.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_FRONTEND_BUILDER_CELLS_H
#define NNCC_FRONTEND_BUILDER_CELLS_H

#include "frontend/builder/GraphBuilder.h"

namespace nncc {
namespace cells {

using Value = GraphBuilder::Value;

/// b is [4H]: both ONNX biases summed.
struct LSTMWeights {
  Value w, r, b;
};
/// x [T, B, I] -> y [T, B, H] (every step's h).
Value lstm(GraphBuilder &g, Value x, const LSTMWeights &weights);
/// Layer l's y is layer l+1's x.
Value stackedLSTM(GraphBuilder &g, Value x, const std::vector<LSTMWeights> &layers);

/// The GRU with the reset gate applied after the recurrent product (ONNX
/// linear_before_reset = 1, PyTorch's GRU), so each step is one 3H-wide
/// product: h' = (1 - z) * n + z * h, n = tanh(x W_n + bw_n + r * (h R_n + br_n)).
struct GRUWeights {
  Value w, r, bw, br; // bw, br [3H]
};
Value gru(GraphBuilder &g, Value x, const GRUWeights &weights);
Value stackedGRU(GraphBuilder &g, Value x, const std::vector<GRUWeights> &layers);

/// Multiplicative-integration LSTM (Wu et al. 2016): the gate
/// pre-activations are alpha * Wx * Rh + beta1 * Wx + beta2 * Rh + b, with
/// alpha, beta1, beta2 and b [4H].
struct MILSTMWeights {
  Value w, r, alpha, beta1, beta2, b;
};
Value miLSTM(GraphBuilder &g, Value x, const MILSTMWeights &weights);

/// Additive (Bahdanau) attention over `keys` [S, B, K]. The keys' projection
/// keys W_k [S, B, A] does not depend on the query: projectKeys computes it
/// once per sequence (hoisted out of the decoder's steps).
Value projectKeys(GraphBuilder &g, Value keys, Value wk);
/// One decoder step: e_s = v . tanh(keysProj_s + query W_q), a = softmax_s(e),
/// context = sum_s a_s keys_s. query [B, Q], wq [Q, A], v [A, 1] ->
/// context [B, K]; the weights a [S, B] in *weights if given.
Value attend(GraphBuilder &g, Value keysProj, Value keys, Value query, Value wq, Value v,
             Value *weights = nullptr);

} // namespace cells
} // namespace nncc

#endif
