//===- RecurrentCells.h - the standard LSTM/GRU cells, one row ---*- C++ -*-===//
//
// The pointwise math of one batch row of the usual cells (sigmoid and tanh;
// a simple RNN's tanh or Relu; with ONNX's clip or without),
// in float over contiguous gate blocks, written so that the loops
// vectorize. On x86-64 hosts each function is built for AVX-512, AVX2 and
// the baseline and picked at load time; in bundles it is the baseline (NEON
// on AArch64). The input projection already holds both biases of every
// gate whose pre-activation is a plain sum.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_RUNTIME_KERNELS_RECURRENTCELLS_H
#define NNCC_RUNTIME_KERNELS_RECURRENTCELLS_H

#include <cstdint>
#include <limits>

namespace nncc {
namespace kernels {

/// No clip: the forward rows' `clip` (ONNX's attribute: every pre-activation
/// within [-clip, clip] before its activation) when there is none.
constexpr float kNoClip = std::numeric_limits<float>::infinity();

/// x and hr are the row's [4H] input projection and recurrent product (ONNX
/// gate order i, o, f, c); peep is [3H] (i, o, f) or null. Updates c and h.
void lstmRow(int64_t H, const float *x, const float *hr, const float *peep, float *c, float *h,
             float clip = kNoClip);

/// Training: `a` holds the row's [4H] pre-activations without peepholes
/// (x W^T + h R^T + biases) and gets the gate activations (i, o, f, c);
/// cNew = f * cPrev + i * c. With a clip, `a` gets the pre-activations with
/// the peepholes in instead (the backward needs them for the clip's
/// derivative), as the general path keeps them.
void lstmRowTrain(int64_t H, float *a, const float *peep, const float *cPrev, float *cNew, float clip = kNoClip);
/// h_t of a row lstmRowTrain ran: o * tanh(cNew), as lstmRow computes it (the
/// checkpoint backward recomputes h this way instead of reading y).
void lstmRowHidden(int64_t H, const float *a, const float *cNew, float *h, float clip = kNoClip);
/// Backward of one row: `a` holds what lstmRowTrain left (with the same
/// clip) and gets the gradients of the pre-activations; dh is the gradient
/// of h_t, dc that of c_t (replaced by that of c_{t-1}); dp accumulates the
/// peepholes' [3H].
void lstmRowBackward(int64_t H, float *a, const float *peep, const float *cPrev, const float *cNew, const float *dh,
                     float *dc, float *dp, float clip = kNoClip);

/// GRU with linear_before_reset: x and hr are [3H] (z, r, h); rbh is the
/// recurrent bias of the h gate ([H]; zeros without bias). Updates h.
void gruRowLinearBeforeReset(int64_t H, const float *x, const float *hr, const float *rbh, float *h,
                             float clip = kNoClip);

/// Backward of one row of a GRU with linear_before_reset: `a` holds the
/// row's [4H] saved pre-activations (z and r with both biases, the h gate's
/// input part x W_h^T + Wb_h, then h_{t-1} R_h^T) and gets the gradients of
/// z's and r's pre-activations, of h_{t-1} R_h^T + Rb_h and of the h gate's
/// pre-activation, in that order (so that the first 3H are what multiplies
/// R for dh_{t-1}). dh is the gradient of h_t and gets its direct share of
/// that of h_{t-1} (z * dh); hPrev is h_{t-1}.
void gruRowBackwardLinearBeforeReset(int64_t H, float *a, const float *rbh, const float *hPrev, float *dh,
                                     float clip = kNoClip);

/// Simple RNN with tanh: h = tanh(x + hr) (x holds both biases).
void rnnRowTanh(int64_t H, const float *x, const float *hr, float *h, float clip = kNoClip);
/// Its backward: da = dh * (1 - h^2), h the row's output.
void rnnRowTanhBackward(int64_t H, const float *h, const float *dh, float *da);
/// The same from the pre-activation, in place: a = dh * (1 - tanh(a)^2).
void rnnRowTanhBackwardInPlace(int64_t H, float *a, const float *dh, float clip = kNoClip);

/// Simple RNN with Relu: h = max(x + hr, 0).
void rnnRowRelu(int64_t H, const float *x, const float *hr, float *h, float clip = kNoClip);
/// Its backward: da = dh where h > 0, else 0.
void rnnRowReluBackward(int64_t H, const float *h, const float *dh, float *da);
/// The same from the pre-activation, in place: a = dh where a > 0, else 0.
void rnnRowReluBackwardInPlace(int64_t H, float *a, const float *dh, float clip = kNoClip);

/// GRU without linear_before_reset, in two halves around the product
/// (r * h) R_h^T: first z and r * h from the z and r gates ...
void gruRowGates(int64_t H, const float *x, const float *hr, const float *h, float *z, float *rh,
                 float clip = kNoClip);
/// ... then h from x's h gate, that product (rhR) and the bias rbh.
void gruRowOutput(int64_t H, const float *x, const float *rhR, const float *rbh, const float *z, float *h,
                  float clip = kNoClip);

/// The backward of a row of a GRU without linear_before_reset, in the same
/// two halves, in reverse. `a` holds the row's pre-activations [a_z, a_r,
/// a_h] (a_h = x W_h^T + (r * h_{t-1}) R_h^T + both biases); hPrev is
/// h_{t-1}. First a_z and a_h become their gradients and dh, the gradient
/// of h_t, becomes its direct share of that of h_{t-1} (z * dh) ...
void gruRowBackwardOutput(int64_t H, float *a, const float *hPrev, float *dh, float clip = kNoClip);
/// ... then, given drh = da_h R_h (the gradient of r * h_{t-1}), a_r
/// becomes its gradient and dh gets r * drh. (R_z and R_r's share of
/// dh_{t-1} is the caller's: [da_z, da_r] R_zr.)
void gruRowBackwardGates(int64_t H, float *a, const float *hPrev, const float *drh, float *dh, float clip = kNoClip);

} // namespace kernels
} // namespace nncc

#endif
