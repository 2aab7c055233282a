//===- KernelCall.h - building nnk.call with its meta array -----*- C++ -*-===//
//
// The writer side of the kernel ABI. A tensor operand is encoded in meta as
// (dtype, rank, dims...) and its buffer appended to the call's operands, in
// the order the kernel reads them (runtime/kernels/Meta.h).
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_CODEGEN_KERNELCALL_H
#define NNCC_CODEGEN_KERNELCALL_H

#include "codegen/KernelOps.h"

#include "mlir/IR/Builders.h"
#include <cstring>
#include <functional>

namespace nncc {
namespace codegen {

/// Unit attribute on the module: the code links the portable kernels (a
/// bundle), so scratch is sized for them rather than the host runtime's.
constexpr const char *kPortableKernelsAttr = "nncc.portable_kernels";

class KernelCall {
public:
  explicit KernelCall(llvm::StringRef name) : name(name.str()) {}

  /// A tensor: element type of the nn value (for signedness) and its buffer.
  KernelCall &tensor(mlir::Value buffer, mlir::Type nnElementType);
  /// An absent optional tensor (dtype 0, no buffer).
  KernelCall &none() {
    meta.push_back(0);
    return *this;
  }
  KernelCall &i(int64_t v) {
    meta.push_back(v);
    return *this;
  }
  KernelCall &ints(llvm::ArrayRef<int64_t> v) {
    meta.push_back((int64_t)v.size());
    meta.append(v.begin(), v.end());
    return *this;
  }
  /// A double, bit-cast into one int64 slot.
  KernelCall &f(double v) {
    int64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    meta.push_back(bits);
    return *this;
  }
  KernelCall &str(llvm::StringRef s);

  /// Emits the call; when the kernel needs scratch, `scratch(bytes)` gives
  /// the buffer (a slice of the workspace) appended as its last operand.
  void emit(mlir::OpBuilder &b, mlir::Location loc,
            const std::function<mlir::Value(int64_t bytes)> &scratch);

private:
  std::string name;
  llvm::SmallVector<int64_t, 32> meta;
  llvm::SmallVector<mlir::Value, 6> buffers;
};

} // namespace codegen
} // namespace nncc

#endif
