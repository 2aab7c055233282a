//===- Bundle.cpp - nncc compile: object, C header, runtime ---------------===//
#include "driver/Bundle.h"
#include "runtime/FileUtil.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstdio>
#include <cstring>
#include <sstream>
#include <unistd.h>

using namespace mlir;

namespace nncc {

std::string cIdentifier(const std::string &stem) {
  std::string id;
  for (char c : stem)
    id += (isalnum((unsigned char)c) || c == '_') ? c : '_';
  if (id.empty() || isdigit((unsigned char)id[0]))
    id = "model_" + id;
  return id;
}

namespace {

/// Adds the C API of the bundle to the translated module.
void addBundleApi(llvm::Module &m, const LoweredGraph &graph, const std::string &name, const uint8_t *weights,
                  int64_t weightBytes, bool external, const llvm::DataLayout &dl) {
  llvm::LLVMContext &c = m.getContext();
  llvm::Type *i8 = llvm::Type::getInt8Ty(c), *i32 = llvm::Type::getInt32Ty(c), *i64 = llvm::Type::getInt64Ty(c);
  llvm::Type *sizeT = dl.getIntPtrType(c);
  llvm::PointerType *i8p = i8->getPointerTo(), *i8pp = i8p->getPointerTo(), *i64p = i64->getPointerTo();
  llvm::IRBuilder<> b(c);
  auto privateConst = [&](llvm::Constant *init, const std::string &n, unsigned align) {
    auto *g = new llvm::GlobalVariable(m, init->getType(), true, llvm::GlobalValue::PrivateLinkage, init, n);
    g->setAlignment(llvm::Align(align));
    return g;
  };
  auto define = [&](const std::string &n, llvm::Type *ret, llvm::ArrayRef<llvm::Type *> args) {
    auto *f = llvm::Function::Create(llvm::FunctionType::get(ret, args, false), llvm::GlobalValue::ExternalLinkage,
                                     n, m);
    b.SetInsertPoint(llvm::BasicBlock::Create(c, "entry", f));
    return f;
  };

  // The weights: embedded, or a pointer the application sets.
  llvm::GlobalVariable *blob = nullptr, *blobPtr = nullptr;
  if (!external) {
    auto *data = llvm::ConstantDataArray::getRaw(llvm::StringRef((const char *)weights, weightBytes),
                                                 weightBytes, i8);
    blob = privateConst(data, name + "_weights_data", 64);
  } else {
    blobPtr = new llvm::GlobalVariable(m, i8p, false, llvm::GlobalValue::InternalLinkage,
                                       llvm::ConstantPointerNull::get(i8p), name + "_weights_ptr");
    llvm::Function *set = define(name + "_set_weights", llvm::Type::getVoidTy(c), {i8p});
    b.CreateStore(set->getArg(0), blobPtr);
    b.CreateRetVoid();
    define(name + "_weights_size", sizeT, {});
    b.CreateRet(llvm::ConstantInt::get(sizeT, weightBytes));
  }

  define(name + "_workspace_size", sizeT, {});
  b.CreateRet(llvm::ConstantInt::get(sizeT, graph.layout.workspace));

  // int NAME_run_rows(const void *const *inputs, void *const *outputs, void *workspace, int64_t *rows)
  llvm::Function *entry = m.getFunction(graph.name + "_entry");
  llvm::Function *runRows = define(name + "_run_rows", i32, {i8pp, i8pp, i8p, i64p});
  // The graph function takes the outputs followed by one int64_t per
  // output whose rows are known only at run time (a loop's scan output):
  // the iterations that ran, one more than its rows when the loop ran out.
  // Stack slots (in the entry block): those pointers and counts, and the
  // rows when the caller passes NULL.
  size_t nOut = graph.outputs.size(), nCounted = graph.lengthOf.size();
  llvm::AllocaInst *all = nullptr, *counts = nullptr;
  if (nCounted) {
    all = b.CreateAlloca(llvm::ArrayType::get(i8p, nOut + nCounted));
    counts = b.CreateAlloca(llvm::ArrayType::get(i64, nCounted));
  }
  llvm::AllocaInst *mine = b.CreateAlloca(llvm::ArrayType::get(i64, std::max<size_t>(nOut, 1)));
  llvm::Value *w;
  if (blob) {
    w = b.CreateBitCast(blob, i8p);
  } else {
    w = b.CreateLoad(i8p, blobPtr);
    llvm::BasicBlock *missing = llvm::BasicBlock::Create(c, "no_weights", runRows);
    llvm::BasicBlock *go = llvm::BasicBlock::Create(c, "run", runRows);
    b.CreateCondBr(b.CreateIsNull(w), missing, go);
    b.SetInsertPoint(missing);
    b.CreateRet(llvm::ConstantInt::get(i32, 1));
    b.SetInsertPoint(go);
  }
  llvm::Value *outs = runRows->getArg(1);
  auto countAt = [&](size_t h) { return b.CreateConstGEP2_64(counts->getAllocatedType(), counts, 0, h); };
  if (nCounted) {
    for (size_t k = 0; k < nOut; ++k)
      b.CreateStore(b.CreateLoad(i8p, b.CreateConstGEP1_64(i8p, runRows->getArg(1), k)),
                    b.CreateConstGEP2_64(all->getAllocatedType(), all, 0, k));
    for (size_t h = 0; h < nCounted; ++h) {
      b.CreateStore(llvm::ConstantInt::get(i64, 0), countAt(h));
      b.CreateStore(b.CreateBitCast(countAt(h), i8p), b.CreateConstGEP2_64(all->getAllocatedType(), all, 0, nOut + h));
    }
    outs = b.CreateBitCast(all, i8pp);
  }
  llvm::Value *rc = b.CreateCall(entry, {runRows->getArg(0), outs, runRows->getArg(2), w});
  llvm::BasicBlock *failed = llvm::BasicBlock::Create(c, "failed", runRows);
  llvm::BasicBlock *ran = llvm::BasicBlock::Create(c, "ran", runRows);
  b.CreateCondBr(b.CreateICmpNE(rc, llvm::ConstantInt::get(i32, 0)), failed, ran);
  b.SetInsertPoint(failed);
  b.CreateRet(rc);
  b.SetInsertPoint(ran);
  // rows[k]: dims[0] (1 for a scalar), or the iterations that ran, at most
  // dims[0]; 2 when a loop ran out of rows. rows may be NULL.
  llvm::Value *rows = b.CreateSelect(b.CreateIsNull(runRows->getArg(3)), b.CreateBitCast(mine, i64p),
                                     runRows->getArg(3));
  llvm::Value *ranOut = b.getFalse();
  for (size_t k = 0; k < nOut; ++k) {
    const std::vector<int64_t> &shape = graph.outputs[k].shape;
    int64_t cap = shape.empty() ? 1 : shape[0];
    llvm::Value *n = llvm::ConstantInt::get(i64, cap);
    for (size_t h = 0; h < nCounted; ++h) {
      if (graph.lengthOf[h] != (int)k)
        continue;
      n = llvm::ConstantInt::get(i64, shape[graph.lengthDim[h]]);
      llvm::Value *count = b.CreateLoad(i64, countAt(h));
      llvm::Value *over = b.CreateICmpSGT(count, n);
      ranOut = b.CreateOr(ranOut, over);
      n = b.CreateSelect(over, n, count);
    }
    b.CreateStore(n, b.CreateConstGEP1_64(i64, rows, k));
  }
  b.CreateRet(b.CreateSelect(ranOut, llvm::ConstantInt::get(i32, 2), llvm::ConstantInt::get(i32, 0)));

  // int NAME_run(const void *const *inputs, void *const *outputs, void *workspace)
  llvm::Function *run = define(name + "_run", i32, {i8pp, i8pp, i8p});
  b.CreateRet(b.CreateCall(runRows, {run->getArg(0), run->getArg(1), run->getArg(2),
                                     llvm::ConstantPointerNull::get(i64p)}));

  // const nncc_tensor_info NAME_inputs[], NAME_outputs[]
  auto *info = llvm::StructType::get(c, {i8p, i32, i32, i64p, sizeT});
  auto table = [&](const std::vector<TensorSignature> &sigs, const std::string &n) {
    std::vector<llvm::Constant *> rows;
    for (size_t k = 0; k < sigs.size(); ++k) {
      const auto &s = sigs[k];
      auto *str = privateConst(llvm::ConstantDataArray::getString(c, s.name), n + "_name_" + std::to_string(k), 1);
      std::vector<uint64_t> dims(s.shape.begin(), s.shape.end());
      if (dims.empty())
        dims.push_back(1);
      auto *dimsG = privateConst(llvm::ConstantDataArray::get(c, dims), n + "_dims_" + std::to_string(k), 8);
      int64_t count = 1;
      for (int64_t d : s.shape)
        count *= d;
      rows.push_back(llvm::ConstantStruct::get(
          info, {llvm::ConstantExpr::getBitCast(str, i8p), llvm::ConstantInt::get(i32, (int)s.dtype),
                 llvm::ConstantInt::get(i32, s.shape.size()), llvm::ConstantExpr::getBitCast(dimsG, i64p),
                 llvm::ConstantInt::get(sizeT, count * (int64_t)dtypeSize(s.dtype))}));
    }
    auto *arrTy = llvm::ArrayType::get(info, rows.size());
    auto *g = new llvm::GlobalVariable(m, arrTy, true, llvm::GlobalValue::ExternalLinkage,
                                       llvm::ConstantArray::get(arrTy, rows), n);
    g->setAlignment(llvm::Align(8));
  };
  table(graph.inputs, name + "_inputs");
  table(graph.outputs, name + "_outputs");

  // const int NAME_rows_dims[]: the dimension NAME_run_rows counts along,
  // per output (0 but for outputs packed along a later one).
  std::vector<uint32_t> along(std::max<size_t>(nOut, 1), 0);
  for (size_t h = 0; h < nCounted; ++h)
    along[graph.lengthOf[h]] = (uint32_t)graph.lengthDim[h];
  auto *alongTy = llvm::ArrayType::get(i32, along.size());
  auto *alongG = new llvm::GlobalVariable(m, alongTy, true, llvm::GlobalValue::ExternalLinkage,
                                          llvm::ConstantDataArray::get(c, along), name + "_rows_dims");
  alongG->setAlignment(llvm::Align(4));
}

std::string headerFor(const Bundle &bundle, bool external, const TargetSpec &target) {
  const std::string &n = bundle.name;
  std::ostringstream h;
  std::string guard = n;
  for (auto &ch : guard)
    ch = toupper((unsigned char)ch);
  h << "/* " << n << ".h - generated by `nncc compile` for " << target.triple << ". Do not edit.\n"
    << " *\n"
    << " * Link " << n << ".o with the runtime of the same directory (libnncc_rt.a) and libm.\n"
    << " * Inputs and outputs are dense row-major buffers, in the order below.\n"
    << " * NAME_run allocates nothing and keeps no state: threads may call it\n"
    << " * concurrently, each with its own workspace.\n */\n"
    << "#ifndef " << guard << "_NNCC_H\n#define " << guard << "_NNCC_H\n\n"
    << "#include <stddef.h>\n#include <stdint.h>\n\n"
    << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
    << "#ifndef NNCC_TENSOR_INFO_DEFINED\n#define NNCC_TENSOR_INFO_DEFINED\n"
    << "/* dtype: ONNX TensorProto codes. */\n"
    << "enum { NNCC_FLOAT = 1, NNCC_UINT8 = 2, NNCC_INT8 = 3, NNCC_UINT16 = 4, NNCC_INT16 = 5, NNCC_INT32 = 6,\n"
    << "       NNCC_INT64 = 7, NNCC_BOOL = 9, NNCC_FLOAT16 = 10, NNCC_DOUBLE = 11, NNCC_UINT32 = 12,\n"
    << "       NNCC_UINT64 = 13, NNCC_BFLOAT16 = 16 };\n"
    << "typedef struct {\n  const char *name;\n  int dtype;\n  int rank;\n  const int64_t *dims;\n  size_t bytes;\n"
    << "} nncc_tensor_info;\n#endif\n\n";
  auto describe = [&](const char *what, const std::vector<TensorSignature> &sigs, const std::vector<int> &counted) {
    for (size_t k = 0; k < sigs.size(); ++k) {
      h << " *   " << what << "[" << k << "] \"" << sigs[k].name << "\": " << dtypeName(sigs[k].dtype)
        << shapeToString(sigs[k].shape) << "\n";
      auto at = llvm::find(counted, (int)k);
      if (at == counted.end())
        continue;
      int dim = bundle.countedDims[at - counted.begin()];
      if (dim == 0)
        h << " *     rows known only at run time (a loop's scan output, one per iteration\n"
          << " *     that ran; the entries NonMaxSuppression, NonZero or Unique found):\n"
          << " *     holds up to " << sigs[k].shape[0] << " rows, " << n << "_run_rows says how many\n";
      else
        h << " *     dimension " << dim << " known only at run time (the entries NonZero or Unique\n"
          << " *     found): up to " << sigs[k].shape[dim] << "; " << n << "_run_rows says how many, and the\n"
          << " *     buffer begins with the output of that extent, packed\n";
    }
  };
  h << "/*\n";
  describe("inputs", bundle.inputs, {});
  describe("outputs", bundle.outputs, bundle.countedOutputs);
  h << " */\n";
  h << "enum { " << n << "_NUM_INPUTS = " << bundle.inputs.size() << ", " << n
    << "_NUM_OUTPUTS = " << bundle.outputs.size() << " };\n\n";
  h << "/* Bytes of the workspace NAME_run needs; allocate them 64-byte aligned. */\n"
    << "size_t " << n << "_workspace_size(void); /* " << bundle.workspaceBytes << " */\n\n";
  h << "/* Runs the model. Returns 0 on success";
  if (external)
    h << ", 1 when the weights are not set";
  if (llvm::is_contained(bundle.countedMayRunOut, true))
    h << ", 2 when a loop ran more iterations than its\n * scan outputs hold rows (their dims[0]: recompile with `nncc compile --loop-rows=N`)";
  h << ". */\nint " << n << "_run(const void *const *inputs, void *const *outputs, void *workspace);\n\n";
  h << "/* Runs the model as " << n << "_run does; rows[k] (" << n << "_NUM_OUTPUTS of them, or NULL)\n"
    << " * receives the rows output k holds: its dims[0] (1 for a scalar) or, for an\n"
    << " * output known only at run time (see above), how many entries it holds along\n"
    << " * dimension " << n << "_rows_dims[k]. */\n"
    << "int " << n << "_run_rows(const void *const *inputs, void *const *outputs, void *workspace, int64_t *rows);\n\n";
  if (external)
    h << "/* The weights are in " << n << ".weights.bin (" << bundle.weightBytes << " bytes). Load the file into\n"
      << " * memory (64-byte aligned) and hand it over once, before the first run;\n"
      << " * the memory must stay valid while the model is used. */\n"
      << "size_t " << n << "_weights_size(void);\n"
      << "void " << n << "_set_weights(const void *weights);\n\n";
  h << "extern const nncc_tensor_info " << n << "_inputs[];\n"
    << "extern const nncc_tensor_info " << n << "_outputs[];\n"
    << "/* Per output: the dimension " << n << "_run_rows counts along (0 but for an output\n"
    << " * packed along a later one, whose used entries come first). */\n"
    << "extern const int " << n << "_rows_dims[];\n\n"
    << "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
  return h.str();
}

/// The prebuilt runtime for `arch`, next to the nncc executable.
std::string prebuiltRuntime(const std::string &arch) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    return "";
  self[n] = 0;
  llvm::SmallString<256> dir = llvm::sys::path::parent_path(llvm::sys::path::parent_path(self));
  for (const char *sub : {"runtime/bundle-", "lib/nncc/runtime-"}) {
    llvm::SmallString<256> p = dir;
    llvm::sys::path::append(p, std::string(sub) + arch, "libnncc_rt.a");
    if (llvm::sys::fs::exists(p))
      return p.str().str();
  }
  return "";
}

} // namespace

