//===- ShapeUtils.cpp -----------------------------------------------------===//
#include "ir/ShapeUtils.h"

#include <algorithm>

using namespace mlir;

namespace nncc {
namespace nn {

bool broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b, Shape &out) {
  size_t rank = std::max(a.size(), b.size());
  out.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == 1)
      out[i] = db;
    else if (db == 1)
      out[i] = da;
    else if (da == kDynamic)
      out[i] = db;
    else if (db == kDynamic || da == db)
      out[i] = da;
    else
      return false;
  }
  return true;
}

int64_t normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return -1;
  return axis < 0 ? axis + rank : axis;
}

SmallVector<int64_t, 6> toI64(ArrayAttr attr) {
  SmallVector<int64_t, 6> r;
  if (!attr)
    return r;
  for (Attribute a : attr)
    r.push_back(a.cast<IntegerAttr>().getInt());
  return r;
}

SmallVector<double, 6> toF64(ArrayAttr attr) {
  SmallVector<double, 6> r;
  if (!attr)
    return r;
  for (Attribute a : attr)
    r.push_back(a.cast<FloatAttr>().getValueAsDouble());
  return r;
}

SmallVector<std::string, 4> toStrings(ArrayAttr attr) {
  SmallVector<std::string, 4> r;
  if (!attr)
    return r;
  for (Attribute a : attr)
    r.push_back(a.cast<StringAttr>().str());
  return r;
}

ArrayAttr i64Array(Builder &b, ArrayRef<int64_t> values) { return b.getI64ArrayAttr(values); }

ArrayAttr f32Array(Builder &b, ArrayRef<double> values) {
  SmallVector<Attribute> attrs;
  for (double v : values)
    attrs.push_back(b.getF32FloatAttr(static_cast<float>(v)));
  return b.getArrayAttr(attrs);
}

std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return s + "]";
}

int64_t numElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return -1;
    n *= d;
  }
  return n;
}

bool isStatic(ArrayRef<int64_t> shape) {
  return llvm::all_of(shape, [](int64_t d) { return d >= 0; });
}

bool parseActivationLayout(llvm::StringRef name, ActivationLayout &layout) {
  if (name == "nchw")
    layout = ActivationLayout::NCHW;
  else if (name == "nhwc")
    layout = ActivationLayout::NHWC;
  else if (name == "nchw16c")
    layout = ActivationLayout::NCHW16c;
  else
    return false;
  return true;
}

llvm::StringRef layoutName(ActivationLayout layout) {
  switch (layout) {
  case ActivationLayout::NCHW: return "nchw";
  case ActivationLayout::NHWC: return "nhwc";
  case ActivationLayout::NCHW16c: return "nchw16c";
  }
  return "";
}

int64_t channelCount(llvm::ArrayRef<int64_t> shape, ActivationLayout layout) {
  switch (layout) {
  case ActivationLayout::NCHW: return shape[1];
  case ActivationLayout::NHWC: return shape.back();
  case ActivationLayout::NCHW16c: return shape[1] < 0 ? kDynamic : shape[1] * shape.back();
  }
  return kDynamic;
}

int64_t spatialDim(llvm::ArrayRef<int64_t> shape, ActivationLayout layout, int64_t i) {
  return shape[(layout == ActivationLayout::NHWC ? 1 : 2) + i];
}

Shape activationShape(int64_t n, int64_t c, llvm::ArrayRef<int64_t> spatial, ActivationLayout layout) {
  Shape s = {n};
  if (layout == ActivationLayout::NCHW)
    s.push_back(c);
  if (layout == ActivationLayout::NCHW16c)
    s.push_back(c < 0 ? kDynamic : c / 16);
  s.append(spatial.begin(), spatial.end());
  if (layout == ActivationLayout::NHWC)
    s.push_back(c);
  if (layout == ActivationLayout::NCHW16c)
    s.push_back(16);
  return s;
}

int64_t windowOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t padBegin,
                         int64_t padEnd, int64_t dilation, bool ceilMode) {
  if (in < 0)
    return kDynamic;
  int64_t effective = (kernel - 1) * dilation + 1;
  int64_t span = in + padBegin + padEnd - effective;
  if (span < 0)
    return 0;
  int64_t out = ceilMode ? (span + stride - 1) / stride + 1 : span / stride + 1;
  // With ceil_mode the last window must start inside the input or left padding.
  if (ceilMode && (out - 1) * stride >= in + padBegin)
    --out;
  return out;
}

int64_t elementByteSize(Type t) {
  if (t.isInteger(1))
    return 1;
  return (t.getIntOrFloatBitWidth() + 7) / 8;
}

int onnxDataType(Type t) {
  if (t.isF32()) return 1;
  if (t.isUnsignedInteger(8)) return 2;
  if (t.isSignlessInteger(8) || t.isSignedInteger(8)) return 3;
  if (t.isUnsignedInteger(16)) return 4;
  if (t.isSignlessInteger(16) || t.isSignedInteger(16)) return 5;
  if (t.isSignlessInteger(32) || t.isSignedInteger(32)) return 6;
  if (t.isSignlessInteger(64) || t.isSignedInteger(64)) return 7;
  if (t.isInteger(1)) return 9;
  if (t.isF16()) return 10;
  if (t.isF64()) return 11;
  if (t.isUnsignedInteger(32)) return 12;
  if (t.isUnsignedInteger(64)) return 13;
  if (t.isBF16()) return 16;
  return 0;
}

Type typeFromOnnxDataType(MLIRContext *ctx, int code) {
  Builder b(ctx);
  switch (code) {
  case 1: return b.getF32Type();
  case 2: return b.getIntegerType(8, /*isSigned=*/false);
  case 3: return b.getIntegerType(8);
  case 4: return b.getIntegerType(16, false);
  case 5: return b.getIntegerType(16);
  case 6: return b.getIntegerType(32);
  case 7: return b.getIntegerType(64);
  case 9: return b.getI1Type();
  case 10: return b.getF16Type();
  case 11: return b.getF64Type();
  case 12: return b.getIntegerType(32, false);
  case 13: return b.getIntegerType(64, false);
  case 16: return b.getBF16Type();
  default: return Type();
  }
}

std::string typeName(Type t) {
  switch (onnxDataType(t)) {
  case 1: return "float32";
  case 2: return "uint8";
  case 3: return "int8";
  case 4: return "uint16";
  case 5: return "int16";
  case 6: return "int32";
  case 7: return "int64";
  case 9: return "bool";
  case 10: return "float16";
  case 11: return "float64";
  case 12: return "uint32";
  case 13: return "uint64";
  case 16: return "bfloat16";
  default: {
    std::string s;
    llvm::raw_string_ostream os(s);
    t.print(os);
    return os.str();
  }
  }
}

} // namespace nn
} // namespace nncc
