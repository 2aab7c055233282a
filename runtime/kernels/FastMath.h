//===- FastMath.h - vectorizable exp, sigmoid and tanh ----------*- C++ -*-===//
//
// Branch-free float approximations the compiler vectorizes (AVX-512 on the
// host, NEON in bundles), accurate to a few ulp: the recurrent cells' gates
// spend most of their time here.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_RUNTIME_KERNELS_FASTMATH_H
#define NNCC_RUNTIME_KERNELS_FASTMATH_H

#include <cstdint>
#include <cstring>

/// On x86-64 hosts, a function marked NNCC_VECTOR_CLONES is built for
/// AVX-512, AVX2 and the baseline, the loader picking one for the CPU;
/// bundles get the baseline (NEON on AArch64).
#if defined(NNCC_HOST_THREADS) && defined(__x86_64__) && defined(__ELF__)
#define NNCC_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NNCC_VECTOR_CLONES
#endif

namespace nncc {
namespace kernels {

/// e^x for float: range reduction x = n ln2 + r, |r| <= ln2/2, then a degree-6
/// polynomial for e^r scaled by 2^n through the exponent bits.
inline float fastExp(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  // n = round(x / ln2) by the 1.5 * 2^23 trick: plain adds, so the loop
  // vectorizes on any SSE2/NEON baseline (floorf needs SSE4.1 or a libm call).
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline float fastSigmoid(float x) { return 1.0f / (1.0f + fastExp(-x)); }

/// tanh from e^{2x}; near zero its Taylor series keeps the relative accuracy.
inline float fastTanh(float x) {
  float e = fastExp(2.0f * x);
  float viaExp = (e - 1.0f) / (e + 1.0f);
  float x2 = x * x;
  float series = x * (1.0f - x2 * (0.333333333f - x2 * 0.133333333f));
  return (x2 < 0.0025f) ? series : viaExp;
}

} // namespace kernels
} // namespace nncc

#endif
