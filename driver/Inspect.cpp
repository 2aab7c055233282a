//===- Inspect.cpp --------------------------------------------------------===//
#include "driver/Inspect.h"

#include "codegen/Passes.h"
#include "ir/NNDialect.h"
#include "ir/NNOps.h"
#include "ir/ShapeUtils.h"
#include "passes/MemoryPlan.h"
#include "passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Format.h"

#include <map>

using namespace mlir;

namespace nncc {

namespace {

std::string typeStr(Value v) {
  auto t = v.getType().cast<RankedTensorType>();
  return nn::typeName(t.getElementType()) + nn::shapeStr(t.getShape());
}

struct Log {
  llvm::raw_ostream &os;
  func::FuncOp func;
  const MemoryPlan &plan;
  llvm::DenseMap<Value, std::string> names;

  std::string nameOf(Value v) {
    v = plan.rootOf(v);
    auto it = names.find(v);
    return it == names.end() ? "?" : it->second;
  }

  void nameValues() {
    Block &body = func.getBody().front();
    for (BlockArgument a : body.getArguments()) {
      auto n = func.getArgAttrOfType<StringAttr>(a.getArgNumber(), "nn.name");
      names[a] = "'" + (n ? n.getValue().str() : "input_" + std::to_string(a.getArgNumber())) + "'";
    }
    int k = 0;
    for (Operation &op : body.without_terminator())
      for (Value r : op.getResults()) {
        if (auto p = dyn_cast<nn::ParamOp>(op))
          names[r] = p.getName().str();
        else if (isa<nn::ConstantOp>(op))
          names[r] = "const";
        else if (!isAliasOp(&op))
          names[r] = "%" + std::to_string(k++);
      }
  }

