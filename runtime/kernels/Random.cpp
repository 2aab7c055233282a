//===- Random.cpp - counter-based uniform random numbers ------------------===//
//
// nncc_random_uniform fills a tensor with uniform numbers in [low, high).
// Element i of draw r is a hash of (seed, stream, r, i) (SplitMix64's
// finalizer, chained): no generator state but the op's draw counter, a
// one-element buffer of the compiled module that each call advances, so
// every run draws anew and a fresh compilation of a model whose random ops
// have seeds repeats the same draws.
// The elements are independent, so the fill splits across threads with
// the same result for any thread count.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/Meta.h"
#include "runtime/kernels/Parallel.h"

#include <cstdint>

using namespace nncc::kernels;

namespace {

inline uint64_t mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

template <typename T> void fill(T *y, int64_t n, uint64_t key, double low, double high) {
  // The top 24 (float) or 53 (double) bits: exactly representable, < 1.
  constexpr int bits = sizeof(T) == 4 ? 24 : 53;
  constexpr double unit = 1.0 / (double)(uint64_t(1) << bits);
  T lo = (T)low, span = (T)(high - low);
  parallelFor(n, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      T u = (T)((double)(mix(key ^ mix((uint64_t)i)) >> (64 - bits)) * unit);
      T v = lo + span * u;
      y[i] = v < (T)high || span == 0 ? v : lo; // (rounding must not reach high)
    }
  });
}

} // namespace

extern "C" NNCC_KERNEL(nncc_random_uniform) {
  Meta m(meta, buffers);
  TensorArg y = m.tensor(), draws = m.tensor();
  uint64_t seed = (uint64_t)m.i(), stream = (uint64_t)m.i();
  double low = m.f(), high = m.f();
  // (atomic: a bundle's NAME_run may run on several threads at once)
  uint64_t draw = (uint64_t)__atomic_fetch_add(draws.as<int64_t>(), 1, __ATOMIC_RELAXED);
  uint64_t key = mix(seed ^ mix(stream ^ mix(draw)));
  dispatchFloat(y.dtype, [&](auto t) { fill(y.as<decltype(t)>(), y.numel(), key, low, high); });
}
