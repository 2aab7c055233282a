//===- Threads.cpp --------------------------------------------------------===//
#include "runtime/Threads.h"
#include "runtime/kernels/Parallel.h"

namespace nncc {

void setNumThreads(int n) {
#ifdef NNCC_HOST_THREADS
  if (n > 0)
    omp_set_num_threads(n);
#else
  (void)n;
#endif
}

int numThreads() {
#ifdef NNCC_HOST_THREADS
  return omp_get_max_threads();
#else
  return 1;
#endif
}

} // namespace nncc
