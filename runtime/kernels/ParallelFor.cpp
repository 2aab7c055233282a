//===- ParallelFor.cpp - the runtime side of nnk.parallel_for -------------===//
#include "runtime/kernels/Parallel.h"

#include <cstdint>

/// Runs body(buffers, begin, end) over chunks of [0, count) on the kernels'
/// thread pool (one chunk per thread; serially in bundles).
extern "C" void nncc_parallel_for(void (*body)(void **, int64_t, int64_t), void **buffers, int64_t count,
                                  int64_t cost) {
  nncc::kernels::parallelFor(count, cost, [&](int64_t begin, int64_t end) { body(buffers, begin, end); });
}
