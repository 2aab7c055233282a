//===- Lowering.h - nn ops to linalg / memref / nnk.call --------*- C++ -*-===//
//
// `nncc-lower-nn` turns a function of nn ops on tensors into a function on
// buffers: every tensor gets a memref (graph inputs and outputs are the
// caller's buffers, intermediates are views of the workspace arena placed by
// the memory plan, parameters are views of the weight blob), and every op is
// lowered in destination-passing style by one of the functions below.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_CODEGEN_LOWERING_H
#define NNCC_CODEGEN_LOWERING_H

#include "mlir/Dialect/Arithmetic/IR/Arithmetic.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <functional>

namespace nncc {
namespace codegen {

/// Element type of the buffer holding a tensor element type: integers are
/// signless, bool is a byte (i8), bf16 is its 16 bits (i16).
mlir::Type storageType(mlir::Type tensorElement);
mlir::MemRefType bufferType(mlir::RankedTensorType t);

/// Scalars are computed in: i1 for bool, f32 for f16/bf16, else the storage type.
mlir::Type computeType(mlir::Type tensorElement);
/// Converts a loaded storage scalar to its compute form and back.
mlir::Value toCompute(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v, mlir::Type tensorElement);
mlir::Value fromCompute(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v, mlir::Type tensorElement);

/// Tensor element type of an nn value.
inline mlir::Type elementOf(mlir::Value v) {
  return v.getType().cast<mlir::ShapedType>().getElementType();
}

/// What a lowering receives: the op, its operands' and results' buffers.
struct LoweringInput {
  mlir::Operation *op;
  llvm::ArrayRef<mlir::Value> ins;  ///< memrefs of the operands
  llvm::ArrayRef<mlir::Value> outs; ///< memrefs of the results (to be written)
  mlir::OpBuilder &b;
  mlir::Location loc;
  mlir::ModuleOp module;
  /// A scratch buffer of `bytes` for a kernel call (valid during this op).
  std::function<mlir::Value(int64_t bytes)> scratch;
};

/// Each returns failure() when the op is not theirs; emitError for a real error.
mlir::FailureOr<bool> lowerElementwise(LoweringInput &in);
mlir::FailureOr<bool> lowerReduction(LoweringInput &in);
mlir::FailureOr<bool> lowerDataMovement(LoweringInput &in);
mlir::FailureOr<bool> lowerKernel(LoweringInput &in);

/// Scalar semantics of an elementwise nn op on compute-form operands.
mlir::Value buildScalar(mlir::Operation *op, mlir::OpBuilder &b, mlir::Location loc,
                        mlir::ValueRange args, mlir::ModuleOp module);

// --- helpers shared by the lowerings ----------------------------------------

/// linalg.generic writing `out` (all loops parallel) from `ins`, each
/// broadcast to out's shape with numpy rules. `body` receives the loaded
/// storage scalars and returns the storage scalar to write.
void emitBroadcastGeneric(mlir::OpBuilder &b, mlir::Location loc, llvm::ArrayRef<mlir::Value> ins,
                          mlir::Value out,
                          llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::ValueRange)> body);
/// The same, writing several outputs of one shape: `body` returns one
/// storage scalar per output.
void emitBroadcastGeneric(
    mlir::OpBuilder &b, mlir::Location loc, llvm::ArrayRef<mlir::Value> ins, mlir::ValueRange outs,
    llvm::function_ref<llvm::SmallVector<mlir::Value>(mlir::OpBuilder &, mlir::Location, mlir::ValueRange)> body);
/// The indexing map reading an operand of shape `in` broadcast to `out`.
mlir::AffineMap broadcastMap(mlir::MLIRContext *ctx, llvm::ArrayRef<int64_t> in, llvm::ArrayRef<int64_t> out);

mlir::Value indexConst(mlir::OpBuilder &b, mlir::Location loc, int64_t v);
/// A scalar constant of a compute type.
mlir::Value scalarConst(mlir::OpBuilder &b, mlir::Location loc, mlir::Type t, double v);
/// Declares (once) and calls a libm function of one or two scalar arguments.
mlir::Value callLibm(mlir::OpBuilder &b, mlir::Location loc, mlir::ModuleOp module, llvm::StringRef name,
                     mlir::ValueRange args);
/// Copies `src` into `dst` (same shape, identity layouts).
void emitCopy(mlir::OpBuilder &b, mlir::Location loc, mlir::Value src, mlir::Value dst);
/// A memref of the same bytes with another shape (collapse then expand).
mlir::Value reshapeBuffer(mlir::OpBuilder &b, mlir::Location loc, mlir::Value m, llvm::ArrayRef<int64_t> shape);
/// Fills `dst` with a storage scalar.
void emitFill(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value, mlir::Value dst);

} // namespace codegen
} // namespace nncc

#endif
