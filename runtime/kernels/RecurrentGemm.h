//===- RecurrentGemm.h - C = A * W^T with W fixed for many calls -*- C++ -*-===//
//
// A recurrent layer multiplies its state by the same weights at every step.
// On the host the weights are reordered once into oneDNN's preferred layout
// and each step runs a matmul primitive on them (instead of a GEMM that
// would pack the weights again at every step); elsewhere it is the GEMM.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_RUNTIME_KERNELS_RECURRENTGEMM_H
#define NNCC_RUNTIME_KERNELS_RECURRENTGEMM_H

#include "runtime/kernels/Gemm.h"

#include <algorithm>
#include <memory>

namespace nncc {
namespace kernels {

/// Frees the buffers of reordered weights kept for later RecurrentGemms
/// (nncc_kernel_cache_clear calls it).
void releaseWeightBuffers();

/// The rows up to the last of B that runs at a step (runs(b): row b is
/// within its length): with the rows sorted longest first (PyTorch's
/// pack_padded_sequence), exactly those that run.
template <typename Runs> int64_t runningRows(int64_t B, Runs runs) {
  for (int64_t b = B; b > 0; --b)
    if (runs(b - 1))
      return b;
  return 0;
}

/// Gathers, of n steps (step k's rows start at row k * B of `from`, rows of
/// `ld`), the rows that run (runs(k, b): row b is within its length at step
/// k) into `to`, one step's after the other, each step's in order of b;
/// start[k] gets the row where step k's begin. `to` may be `from`: the rows
/// only move towards the front. Returns their count. (Every row past its
/// length is left out, whatever the order of the lengths: for products that
/// take each row on its own, such as input projections, dX, weight
/// gradients and recomputed gates.)
template <typename T, typename Runs>
int64_t gatherRowsThatRun(const T *from, int64_t ld, int64_t B, int64_t n, Runs runs, T *to, int64_t *start) {
  int64_t rows = 0;
  for (int64_t k = 0; k < n; ++k) {
    start[k] = rows;
    for (int64_t b = 0; b < B; ++b)
      if (runs(k, b)) {
        const T *src = from + (k * B + b) * ld;
        if (src != to + rows * ld)
          std::copy(src, src + ld, to + rows * ld);
        ++rows;
      }
  }
  return rows;
}

/// Undoes gatherRowsThatRun in `buf` (given the count it returned): each
/// gathered row goes back to row k * B + b (the last first: rows move
/// towards the back). The rows that do not run keep whatever they held.
template <typename T, typename Runs>
void rowsThatRunToPlaces(T *buf, int64_t ld, int64_t B, int64_t n, Runs runs, int64_t total) {
  int64_t j = total;
  for (int64_t k = n - 1; k >= 0; --k)
    for (int64_t b = B - 1; b >= 0; --b)
      if (runs(k, b) && --j != k * B + b)
        std::copy(buf + j * ld, buf + (j + 1) * ld, buf + (k * B + b) * ld);
}

/// Where row b of a step is among the step's gathered rows
/// (gatherRowsThatRun): how many rows before it run.
template <typename Runs> int64_t placeAmongRunning(int64_t b, Runs runs) {
  int64_t j = 0;
  for (int64_t r = 0; r < b; ++r)
    j += runs(r);
  return j;
}

/// A count of gathered rows (those running at a chunk's steps) rounded up
/// to a multiple of 4, at most `most` (the buffer's rows past the count are
/// computed and never read): with lengths that change from call to call a
/// product of gathered rows takes at most most / 4 row counts, each one
/// primitive.
inline int64_t gatheredRows(int64_t rows, int64_t most) { return rows + 3 < most ? (rows + 3) / 4 * 4 : most; }

template <typename T> class RecurrentGemm {
public:
  /// W is [N, K] row-major (leading dimension ldw); products are [M, N].
  /// With kByN, W is [K, N] row-major instead and C = A * W.
  RecurrentGemm(int64_t M, int64_t N, int64_t K, const T *W, int64_t ldw, const GemmScratch<T> &scratch,
                bool kByN = false);
  ~RecurrentGemm();
  /// C[M, N] = A[M, K] (leading dimension lda) * W^T (on the host prepared
  /// for the first call's lda and ldc, and prepared again when they change)
  void run(const T *A, int64_t lda, T *C, int64_t ldc);
  /// The same for the first `rows` rows of A and C only (rows <= M; rows
  /// past a sequence's length need no product): C's other rows are left as
  /// they are. On the host a primitive per row count, made on first use,
  /// runs on the same reordered weights.
  void run(const T *A, int64_t lda, T *C, int64_t ldc, int64_t rows);
  /// The same for exactly the rows b < B that run (runs(b): within their
  /// length), in any order of the lengths: when they are not the first
  /// rows, their rows of A are gathered into `gathered` ([B, lda]),
  /// multiplied at once into C's first rows, and the products moved to
  /// their rows. C's other rows are then left as the moves leave them (the
  /// products pass through them). Without `gathered`, the rows up to the
  /// last that runs (C's other rows are left as they are).
  template <typename Runs> void runRows(const T *A, int64_t lda, T *C, int64_t ldc, int64_t B, Runs runs, T *gathered) {
    int64_t last = runningRows(B, runs), count = 0;
    for (int64_t b = 0; b < last; ++b)
      count += runs(b);
    if (count == last || !gathered)
      return run(A, lda, C, ldc, last);
    for (int64_t b = 0, q = 0; b < B; ++b)
      if (runs(b))
        std::copy(A + b * lda, A + b * lda + K, gathered + q++ * lda);
    run(gathered, lda, C, ldc, count);
    // (the last first: rows move towards the back, and none is read after
    // it is written)
    for (int64_t b = B - 1, q = count; b >= 0; --b)
      if (runs(b) && --q != b)
        std::copy(C + q * ldc, C + q * ldc + N, C + b * ldc);
  }

  /// Prepares now for these leading dimensions (outside a parallel region
  /// the weights' reorder uses every thread; a cell on one thread would
  /// reorder them alone). Does nothing where nothing is prepared.
  void prepareFor(int64_t lda, int64_t ldc);

private:
  int64_t M, N, K, ldw;
  const T *W;
  bool kByN;
  GemmScratch<T> scratch;
#ifdef NNCC_USE_DNNL
  struct Prepared; // host only: bundles never allocate
  std::unique_ptr<Prepared> prepared;
  void prepare(int64_t lda, int64_t ldc);
#endif
};

} // namespace kernels
} // namespace nncc

#endif
