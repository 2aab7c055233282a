//===- ConvChoice.h - which convolution algorithm, shared by compiler and runtime -===//
//
// Header-only so that nn-layout (which decides the blocked layout) and the
// oneDNN kernel (which decides the algorithm) apply the same rule.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_RUNTIME_KERNELS_CONVCHOICE_H
#define NNCC_RUNTIME_KERNELS_CONVCHOICE_H

#include <cstdint>

namespace nncc {

/// Whether oneDNN's Winograd convolution is expected to beat the direct one
/// for a 2-D convolution of `spatial` = H * W input pixels, measured on this
/// CPU family (AVX-512, 2 threads): 3x3, stride 1, dilation 1, padding 1,
/// ungrouped, channel counts multiples of 16, transformed weights (16/9 of
/// the plain ones) of at most 8 MB, past which they fall out of cache, and
/// enough pixels per channel: at 27x27 and more it wins from 16 input
/// channels on (0.6-0.8x the direct time: ResNet's 64@56, 128@28, SqueezeNet's
/// 16->64@55, 32->128@27); at 14x14 only from 256 inputs (0.67x; 1.13x at
/// 128); at 13x13 (SqueezeNet's last fire modules) it loses (1.07-1.28x).
inline bool winogradPreferred(int64_t cin, int64_t cout, int64_t kh, int64_t kw, bool unitStridesAndDilations,
                              bool padsAreOne, int64_t group, int64_t spatial) {
  bool shape = kh == 3 && kw == 3 && unitStridesAndDilations && padsAreOne && group == 1 && cin % 16 == 0 &&
               cout % 16 == 0 && cin * cout * 16 * 4 <= (int64_t(8) << 20);
  return shape && (spatial >= 700 || (spatial >= 196 && cin >= 256));
}

} // namespace nncc

#endif
