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
/// for a 2-D convolution, measured on this CPU family (AVX-512): 3x3,
/// stride 1, dilation 1, padding 1, ungrouped, channel counts multiples of
/// 16, at least 64 inputs and at most twice as many outputs (0.6-0.7x the
/// direct kernel's time for ResNet's 64..256-channel layers; slower for
/// SqueezeNet's 4x-expanding layers), and transformed weights (16/9 of the
/// plain ones) of at most 8 MB, past which they fall out of cache.
inline bool winogradPreferred(int64_t cin, int64_t cout, int64_t kh, int64_t kw, bool unitStridesAndDilations,
                              bool padsAreOne, int64_t group) {
  return kh == 3 && kw == 3 && unitStridesAndDilations && padsAreOne && group == 1 && cin % 16 == 0 &&
         cout % 16 == 0 && cin >= 64 && cout <= 2 * cin && cin * cout * 16 * 4 <= (int64_t(8) << 20);
}

} // namespace nncc

#endif
