//===- Jit.h - compiling an LLVM-dialect module in-process ------*- C++ -*-===//
#ifndef NNCC_CODEGEN_JIT_H
#define NNCC_CODEGEN_JIT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace mlir {
class ExecutionEngine;
}

namespace nncc {

/// int entry(void **inputs, void **outputs, void *workspace, void *weights)
using EntryFunction = int (*)(void **, void **, void *, void *);

class JitModule {
public:
  ~JitModule();
  /// Translates to LLVM IR, optimizes at `optLevel` for the host CPU and
  /// links the runtime kernels. The module must be in the LLVM dialect.
  static llvm::Expected<std::unique_ptr<JitModule>> compile(mlir::ModuleOp module, unsigned optLevel);
  llvm::Expected<EntryFunction> lookupEntry(llvm::StringRef graphName);

private:
  std::unique_ptr<mlir::ExecutionEngine> engine;
};

} // namespace nncc

#endif
