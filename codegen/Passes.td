//===- Passes.td - code generation passes ------------------*- tablegen -*-===//
#ifndef NNCC_CODEGEN_PASSES_TD
#define NNCC_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerNN : Pass<"nncc-lower-nn", "::mlir::ModuleOp"> {
  let summary = "Lower nn ops to linalg, memref, scf and runtime kernel calls on buffers.";
  let description = [{
    Each function becomes `@f(inputs..., outputs..., %workspace, %weights)`
    on memrefs. Intermediates live in the workspace at the offsets of the
    memory plan; parameters are views of the weight blob, whose layout is
    recorded in `nncc.param_names` / `nncc.param_offsets`.
  }];
  let constructor = "::nncc::createLowerNNPass()";
  let dependentDialects = [
    "::mlir::arith::ArithmeticDialect", "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::nncc::nnk::NNKDialect"
  ];
  let options = [
    Option<"reuse", "reuse", "bool", /*default=*/"true",
           "Reuse the memory of dead intermediates">,
    Option<"profile", "profile", "bool", /*default=*/"false",
           "Time every op (nncc_profile_begin/end around it; names in nncc.profile_names)">,
  ];
}

def Parallelize : Pass<"nncc-parallelize", "::mlir::ModuleOp"> {
  let summary = "Outline generated linalg ops into shared nnk.parallel_for bodies.";
  let description = [{
    Each linalg op on buffers in a graph function that has a parallel loop
    every output indexes moves into a function over a slice [begin, end) of
    that loop, called through nnk.parallel_for: the runtime splits it across
    its thread pool when the work is worth it (and runs it on the calling
    thread otherwise, and always in bundles). The body takes the op's
    buffers, views included, at offset 0, so identical loops over different
    places of the arena (an unrolled RNN's steps, a stack's layers) share one
    function, compiled once. A loop with less work than `min-work` runs
    whole (count 1): its body keeps its static bounds.
  }];
  let constructor = "::nncc::createParallelizePass()";
  let dependentDialects = ["::mlir::arith::ArithmeticDialect", "::mlir::memref::MemRefDialect",
                           "::nncc::nnk::NNKDialect"];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"32768",
           "Loops whose iterations x body ops are below this run whole on the calling thread (count 1, "
           "static bounds)">,
  ];
  let statistics = [
    Statistic<"numOutlined", "num-outlined", "Ops moved into nnk.parallel_for bodies">,
    Statistic<"numBodies", "num-bodies", "Distinct body functions">,
  ];
}

def LowerToLLVM : Pass<"nncc-lower-to-llvm", "::mlir::ModuleOp"> {
  let summary = "Lower arith, cf, math, memref, func and nnk to the LLVM dialect; add entry points.";
  let description = [{
    Functions use the bare-pointer calling convention. For every function
    `@f` an entry point `int f_run(void **inputs, void **outputs, void
    *workspace, void *weights)` is added, and `nnk.call` becomes a call to
    the kernel with a pointer to its meta array.
  }];
  let constructor = "::nncc::createLowerToLLVMPass()";
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif
