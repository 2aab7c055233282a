//===- Compiler.cpp -------------------------------------------------------===//
#include "driver/Compiler.h"
#include "runtime/Threads.h"

#include "codegen/Jit.h"
#include "codegen/KernelCall.h"
#include "codegen/Passes.h"
#include "ir/NNDialect.h"
#include "ir/ShapeUtils.h"
#include "passes/Passes.h"
#include "runtime/FileUtil.h"
#include "runtime/kernels/KernelCache.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iomanip>
#include <map>
#include <shared_mutex>
#include <sstream>

using namespace mlir;

namespace nncc {

namespace {
/// Held shared while compiled code runs and exclusively while the kernel
/// cache is cleared: a graph destroyed on one thread (a model compiled per
/// shape dropping one) never clears state that another thread's run of
/// another graph is using.
std::shared_mutex &kernelCacheUse() {
  static std::shared_mutex m;
  return m;
}
} // namespace

Executable::~Executable() {
  // Kernels may cache state keyed by this graph's buffers, which are freed.
  std::unique_lock<std::shared_mutex> lock(kernelCacheUse());
  nncc_kernel_cache_clear();
}

void loadDialects(MLIRContext &context) {
  context.getOrLoadDialect<nn::NNDialect>();
  context.getOrLoadDialect<func::FuncDialect>();
  context.getOrLoadDialect<nnk::NNKDialect>();
  context.getOrLoadDialect<arith::ArithmeticDialect>();
  context.getOrLoadDialect<linalg::LinalgDialect>();
  context.getOrLoadDialect<memref::MemRefDialect>();
  context.getOrLoadDialect<scf::SCFDialect>();
  context.getOrLoadDialect<math::MathDialect>();
  context.getOrLoadDialect<LLVM::LLVMDialect>();
}

void buildGraphPipeline(PassManager &pm, const CompileOptions &options) {
  pm.addNestedPass<func::FuncOp>(createExpandGradientsPass()); // (ONNX Gradient ops)
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (options.unrollRecurrent)
    pm.addNestedPass<func::FuncOp>(createUnrollRecurrentPass());
  if (options.fuse)
    pm.addNestedPass<func::FuncOp>(createFusePass());
  if (options.fuse && options.hostKernels)
    pm.addNestedPass<func::FuncOp>(
        createStackRecurrentPass(options.recurrentSchedule, options.maxParallelTimesteps));
  if (options.hostKernels)
    pm.addNestedPass<func::FuncOp>(createLayoutPass());
  pm.addNestedPass<func::FuncOp>(createDecomposePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (options.fuse)
    pm.addNestedPass<func::FuncOp>(createFuseElementwisePass());
  auto plan = createPlanMemoryPass();
  if (!options.reuseMemory)
    (void)plan->initializeOptions("reuse=false");
  pm.addNestedPass<func::FuncOp>(std::move(plan));
}

namespace {
/// Reads the weight-blob layout and arena size that nncc-lower-nn records.
struct LayoutReader : PassInstrumentation {
  WeightLayout &l;
  explicit LayoutReader(WeightLayout &l) : l(l) {}
  void runAfterPass(Pass *pass, Operation *op) override {
    if (pass->getArgument() != "nncc-lower-nn")
      return;
    op->walk([&](func::FuncOp f) {
      if (!f->hasAttr("nncc.weights_bytes"))
        return;
      l.weights = f->getAttrOfType<IntegerAttr>("nncc.weights_bytes").getInt();
      l.workspace = f->getAttrOfType<IntegerAttr>("nncc.workspace_bytes").getInt();
      l.total = f->getAttrOfType<IntegerAttr>("nncc.total_intermediate_bytes").getInt();
      l.scratch = f->getAttrOfType<IntegerAttr>("nncc.scratch_bytes").getInt();
      for (Attribute a : f->getAttrOfType<ArrayAttr>("nncc.param_names"))
        l.names.push_back(a.cast<StringAttr>().str());
      for (Attribute a : f->getAttrOfType<ArrayAttr>("nncc.param_offsets"))
        l.offsets.push_back(a.cast<IntegerAttr>().getInt());
      if (auto names = f->getAttrOfType<ArrayAttr>("nncc.profile_names"))
        for (Attribute a : names)
          l.profileNames.push_back(a.cast<StringAttr>().str());
    });
  }
};

/// Writes the module after every pass as DIR/NNN_<pass>.mlir.
class DumpInstrumentation : public PassInstrumentation {
public:
  explicit DumpInstrumentation(std::string dir) : dir(std::move(dir)) {}
  void runAfterPass(Pass *pass, Operation *op) override {
    if (pass->getArgument().empty()) // pass-manager adaptors, not passes
      return;
    while (op->getParentOp())
      op = op->getParentOp();
    std::ostringstream name;
    name << dir << "/" << std::setw(3) << std::setfill('0') << counter++ << "_" << pass->getArgument().str()
         << ".mlir";
    std::string text;
    llvm::raw_string_ostream os(text);
    op->print(os, OpPrintingFlags().elideLargeElementsAttrs(16));
    std::string error;
    writeFileAtomic(name.str(), os.str(), error);
  }

private:
  std::string dir;
  unsigned counter = 0;
};
} // namespace

bool configureInstrumentation(PassManager &pm, const CompileOptions &options, std::string &error) {
  if (options.printAfterAll || !options.printAfter.empty() || !options.dumpDir.empty())
    pm.getContext()->disableMultithreading();
  if (options.printAfterAll || !options.printAfter.empty()) {
    std::vector<std::string> names = options.printAfter;
    bool all = options.printAfterAll;
    pm.enableIRPrinting([](Pass *, Operation *) { return false; },
                        [names, all](Pass *pass, Operation *) {
                          if (all)
                            return true;
                          for (auto &n : names)
                            if (pass->getArgument() == n)
                              return true;
                          return false;
                        },
                        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false,
                        /*printAfterOnlyOnFailure=*/false, llvm::errs(),
                        OpPrintingFlags().elideLargeElementsAttrs(16));
  }
  if (options.timePasses)
    pm.enableTiming();
  if (!options.dumpDir.empty()) {
    if (!makeDirs(options.dumpDir, error))
      return false;
    pm.addInstrumentation(std::make_unique<DumpInstrumentation>(options.dumpDir));
  }
  return true;
}

static TensorSignature signatureOf(Type t, StringRef name) {
  auto rt = t.cast<RankedTensorType>();
  TensorSignature s;
  s.name = name.str();
  s.dtype = static_cast<DType>(nn::onnxDataType(rt.getElementType()));
  s.shape.assign(rt.getShape().begin(), rt.getShape().end());
  return s;
}

bool lowerToLLVM(ModuleOp module, const CompileOptions &options, LoweredGraph &graph, std::string &error) {
  MLIRContext *ctx = module.getContext();
  loadDialects(*ctx);
  if (!options.hostKernels)
    module->setAttr(codegen::kPortableKernelsAttr, UnitAttr::get(ctx));
  std::string diag;
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error) {
      std::string loc;
      llvm::raw_string_ostream os(loc);
      d.getLocation().print(os);
      diag += (diag.empty() ? "" : "\n") + os.str() + ": " + d.str();
    }
    return success();
  });

  auto funcs = llvm::to_vector(module.getOps<func::FuncOp>());
  if (funcs.size() != 1) {
    error = "expected one graph function in the module, found " + std::to_string(funcs.size());
    return false;
  }
  func::FuncOp fn = funcs.front();
  graph.name = fn.getName().str();
  graph.inputs.clear();
  graph.outputs.clear();
  for (auto it : llvm::enumerate(fn.getArgumentTypes())) {
    auto n = fn.getArgAttrOfType<StringAttr>(it.index(), "nn.name");
    graph.inputs.push_back(signatureOf(it.value(), n ? n.getValue() : "input_" + std::to_string(it.index())));
  }
  graph.lengthOf.clear();
  graph.lengthDim.clear();
  graph.rowsWithin.clear();
  graph.growsLoop.clear();
  for (auto it : llvm::enumerate(fn.getResultTypes())) {
    if (fn.getResultAttr(it.index(), "nn.rows_within") || fn.getResultAttr(it.index(), "nn.length_of")) {
      auto grows = fn.getResultAttrOfType<IntegerAttr>(it.index(), "nn.grows_loop");
      graph.growsLoop.push_back(grows ? (int)grows.getInt() : -1);
    }
    if (auto within = fn.getResultAttrOfType<IntegerAttr>(it.index(), "nn.rows_within")) {
      auto count = it.value().dyn_cast<RankedTensorType>();
      if (!count || count.getRank() != 0 || !count.getElementType().isInteger(64) || within.getInt() < 0) {
        error = "result " + std::to_string(it.index()) + " (nn.rows_within) must be a tensor<i64> iteration count";
        return false;
      }
      graph.rowsWithin.push_back(within.getInt());
      continue;
    }
    if (!graph.rowsWithin.empty()) {
      error = "the graph function's iteration counts (nn.rows_within) must come last";
      return false;
    }
    if (auto of = fn.getResultAttrOfType<IntegerAttr>(it.index(), "nn.length_of")) {
      int64_t k = of.getInt();
      auto count = it.value().dyn_cast<RankedTensorType>();
      auto rows = k >= 0 && k < (int64_t)graph.outputs.size() ? fn.getResultTypes()[k].dyn_cast<RankedTensorType>()
                                                               : RankedTensorType();
      auto along = fn.getResultAttrOfType<IntegerAttr>(it.index(), "nn.length_dim");
      int64_t dim = along ? along.getInt() : 0;
      if (!count || count.getRank() != 0 || !count.getElementType().isInteger(64) || !rows || dim < 0 ||
          dim >= rows.getRank()) {
        error = "result " + std::to_string(it.index()) + " (nn.length_of = " + std::to_string(k) +
                ") must be a tensor<i64> counting the entries of an earlier output of rank 1 or more along one "
                "of its dimensions (nn.length_dim)";
        return false;
      }
      graph.lengthOf.push_back((int)k);
      graph.lengthDim.push_back((int)dim);
      continue;
    }
    if (!graph.lengthOf.empty()) {
      error = "the graph function's row counts (nn.length_of) must follow all its outputs";
      return false;
    }
    auto n = fn.getResultAttrOfType<StringAttr>(it.index(), "nn.name");
    graph.outputs.push_back(signatureOf(it.value(), n ? n.getValue() : "output_" + std::to_string(it.index())));
  }

  PassManager pm(ctx, PassManager::Nesting::Implicit);
  buildGraphPipeline(pm, options);
  buildLoweringPipeline(pm, options.reuseMemory, options.profile);
  if (!configureInstrumentation(pm, options, error))
    return false;
  pm.addInstrumentation(std::make_unique<LayoutReader>(graph.layout));
  if (failed(pm.run(module))) {
    error = diag.empty() ? "compilation failed" : diag;
    return false;
  }
  return true;
}

