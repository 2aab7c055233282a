//===- NNDialect.h - the nn dialect -----------------------------*- C++ -*-===//
#ifndef NNCC_IR_NNDIALECT_H
#define NNCC_IR_NNDIALECT_H

#include "mlir/IR/Dialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "ir/WeightStore.h"

#include "ir/NNOpsDialect.h.inc"

#endif
