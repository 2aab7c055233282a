//===- RecurrentActivations.h - ONNX LSTM/GRU/RNN activations -*- C++ -*-===//
//
// The activation functions of an ONNX recurrent layer (its `activations`,
// `activation_alpha` and `activation_beta` attributes) resolved once, for
// the kernels' lowering and the cells nn-unroll-recurrent builds alike.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_IR_RECURRENTACTIVATIONS_H
#define NNCC_IR_RECURRENTACTIVATIONS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

namespace nncc {
namespace nn {

/// One activation function: its code as the recurrent kernels number them
/// (runtime/kernels/RecurrentCommon.h: 0 Relu, 1 Tanh, 2 Sigmoid, 3 Affine,
/// 4 LeakyRelu, 5 ThresholdedRelu, 6 ScaledTanh, 7 HardSigmoid, 8 Elu,
/// 9 Softsign, 10 Softplus; -1 unknown) and its alpha and beta.
struct RecurrentActivation {
  int64_t code = -1;
  double alpha = 0, beta = 0;
};

/// The code of an ONNX activation name (any case; -1: not one of ONNX's).
int64_t recurrentActivationCode(llvm::StringRef name);

/// A layer's activations: `names` (none given: `defaults`, once per
/// direction of `directions`), each with its alpha and beta. ONNX's alphas
/// and betas are consumed in order by the activations that take them
/// (Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu for
/// alpha; Affine, ScaledTanh, HardSigmoid for beta); missing ones take the
/// defaults of the ONNX operators of the same name (as float32 values, like
/// every ONNX float attribute).
llvm::SmallVector<RecurrentActivation, 6> recurrentActivations(mlir::ArrayAttr names, mlir::ArrayAttr alphas,
                                                               mlir::ArrayAttr betas,
                                                               llvm::ArrayRef<llvm::StringRef> defaults,
                                                               int64_t directions);

} // namespace nn
} // namespace nncc

#endif
