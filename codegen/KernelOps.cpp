//===- KernelOps.cpp ------------------------------------------------------===//
#include "codegen/KernelOps.h"

using namespace mlir;
using namespace nncc::nnk;

#include "codegen/KernelOpsDialect.cpp.inc"

void NNKDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "codegen/KernelOps.cpp.inc"
      >();
}

#define GET_OP_CLASSES
#include "codegen/KernelOps.cpp.inc"
