//===- ConstFold.cpp ------------------------------------------------------===//
#include "ir/ConstFold.h"

#include "llvm/ADT/APFloat.h"
#include <cmath>

using namespace mlir;

namespace nncc {
namespace nn {

Shape stridesOf(ArrayRef<int64_t> shape) {
  Shape s(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

Optional<ConstValues> readConst(Attribute attr) {
  auto dense = attr.dyn_cast_or_null<DenseElementsAttr>();
  if (!dense)
    return llvm::None;
  auto type = dense.getType().dyn_cast<RankedTensorType>();
  if (!type || !type.hasStaticShape() || type.getNumElements() > kMaxFoldElements)
    return llvm::None;
  ConstValues v;
  v.type = type;
  Type et = type.getElementType();
  if (et.isa<FloatType>()) {
    v.isFloat = true;
    for (APFloat x : dense.getValues<APFloat>())
      v.f.push_back(x.convertToDouble() /* exact for f16/f32/f64 after conversion */);
    return v;
  }
  if (auto it = et.dyn_cast<IntegerType>()) {
    bool isUnsigned = it.isUnsigned() || it.getWidth() == 1;
    for (APInt x : dense.getValues<APInt>())
      v.i.push_back(isUnsigned ? (int64_t)x.getZExtValue() : x.getSExtValue());
    return v;
  }
  return llvm::None;
}

DenseElementsAttr makeConst(RankedTensorType type, ArrayRef<double> values) {
  Type et = type.getElementType();
  if (auto ft = et.dyn_cast<FloatType>()) {
    SmallVector<APFloat> out;
    for (double d : values) {
      APFloat x(d);
      bool lost;
      x.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      out.push_back(x);
    }
    return DenseElementsAttr::get(type, out);
  }
  SmallVector<int64_t> ints;
  for (double d : values)
    ints.push_back(std::isfinite(d) ? (int64_t)d : 0);
  return makeConst(type, ints);
}

DenseElementsAttr makeConst(RankedTensorType type, ArrayRef<int64_t> values) {
  Type et = type.getElementType();
  if (et.isa<FloatType>()) {
    SmallVector<double> d(values.begin(), values.end());
    return makeConst(type, d);
  }
  auto it = et.cast<IntegerType>();
  if (it.getWidth() == 1) {
    SmallVector<bool> b;
    for (int64_t x : values)
      b.push_back(x != 0);
    return DenseElementsAttr::get(type, b);
  }
  SmallVector<APInt> out;
  for (int64_t x : values)
    out.push_back(APInt(it.getWidth(), (uint64_t)x, /*isSigned=*/!it.isUnsigned()));
  return DenseElementsAttr::get(type, out);
}

DenseElementsAttr makeConst(RankedTensorType type, const ConstValues &v) {
  return v.isFloat ? makeConst(type, v.f) : makeConst(type, v.i);
}

Attribute foldGather(RankedTensorType resultType, const ConstValues &src,
                     const std::function<int64_t(int64_t)> &indexOf) {
  if (!resultType.hasStaticShape() || resultType.getNumElements() > kMaxFoldElements)
    return {};
  int64_t n = resultType.getNumElements();
  if (src.isFloat) {
    std::vector<double> out(n);
    for (int64_t k = 0; k < n; ++k) {
      int64_t j = indexOf(k);
      if (j < 0 || j >= src.size())
        return {};
      out[k] = src.f[j];
    }
    return makeConst(resultType, out);
  }
  std::vector<int64_t> out(n);
  for (int64_t k = 0; k < n; ++k) {
    int64_t j = indexOf(k);
    if (j < 0 || j >= src.size())
      return {};
    out[k] = src.i[j];
  }
  return makeConst(resultType, out);
}

/// Maps a flat index of `outShape` to the flat index of a broadcast operand.
static int64_t broadcastIndex(int64_t k, ArrayRef<int64_t> outShape, ArrayRef<int64_t> outStrides,
                              ArrayRef<int64_t> inShape, ArrayRef<int64_t> inStrides) {
  int64_t offset = outShape.size() - inShape.size();
  int64_t j = 0;
  for (size_t d = 0; d < outShape.size(); ++d) {
    int64_t idx = (k / outStrides[d]) % outShape[d];
    if ((int64_t)d >= offset && inShape[d - offset] != 1)
      j += idx * inStrides[d - offset];
  }
  return j;
}

Attribute foldBroadcast(RankedTensorType resultType, const ConstValues &a, const ConstValues &b,
                        const std::function<double(double, double)> &onFloat,
                        const std::function<int64_t(int64_t, int64_t)> &onInt) {
  if (!resultType.hasStaticShape() || resultType.getNumElements() > kMaxFoldElements)
    return {};
  auto outShape = resultType.getShape();
  Shape outStrides = stridesOf(outShape);
  Shape aStrides = stridesOf(a.type.getShape()), bStrides = stridesOf(b.type.getShape());
  int64_t n = resultType.getNumElements();
  bool useFloat = a.isFloat || b.isFloat;
  bool resultFloat = resultType.getElementType().isa<FloatType>();
  std::vector<double> fo;
  std::vector<int64_t> io;
  for (int64_t k = 0; k < n; ++k) {
    int64_t ia = broadcastIndex(k, outShape, outStrides, a.type.getShape(), aStrides);
    int64_t ib = broadcastIndex(k, outShape, outStrides, b.type.getShape(), bStrides);
    if (useFloat) {
      double r = onFloat(a.asDouble(ia), b.asDouble(ib));
      if (resultFloat)
        fo.push_back(r);
      else
        io.push_back((int64_t)r);
    } else {
      io.push_back(onInt(a.i[ia], b.i[ib]));
    }
  }
  return resultFloat ? (Attribute)makeConst(resultType, fo) : (Attribute)makeConst(resultType, io);
}

} // namespace nn
} // namespace nncc
