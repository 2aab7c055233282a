//===- nncc-opt.cpp - MlirOptMain with the nn dialect and nncc passes -----===//
#include "codegen/Passes.h"
#include "ir/NNDialect.h"
#include "passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  mlir::registerConversionPasses();
  mlir::registerLinalgPasses();
  nncc::registerNNPasses();
  nncc::registerNNCodegenPasses();

  mlir::DialectRegistry registry;
  registry.insert<nncc::nn::NNDialect, nncc::nnk::NNKDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithmeticDialect, mlir::linalg::LinalgDialect, mlir::memref::MemRefDialect,
                  mlir::scf::SCFDialect, mlir::math::MathDialect, mlir::LLVM::LLVMDialect,
                  mlir::cf::ControlFlowDialect, mlir::AffineDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "nncc optimizer driver: the nn dialect and every nncc pass\n", registry));
}
