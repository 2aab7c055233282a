//===- Tensor.h - host tensors of the runtime -------------------*- C++ -*-===//
//
// A dense, row-major, 64-byte aligned host tensor. Element types use the ONNX
// TensorProto codes (runtime/DType.h). No MLIR or protobuf dependency: this
// header is part of the static runtime that bundles link on every target.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_RUNTIME_TENSOR_H
#define NNCC_RUNTIME_TENSOR_H

#include "runtime/DType.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nncc {

/// Memory aligned to 64 bytes, freed with `free`.
struct AlignedDeleter {
  void operator()(void *p) const;
};
std::unique_ptr<uint8_t, AlignedDeleter> alignedAlloc(size_t bytes);

class Tensor {
public:
  Tensor() = default;
  /// A tensor of zeros.
  Tensor(DType dtype, std::vector<int64_t> shape);
  Tensor(const Tensor &other);
  Tensor &operator=(const Tensor &other);
  Tensor(Tensor &&) = default;
  Tensor &operator=(Tensor &&) = default;

  DType dtype() const { return dtype_; }
  const std::vector<int64_t> &shape() const { return shape_; }
  int64_t rank() const { return (int64_t)shape_.size(); }
  int64_t numElements() const;
  size_t byteSize() const { return (size_t)numElements() * dtypeSize(dtype_); }

  void *data() { return data_.get(); }
  const void *data() const { return data_.get(); }
  template <typename T> T *data() { return reinterpret_cast<T *>(data_.get()); }
  template <typename T> const T *data() const { return reinterpret_cast<const T *>(data_.get()); }

  /// The same bytes viewed as another element type of the same size.
  void reinterpret(DType dtype) {
    if (dtypeSize(dtype) == dtypeSize(dtype_))
      dtype_ = dtype;
  }
  /// Element k converted to double (for comparisons and printing).
  double elementAsDouble(int64_t k) const;
  /// "float32[64, 10]"
  std::string describe() const;

private:
  DType dtype_ = DType::Float32;
  std::vector<int64_t> shape_;
  std::unique_ptr<uint8_t, AlignedDeleter> data_;
};

/// Shape as "[1, 3, 224, 224]".
std::string shapeToString(const std::vector<int64_t> &shape);

} // namespace nncc

#endif
