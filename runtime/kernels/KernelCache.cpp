//===- KernelCache.cpp ----------------------------------------------------===//
#include "runtime/kernels/KernelCache.h"
#include "runtime/kernels/RecurrentGemm.h"

#include <cstring>

namespace nncc {
namespace kernels {

std::string KernelCache::keyOf(const int64_t *meta, int64_t length, const void *weights) {
  std::string key((const char *)&weights, sizeof weights);
  key.append((const char *)meta, length * sizeof(int64_t));
  return key;
}

KernelCache &kernelCache() {
  static KernelCache cache;
  return cache;
}

} // namespace kernels
} // namespace nncc

extern "C" void nncc_kernel_cache_clear(void) {
  nncc::kernels::kernelCache().clear();
  nncc::kernels::releaseWeightBuffers();
}
