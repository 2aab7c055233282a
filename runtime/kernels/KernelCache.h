//===- KernelCache.h - per-call-site state of host kernels ------*- C++ -*-===//
//
// Host kernels backed by oneDNN keep a primitive (and reordered constant
// weights) per call site. The key is the call's meta array content plus the
// weight buffer's address, so two compiled graphs never share an entry by
// accident; `nncc_kernel_cache_clear` drops everything when a compiled graph
// is destroyed (its buffers may be reused).
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_RUNTIME_KERNELS_KERNELCACHE_H
#define NNCC_RUNTIME_KERNELS_KERNELCACHE_H

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace nncc {
namespace kernels {

struct CachedKernel {
  virtual ~CachedKernel() = default;
};

class KernelCache {
public:
  /// The entry for (meta[0, length), weights), created by `make` on first use.
  template <typename T>
  T *get(const int64_t *meta, int64_t length, const void *weights,
         const std::function<std::unique_ptr<T>()> &make) {
    std::string key = keyOf(meta, length, weights);
    std::lock_guard<std::mutex> lock(mutex);
    auto it = entries.find(key);
    if (it != entries.end())
      return static_cast<T *>(it->second.get());
    std::unique_ptr<T> made = make();
    T *raw = made.get();
    entries.emplace(std::move(key), std::move(made));
    return raw;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex);
    entries.clear();
  }

private:
  static std::string keyOf(const int64_t *meta, int64_t length, const void *weights);
  std::mutex mutex;
  std::map<std::string, std::unique_ptr<CachedKernel>> entries;
};

KernelCache &kernelCache();

} // namespace kernels
} // namespace nncc

extern "C" void nncc_kernel_cache_clear(void);

#endif