bool compileBundle(const onnx::ModelProto &model, const ImportOptions &importOptions, const BundleOptions &options,
                   Bundle &bundle, std::string &error) {
  MLIRContext ctx;
  loadDialects(ctx);
  ImportOptions io = importOptions;
  io.functionName = options.name + "_graph";
  auto module = importOnnxModel(ctx, model, io, error);
  if (!module)
    return false;
  LoweredGraph graph;
  CompileOptions compile = options.compile;
  compile.hostKernels = false; // bundles link the portable kernels
  if (!lowerToLLVM(*module, compile, graph, error))
    return false;
  if (!graph.rowsWithin.empty()) {
    error = "the graph saves a loop's iterations for a backward pass (a training graph), which bundles do not run";
    return false;
  }
  std::vector<uint8_t> weights((size_t)std::max<int64_t>(graph.layout.weights, 1));
  if (!buildWeightBlob(ctx, graph.layout, weights.data(), error))
    return false;

  auto tm = createTargetMachine(options.target, options.compile.optLevel, error);
  if (!tm)
    return false;
  registerLLVMDialectTranslation(ctx);
  llvm::LLVMContext llvmContext;
  auto llvmModule = translateModuleToLLVMIR(*module, llvmContext, options.name);
  if (!llvmModule) {
    error = "translation to LLVM IR failed";
    return false;
  }
  llvmModule->setDataLayout(tm->createDataLayout());
  addBundleApi(*llvmModule, graph, options.name, weights.data(), graph.layout.weights, options.externalWeights,
               llvmModule->getDataLayout());
  if (!emitObject(*llvmModule, *tm, options.compile.optLevel, bundle.object, error))
    return false;

  bundle.name = options.name;
  bundle.inputs = graph.inputs;
  bundle.outputs = graph.outputs;
  bundle.countedOutputs = graph.lengthOf;
  bundle.countedDims = graph.lengthDim;
  bundle.countedMayRunOut.clear();
  for (size_t h = 0; h < graph.lengthOf.size(); ++h)
    bundle.countedMayRunOut.push_back(h < graph.growsLoop.size() && graph.growsLoop[h] >= 0);
  bundle.workspaceBytes = graph.layout.workspace;
  bundle.weightBytes = graph.layout.weights;
  if (options.externalWeights)
    bundle.weights.assign((const char *)weights.data(), graph.layout.weights);
  bundle.header = headerFor(bundle, options.externalWeights, options.target);
  bundle.runtimeArchive = prebuiltRuntime(options.target.arch);
  return true;
}

