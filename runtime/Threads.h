//===- Threads.h - the runtime's worker threads -----------------*- C++ -*-===//
//
// Kernels of the host runtime parallelize with OpenMP (the threading runtime
// Debian's oneDNN uses too, so both share one pool). Bundles are built
// without it and run on the calling thread.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_RUNTIME_THREADS_H
#define NNCC_RUNTIME_THREADS_H

namespace nncc {

/// Threads kernels may use (1 = the calling thread only). 0 leaves the
/// default (all cores).
void setNumThreads(int n);
int numThreads();
/// Every parallel region gets the full team (no OMP_DYNAMIC adjustment);
/// called before each run of a compiled graph.
void useFullThreadTeams();

} // namespace nncc

#endif
