//===- ShapeUtils.h - shape helpers shared by inference and lowering -*- C++ -*-===//
#ifndef NNCC_IR_SHAPEUTILS_H
#define NNCC_IR_SHAPEUTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/SmallVector.h"

namespace nncc {
namespace nn {

using Shape = llvm::SmallVector<int64_t, 6>;
constexpr int64_t kDynamic = mlir::ShapedType::kDynamicSize;

/// Numpy broadcasting of two shapes. Fails when a pair of dimensions differs
/// and neither is 1. Unknown dimensions stay unknown.
bool broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b, Shape &out);

/// Axis in [-rank, rank) mapped to [0, rank); -1 when out of range.
int64_t normalizeAxis(int64_t axis, int64_t rank);

llvm::SmallVector<int64_t, 6> toI64(mlir::ArrayAttr attr);
llvm::SmallVector<double, 6> toF64(mlir::ArrayAttr attr);
llvm::SmallVector<std::string, 4> toStrings(mlir::ArrayAttr attr);
mlir::ArrayAttr i64Array(mlir::Builder &b, llvm::ArrayRef<int64_t> values);
mlir::ArrayAttr f32Array(mlir::Builder &b, llvm::ArrayRef<double> values);

/// "[2, ?, 4]"
std::string shapeStr(llvm::ArrayRef<int64_t> shape);

/// Product of the dimensions; -1 when one is unknown.
int64_t numElements(llvm::ArrayRef<int64_t> shape);
bool isStatic(llvm::ArrayRef<int64_t> shape);

/// Output length of a sliding window over `in` elements.
int64_t windowOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t padBegin,
                         int64_t padEnd, int64_t dilation, bool ceilMode);

/// Activation layouts of nn.conv and nn.reorder: [N, C, D...], [N, D..., C]
/// and [N, C/16, D..., 16].
enum class ActivationLayout { NCHW, NHWC, NCHW16c };
bool parseActivationLayout(llvm::StringRef name, ActivationLayout &layout);
llvm::StringRef layoutName(ActivationLayout layout);
/// Channels (C) of an activation shape; spatial dimension i of it.
int64_t channelCount(llvm::ArrayRef<int64_t> shape, ActivationLayout layout);
int64_t spatialDim(llvm::ArrayRef<int64_t> shape, ActivationLayout layout, int64_t i);
/// The shape of an N x C x spatial activation in `layout`.
Shape activationShape(int64_t n, int64_t c, llvm::ArrayRef<int64_t> spatial, ActivationLayout layout);
/// Number of spatial dimensions of an activation of rank `rank`.
inline int64_t spatialRank(int64_t rank, ActivationLayout layout) {
  return rank - (layout == ActivationLayout::NCHW16c ? 3 : 2);
}

/// Size in bytes of one element as stored in memory (bool is one byte).
int64_t elementByteSize(mlir::Type elementType);

/// Element type names and ONNX TensorProto codes.
int onnxDataType(mlir::Type elementType);
mlir::Type typeFromOnnxDataType(mlir::MLIRContext *ctx, int code);
std::string typeName(mlir::Type elementType);

} // namespace nn
} // namespace nncc

#endif
