//===- DType.h - element types, with the ONNX TensorProto codes --*- C++ -*-===//
#ifndef NNCC_RUNTIME_DTYPE_H
#define NNCC_RUNTIME_DTYPE_H

#include <cstddef>
#include <cstdint>

namespace nncc {

enum class DType : int {
  Undefined = 0,
  Float32 = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  String = 8,
  Bool = 9,
  Float16 = 10,
  Float64 = 11,
  UInt32 = 12,
  UInt64 = 13,
  BFloat16 = 16,
};

/// Bytes per element (0 for unsupported types).
size_t dtypeSize(DType t);
/// "float32", "int64", ...
const char *dtypeName(DType t);
bool isSupportedDType(int code);
bool isFloatDType(DType t);

/// IEEE half and bfloat16 conversions.
float halfToFloat(uint16_t h);
uint16_t floatToHalf(float f);
float bf16ToFloat(uint16_t h);
uint16_t floatToBf16(float f);

} // namespace nncc

#endif