bool buildWeightBlob(MLIRContext &ctx, const WeightLayout &layout, uint8_t *blob, std::string &error) {
  auto &store = ctx.getOrLoadDialect<nn::NNDialect>()->getWeightStore();
  for (size_t k = 0; k < layout.names.size(); ++k) {
    const auto *bytes = store.lookup(layout.names[k]);
    if (!bytes) {
      error = "no data for parameter '" + layout.names[k] + "'";
      return false;
    }
    std::memcpy(blob + layout.offsets[k], bytes->data(), bytes->size());
  }
  return true;
}

std::unique_ptr<Executable> compileModule(ModuleOp module, const CompileOptions &options, std::string &error) {
  auto start = std::chrono::steady_clock::now();
  LoweredGraph graph;
  if (!lowerToLLVM(module, options, graph, error))
    return nullptr;
  auto exe = std::unique_ptr<Executable>(new Executable());
  exe->inputs_ = graph.inputs;
  exe->profileNames_ = graph.layout.profileNames;
  exe->outputs_ = graph.outputs;
  exe->lengthOf_ = graph.lengthOf;
  exe->lengthDim_ = graph.lengthDim;
  exe->rowsWithin_ = graph.rowsWithin;
  exe->growsLoop_ = graph.growsLoop;
  exe->weightBytes_ = graph.layout.weights;
  exe->weights = alignedAlloc((size_t)std::max<int64_t>(graph.layout.weights, 64));
  if (!buildWeightBlob(*module.getContext(), graph.layout, exe->weights.get(), error))
    return nullptr;
  exe->workspaceBytes_ = graph.layout.workspace;
  exe->totalIntermediateBytes_ = graph.layout.total;
  exe->workspace = alignedAlloc((size_t)std::max<int64_t>(graph.layout.workspace, 64));

  auto jit = JitModule::compile(module, options.optLevel);
  if (!jit) {
    error = "JIT compilation failed: " + llvm::toString(jit.takeError());
    return nullptr;
  }
  exe->jit = std::move(*jit);
  auto entry = exe->jit->lookupEntry(graph.name);
  if (!entry) {
    error = "entry point not found: " + llvm::toString(entry.takeError());
    return nullptr;
  }
  exe->entry = *entry;
  exe->compileSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return exe;
}

