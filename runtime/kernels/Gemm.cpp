//===- Gemm.cpp - portable blocked GEMM -----------------------------------===//
//
// Packs blocks of op(B) so the inner loop runs over contiguous memory the
// compiler vectorizes (NEON on AArch64, AVX on x86-64).
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Gemm.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#ifdef NNCC_USE_DNNL
#include "oneapi/dnnl/dnnl.h"
#endif

namespace nncc {
namespace kernels {

namespace {
constexpr int64_t kBlockK = 256, kBlockN = 512;
}

template <typename T> GemmScratch<T> allocGemm(Scratch &s, int64_t N, int64_t K) {
  GemmScratch<T> g;
  g.bpack = s.alloc<T>(minOf(K, kBlockK) * minOf(N, kBlockN));
  g.arow = s.alloc<T>(minOf(K, kBlockK));
  return g;
}

template <typename T>
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T *A, int64_t lda,
          const T *B, int64_t ldb, T beta, T *C, int64_t ldc, const GemmScratch<T> &scratch) {
  if (M <= 0 || N <= 0)
    return;
#ifdef NNCC_USE_DNNL
  // On the host, oneDNN's JIT-compiled SGEMM (AVX-512/AMX, threaded).
  if constexpr (std::is_same<T, float>::value) {
    if (K > 0) {
      dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      return;
    }
  }
#endif
  for (int64_t m = 0; m < M; ++m) {
    T *c = C + m * ldc;
    if (beta == T(0))
      std::fill(c, c + N, T(0));
    else if (beta != T(1))
      for (int64_t n = 0; n < N; ++n)
        c[n] *= beta;
  }
  if (K <= 0 || alpha == T(0))
    return;
  T *bpack = scratch.bpack, *arow = scratch.arow;
  for (int64_t n0 = 0; n0 < N; n0 += kBlockN) {
    int64_t nb = minOf(kBlockN, N - n0);
    for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
      int64_t kb = minOf(kBlockK, K - k0);
      // Pack B[k0:k0+kb, n0:n0+nb] row-major.
      for (int64_t k = 0; k < kb; ++k) {
        T *dst = bpack + k * nb;
        if (!transB) {
          std::memcpy(dst, B + (k0 + k) * ldb + n0, sizeof(T) * nb);
        } else {
          for (int64_t n = 0; n < nb; ++n)
            dst[n] = B[(n0 + n) * ldb + k0 + k];
        }
      }
      for (int64_t m = 0; m < M; ++m) {
        for (int64_t k = 0; k < kb; ++k)
          arow[k] = alpha * (transA ? A[(k0 + k) * lda + m] : A[m * lda + k0 + k]);
        T *__restrict c = C + m * ldc + n0;
        const T *__restrict bp = bpack;
        int64_t k = 0;
        for (; k + 4 <= kb; k += 4) {
          T a0 = arow[k], a1 = arow[k + 1], a2 = arow[k + 2], a3 = arow[k + 3];
          const T *b0 = bp + k * nb, *b1 = b0 + nb, *b2 = b1 + nb, *b3 = b2 + nb;
          for (int64_t n = 0; n < nb; ++n)
            c[n] += a0 * b0[n] + a1 * b1[n] + a2 * b2[n] + a3 * b3[n];
        }
        for (; k < kb; ++k) {
          T a = arow[k];
          const T *b = bp + k * nb;
          for (int64_t n = 0; n < nb; ++n)
            c[n] += a * b[n];
        }
      }
    }
  }
}

#define NNCC_GEMM_INSTANTIATE(T)                                                                   \
  template GemmScratch<T> allocGemm<T>(Scratch &, int64_t, int64_t);                             \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T *, int64_t, const T *,   \
                        int64_t, T, T *, int64_t, const GemmScratch<T> &);
NNCC_GEMM_INSTANTIATE(float)
NNCC_GEMM_INSTANTIATE(double)
NNCC_GEMM_INSTANTIATE(int8_t)
NNCC_GEMM_INSTANTIATE(uint8_t)
NNCC_GEMM_INSTANTIATE(int16_t)
NNCC_GEMM_INSTANTIATE(uint16_t)
NNCC_GEMM_INSTANTIATE(int32_t)
NNCC_GEMM_INSTANTIATE(uint32_t)
NNCC_GEMM_INSTANTIATE(int64_t)
NNCC_GEMM_INSTANTIATE(uint64_t)

} // namespace kernels
} // namespace nncc
