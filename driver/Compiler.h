//===- Compiler.h - from an nn module to something that runs ----*- C++ -*-===//
//
// The driver strings the stages together: the nn-level pass pipeline
// (passes/), the lowering (codegen/) and the in-process JIT, and owns what a
// compiled graph needs at run time: entry point, weight blob, workspace.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_DRIVER_COMPILER_H
#define NNCC_DRIVER_COMPILER_H

#include "frontend/onnx/OnnxImporter.h"
#include "runtime/Tensor.h"

#include "mlir/IR/BuiltinOps.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mlir {
class PassManager;
}

namespace nncc {

class JitModule;

struct CompileOptions {
  unsigned optLevel = 2;
  /// Pass debugging: print the IR after every pass / after the named passes
  /// (to stderr), time each pass, or write a numbered file per pass.
  bool printAfterAll = false;
  std::vector<std::string> printAfter;
  bool timePasses = false;
  std::string dumpDir;
  /// Reuse the memory of dead intermediates (the memory plan).
  bool reuseMemory = true;
  /// Compile for the host runtime's kernels (oneDNN convolutions and pools,
  /// channels-last activations). Off for bundles: they link the portable
  /// kernels, which run plain layouts and need their own scratch sizes.
  bool hostKernels = true;
  /// Fuse activations and residual sums into convolution epilogues.
  bool fuse = true;
  /// Time every op at run time (nncc bench --profile).
  bool profile = false;
  /// Stacked LSTMs (nn-stack-recurrent): "wavefront" runs the cells of all
  /// layers along diagonals, at most maxParallelTimesteps at once (0: one per
  /// thread); "sequential" runs them layer by layer.
  std::string recurrentSchedule = "wavefront";
  int64_t maxParallelTimesteps = 0;
  /// Unroll recurrent layers into per-timestep cells (nn-unroll-recurrent)
  /// before fusion, instead of running each as one kernel.
  bool unrollRecurrent = false;
};

/// A compiled graph, ready to run on the host.
class Executable {
public:
  ~Executable();
  const std::vector<TensorSignature> &inputs() const { return inputs_; }
  const std::vector<TensorSignature> &outputs() const { return outputs_; }
  /// Checks the inputs' element types and shapes, allocates the outputs and
  /// runs. Tensors already in `outputs` with an output's element type and
  /// shape are written over instead (inputs that are tensors of `outputs`
  /// are read as they were: `outputs` then gets new tensors). Calls are
  /// serialized. The scan outputs of an ONNX Loop run as a loop are trimmed
  /// to the iterations that ran. When a run needs more
  /// rows for a loop than planned (its scan outputs, ImportOptions::
  /// loopRows, or in training its saved iterations, TrainStepOptions::
  /// loopRows), an Executable that can recompile (setRecompile; compileOnnx
  /// and the Trainer set it) recompiles with 8 times as many rows for that
  /// loop and runs again: `recompilations` counts this, and outputs() (the
  /// scan outputs' leading dimension) and workspaceBytes() change, so read
  /// them only while no run is under way.
  bool run(const std::vector<const Tensor *> &inputs, std::vector<Tensor> &outputs, std::string &error);