bool Executable::runOnce(const std::vector<const Tensor *> &in, std::vector<Tensor> &out, std::vector<int64_t> &rows,
                         std::string &error) {
  std::vector<void *> inPtrs, outPtrs;
  for (size_t k = 0; k < in.size(); ++k) {
    const auto &sig = inputs_[k];
    if (in[k]->dtype() != sig.dtype || in[k]->shape() != sig.shape) {
      error = "input " + std::to_string(k) + " ('" + sig.name + "') is " + in[k]->describe() +
              " but the model was compiled for " + dtypeName(sig.dtype) + shapeToString(sig.shape);
      return false;
    }
    inPtrs.push_back(const_cast<void *>(in[k]->data()));
  }
  // Tensors `out` already holds with an output's element type and shape
  // are written over (a caller that runs again, or a training step's
  // previous parameters): no allocation, zeroing and first-touch page
  // faults for tens of MB a step. Every output is written in full. (run()
  // sees that none is an input.)
  out.resize(outputs_.size());
  for (size_t k = 0; k < outputs_.size(); ++k)
    if (out[k].dtype() != outputs_[k].dtype || out[k].shape() != outputs_[k].shape || !out[k].data())
      out[k] = Tensor(outputs_[k].dtype, outputs_[k].shape);
  for (auto &t : out)
    outPtrs.push_back(t.data());
  rows.assign(lengthOf_.size() + rowsWithin_.size(), 0);
  for (int64_t &r : rows)
    outPtrs.push_back(&r);
  // NNCC_POISON_WORKSPACE=1 (debugging): the workspace and the outputs
  // filled with NaNs first, so that a kernel that reads what this call did
  // not write shows in the results.
  if (const char *poison = std::getenv("NNCC_POISON_WORKSPACE"); poison && *poison && *poison != '0') {
    std::memset(workspace.get(), 0xff, (size_t)std::max<int64_t>(workspaceBytes_, 64));
    for (auto &t : out)
      std::memset(t.data(), 0xff, t.byteSize());
  }
  int rc;
  {
    std::shared_lock<std::shared_mutex> running(kernelCacheUse());
    rc = entry(inPtrs.data(), outPtrs.data(), workspace.get(), weights.get());
  }
  if (rc != 0) {
    error = "the compiled graph returned error " + std::to_string(rc);
    return false;
  }
  return true;
}

