//===- WeightStore.cpp ----------------------------------------------------===//
#include "ir/WeightStore.h"

#include <string>

using namespace nncc::nn;

void WeightStore::set(llvm::StringRef name, Bytes bytes) {
  std::lock_guard<std::mutex> lock(mutex);
  entries[name] = std::make_shared<Bytes>(std::move(bytes));
}

const WeightStore::Bytes *WeightStore::lookup(llvm::StringRef name) const {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = entries.find(name);
  return it == entries.end() ? nullptr : it->second.get();
}

std::string WeightStore::uniqueName(llvm::StringRef base) {
  std::lock_guard<std::mutex> lock(mutex);
  if (!entries.count(base))
    return base.str();
  for (unsigned i = 1;; ++i) {
    std::string name = base.str() + "." + std::to_string(i);
    if (!entries.count(name))
      return name;
  }
}