  void run(InspectSummary &s) {
    nameValues();
    Block &body = func.getBody().front();
    os << "graph @" << func.getName() << "\n";
    for (BlockArgument a : body.getArguments())
      os << "  input " << names[a] << " " << typeStr(a) << " (" << storageBytes(a) << " B, the caller's buffer)\n";

    // Placed buffers so far (offset range, value, op index freed after).
    struct Placed {
      int64_t begin, end;
      Value value;
    };
    std::vector<Placed> placed;
    llvm::DenseMap<Value, unsigned> lastUse;
    unsigned i = 0;
    for (Operation &op : body) {
      for (Value v : op.getOperands())
        lastUse[plan.rootOf(v)] = i;
      ++i;
    }
    int64_t peakSoFar = 0;
    i = 0;
    for (Operation &op : body.without_terminator()) {
      unsigned at = i++;
      if (isa<nn::ParamOp, nn::ConstantOp>(op) || isAliasOp(&op))
        continue;
      ++s.ops;
      std::string source = nn::sourceName(&op);
      os << "[" << llvm::format_decimal(s.ops - 1, 3) << "] " << (source.empty() ? "(unnamed)" : source) << " ("
         << op.getName().getStringRef() << ")\n";
      os << "      <-";
      for (auto it : llvm::enumerate(op.getOperands())) {
        Value v = it.value();
        os << (it.index() ? ", " : " ") << nameOf(v) << " " << typeStr(v);
        if (plan.rootOf(v) != v)
          os << " (view)";
      }
      os << "\n";
      for (Value r : op.getResults()) {
        const auto &p = plan.of(r);
        os << "      -> " << nameOf(r) << " " << typeStr(r) << ", " << storageBytes(r) << " B";
        switch (p.kind) {
        case MemoryPlan::Kind::Output:
          os << ", the caller's output " << p.index;
          break;
        case MemoryPlan::Kind::Input:
        case MemoryPlan::Kind::Constant:
          break;
        case MemoryPlan::Kind::Unused:
          os << ", unused: not computed, no memory";
          break;
        case MemoryPlan::Kind::Arena: {
          os << ", arena [" << p.offset << ", " << p.offset + p.bytes << ")";
          if (plan.concatInPlace.count(r)) {
            os << ", its inputs were computed inside it (no copy)";
          } else if (auto whole = plan.partOf.find(r); whole != plan.partOf.end()) {
            os << ", inside the buffer of " << nameOf(whole->second);
          } else if (auto in = plan.inPlaceOf.find(r); in != plan.inPlaceOf.end()) {
            os << ", in place of " << nameOf(in->second);
            ++s.inPlace;
          } else {
            // Memory that a dead buffer held before.
            SmallVector<std::string> over;
            for (const Placed &q : placed)
              if (q.begin < p.offset + p.bytes && p.offset < q.end && lastUse.lookup(q.value) < at)
                over.push_back(nameOf(q.value));
            if (!over.empty()) {
              ++s.reused;
              os << ", reuses the memory of " << over.front();
              for (size_t k = 1; k < over.size() && k < 4; ++k)
                os << ", " << over[k];
              if (over.size() > 4)
                os << ", ...";
            }
          }
          placed.push_back({p.offset, p.offset + p.bytes, r});
          peakSoFar = std::max(peakSoFar, (p.offset + p.bytes + 63) / 64 * 64);
          break;
        }
        }
        os << "\n";
      }
      os << "      memory required so far: " << peakSoFar << " B\n";
    }
    for (auto it : llvm::enumerate(body.getTerminator()->getOperands())) {
      os << "  output " << it.index() << " = " << nameOf(it.value()) << " " << typeStr(it.value());
      if (auto of = func.getResultAttrOfType<IntegerAttr>(it.index(), "nn.length_of")) {
        auto dim = func.getResultAttrOfType<IntegerAttr>(it.index(), "nn.length_dim");
        os << " (hidden: how many entries of output " << of.getInt() << " along dimension "
           << (dim ? dim.getInt() : 0) << " the run filled)";
      }
      if (auto within = func.getResultAttrOfType<IntegerAttr>(it.index(), "nn.rows_within"))
        os << " (hidden: a loop's iterations, saved in " << within.getInt()
           << " rows; more recompiles the step with more)";
      os << "\n";
    }
  }
};

} // namespace

bool inspectOnnx(const onnx::ModelProto &model, const ImportOptions &importOptions, const CompileOptions &options,
                 llvm::raw_ostream &os, InspectSummary &summary, std::string &error) {
  MLIRContext ctx;
  loadDialects(ctx);
  auto module = importOnnxModel(ctx, model, importOptions, error);
  if (!module)
    return false;
  return inspectModule(*module, options, os, summary, error);
}

bool inspectModule(ModuleOp module, const CompileOptions &options, llvm::raw_ostream &os, InspectSummary &summary,
                   std::string &error) {
  MLIRContext &ctx = *module.getContext();
  std::string diag;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error)
      diag += (diag.empty() ? "" : "\n") + d.str();
    return success();
  });
  PassManager pm(&ctx, PassManager::Nesting::Implicit);
  buildGraphPipeline(pm, options);
  if (!configureInstrumentation(pm, options, error))
    return false;
  if (failed(pm.run(module))) {
    error = diag.empty() ? "the graph passes failed" : diag;
    return false;
  }
  auto funcs = llvm::to_vector(module.getOps<func::FuncOp>());
  if (funcs.size() != 1) {
    error = "expected one graph function";
    return false;
  }
  func::FuncOp fn = funcs.front();
  MemoryPlan plan = planMemory(fn, options.reuseMemory);
  Log log{os, fn, plan, llvm::DenseMap<Value, std::string>()};
  log.run(summary);
  summary.arenaBytes = plan.arenaBytes;
  summary.intermediateBytes = plan.totalBytes;

  // Kernel scratch and weights: known once the ops are lowered.
  PassManager lower(&ctx, PassManager::Nesting::Implicit);
  auto lowerNN = createLowerNNPass();
  (void)lowerNN->initializeOptions(options.reuseMemory ? "reuse=true" : "reuse=false");
  lower.addPass(std::move(lowerNN));
  if (failed(lower.run(module))) {
    error = diag.empty() ? "lowering failed" : diag;
    return false;
  }
  // The workspace as lowered: the arena, loop bodies' arenas, then scratch.
  int64_t workspaceBytes = summary.arenaBytes;
  for (auto f : module.getOps<func::FuncOp>())
    if (auto s = f->getAttrOfType<IntegerAttr>("nncc.scratch_bytes")) {
      summary.scratchBytes = s.getInt();
      summary.weightBytes = f->getAttrOfType<IntegerAttr>("nncc.weights_bytes").getInt();
      workspaceBytes = f->getAttrOfType<IntegerAttr>("nncc.workspace_bytes").getInt();
    }
  auto pct = [](int64_t a, int64_t b) { return b ? 100.0 * a / b : 0.0; };
  os << "planned peak of the intermediates: " << summary.arenaBytes << " B (arena); without reuse "
     << summary.intermediateBytes << " B, so reuse saves " << llvm::format("%.1f", pct(summary.intermediateBytes - summary.arenaBytes, summary.intermediateBytes))
     << "%\n";
  os << "kernel scratch: " << summary.scratchBytes << " B; workspace: " << workspaceBytes
     << " B; weights: " << summary.weightBytes << " B\n";
  os << summary.ops << " ops, " << summary.inPlace << " written in place, " << summary.reused
     << " reusing memory of dead buffers\n";
  return true;
}

} // namespace nncc
