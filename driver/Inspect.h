//===- Inspect.h - the assembly log of a compiled graph ---------*- C++ -*-===//
//
// `nncc inspect`: the graph after the graph passes, op by op as Caffe logs
// a net's assembly (inputs -> outputs, shapes, where each buffer lives, the
// memory required so far, buffers written in place or reusing dead ones),
// then the planned peak against the sum of all intermediates.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_DRIVER_INSPECT_H
#define NNCC_DRIVER_INSPECT_H

#include "driver/Compiler.h"

#include "llvm/Support/raw_ostream.h"

namespace nncc {

struct InspectSummary {
  int64_t ops = 0;              ///< ops after the graph passes (not counting views)
  int64_t arenaBytes = 0;       ///< planned peak of the intermediates
  int64_t intermediateBytes = 0; ///< their sum without any reuse
  int64_t scratchBytes = 0;     ///< kernels' scratch (after the arena)
  int64_t weightBytes = 0;
  int64_t inPlace = 0;          ///< results written over a dying operand
  int64_t reused = 0;           ///< buffers placed over memory of dead ones
};

/// Imports `model`, runs the graph passes and the memory plan, and writes
/// the assembly log to `os`.
bool inspectOnnx(const onnx::ModelProto &model, const ImportOptions &importOptions, const CompileOptions &options,
                 llvm::raw_ostream &os, InspectSummary &summary, std::string &error);

/// The same for a module holding one graph function (consumed: the passes
/// run on it), for example a training step.
bool inspectModule(mlir::ModuleOp module, const CompileOptions &options, llvm::raw_ostream &os,
                   InspectSummary &summary, std::string &error);

} // namespace nncc

#endif
