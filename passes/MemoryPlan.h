//===- MemoryPlan.h - arena placement of intermediate tensors --*- C++ -*-===//
#ifndef NNCC_PASSES_MEMORYPLAN_H
#define NNCC_PASSES_MEMORYPLAN_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace nncc {

struct MemoryPlan {
  /// Unused: a result nothing reads, of an op whose kernel skips absent
  /// outputs (hasOptionalResults); it gets no memory.
  enum class Kind { Input, Constant, Arena, Output, Unused };
  struct Placement {
    Kind kind = Kind::Arena;
    int64_t offset = 0; ///< byte offset in the arena (Arena)
    int64_t bytes = 0;
    unsigned index = 0; ///< argument or output number (Input, Output)
  };

  /// Every tensor value maps to the value owning its storage (reshapes
  /// alias their operand).
  llvm::DenseMap<mlir::Value, mlir::Value> root;
  llvm::DenseMap<mlir::Value, Placement> placement; ///< for roots
  /// Results written in place of an operand whose last use is their op
  /// (result -> that operand's root).
  llvm::DenseMap<mlir::Value, mlir::Value> inPlaceOf;
  /// Operands of an nn.concat stored where the concat's result keeps them
  /// (operand root -> concat result): the concat then copies nothing. Done
  /// when the concat axis is the outermost non-unit one, so each part is a
  /// contiguous, 64-byte aligned range of the result.
  llvm::DenseMap<mlir::Value, mlir::Value> partOf;
  llvm::DenseSet<mlir::Value> concatInPlace; ///< results of such concats
  int64_t arenaBytes = 0; ///< peak, 64-byte aligned
  int64_t totalBytes = 0; ///< sum of every arena buffer, without reuse

  mlir::Value rootOf(mlir::Value v) const {
    auto it = root.find(v);
    return it == root.end() ? v : it->second;
  }
  const Placement &of(mlir::Value v) const { return placement.find(rootOf(v))->second; }
};

/// Ops whose kernels skip the results nobody reads (the recurrent layers and
/// their gradients: an unused y would be a sequence-long buffer).
bool hasOptionalResults(mlir::Operation *op);

/// Ops whose result shares its operand's storage.
bool isAliasOp(mlir::Operation *op);

/// The operands `op`'s result may overwrite (each element read before the
/// same element is written): elementwise ops' and single-result nn.fused's
/// operands of the result's shape and byte size (none when the body slices),
/// and a convolution's residual (the sum post-op accumulates into it).
llvm::SmallVector<mlir::Value, 2> inPlaceCandidates(mlir::Operation *op);

/// Computes the plan of `func` (top-level ops in order). With `reuse` off,
/// every buffer gets its own memory.
MemoryPlan planMemory(mlir::func::FuncOp func, bool reuse = true);

/// The plan of one block: its arguments are inputs (of a function, or a
/// loop body's, whose buffers the caller provides); with outputsToCaller its
/// terminator's operands are computed into the caller's buffers, otherwise
/// they stay in the arena until after the block's last op.
MemoryPlan planBlock(mlir::Block &body, bool reuse, bool outputsToCaller);

/// Bytes of a tensor value as stored (bool takes one byte per element).
int64_t storageBytes(mlir::Value v);

} // namespace nncc

#endif
