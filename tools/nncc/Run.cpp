//===- Run.cpp - `nncc run`: compile for the host and execute -------------===//
#include "frontend/onnx/TensorProto.h"
#include "runtime/FileUtil.h"
#include "tools/nncc/Commands.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <dirent.h>
#include <memory>

namespace nncc {

static const char *kRunHelp = R"(usage: nncc run MODEL [options]

Compiles MODEL (ONNX, recognised by content) for this machine and runs it.

Inputs and outputs:
  --input FILE.pb        an input as an ONNX TensorProto (a SequenceProto or
                         OptionalProto for a sequence or optional input), in
                         graph-input order (repeat for each input;
                         initializers are not inputs)
  --test-data DIR        an ONNX backend-test folder: runs DIR/input_*.pb and
                         compares with DIR/output_*.pb (rtol 1e-3, atol 1e-7);
                         exits 1 on a mismatch, printing the worst element
  --output-dir DIR       writes output k as DIR/output_<k>.pb
  --input-shape N=DxD    shape for an input with symbolic dimensions
  --rtol X, --atol X     tolerances for --test-data
  --repeat N             run N times and report the median time
  --threads N            worker threads (default: all cores); results are
                         the same whatever N
  --quiet                print only errors and the final status

Compilation and pass debugging:
  -O0 .. -O3             LLVM optimization level (default -O2)
  --print-after-all      print the IR after every pass (stderr)
  --print-after=PASS     print the IR after the named pass (repeatable)
  --time-passes          time every pass
  --dump-dir=DIR         write DIR/NNN_<pass>.mlir after every pass
  --no-memory-reuse      give every intermediate its own buffer
  --schedule S           stacked LSTMs, GRUs and RNNs: wavefront
                         (default: layer l+1's step t runs while layer l's
                         step t+1 does; a bidirectional layer's two
                         directions run at once on 2 threads) or
                         sequential (layer by layer, directions in turn)
  --max-parallel-timesteps K   at most K cells at once (default: one per
                         thread)
  --unroll-recurrent     unroll LSTM/GRU/RNN layers (up to 256 steps) into
                         per-timestep cells in the IR instead of one kernel
                         per layer (see the IR with --print-after=nn-unroll-recurrent):
                         per step one recurrent product and one fused
                         pointwise kernel; runs about as fast as the kernels
                         (LSTM) but compiles slower (seconds per hundred
                         cells; -O0 compiles faster)

Example:
  nncc run build/models/mlp/model.onnx --test-data build/models/mlp/test_data_set_0
)";

