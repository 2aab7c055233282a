//===- TestUtil.h - helpers shared by the unit tests ------------*- C++ -*-===//
#ifndef NNCC_TEST_UNIT_TESTUTIL_H
#define NNCC_TEST_UNIT_TESTUTIL_H

#include "driver/Compiler.h"

#include <cstdlib>
#include <optional>
#include <string>

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

namespace nncc {
namespace test {

/// Parses `body` into a module of `ctx` with nncc's dialects loaded; null
/// when it does not parse (the parser's diagnostic is printed).
inline mlir::OwningOpRef<mlir::ModuleOp> parseModule(mlir::MLIRContext &ctx, llvm::StringRef body) {
  loadDialects(ctx);
  return mlir::parseSourceString<mlir::ModuleOp>(body, &ctx);
}

/// Compiles the module text `body` in `ctx`; null, with a test failure,
/// when it does not parse or compile.
inline std::unique_ptr<Executable> compileText(mlir::MLIRContext &ctx, llvm::StringRef body,
                                               const CompileOptions &options) {
  auto module = parseModule(ctx, body);
  EXPECT_TRUE(module);
  if (!module)
    return nullptr;
  std::string error;
  auto exe = compileModule(*module, options, error);
  EXPECT_TRUE(exe) << error;
  return exe;
}

/// `exe`'s outputs for `inputs` (a test failure when the run fails).
inline std::vector<Tensor> runExecutable(Executable &exe, const std::vector<Tensor> &inputs) {
  std::vector<const Tensor *> in;
  for (auto &t : inputs)
    in.push_back(&t);
  std::vector<Tensor> out;
  std::string error;
  EXPECT_TRUE(exe.run(in, out, error)) << error;
  return out;
}

/// Sets an environment variable for its scope (restoring what it was).
class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : name(name) {
    if (const char *old = std::getenv(name))
      before = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (before)
      setenv(name, before->c_str(), 1);
    else
      unsetenv(name);
  }

private:
  const char *name;
  std::optional<std::string> before;
};

} // namespace test
} // namespace nncc

#endif
