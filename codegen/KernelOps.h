//===- KernelOps.h - the nnk dialect ----------------------------*- C++ -*-===//
#ifndef NNCC_CODEGEN_KERNELOPS_H
#define NNCC_CODEGEN_KERNELOPS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"

#include "codegen/KernelOpsDialect.h.inc"

#define GET_OP_CLASSES
#include "codegen/KernelOps.h.inc"

#endif
