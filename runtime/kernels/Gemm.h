//===- Gemm.h - the GEMM every matmul, gemm, conv and RNN uses --*- C++ -*-===//
#ifndef NNCC_RUNTIME_KERNELS_GEMM_H
#define NNCC_RUNTIME_KERNELS_GEMM_H

#include "runtime/kernels/Meta.h"

#include <cstdint>

namespace nncc {
namespace kernels {

/// Packing buffers of one GEMM call (taken from the kernel's scratch).
template <typename T> struct GemmScratch {
  T *bpack = nullptr;
  T *arow = nullptr;
};

/// Reserves the buffers for GEMMs of up to N columns and K depth.
template <typename T> GemmScratch<T> allocGemm(Scratch &s, int64_t N, int64_t K);

/// C[M,N] = alpha * op(A) * op(B) + beta * C, row-major with leading
/// dimensions lda, ldb, ldc (op transposes when the flag is set).
template <typename T>
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T *A, int64_t lda,
          const T *B, int64_t ldb, T beta, T *C, int64_t ldc, const GemmScratch<T> &scratch);

} // namespace kernels
} // namespace nncc

#endif
