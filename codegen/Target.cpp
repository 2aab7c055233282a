//===- Target.cpp ---------------------------------------------------------===//
#include "codegen/Target.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Triple.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/Host.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

namespace nncc {

static void initTargets() {
  static bool done = [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
    return true;
  }();
  (void)done;
}

bool resolveTarget(const std::string &target, const std::string &cpu, TargetSpec &spec, std::string &error) {
  initTargets();
  std::string t = llvm::StringRef(target).lower();
  if (t == "arm" || t == "arm64" || t == "aarch64")
    spec.triple = "aarch64-unknown-linux-gnu";
  else if (t == "x86" || t == "x86_64" || t == "x86-64" || t == "host" && llvm::StringRef(llvm::sys::getProcessTriple()).startswith("x86_64"))
    spec.triple = "x86_64-unknown-linux-gnu";
  else if (t == "host")
    spec.triple = llvm::sys::getProcessTriple();
  else
    spec.triple = llvm::Triple::normalize(target);
  std::string lookupError;
  const llvm::Target *tgt = llvm::TargetRegistry::lookupTarget(spec.triple, lookupError);
  llvm::Triple triple(spec.triple);
  if (!tgt || triple.getArch() == llvm::Triple::UnknownArch) {
    error = "unknown target '" + target + "'; accepted: arm, arm64, aarch64 (AArch64 Linux), x86, x86_64, host, "
            "or an LLVM triple of a registered target (";
    bool first = true;
    for (const auto &r : llvm::TargetRegistry::targets()) {
      error += (first ? "" : ", ") + std::string(r.getName());
      first = false;
    }
    error += "), for example aarch64-linux-gnu or riscv64-linux-gnu";
    return false;
  }
  spec.arch = triple.getArchName().str();
  if (spec.arch == "arm64")
    spec.arch = "aarch64";
  spec.cpu = cpu;
  if (cpu == "native") {
    llvm::Triple host(llvm::sys::getProcessTriple());
    if (host.getArch() != triple.getArch()) {
      error = "-mcpu=native names this machine's CPU, which is not a " + spec.arch + " CPU; give the device's CPU";
      return false;
    }
    spec.cpu = llvm::sys::getHostCPUName().str();
    llvm::StringMap<bool> features;
    if (llvm::sys::getHostCPUFeatures(features)) {
      std::vector<std::string> list;
      for (auto &kv : features)
        list.push_back((kv.second ? "+" : "-") + kv.getKey().str());
      spec.features = llvm::join(list, ",");
    }
  }
  if (!spec.cpu.empty()) {
    std::unique_ptr<llvm::MCSubtargetInfo> sti(tgt->createMCSubtargetInfo(spec.triple, "", ""));
    if (sti && !sti->isCPUStringValid(spec.cpu)) {
      static const char *known[] = {"generic", "cortex-a53", "cortex-a55", "cortex-a57", "cortex-a72", "cortex-a73",
                                    "cortex-a76", "cortex-a78", "cortex-x1", "neoverse-n1", "neoverse-n2",
                                    "neoverse-v1", "apple-m1", "carmel", "x86-64", "x86-64-v2", "x86-64-v3",
                                    "x86-64-v4", "haswell", "skylake", "skylake-avx512", "icelake-server",
                                    "sapphirerapids", "znver2", "znver3", "znver4"};
      error = "unknown CPU '" + spec.cpu + "' for " + spec.arch + "; accepted include:";
      for (const char *k : known)
        if (sti->isCPUStringValid(k))
          error += std::string(" ") + k;
      error += ", and native on the host (all: llc -mtriple=" + spec.triple + " -mcpu=help)";
      return false;
    }
  }
  return true;
}

std::unique_ptr<llvm::TargetMachine> createTargetMachine(const TargetSpec &spec, unsigned optLevel,
                                                         std::string &error) {
  initTargets();
  std::string lookupError;
  const llvm::Target *tgt = llvm::TargetRegistry::lookupTarget(spec.triple, lookupError);
  if (!tgt) {
    error = lookupError;
    return nullptr;
  }
  llvm::TargetOptions options;
  auto level = optLevel == 0   ? llvm::CodeGenOpt::None
               : optLevel == 1 ? llvm::CodeGenOpt::Less
               : optLevel == 2 ? llvm::CodeGenOpt::Default
                               : llvm::CodeGenOpt::Aggressive;
  std::string cpu = spec.cpu.empty() ? (llvm::Triple(spec.triple).isX86() ? "x86-64" : "generic") : spec.cpu;
  std::unique_ptr<llvm::TargetMachine> tm(tgt->createTargetMachine(spec.triple, cpu, spec.features, options,
                                                                   llvm::Reloc::PIC_, llvm::None, level));
  if (!tm)
    error = "cannot create a target machine for " + spec.triple;
  return tm;
}

llvm::Error optimizeModule(llvm::Module &module, unsigned optLevel, llvm::TargetMachine *tm) {
  if (optLevel == 0)
    return llvm::Error::success();
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = false;
  tuning.LoopInterleaving = true;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(tm, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level = optLevel == 1   ? llvm::OptimizationLevel::O1
                                  : optLevel == 2 ? llvm::OptimizationLevel::O2
                                                  : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(level);
  mpm.run(module, mam);
  return llvm::Error::success();
}

bool emitObject(llvm::Module &module, llvm::TargetMachine &tm, unsigned optLevel, std::string &object,
                std::string &error) {
  module.setTargetTriple(tm.getTargetTriple().str());
  module.setDataLayout(tm.createDataLayout());
  if (llvm::Error e = optimizeModule(module, optLevel, &tm)) {
    error = "LLVM optimization failed: " + llvm::toString(std::move(e));
    return false;
  }
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, llvm::CGFT_ObjectFile)) {
    error = "the target cannot emit object files";
    return false;
  }
  pm.run(module);
  object.assign(buffer.begin(), buffer.end());
  return true;
}

} // namespace nncc
