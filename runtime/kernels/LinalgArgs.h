//===- LinalgArgs.h - the meta of nncc_matmul and nncc_gemm -----*- C++ -*-===//
//
// Read by the portable kernels (Linalg.cpp) and the host's oneDNN ones
// (DnnlMatMul.cpp); written by codegen/LowerKernels.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_RUNTIME_KERNELS_LINALGARGS_H
#define NNCC_RUNTIME_KERNELS_LINALGARGS_H

#include "runtime/kernels/Meta.h"
#include "runtime/kernels/PostOps.h"

namespace nncc {
namespace kernels {

/// a, b, y, bias [N] | none, constantB, post-ops.
struct MatMulArgs {
  TensorArg a, b, y, bias;
  bool constantB;
  PostOps post;
};

inline MatMulArgs readMatMul(Meta &m) {
  MatMulArgs r;
  r.a = m.tensor(); r.b = m.tensor(); r.y = m.tensor(); r.bias = m.tensor();
  r.constantB = m.i();
  r.post.read(m);
  return r;
}

/// a, b, c | none, y, transA, transB, alpha, beta, constantB, post-ops.
struct GemmArgs {
  TensorArg a, b, c, y;
  bool ta, tb;
  double alpha, beta;
  bool constantB;
  PostOps post;
};

inline GemmArgs readGemm(Meta &m) {
  GemmArgs g;
  g.a = m.tensor(); g.b = m.tensor(); g.c = m.tensor(); g.y = m.tensor();
  g.ta = m.i(); g.tb = m.i();
  g.alpha = m.f(); g.beta = m.f();
  g.constantB = m.i();
  g.post.read(m);
  return g;
}

} // namespace kernels
} // namespace nncc

#endif
