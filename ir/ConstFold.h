//===- ConstFold.h - folding nn ops on small constants ----------*- C++ -*-===//
//
// The frontend folds the shape arithmetic of exported models (Shape, Gather,
// Unsqueeze, Concat, Cast, Add, ...) through the ops' fold hooks, which use
// these helpers. Only tensors of at most kMaxFoldElements elements fold.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_IR_CONSTFOLD_H
#define NNCC_IR_CONSTFOLD_H

#include "ir/ShapeUtils.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"
#include <functional>

namespace nncc {
namespace nn {

constexpr int64_t kMaxFoldElements = 1 << 16;

/// A constant's values as doubles (floats) or int64 (integers, bool).
struct ConstValues {
  mlir::RankedTensorType type;
  bool isFloat = false;
  std::vector<double> f;
  std::vector<int64_t> i;

  int64_t size() const { return isFloat ? (int64_t)f.size() : (int64_t)i.size(); }
  double asDouble(int64_t k) const { return isFloat ? f[k] : (double)i[k]; }
  int64_t asInt(int64_t k) const { return isFloat ? (int64_t)f[k] : i[k]; }
};

/// Reads a dense constant of at most kMaxFoldElements elements.
llvm::Optional<ConstValues> readConst(mlir::Attribute attr);
/// Builds a DenseElementsAttr of `type` from doubles or ints (converted to the
/// element type of `type`).
mlir::DenseElementsAttr makeConst(mlir::RankedTensorType type, llvm::ArrayRef<double> values);
mlir::DenseElementsAttr makeConst(mlir::RankedTensorType type, llvm::ArrayRef<int64_t> values);
mlir::DenseElementsAttr makeConst(mlir::RankedTensorType type, const ConstValues &values);

/// Result element k of a broadcast binary op over a and b.
mlir::Attribute foldBroadcast(mlir::RankedTensorType resultType, const ConstValues &a,
                              const ConstValues &b,
                              const std::function<double(double, double)> &onFloat,
                              const std::function<int64_t(int64_t, int64_t)> &onInt);

/// Builds a constant of `resultType` whose element k is src[indexOf(k)].
mlir::Attribute foldGather(mlir::RankedTensorType resultType, const ConstValues &src,
                           const std::function<int64_t(int64_t)> &indexOf);

/// Row-major strides of a shape.
Shape stridesOf(llvm::ArrayRef<int64_t> shape);

} // namespace nn
} // namespace nncc

#endif
