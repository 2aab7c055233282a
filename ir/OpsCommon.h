//===- OpsCommon.h - private helpers of the op definitions -----*- C++ -*-===//
#ifndef NNCC_IR_OPSCOMMON_H
#define NNCC_IR_OPSCOMMON_H

#include "ir/ConstFold.h"
#include "ir/NNOps.h"
#include "ir/ShapeUtils.h"

namespace nncc {
namespace nn {

/// The signature of InferTypeOpInterface::inferReturnTypes, for op OP.
#define NN_INFER(OP)                                                                     \
  mlir::LogicalResult OP::inferReturnTypes(                                              \
      mlir::MLIRContext *ctx, llvm::Optional<mlir::Location> loc, mlir::ValueRange operands, \
      mlir::DictionaryAttr attrs, mlir::RegionRange regions,                             \
      llvm::SmallVectorImpl<mlir::Type> &inferred)

inline mlir::RankedTensorType tensorOf(mlir::Value v) {
  return v.getType().cast<mlir::RankedTensorType>();
}
inline mlir::RankedTensorType tensor(llvm::ArrayRef<int64_t> shape, mlir::Type et) {
  return mlir::RankedTensorType::get(shape, et);
}

/// Emits an error at `loc` (when known) and fails.
inline mlir::LogicalResult inferError(llvm::Optional<mlir::Location> loc, const llvm::Twine &msg) {
  return mlir::emitOptionalError(loc, msg);
}

} // namespace nn
} // namespace nncc

#endif