void Executable::adopt(Executable &next) {
  jit = std::move(next.jit);
  entry = next.entry;
  inputs_ = std::move(next.inputs_);
  outputs_ = std::move(next.outputs_);
  lengthOf_ = std::move(next.lengthOf_);
  lengthDim_ = std::move(next.lengthDim_);
  rowsWithin_ = std::move(next.rowsWithin_);
  growsLoop_ = std::move(next.growsLoop_);
  weights = std::move(next.weights);
  workspace = std::move(next.workspace);
  workspaceBytes_ = next.workspaceBytes_;
  totalIntermediateBytes_ = next.totalIntermediateBytes_;
  weightBytes_ = next.weightBytes_;
  profileNames_ = std::move(next.profileNames_);
  compileSeconds += next.compileSeconds;
  ++recompilations;
}

std::vector<int64_t> Executable::loopRows(const std::vector<int64_t> &hiddenRows) const {
  std::vector<int64_t> rows;
  for (size_t k = 0; k < growsLoop_.size(); ++k)
    if (growsLoop_[k] >= 0) {
      rows.resize(std::max(rows.size(), (size_t)growsLoop_[k] + 1), 0);
      rows[growsLoop_[k]] = std::max(rows[growsLoop_[k]], hiddenRows[k]);
    }
  return rows;
}

