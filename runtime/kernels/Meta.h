//===- Meta.h - reading a kernel's meta array -------------------*- C++ -*-===//
//
// Kernels run inside bundles on devices without a heap: nothing here
// allocates. Tensor shapes are fixed-size arrays; lists and strings are views
// into the meta array; temporary memory comes from the scratch buffer the
// compiler reserves in the workspace (see Scratch).
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_RUNTIME_KERNELS_META_H
#define NNCC_RUNTIME_KERNELS_META_H

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace nncc {
namespace kernels {

constexpr int kMaxRank = 16;

/// A tensor operand: ONNX dtype code (0 when absent), shape and data.
struct TensorArg {
  int dtype = 0;
  int rank = 0;
  int64_t shape[kMaxRank] = {};
  void *data = nullptr;

  bool present() const { return dtype != 0; }
  int64_t dim(int64_t i) const { return shape[i]; }
  int64_t last() const { return shape[rank - 1]; }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i)
      n *= shape[i];
    return n;
  }
  template <typename T> T *as() const { return static_cast<T *>(data); }
  /// Row-major strides into `out` (rank entries).
  void strides(int64_t *out) const {
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; --i) {
      out[i] = s;
      s *= shape[i];
    }
  }
};

/// A list of integers stored in the meta array.
struct IntList {
  const int64_t *p = nullptr;
  int64_t n = 0;
  int64_t size() const { return n; }
  int64_t operator[](int64_t i) const { return p[i]; }
};

/// Temporary memory of a kernel: a bump allocator over the scratch buffer.
/// The same allocation sequence run on a null buffer measures the bytes a
/// kernel needs (the compiler calls the kernel's `*_scratch` function).
class Scratch {
public:
  Scratch() = default;
  Scratch(void *base, size_t capacity) : base(static_cast<uint8_t *>(base)), capacity(capacity) {}
  template <typename T> T *alloc(int64_t count) {
    size_t offset = (used + 63) & ~size_t(63);
    used = offset + sizeof(T) * (size_t)(count > 0 ? count : 0);
    if (!base)
      return nullptr;
    if (used > capacity)
      __builtin_trap(); // the compiler reserved less than the kernel needs: a bug
    return reinterpret_cast<T *>(base + offset);
  }
  size_t bytes() const { return used; }
  bool measuring() const { return base == nullptr; }

private:
  uint8_t *base = nullptr;
  size_t capacity = 0, used = 0;
};

class Meta {
public:
  Meta(const int64_t *meta, void *const *buffers) : start(meta), p(meta), buffers(buffers) {}
  /// Slots read so far (the length of the meta prefix describing the call).
  int64_t consumed() const { return p - start; }
  int64_t i() { return *p++; }
  double f() {
    double d;
    std::memcpy(&d, p++, sizeof d);
    return d;
  }
  IntList ints() {
    IntList l;
    l.n = i();
    l.p = p;
    p += l.n;
    return l;
  }
  /// A string, one character per slot, copied into `out` (NUL-terminated).
  int64_t str(char *out, int64_t capacity) {
    int64_t n = i();
    for (int64_t k = 0; k < n; ++k)
      if (k + 1 < capacity)
        out[k] = (char)p[k];
    out[n < capacity ? n : capacity - 1] = 0;
    p += n;
    return n;
  }
  TensorArg tensor() {
    TensorArg t;
    t.dtype = (int)i();
    if (!t.dtype)
      return t;
    t.rank = (int)i();
    for (int k = 0; k < t.rank; ++k)
      t.shape[k] = p[k];
    p += t.rank;
    if (buffers)
      t.data = buffers[next];
    ++next;
    return t;
  }
  /// The scratch buffer the compiler appends after every operand (absent
  /// when the kernel needs none). With no buffers (measuring), an empty one.
  Scratch scratch() {
    TensorArg s = tensor();
    if (!s.present() || !buffers)
      return Scratch();
    return Scratch(s.data, (size_t)s.numel());
  }

private:
  const int64_t *start;
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

template <typename T> inline T minOf(T a, T b) { return a < b ? a : b; }
template <typename T> inline T maxOf(T a, T b) { return a < b ? b : a; }

} // namespace kernels
} // namespace nncc

/// Defines `int64_t <kernel>_scratch(const int64_t *meta)`: the bytes of
/// scratch the kernel needs, measured by running its allocations without a
/// buffer. The compiler calls it to size the workspace.
#define NNCC_SCRATCH_NAME(name) name##_scratch
#define NNCC_SCRATCH(name) extern "C" int64_t NNCC_SCRATCH_NAME(name)(const int64_t *meta)

#endif
