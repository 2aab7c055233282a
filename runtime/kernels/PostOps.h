//===- PostOps.h - fused epilogues of convolution kernels -------*- C++ -*-===//
#ifndef NNCC_RUNTIME_KERNELS_POSTOPS_H
#define NNCC_RUNTIME_KERNELS_POSTOPS_H

#include "runtime/kernels/Meta.h"

#include <cmath>

namespace nncc {
namespace kernels {

/// Codes written by codegen/LowerKernels.cpp (postOpCode).
enum class PostOp : int64_t { Relu = 1, Clip = 2, LeakyRelu = 3, Elu = 4, Sigmoid = 5, Tanh = 6, Sum = 7 };

struct PostOps {
  static constexpr int kMax = 8;
  int n = 0;
  PostOp kind[kMax];
  double alpha[kMax], beta[kMax];

  void read(Meta &m) {
    int64_t count = m.i();
    for (int64_t k = 0; k < count; ++k) {
      PostOp p = (PostOp)m.i();
      double a = m.f(), b = m.f();
      if (n < kMax) {
        kind[n] = p;
        alpha[n] = a;
        beta[n] = b;
        ++n;
      }
    }
  }
  bool hasSum() const {
    for (int k = 0; k < n; ++k)
      if (kind[k] == PostOp::Sum)
        return true;
    return false;
  }
  /// The epilogue of one element; `residual` is the sum operand's element.
  template <typename T> T apply(T v, T residual) const {
    double x = v;
    for (int k = 0; k < n; ++k) {
      switch (kind[k]) {
      case PostOp::Relu: x = x > 0 ? x : 0; break;
      case PostOp::Clip: x = x < alpha[k] ? alpha[k] : (x > beta[k] ? beta[k] : x); break;
      case PostOp::LeakyRelu: x = x >= 0 ? x : alpha[k] * x; break;
      case PostOp::Elu: x = x >= 0 ? x : alpha[k] * (std::exp(x) - 1); break;
      case PostOp::Sigmoid: x = 1 / (1 + std::exp(-x)); break;
      case PostOp::Tanh: x = std::tanh(x); break;
      case PostOp::Sum: x += (double)residual; break;
      }
    }
    return (T)x;
  }
};

} // namespace kernels
} // namespace nncc

#endif