static std::vector<std::string> numberedFiles(const std::string &dir, const std::string &prefix) {
  std::vector<std::pair<int, std::string>> found;
  if (DIR *d = opendir(dir.c_str())) {
    while (dirent *e = readdir(d)) {
      std::string n = e->d_name;
      if (n.rfind(prefix, 0) == 0 && n.size() > prefix.size() + 3 && n.substr(n.size() - 3) == ".pb") {
        std::string num = n.substr(prefix.size(), n.size() - prefix.size() - 3);
        if (!num.empty() && std::all_of(num.begin(), num.end(), ::isdigit))
          found.emplace_back(std::stoi(num), dir + "/" + n);
      }
    }
    closedir(d);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> r;
  for (auto &f : found)
    r.push_back(f.second);
  return r;
}

static void printTensor(const std::string &name, const Tensor &t) {
  std::printf("  %s: %s [", name.c_str(), t.describe().c_str());
  int64_t n = std::min<int64_t>(t.numElements(), 8);
  for (int64_t k = 0; k < n; ++k)
    std::printf("%s%.6g", k ? ", " : "", t.elementAsDouble(k));
  std::printf("%s]\n", t.numElements() > n ? ", ..." : "");
}

int runCommand(int argc, char **argv) {
  std::set<std::string> valued = kCompileValued, flags = kCompileFlags;
  valued.insert({"input", "output-dir", "test-data", "rtol", "atol", "repeat", "threads"});
  flags.insert({"quiet", "help"});
  Args args(valued, flags);
  std::string error;
  if (!args.parse(argc, argv, 2, error)) {
    std::fprintf(stderr, "nncc run: %s\n(run `nncc run --help` for usage)\n", error.c_str());
    return 2;
  }
  if (args.has("help")) {
    std::printf("%s", kRunHelp);
    return 0;
  }
  if (args.positional().size() != 1) {
    std::fprintf(stderr, "nncc run: expected one MODEL, got %zu\n%s", args.positional().size(), kRunHelp);
    return 2;
  }
  bool quiet = args.has("quiet");
  const std::string modelPath = args.positional()[0];
  ImportOptions importOptions;
  if (!inputShapesFrom(args, importOptions, error))
    return fail(error);
  CompileOptions options;
  if (!compileOptionsFrom(args, options, error) || !threadsFrom(args, error))
    return fail(error);

  onnx::ModelProto model;
  if (!loadOnnxModel(modelPath, model, error))
    return fail(error);

  // Inputs: --test-data folder or --input files, in graph-input order.
  std::vector<std::string> inputFiles = args.all("input"), expectedFiles;
  std::string testData = args.get("test-data");
  if (!testData.empty()) {
    if (!inputFiles.empty())
      return fail("give either --test-data or --input, not both");
    inputFiles = numberedFiles(testData, "input_");
    expectedFiles = numberedFiles(testData, "output_");
    if (expectedFiles.empty())
      return fail("'" + testData + "' has no output_*.pb files (expected an ONNX backend-test data folder)");
  }
  auto declared = modelInputs(model);
  if (inputFiles.size() != declared.size()) {
    std::string names;
    for (auto &d : declared)
      names += (names.empty() ? "'" : ", '") + d.name + "'";
    return fail("the model takes " + std::to_string(declared.size()) + " input(s) (" + names + "), " +
                std::to_string(inputFiles.size()) + " given; pass one --input FILE.pb per input or --test-data DIR");
  }
  std::vector<std::unique_ptr<Tensor>> inputs;
  auto slash = modelPath.find_last_of('/');
  importOptions.baseDir = slash == std::string::npos ? "." : modelPath.substr(0, slash);
  if (!readInputFiles(declared, inputFiles, importOptions, inputs, error))
    return fail(error);

  auto exe = compileOnnx(model, importOptions, options, error);
  if (!exe)
    return fail(error);

  std::vector<const Tensor *> in;
  for (auto &t : inputs)
    in.push_back(t.get());
  std::vector<Tensor> outputs;
  int repeat = std::max(1, std::atoi(args.get("repeat", "1").c_str()));
  std::vector<double> times;
  for (int r = 0; r < repeat; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    if (!exe->run(in, outputs, error))
      return fail(error);
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  double runMs = times[times.size() / 2];

  if (!quiet) {
    std::printf("model: %s\n", modelPath.c_str());
    std::printf("outputs:\n");
    for (size_t k = 0; k < outputs.size(); ++k)
      printTensor(exe->outputs()[k].name, outputs[k]);
    std::printf("compile: %.1f ms, run: %.3f ms%s, workspace: %lld bytes\n", exe->compileSeconds * 1000, runMs,
                repeat > 1 ? " (median)" : "", (long long)exe->workspaceBytes());
    if (exe->recompilations > 0)
      std::printf("note: recompiled %d time(s) while running: a loop's scan outputs needed more rows than "
                  "planned (the compile time includes it)\n",
                  exe->recompilations);
  }

  std::string outDir = args.get("output-dir");
  if (!outDir.empty()) {
    if (!makeDirs(outDir, error))
      return fail(error);
    for (size_t k = 0; k < outputs.size(); ++k)
      if (!writeTensorFile(outDir + "/output_" + std::to_string(k) + ".pb", outputs[k], exe->outputs()[k].name,
                           error))
        return fail(error);
  }

  if (!expectedFiles.empty()) {
    double rtol = std::atof(args.get("rtol", "1e-3").c_str()), atol = std::atof(args.get("atol", "1e-7").c_str());
    auto declaredOutputs = modelOutputs(model);
    if (expectedFiles.size() != declaredOutputs.size())
      return fail("the model has " + std::to_string(declaredOutputs.size()) + " output(s) but '" + testData +
                  "' has " + std::to_string(expectedFiles.size()));
    // A sequence output: its elements are outputs in turn (an optional:
    // its value's, none when empty).
    std::vector<Tensor> expectedValues;
    for (size_t k = 0; k < expectedFiles.size(); ++k) {
      ValueFile read;
      if (!readValueFile(expectedFiles[k], declaredOutputs[k].kind, read, error))
        return fail(error);
      for (auto &v : read.tensors)
        expectedValues.push_back(std::move(v));
    }
    if (expectedValues.size() != outputs.size())
      return fail("the model computed " + std::to_string(outputs.size()) + " output tensor(s) but '" + testData +
                  "' holds " + std::to_string(expectedValues.size()) +
                  " (counting the elements of sequences and optionals)");
    bool allOk = true;
    for (size_t k = 0; k < outputs.size(); ++k) {
      Tensor &expected = expectedValues[k];
      if (outputs[k].dtype() == DType::BFloat16 && expected.dtype() == DType::UInt16)
        expected.reinterpret(DType::BFloat16);
      std::string report;
      if (!compareTensors(outputs[k], expected, rtol, atol, report)) {
        std::fprintf(stderr, "nncc: output %zu ('%s') does not match: %s\n", k, exe->outputs()[k].name.c_str(),
                     report.c_str());
        allOk = false;
      }
    }
    if (!allOk)
      return 1;
    std::printf("test data: all %zu output(s) match\n", outputs.size());
  }
  return 0;
}

int opsCommand(int, char **) {
  for (auto &op : supportedOnnxOps())
    std::printf("%s\n", op.c_str());
  return 0;
}

} // namespace nncc
