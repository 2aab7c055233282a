//===- Inspect.cpp - `nncc inspect`: the assembly log and memory plan -----===//
#include "driver/Inspect.h"
#include "driver/Trainer.h"

#include "mlir/IR/MLIRContext.h"
#include "tools/nncc/Commands.h"

#include "onnx/onnx_pb.h"

#include <cstdio>

namespace nncc {

static const char *kInspectHelp = R"(usage: nncc inspect MODEL [options]

Compiles MODEL through the graph passes (fusion, layouts, decomposition,
memory planning) and prints the assembly log of the result, op by op:

  [ 12] /layer1/layer1.0/conv2/Conv (nn.conv)
        <- %11 float32[1, 4, 56, 56, 16], layer1.0.conv2.weight ..., %9 ...
        -> %12 float32[1, 4, 56, 56, 16], 802816 B, arena [0, 802816), in place of %9
        memory required so far: 2408448 B

then the planned peak of the intermediate buffers (the arena) against their
sum without reuse, the kernels' scratch, and the weights. "in place of %k":
the result overwrites an operand that dies at this op; "reuses the memory
of %k": it lands where a dead buffer was.

Options:
  --input-shape N=DxD   shape of an input with symbolic dimensions
  --no-memory-reuse     give every intermediate its own buffer
  --train               the training step instead (forward, loss, backward,
                        solver update): first, for each node, whether it
                        needs backward computation, as Caffe logs it
  --loss L, --solver S, --batch N   the step's loss (default sum_squares, or
                        as nncc train), solver (sgd) and batch (the model's)
  --rnn-memory P        the recurrent backward's memory policy, as for nncc bench
  --print-after-all, --print-after=PASS, --time-passes, --dump-dir=DIR
                        pass debugging, as for `nncc run`

Example:
  nncc inspect build/models/resnet18/model.onnx | tail -3
)";

int inspectCommand(int argc, char **argv) {
  std::set<std::string> valued = kCompileValued, flags = kCompileFlags;
  flags.insert({"help", "train"});
  valued.insert({"loss", "solver", "batch", "rnn-memory"});
  Args args(valued, flags);
  std::string error;
  if (!args.parse(argc, argv, 2, error)) {
    std::fprintf(stderr, "nncc inspect: %s\n(run `nncc inspect --help` for usage)\n", error.c_str());
    return 2;
  }
  if (args.has("help")) {
    std::printf("%s", kInspectHelp);
    return 0;
  }
  if (args.positional().size() != 1) {
    std::fprintf(stderr, "nncc inspect: expected one MODEL\n\n%s", kInspectHelp);
    return 2;
  }
  ImportOptions importOptions;
  CompileOptions options;
  if (!inputShapesFrom(args, importOptions, error) || !compileOptionsFrom(args, options, error))
    return fail(error);
  onnx::ModelProto model;
  if (!loadOnnxModel(args.positional()[0], model, error))
    return fail(error);
  InspectSummary summary;
  if (args.has("train")) {
    TrainStepOptions opt;
    if (!trainStepOptionsFrom(args, model, opt, error))
      return fail(error);
    mlir::MLIRContext ctx;
    TrainingGraph g;
    auto module = buildTrainingGraph(ctx, model, opt, /*step=*/true, g, error);
    if (!module)
      return fail(error);
    for (auto &kv : g.backward)
      llvm::outs() << kv.first << (kv.second ? " needs backward computation.\n" : " does not need backward computation.\n");
    if (!inspectModule(*module, options, llvm::outs(), summary, error))
      return fail(error);
    llvm::outs().flush();
    return 0;
  }
  if (!inspectOnnx(model, importOptions, options, llvm::outs(), summary, error))
    return fail(error);
  llvm::outs().flush();
  return 0;
}

} // namespace nncc
