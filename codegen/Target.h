//===- Target.h - target machines and object files --------------*- C++ -*-===//
#ifndef NNCC_CODEGEN_TARGET_H
#define NNCC_CODEGEN_TARGET_H

#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>

namespace llvm {
class Module;
}

namespace nncc {

/// A resolved target: "arm" -> aarch64-unknown-linux-gnu, and so on.
struct TargetSpec {
  std::string triple;
  std::string cpu;      ///< empty: the target's baseline
  std::string features; ///< e.g. "+neon"
  std::string arch;     ///< "aarch64", "x86_64", ... (names the prebuilt runtime)
};

/// Resolves a -target value (arm, arm64, aarch64, x86, x86_64 or an LLVM
/// triple) and -mcpu (a CPU of that target, or `native` on the host).
/// Errors list what is accepted.
bool resolveTarget(const std::string &target, const std::string &cpu, TargetSpec &spec, std::string &error);

/// A TargetMachine for `spec` at optimization level 0-3.
std::unique_ptr<llvm::TargetMachine> createTargetMachine(const TargetSpec &spec, unsigned optLevel,
                                                         std::string &error);

/// LLVM's optimization pipeline at `optLevel` for `tm`, vectorizing for its
/// vector units; without full loop unrolling, which on generated code costs
/// seconds of compile time for little run time.
llvm::Error optimizeModule(llvm::Module &module, unsigned optLevel, llvm::TargetMachine *tm);

/// Optimizes `module` for `tm` (vectorizing for its vector units) and
/// returns the object file bytes.
bool emitObject(llvm::Module &module, llvm::TargetMachine &tm, unsigned optLevel, std::string &object,
                std::string &error);

} // namespace nncc

#endif
