//===- RecurrentSegments.h - segment lengths, shared by autodiff and runtime -===//
//
// Header-only so that autodiff (which lays out the states an LSTM's forward
// saves before each segment of its backward) and the backward kernel (which
// walks those segments) apply the same rule.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_RUNTIME_KERNELS_RECURRENTSEGMENTS_H
#define NNCC_RUNTIME_KERNELS_RECURRENTSEGMENTS_H

#include <algorithm>
#include <cstdint>

namespace nncc {

/// Steps per segment under recompute-gates: a GEMM-sized handful of steps
/// (about 256 rows of B), so that the recomputing GEMMs and the weight
/// gradients' GEMMs over a segment stay efficient while the segment's
/// pre-activations stay small.
inline int64_t recomputeSegmentSteps(int64_t T, int64_t B) {
  return std::max<int64_t>(1, std::min<int64_t>(std::max<int64_t>(T, 1), 256 / std::max<int64_t>(B, 1)));
}

/// Steps per segment under checkpoint: ceil(sqrt(T)), which keeps about
/// 2 sqrt(T) states live.
inline int64_t checkpointSegmentSteps(int64_t T) {
  int64_t S = 1;
  while (S * S < T)
    ++S;
  return S;
}

} // namespace nncc

#endif
