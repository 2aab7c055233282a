//===- Tensor.cpp ---------------------------------------------------------===//
#include "runtime/Tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <sstream>

namespace nncc {

void AlignedDeleter::operator()(void *p) const { std::free(p); }

std::unique_ptr<uint8_t, AlignedDeleter> alignedAlloc(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0)
    rounded = 64;
  void *p = std::aligned_alloc(64, rounded);
  if (!p)
    throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return std::unique_ptr<uint8_t, AlignedDeleter>(static_cast<uint8_t *>(p));
}

Tensor::Tensor(DType dtype, std::vector<int64_t> shape) : dtype_(dtype), shape_(std::move(shape)) {
  data_ = alignedAlloc(byteSize());
}

Tensor::Tensor(const Tensor &other) : dtype_(other.dtype_), shape_(other.shape_) {
  data_ = alignedAlloc(byteSize());
  if (other.data_)
    std::memcpy(data_.get(), other.data_.get(), byteSize());
}

Tensor &Tensor::operator=(const Tensor &other) {
  if (this != &other) {
    Tensor copy(other);
    *this = std::move(copy);
  }
  return *this;
}

int64_t Tensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape_)
    n *= d;
  return n;
}

double Tensor::elementAsDouble(int64_t k) const {
  const void *p = data();
  switch (dtype_) {
  case DType::Float32: return static_cast<const float *>(p)[k];
  case DType::Float64: return static_cast<const double *>(p)[k];
  case DType::Float16: return halfToFloat(static_cast<const uint16_t *>(p)[k]);
  case DType::BFloat16: return bf16ToFloat(static_cast<const uint16_t *>(p)[k]);
  case DType::Int8: return static_cast<const int8_t *>(p)[k];
  case DType::UInt8: return static_cast<const uint8_t *>(p)[k];
  case DType::Int16: return static_cast<const int16_t *>(p)[k];
  case DType::UInt16: return static_cast<const uint16_t *>(p)[k];
  case DType::Int32: return static_cast<const int32_t *>(p)[k];
  case DType::UInt32: return static_cast<const uint32_t *>(p)[k];
  case DType::Int64: return (double)static_cast<const int64_t *>(p)[k];
  case DType::UInt64: return (double)static_cast<const uint64_t *>(p)[k];
  case DType::Bool: return static_cast<const uint8_t *>(p)[k] != 0;
  default: return 0;
  }
}

std::string shapeToString(const std::vector<int64_t> &shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

std::string Tensor::describe() const { return std::string(dtypeName(dtype_)) + shapeToString(shape_); }

size_t dtypeSize(DType t) {
  switch (t) {
  case DType::Float32: case DType::Int32: case DType::UInt32: return 4;
  case DType::Float64: case DType::Int64: case DType::UInt64: return 8;
  case DType::Float16: case DType::BFloat16: case DType::Int16: case DType::UInt16: return 2;
  case DType::Int8: case DType::UInt8: case DType::Bool: return 1;
  default: return 0;
  }
}

const char *dtypeName(DType t) {
  switch (t) {
  case DType::Float32: return "float32";
  case DType::Float64: return "float64";
  case DType::Float16: return "float16";
  case DType::BFloat16: return "bfloat16";
  case DType::Int8: return "int8";
  case DType::UInt8: return "uint8";
  case DType::Int16: return "int16";
  case DType::UInt16: return "uint16";
  case DType::Int32: return "int32";
  case DType::UInt32: return "uint32";
  case DType::Int64: return "int64";
  case DType::UInt64: return "uint64";
  case DType::Bool: return "bool";
  case DType::String: return "string";
  default: return "undefined";
  }
}

bool isSupportedDType(int code) { return code != 8 && dtypeSize(static_cast<DType>(code)) != 0; }

bool isFloatDType(DType t) {
  return t == DType::Float32 || t == DType::Float64 || t == DType::Float16 || t == DType::BFloat16;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else { // subnormal
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000 | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff) // inf or nan
    return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
  if (exp >= 31)
    return (uint16_t)(sign | 0x7c00);
  if (exp <= 0) {
    if (exp < -10)
      return (uint16_t)sign;
    mant |= 0x800000;
    uint32_t shift = (uint32_t)(14 - exp);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1)))
      ++half;
    return (uint16_t)(sign | half);
  }
  uint32_t half = sign | ((uint32_t)exp << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
    ++half; // may carry into the exponent, which is the correct rounding
  return (uint16_t)half;
}

float bf16ToFloat(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t floatToBf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000)
    return (uint16_t)((x >> 16) | 0x40);
  uint32_t rounding = 0x7fff + ((x >> 16) & 1);
  return (uint16_t)((x + rounding) >> 16);
}

} // namespace nncc
