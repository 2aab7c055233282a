//===- KernelCall.cpp -----------------------------------------------------===//
#include "codegen/KernelCall.h"
#include "codegen/Lowering.h"

#include "ir/ShapeUtils.h"
#include "runtime/kernels/Kernels.h"

using namespace mlir;

namespace nncc {
namespace codegen {

KernelCall &KernelCall::tensor(Value buffer, Type nnElementType) {
  auto t = buffer.getType().cast<MemRefType>();
  meta.push_back(nn::onnxDataType(nnElementType));
  meta.push_back(t.getRank());
  meta.append(t.getShape().begin(), t.getShape().end());
  buffers.push_back(buffer);
  return *this;
}

KernelCall &KernelCall::str(StringRef s) {
  meta.push_back((int64_t)s.size());
  for (char c : s)
    meta.push_back((unsigned char)c);
  return *this;
}

void KernelCall::emit(OpBuilder &b, Location loc, const std::function<Value(int64_t)> &scratch) {
  Operation *parent = b.getInsertionBlock()->getParentOp();
  auto module = parent->getParentOfType<ModuleOp>();
  bool portable = module && module->hasAttr(kPortableKernelsAttr);
  int64_t bytes = kernelScratchBytes(name.c_str(), meta.data(), portable);
  if (bytes > 0)
    tensor(scratch(bytes), b.getIntegerType(8, /*isSigned=*/false));
  else
    none();
  b.create<nnk::CallOp>(loc, b.getStringAttr(name), buffers, b.getI64ArrayAttr(meta));
}

} // namespace codegen
} // namespace nncc
