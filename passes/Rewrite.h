//===- Rewrite.h - helpers shared by the graph passes -----------*- C++ -*-===//
#ifndef NNCC_PASSES_REWRITE_H
#define NNCC_PASSES_REWRITE_H

#include "ir/NNOps.h"

#include "mlir/IR/PatternMatch.h"

namespace nncc {

/// A copy of `op` with new operands, its result types re-inferred (every nn
/// op infers its types). Null when inference fails.
mlir::Operation *cloneWithOperands(mlir::PatternRewriter &b, mlir::Operation *op, mlir::ValueRange operands);

/// Puts an op `name` with `op`'s operands and attributes (plus `extra`) and
/// result types `types` in `op`'s place: the results they share (the first
/// ones) are replaced, `op` is erased. For turning a recurrent layer into its
/// form that saves more for the backward, and back.
mlir::Operation *replaceWithKind(mlir::Operation *op, llvm::StringRef name, mlir::TypeRange types,
                                 llvm::ArrayRef<mlir::NamedAttribute> extra = {});

/// `v` as `shape` (the same elements): an nn.reshape, or v itself when it
/// already has that shape.
mlir::Value reshapeTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v, llvm::ArrayRef<int64_t> shape);

/// A new frozen parameter (a unique name from `base`) holding `bytes` in
/// the dialect's weight store: weights derived at compile time (folded batch
/// norms, a recurrent layer's direction).
mlir::Value newFrozenParam(mlir::OpBuilder &b, mlir::Location loc, llvm::StringRef base, mlir::RankedTensorType type,
                           std::vector<uint8_t> bytes);

/// The value of a rank-0 (or single-element) float constant.
bool scalarConstant(mlir::Value v, double &out);

} // namespace nncc

#endif
