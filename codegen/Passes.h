//===- Passes.h - code generation passes ------------------------*- C++ -*-===//
#ifndef NNCC_CODEGEN_PASSES_H
#define NNCC_CODEGEN_PASSES_H

#include "codegen/KernelOps.h"

#include "mlir/Dialect/Arithmetic/IR/Arithmetic.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace nncc {

std::unique_ptr<mlir::Pass> createLowerNNPass();
std::unique_ptr<mlir::Pass> createParallelizePass();
std::unique_ptr<mlir::Pass> createLowerToLLVMPass();

#define GEN_PASS_REGISTRATION
#include "codegen/Passes.h.inc"

/// Adds the passes from nn (after the graph passes) to the LLVM dialect.
void buildLoweringPipeline(mlir::OpPassManager &pm, bool reuseMemory = true, bool profile = false);

} // namespace nncc

#endif