bool Executable::run(const std::vector<const Tensor *> &in, std::vector<Tensor> &out, std::string &error) {
  useFullThreadTeams();
  std::lock_guard<std::mutex> lock(mutex);
  if (in.size() != inputs_.size()) {
    error = "the model takes " + std::to_string(inputs_.size()) + " input(s), " + std::to_string(in.size()) +
            " given";
    return false;
  }
  // Inputs that are tensors of `out` (tensors own their bytes: only then
  // do outputs and inputs share them) stay as they are until the run is
  // done, held here, and `out` gets new tensors: the graph reads its inputs
  // throughout.
  std::less<const Tensor *> before;
  bool inputsInOut = std::any_of(in.begin(), in.end(), [&](const Tensor *t) {
    return !out.empty() && !before(t, out.data()) && before(t, out.data() + out.size());
  });
  std::vector<Tensor> held;
  if (inputsInOut)
    held.swap(out); // (the vector's elements keep their addresses)
  std::vector<int64_t> rows;
  std::map<int, int64_t> ranOut; // loops that ran out of rows before: how many they had
  for (;;) {
    if (!runOnce(in, out, rows, error))
      return false;
    // Each hidden result's rows: a count above them (by one) says a loop
    // ran out of them before it ended; recompiled with more for that loop,
    // the graph runs again.
    std::vector<int64_t> have(rows.size());
    for (size_t k = 0; k < lengthOf_.size(); ++k)
      have[k] = out[lengthOf_[k]].shape()[lengthDim_[k]];
    for (size_t j = 0; j < rowsWithin_.size(); ++j)
      have[lengthOf_.size() + j] = rowsWithin_[j];
    std::vector<int64_t> grown = loopRows(have);
    int64_t most = -1;
    for (size_t k = 0; k < rows.size(); ++k) {
      if (rows[k] < 0 || rows[k] > have[k] + 1 || (rows[k] > have[k] && growsLoop_[k] < 0)) {
        error = "hidden result " + std::to_string(k) + " counts " + std::to_string(rows[k]) +
                " iterations of a loop planned for " + std::to_string(have[k]);
        return false;
      }
      if (rows[k] > have[k]) {
        int loop = growsLoop_[k];
        auto last = ranOut.find(loop);
        if (last != ranOut.end() && last->second >= have[k]) {
          error = "a loop ran out of its " + std::to_string(have[k]) + " rows again after recompiling for more";
          return false;
        }
        most = std::max(most, have[k]);
        grown[loop] = 8 * std::max<int64_t>(have[k], 2);
      }
    }
    for (size_t k = 0; k < rows.size(); ++k)
      if (rows[k] > have[k])
        ranOut[growsLoop_[k]] = have[k];
    if (most < 0)
      break;
    std::string why = "a loop ran more than " + std::to_string(most) +
                      " iterations, the rows planned for its scan outputs (or, training, its saved iterations)";
    if (!regrow) {
      error = why + "; compile it with more (ImportOptions::loopRows, TrainStepOptions::loopRows) or give it a "
                    "trip count";
      return false;
    }
    if (most > (int64_t(1) << 28)) {
      error = why + ", and nncc grows them no further";
      return false;
    }
    std::unique_ptr<Executable> next = regrow(grown, error);
    if (!next) {
      error = why + ", and recompiling it with more failed: " + error;
      return false;
    }
    adopt(*next);
  }
  // Outputs whose length is known only now (a loop's scan outputs): their
  // first rows[k] rows (along a later dimension, packed first).
  for (size_t k = 0; k < lengthOf_.size(); ++k) {
    Tensor &full = out[lengthOf_[k]];
    std::vector<int64_t> shape = full.shape();
    shape[lengthDim_[k]] = rows[k];
    Tensor trimmed(full.dtype(), shape);
    std::memcpy(trimmed.data(), full.data(), trimmed.byteSize());
    full = std::move(trimmed);
  }
  return true;
}

std::unique_ptr<Executable> compileOnnx(const onnx::ModelProto &model, const ImportOptions &importOptions,
                                        const CompileOptions &options, std::string &error) {
  MLIRContext context;
  loadDialects(context);
  auto module = importOnnxModel(context, model, importOptions, error);
  if (!module)
    return nullptr;
  auto exe = compileModule(*module, options, error);
  if (exe && exe->mayRecompile()) {
    // A run may need more rows than a loop's scan outputs have: it then
    // recompiles from a copy of the model (and of the input values it was
    // specialized for, which the caller need not keep).
    auto proto = std::make_shared<const onnx::ModelProto>(model);
    auto values = std::make_shared<std::map<std::string, Tensor>>();
    for (const auto &[name, t] : importOptions.inputValues)
      values->emplace(name, *t);
    ImportOptions io = importOptions;
    io.inputValues.clear();
    exe->regrow = [proto, values, io, options](const std::vector<int64_t> &rows, std::string &error) {
      ImportOptions grown = io;
      grown.grownLoopRows = rows;
      for (const auto &[name, t] : *values)
        grown.inputValues[name] = &t;
      MLIRContext context;
      loadDialects(context);
      auto module = importOnnxModel(context, *proto, grown, error);
      return module ? compileModule(*module, options, error) : nullptr;
    };
  }
  return exe;
}

} // namespace nncc
