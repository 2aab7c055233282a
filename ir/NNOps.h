//===- NNOps.h - operations of the nn dialect -------------------*- C++ -*-===//
#ifndef NNCC_IR_NNOPS_H
#define NNCC_IR_NNOPS_H

#include "ir/NNDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace nncc {
namespace nn {
namespace OpTrait {
/// Marks ops computed element by element after broadcasting their operands.
template <typename ConcreteType>
class Elementwise : public mlir::OpTrait::TraitBase<ConcreteType, Elementwise> {};
} // namespace OpTrait
} // namespace nn
} // namespace nncc

#define GET_OP_CLASSES
#include "ir/NNOps.h.inc"

namespace nncc {
namespace nn {
/// A bidirectional recurrent layer (or its backward) whose kernel may run
/// its two directions at once: set by nn-stack-recurrent, read by the
/// lowering (a unit attribute).
constexpr llvm::StringLiteral kDirectionsAtOnceAttr("nncc.directions_at_once");

/// True for ops with the Elementwise trait.
bool isElementwise(mlir::Operation *op);

/// The model's name for an op (its ONNX node name, from the location; the
/// first one for fused ops), or "".
std::string sourceName(mlir::Operation *op);

/// Composite ops that code generation hands to a runtime kernel whole
/// (nncc_softmax, nncc_layer_norm) instead of nn-decompose expanding them:
/// float32/float64 softmax and log-softmax; layer norms whose scale and
/// bias have one element per normalized element, or one in all.
bool hasSoftmaxKernel(mlir::Operation *op);
bool hasLayerNormKernel(mlir::Operation *op);

/// The cell states of a stack (nn.lstm_stack: initial_c and y_c) and of its
/// backward (nn.lstm_stack_grad: dy_c and d_initial_c); null where absent
/// and for GRU and RNN stacks, which have none.
mlir::Value stackInitialC(mlir::Operation *stack);
mlir::Value stackFinalC(mlir::Operation *stack);
mlir::Value stackFinalCGrad(mlir::Operation *stackGrad);
mlir::Value stackInitialCGrad(mlir::Operation *stackGrad);
} // namespace nn
} // namespace nncc

#endif