  int64_t workspaceBytes() const { return workspaceBytes_; }
  int64_t totalIntermediateBytes() const { return totalIntermediateBytes_; }
  int64_t weightBytes() const { return weightBytes_; }
  /// Names of the timed ops (compiled with CompileOptions::profile), by id.
  const std::vector<std::string> &profileNames() const { return profileNames_; }
  double compileSeconds = 0;
  int recompilations = 0;
  /// How to recompile when a run needs more rows for a loop than planned:
  /// `recompile(rows, error)` compiles the same graph with rows[k] rows for
  /// the k-th loop given a capacity (0: its default;
  /// ImportOptions::grownLoopRows, DifferentiateOptions::grownLoopRows).
  /// compileOnnx and the Trainer set it; without it such a run fails.
  using Recompile = std::function<std::unique_ptr<Executable>(const std::vector<int64_t> &rows, std::string &error)>;
  void setRecompile(Recompile recompile) { regrow = std::move(recompile); }
  /// Whether a run may need more rows for a loop than planned.
  bool mayRecompile() const {
    return std::any_of(growsLoop_.begin(), growsLoop_.end(), [](int k) { return k >= 0; });
  }

private:
  friend std::unique_ptr<Executable> compileModule(mlir::ModuleOp, const CompileOptions &, std::string &);
  friend std::unique_ptr<Executable> compileOnnx(const onnx::ModelProto &, const ImportOptions &,
                                                 const CompileOptions &, std::string &);
  /// One run into `out`; `rows` gets each hidden result's count.
  bool runOnce(const std::vector<const Tensor *> &inputs, std::vector<Tensor> &out, std::vector<int64_t> &rows,
               std::string &error);
  /// Takes over what `next` compiled (its entry point, buffers, signatures).
  void adopt(Executable &next);
  /// The rows each capacity loop has (by its place; 0: not known here).
  std::vector<int64_t> loopRows(const std::vector<int64_t> &hiddenRows) const;
  Recompile regrow;
  std::vector<int64_t> rowsWithin_; ///< per hidden `nn.rows_within` result: the rows its count may reach
  std::vector<int> growsLoop_;      ///< per hidden result: the capacity loop it counts (its place), or -1
  std::unique_ptr<JitModule> jit;
  int (*entry)(void **, void **, void *, void *) = nullptr;
  std::vector<TensorSignature> inputs_, outputs_;
  std::vector<int> lengthOf_; ///< per hidden result: the output whose rows it counts
  std::vector<int> lengthDim_; ///< per hidden result: the dimension of those rows
  std::unique_ptr<uint8_t, AlignedDeleter> weights, workspace;
  int64_t workspaceBytes_ = 0, totalIntermediateBytes_ = 0, weightBytes_ = 0;
  std::vector<std::string> profileNames_;
  std::mutex mutex;
};

/// Where each parameter sits in the weight blob, and the workspace size
/// (what nncc-lower-nn records on the lowered function).
struct WeightLayout {
  std::vector<std::string> profileNames;
  std::vector<std::string> names;
  std::vector<int64_t> offsets;
  int64_t weights = 0, workspace = 0, total = 0, scratch = 0;
};

/// A graph lowered to the LLVM dialect, with what running it needs.
struct LoweredGraph {
  std::string name; ///< the graph function; the entry point is <name>_entry
  std::vector<TensorSignature> inputs, outputs;
  /// Hidden results after the outputs (tensor<i64>, `nn.length_of`): each
  /// counts the rows of the output it names that hold values (the scan
  /// outputs of a loop run as a loop); the runtime trims that output.
  std::vector<int> lengthOf;
  /// Per such result (`nn.length_dim`, 0 when absent): the dimension it
  /// counts along. Along a later one the output holds its used entries
  /// packed first, so the trimmed output is a prefix.
  std::vector<int> lengthDim;
  /// Hidden results after those (tensor<i64>, `nn.rows_within`): iteration
  /// counts of loops whose saved iterations have this many rows; a count
  /// above them means they ran out (the runtime recompiles with more).
  std::vector<int64_t> rowsWithin;
  /// Per hidden result (`nn.grows_loop`): the place of the loop whose
  /// iterations it counts among those given a capacity, or -1 (rows that
  /// never run out).
  std::vector<int> growsLoop;
  WeightLayout layout;
};

/// Runs the graph and lowering pipelines on the single graph function of
/// `module`, leaving it in the LLVM dialect.
bool lowerToLLVM(mlir::ModuleOp module, const CompileOptions &options, LoweredGraph &graph, std::string &error);

/// The weight blob of a lowered graph, from the weight store of `ctx`.
bool buildWeightBlob(mlir::MLIRContext &ctx, const WeightLayout &layout, uint8_t *blob, std::string &error);

/// Adds the nn-level passes (folding, decomposition, memory plan).
void buildGraphPipeline(mlir::PassManager &pm, const CompileOptions &options);
/// Applies the debugging options (IR printing, timing, dumps) to `pm`.
bool configureInstrumentation(mlir::PassManager &pm, const CompileOptions &options, std::string &error);

/// Compiles the single graph function of `module` (consumed) for the host.
std::unique_ptr<Executable> compileModule(mlir::ModuleOp module, const CompileOptions &options,
                                          std::string &error);

/// Imports an ONNX model and compiles it.
std::unique_ptr<Executable> compileOnnx(const onnx::ModelProto &model, const ImportOptions &importOptions,
                                        const CompileOptions &options, std::string &error);

/// Registers every dialect nncc uses in a context.
void loadDialects(mlir::MLIRContext &context);

} // namespace nncc

#endif
