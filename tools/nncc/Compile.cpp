//===- Compile.cpp - `nncc compile`: ahead-of-time bundles ----------------===//
#include "driver/Bundle.h"
#include "tools/nncc/Commands.h"

#include "onnx/onnx_pb.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace nncc {

static const char *kCompileHelp = R"(usage: nncc compile MODEL -target=TARGET [options] -o DIR

Compiles MODEL (ONNX, recognised by content) ahead of time for a device and
writes a bundle into DIR: NAME.o (the model, weights included), NAME.h (the
C API) and libnncc_rt.a (the runtime kernels built for the target). Link
them into an application; nothing else is needed on the device.

Options:
  -target=TARGET        arm | arm64 | aarch64 (AArch64 Linux), x86 | x86_64,
                        host, or an LLVM triple (aarch64-linux-gnu, ...)
  -mcpu=CPU             the device's CPU: cortex-a53, cortex-a72, neoverse-n1,
                        skylake-avx512, native (this machine), ...
  -O0 .. -O3            optimization level (default -O2)
  --name NAME           symbol prefix (default: the model file's stem as a C
                        identifier): NAME_run, NAME_inputs, NAME_NUM_INPUTS...
  --weights=external    write the weights to NAME.weights.bin instead of the
                        object; the application hands them to NAME_set_weights
  --input-shape N=DxD   shape of an input with symbolic dimensions
  --loop-rows=N         rows of the scan outputs of a Loop whose iterations
                        are known only at run time (default: as many as fit
                        64 MiB, 16 to 4096); NAME_run returns 2 when a run
                        needs more, NAME_run_rows tells how many were written
  -o DIR                output directory (created if needed)
  --print-after-all, --print-after=PASS, --time-passes, --dump-dir=DIR
                        pass debugging, as for `nncc run`

Example:
  nncc compile resnet18.onnx -target=arm -mcpu=cortex-a72 -o out/
  aarch64-linux-gnu-gcc -O2 -Iout app.c out/resnet18.o out/libnncc_rt.a -lm -o app
)";

int compileCommand(int argc, char **argv) {
  std::set<std::string> valued = kCompileValued, flags = kCompileFlags;
  valued.insert({"target", "mcpu", "name", "o", "weights", "loop-rows"});
  flags.insert({"help", "quiet"});
  Args args(valued, flags);
  std::string error;
  if (!args.parse(argc, argv, 2, error)) {
    std::fprintf(stderr, "nncc compile: %s\n(run `nncc compile --help` for usage)\n", error.c_str());
    return 2;
  }
  if (args.has("help")) {
    std::printf("%s", kCompileHelp);
    return 0;
  }
  if (args.positional().size() != 1 || !args.has("target") || !args.has("o")) {
    std::fprintf(stderr, "nncc compile: expected MODEL, -target=TARGET and -o DIR\n\n%s", kCompileHelp);
    return 2;
  }
  const std::string modelPath = args.positional()[0], dir = args.get("o");
  BundleOptions options;
  if (!resolveTarget(args.get("target"), args.get("mcpu"), options.target, error))
    return fail(error);
  if (!compileOptionsFrom(args, options.compile, error))
    return fail(error);
  std::string weights = args.get("weights", "embedded");
  if (weights != "embedded" && weights != "external")
    return fail("--weights must be embedded or external, got '" + weights + "'");
  options.externalWeights = weights == "external";
  std::string stem = modelPath.substr(modelPath.find_last_of('/') + 1);
  stem = stem.substr(0, stem.find('.'));
  std::string name = args.get("name", cIdentifier(stem));
  if (cIdentifier(name) != name)
    return fail("--name must be a C identifier (letters, digits, _), got '" + name + "'");
  options.name = name;

  ImportOptions importOptions;
  if (!inputShapesFrom(args, importOptions, error))
    return fail(error);
  if (args.has("loop-rows")) {
    std::string v = args.get("loop-rows");
    char *end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end || n < 1 || n > (1LL << 28))
      return fail("--loop-rows takes a number of rows from 1 to 268435456, got '" + v + "'");
    importOptions.loopRows = n;
  }
  auto slash = modelPath.find_last_of('/');
  importOptions.baseDir = slash == std::string::npos ? "." : modelPath.substr(0, slash);

  onnx::ModelProto model;
  if (!loadOnnxModel(modelPath, model, error))
    return fail(error);
  auto start = std::chrono::steady_clock::now();
  Bundle bundle;
  if (!compileBundle(model, importOptions, options, bundle, error))
    return fail(error);
  std::vector<std::string> written;
  if (!writeBundle(bundle, dir, written, error))
    return fail(error);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!args.has("quiet")) {
    std::printf("compiled %s for %s%s%s in %.2f s\n", modelPath.c_str(), options.target.triple.c_str(),
                options.target.cpu.empty() ? "" : " -mcpu=", options.target.cpu.c_str(), seconds);
    for (auto &f : written)
      std::printf("  wrote %s\n", f.c_str());
    std::printf("workspace: %lld bytes (%s_workspace_size()), weights: %lld bytes%s\n",
                (long long)bundle.workspaceBytes, name.c_str(), (long long)bundle.weightBytes,
                options.externalWeights ? " (external)" : " (embedded)");
    for (size_t h = 0; h < bundle.countedOutputs.size(); ++h) {
      int k = bundle.countedOutputs[h], dim = bundle.countedDims[h];
      std::string which = dim == 0 ? std::string("rows") : "dimension " + std::to_string(dim);
      std::printf("output %d ('%s') has %s known only at run time (a loop's scan output, the entries "
                  "NonMaxSuppression, NonZero, Unique or Compress found): room for %lld; %s_run_rows tells how "
                  "many a run wrote%s%s\n",
                  k, bundle.outputs[k].name.c_str(), which.c_str(), (long long)bundle.outputs[k].shape[dim],
                  name.c_str(), dim == 0 ? "" : " (packed first)",
                  bundle.countedMayRunOut[h] ? ", and a run needing more returns 2 (--loop-rows=N)" : "");
    }
    if (bundle.runtimeArchive.empty())
      std::printf("note: no prebuilt runtime for %s; build runtime/kernels/*.cpp for it with "
                  "runtime/build-bundle-runtime.sh\n",
                  options.target.arch.c_str());
    std::printf("link with:\n  %s\n", linkCommand(bundle, options.target, dir).c_str());
  }
  return 0;
}

} // namespace nncc
