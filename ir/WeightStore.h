//===- WeightStore.h - data of nn.param ops ---------------------*- C++ -*-===//
//
// Weights stay out of the IR: an `nn.param "name"` op refers to an entry of
// the weight store owned by the nn dialect of its MLIRContext. Code generation
// lays the entries out in one blob handed to the kernels; training updates the
// blob in place and writes it back here.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_IR_WEIGHTSTORE_H
#define NNCC_IR_WEIGHTSTORE_H

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace nncc {
namespace nn {

class WeightStore {
public:
  using Bytes = std::vector<uint8_t>;

  /// Set (or replace) the bytes of `name`: dense, row-major, native endian.
  void set(llvm::StringRef name, Bytes bytes);
  /// The bytes of `name`, or null when the store has none.
  const Bytes *lookup(llvm::StringRef name) const;
  /// A name not used yet, derived from `base`.
  std::string uniqueName(llvm::StringRef base);
  size_t size() const { return entries.size(); }
  void clear() { entries.clear(); }

private:
  llvm::StringMap<std::shared_ptr<Bytes>> entries;
  mutable std::mutex mutex;
};

} // namespace nn
} // namespace nncc

#endif
