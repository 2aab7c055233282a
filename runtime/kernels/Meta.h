//===- Meta.h - reading a kernel's meta array -------------------*- C++ -*-===//
#ifndef NNCC_RUNTIME_KERNELS_META_H
#define NNCC_RUNTIME_KERNELS_META_H

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace nncc {
namespace kernels {

/// A tensor operand: ONNX dtype code (0 when absent), shape and data.
struct TensorArg {
  int dtype = 0;
  std::vector<int64_t> shape;
  void *data = nullptr;

  bool present() const { return dtype != 0; }
  int64_t rank() const { return (int64_t)shape.size(); }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  int64_t dim(int64_t i) const { return shape[i]; }
  template <typename T> T *as() const { return static_cast<T *>(data); }
  /// Row-major strides.
  std::vector<int64_t> strides() const {
    std::vector<int64_t> s(shape.size(), 1);
    for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
      s[i] = s[i + 1] * shape[i + 1];
    return s;
  }
};

class Meta {
public:
  Meta(const int64_t *meta, void *const *buffers) : p(meta), buffers(buffers) {}
  int64_t i() { return *p++; }
  double f() {
    double d;
    std::memcpy(&d, p++, sizeof d);
    return d;
  }
  std::vector<int64_t> ints() {
    int64_t n = i();
    std::vector<int64_t> v(p, p + n);
    p += n;
    return v;
  }
  std::string str() {
    int64_t n = i();
    std::string s;
    for (int64_t k = 0; k < n; ++k)
      s.push_back((char)*p++);
    return s;
  }
  TensorArg tensor() {
    TensorArg t;
    t.dtype = (int)i();
    if (!t.dtype)
      return t;
    int64_t rank = i();
    t.shape.assign(p, p + rank);
    p += rank;
    t.data = buffers[next++];
    return t;
  }

private:
  const int64_t *p;
  void *const *buffers;
  int next = 0;
};

/// Calls f(T{}) with T the C++ type of an ONNX dtype code.
template <typename F> void dispatchAll(int dtype, F &&f) {
  switch (dtype) {
  case 1: f(float{}); break;
  case 11: f(double{}); break;
  case 2: case 9: f(uint8_t{}); break;
  case 3: f(int8_t{}); break;
  case 4: case 10: case 16: f(uint16_t{}); break;
  case 5: f(int16_t{}); break;
  case 6: f(int32_t{}); break;
  case 7: f(int64_t{}); break;
  case 12: f(uint32_t{}); break;
  case 13: f(uint64_t{}); break;
  default: break;
  }
}

/// Calls f(T{}) for float and double.
template <typename F> void dispatchFloat(int dtype, F &&f) {
  if (dtype == 11)
    f(double{});
  else
    f(float{});
}

/// Reads an integer index tensor element (int32 or int64).
inline int64_t indexAt(const TensorArg &t, int64_t k) {
  return t.dtype == 6 ? (int64_t)t.as<int32_t>()[k] : t.as<int64_t>()[k];
}

/// Element size in bytes of a dtype code.
inline size_t elementSize(int dtype) {
  switch (dtype) {
  case 1: case 6: case 12: return 4;
  case 11: case 7: case 13: return 8;
  case 4: case 5: case 10: case 16: return 2;
  default: return 1;
  }
}

} // namespace kernels
} // namespace nncc

#endif
