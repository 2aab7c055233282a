//===- Jit.cpp ------------------------------------------------------------===//
#include "codegen/Jit.h"
#include "codegen/Target.h"
#include "runtime/kernels/Kernels.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;

namespace nncc {

JitModule::~JitModule() = default;

llvm::Expected<std::unique_ptr<JitModule>> JitModule::compile(ModuleOp module, unsigned optLevel) {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;
  registerLLVMDialectTranslation(*module.getContext());

  auto tmBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!tmBuilder)
    return tmBuilder.takeError();
  tmBuilder->setCodeGenOptLevel(optLevel >= 2 ? llvm::CodeGenOpt::Aggressive : llvm::CodeGenOpt::Default);
  auto tm = tmBuilder->createTargetMachine();
  if (!tm)
    return tm.takeError();

  ExecutionEngineOptions options;
  llvm::TargetMachine *machine = tm->get();
  // ExecutionEngineOptions::transformer is a function_ref: the callable must
  // outlive ExecutionEngine::create, so it is a named local, not a temporary.
  auto transformer = [optLevel, machine](llvm::Module *m) { return optimizeModule(*m, optLevel, machine); };
  options.transformer = transformer;
  options.jitCodeGenOptLevel = optLevel >= 2 ? llvm::CodeGenOpt::Aggressive : llvm::CodeGenOpt::Default;
  options.enableGDBNotificationListener = false;
  options.enablePerfNotificationListener = false;
  auto engine = ExecutionEngine::create(module, options);
  if (!engine)
    return engine.takeError();
  (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap map;
    for (const KernelSymbol *k = kernelSymbols(); k->name; ++k)
      map[interner(k->name)] = llvm::JITEvaluatedSymbol::fromPointer(k->address);
    return map;
  });
  auto jit = std::unique_ptr<JitModule>(new JitModule());
  jit->engine = std::move(*engine);
  return jit;
}

llvm::Expected<EntryFunction> JitModule::lookupEntry(llvm::StringRef graphName) {
  auto fn = engine->lookup((graphName + "_entry").str());
  if (!fn)
    return fn.takeError();
  return reinterpret_cast<EntryFunction>(*fn);
}

} // namespace nncc
