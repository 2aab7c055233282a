//===- Passes.h - graph-level passes on the nn dialect ----------*- C++ -*-===//
#ifndef NNCC_PASSES_PASSES_H
#define NNCC_PASSES_PASSES_H

#include "ir/NNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace nncc {

std::unique_ptr<mlir::Pass> createInferShapesPass();
std::unique_ptr<mlir::Pass> createDecomposePass();
std::unique_ptr<mlir::Pass> createPlanMemoryPass();
std::unique_ptr<mlir::Pass> createLayoutPass();
std::unique_ptr<mlir::Pass> createFusePass();
std::unique_ptr<mlir::Pass> createFuseElementwisePass();
std::unique_ptr<mlir::Pass> createAutodiffPass();
std::unique_ptr<mlir::Pass> createExpandGradientsPass();
std::unique_ptr<mlir::Pass> createUnrollRecurrentPass();
std::unique_ptr<mlir::Pass> createUnrollRecurrentPass(int64_t maxSteps);
std::unique_ptr<mlir::Pass> createStackRecurrentPass();
std::unique_ptr<mlir::Pass> createStackRecurrentPass(const std::string &schedule, int64_t maxParallel);

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace nncc

#endif
