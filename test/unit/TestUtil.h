//===- TestUtil.h - helpers shared by the unit tests ------------*- C++ -*-===//
#ifndef NNCC_TEST_UNIT_TESTUTIL_H
#define NNCC_TEST_UNIT_TESTUTIL_H

#include "driver/Compiler.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

namespace nncc {
namespace test {

/// Parses `body` into a module of `ctx` with nncc's dialects loaded; null
/// when it does not parse (the parser's diagnostic is printed).
inline mlir::OwningOpRef<mlir::ModuleOp> parseModule(mlir::MLIRContext &ctx, llvm::StringRef body) {
  loadDialects(ctx);
  return mlir::parseSourceString<mlir::ModuleOp>(body, &ctx);
}

} // namespace test
} // namespace nncc

#endif