bool writeBundle(const Bundle &bundle, const std::string &dir, std::vector<std::string> &written,
                 std::string &error) {
  if (!makeDirs(dir, error))
    return false;
  std::vector<std::pair<std::string, std::string>> files = {{bundle.name + ".o", bundle.object},
                                                            {bundle.name + ".h", bundle.header}};
  if (!bundle.weights.empty())
    files.push_back({bundle.name + ".weights.bin", bundle.weights});
  if (!bundle.runtimeArchive.empty()) {
    std::string archive;
    if (!readFile(bundle.runtimeArchive, archive, error))
      return false;
    files.push_back({"libnncc_rt.a", archive});
  }
  // Write every file under a temporary name first; rename only when all
  // were written, so a failure leaves no partial bundle.
  std::vector<std::string> temps;
  auto cleanup = [&] {
    for (auto &t : temps)
      std::remove(t.c_str());
  };
  for (auto &f : files) {
    std::string tmp = dir + "/." + f.first + ".tmp." + std::to_string(getpid());
    FILE *out = std::fopen(tmp.c_str(), "wb");
    if (!out) {
      error = "cannot write '" + dir + "/" + f.first + "': " + std::strerror(errno);
      cleanup();
      return false;
    }
    temps.push_back(tmp);
    bool ok = std::fwrite(f.second.data(), 1, f.second.size(), out) == f.second.size();
    ok &= std::fclose(out) == 0;
    if (!ok) {
      error = "cannot write '" + dir + "/" + f.first + "' (disk full?)";
      cleanup();
      return false;
    }
  }
  for (size_t k = 0; k < files.size(); ++k) {
    std::string final = dir + "/" + files[k].first;
    if (std::rename(temps[k].c_str(), final.c_str()) != 0) {
      error = "cannot create '" + final + "': " + std::strerror(errno);
      cleanup();
      return false;
    }
    written.push_back(final);
  }
  return true;
}

std::string linkCommand(const Bundle &bundle, const TargetSpec &target, const std::string &dir) {
  std::string cc = target.arch == "aarch64" ? "aarch64-linux-gnu-gcc" : target.arch == "x86_64" ? "gcc" : "cc";
  std::string cmd = cc + " -O2 -I" + dir + " app.c " + dir + "/" + bundle.name + ".o";
  if (!bundle.runtimeArchive.empty())
    cmd += " " + dir + "/libnncc_rt.a";
  return cmd + " -lm -o app";
}

} // namespace nncc
