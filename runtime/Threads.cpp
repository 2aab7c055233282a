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

void useFullThreadTeams() {
#ifdef NNCC_HOST_THREADS
  // oneDNN splits its work for omp_get_max_threads() threads: a smaller
  // team (OMP_DYNAMIC=true) would leave parts of its results uncomputed.
  omp_set_dynamic(0);
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
