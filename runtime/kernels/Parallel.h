//===- Parallel.h - splitting kernel loops across threads -------*- C++ -*-===//
//
// On the host, kernels share the GNU OpenMP thread pool that Debian's oneDNN
// runs on (calling libgomp's ABI directly, so any compiler works and there is
// one pool, not two competing for the cores). Bundles are built without
// NNCC_HOST_THREADS and run every loop on the calling thread.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_RUNTIME_KERNELS_PARALLEL_H
#define NNCC_RUNTIME_KERNELS_PARALLEL_H

#include <cstdint>

#ifdef NNCC_HOST_THREADS
extern "C" {
void GOMP_parallel(void (*fn)(void *), void *data, unsigned numThreads, unsigned flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_get_max_threads(void);
int omp_in_parallel(void);
void omp_set_num_threads(int);
void omp_set_dynamic(int);
}
#endif

namespace nncc {
namespace kernels {

/// Calls f(begin, end) on disjoint chunks covering [0, n), in parallel when
/// the work (n * costPerItem, in rough operations) is worth the threads and
/// the caller is not already one of a parallel region's threads (a stack's
/// cell, a direction run beside the other: then inline, without opening a
/// one-thread team per call).
/// Every chunk boundary depends only on n and the thread count, and each
/// item is computed by one thread, so results do not depend on timing.
template <typename F> void parallelFor(int64_t n, int64_t costPerItem, F &&f) {
#ifdef NNCC_HOST_THREADS
  int threads = omp_get_max_threads();
  if (threads > 1 && n > 1 && n * costPerItem >= 32768 && !omp_in_parallel()) {
    struct Context {
      F *f;
      int64_t n;
    } ctx{&f, n};
    GOMP_parallel(
        [](void *p) {
          auto *c = static_cast<Context *>(p);
          int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
          int64_t begin = c->n * t / T, end = c->n * (t + 1) / T;
          if (begin < end)
            (*c->f)(begin, end);
        },
        &ctx, 0, 0);
    return;
  }
#else
  (void)costPerItem;
#endif
  if (n > 0)
    f(int64_t(0), n);
}

} // namespace kernels
} // namespace nncc

#endif
