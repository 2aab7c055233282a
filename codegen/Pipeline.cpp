//===- Pipeline.cpp - from nn to the LLVM dialect -------------------------===//
#include "codegen/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/Arithmetic/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace nncc {

void buildLoweringPipeline(OpPassManager &pm, bool reuseMemory, bool profile) {
  auto lower = createLowerNNPass();
  std::string options = std::string("reuse=") + (reuseMemory ? "true" : "false") +
                        " profile=" + (profile ? "true" : "false");
  (void)lower->initializeOptions(options);
  pm.addPass(std::move(lower));
  // One value per buffer view (an op written in place reads and writes the
  // same view, made twice): its loop body then gets one pointer for both,
  // and LLVM vectorizes it without alias checks that would fail.
  pm.addNestedPass<func::FuncOp>(createCSEPass());
  pm.addPass(createParallelizePass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addNestedPass<func::FuncOp>(arith::createArithmeticExpandOpsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createLowerToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

} // namespace nncc
