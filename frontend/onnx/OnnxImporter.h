//===- OnnxImporter.h - ONNX models into the nn dialect ---------*- C++ -*-===//
#ifndef NNCC_FRONTEND_ONNX_ONNXIMPORTER_H
#define NNCC_FRONTEND_ONNX_ONNXIMPORTER_H

#include "runtime/Tensor.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
}

namespace nncc {

struct ImportOptions {
  /// Values of graph inputs, when known (nncc run). A graph input that
  /// determines a shape (Reshape's shape, Slice's starts, ...) is specialized
  /// to its value; the function keeps it as an (unused) argument.
  std::map<std::string, const Tensor *> inputValues;
  /// Shapes for graph inputs whose declared shape has symbolic dimensions.
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// Lengths of graph inputs that are sequences. A sequence input of length
  /// N takes N arguments, its elements, named `name[0]` to `name[N-1]` (so
  /// are their values and shapes above, and the elements of a sequence
  /// output, one result each). Without a length here, the elements with a
  /// value or shape count.
  std::map<std::string, int64_t> sequenceLengths;
  /// Graph inputs that are optionals and hold no value (they take no
  /// argument). Any other optional input takes its value's arguments: a
  /// tensor's, named as the input, or a sequence's.
  std::set<std::string> emptyOptionals;
  /// Directory of the model file, for tensors with external data.
  std::string baseDir;
  /// Name of the function created for the graph.
  std::string functionName = "main";
  /// Unroll every Scan, however long (training: as a loop, each step's
  /// backward would add its gradient of a scan input into a whole-sequence
  /// sum, T times). Otherwise a Scan of more than 64 steps runs as a loop.
  bool unrollScans = false;
  /// Evaluation, as PyTorch's model.eval(): Dropout passes its input
  /// through even when its training_mode is true (the trainer's predictions).
  bool evaluation = false;
  /// Rows of the scan outputs of a Loop run as a loop when its iterations
  /// are not known at compile time (a trip count from the data, or a
  /// condition from the data and a large or no trip count): -1 picks them
  /// (as many as fit 64 MiB, 16 to 4096), N > 0 gives N. A run that needs
  /// more counts one iteration more than the rows; `compileOnnx`'s
  /// Executable then recompiles with 8 times as many for that loop and runs
  /// again. 0 refuses such scan outputs (training: a loss would read rows
  /// that the run did not fill).
  int64_t loopRows = -1;
  /// Rows for the loops given such a capacity, by their order in the import
  /// (set by a recompilation); 0 or missing: as loopRows says.
  std::vector<int64_t> grownLoopRows;
};

/// Describes one graph input or output of an imported model.
struct TensorSignature {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  /// "tensor", or the ONNX type that is not one ("sequence", "optional", "map").
  std::string kind = "tensor";
};

/// Loads and parses an ONNX model file. Errors name the file and the cause
/// (missing, empty, truncated, not a ModelProto, a Caffe2 NetDef, ...).
bool loadOnnxModel(const std::string &path, onnx::ModelProto &model, std::string &error);

/// True when `bytes` look like an ONNX ModelProto (used to recognise models by
/// content rather than by file extension).
bool looksLikeOnnxModel(const std::string &bytes);

/// Imports the main graph of `model` as `func.func @<functionName>` in a new
/// module. Initializers become nn.param (floating point) or nn.constant; every
/// value gets a static shape. On failure returns null and sets `error`; when
/// the model uses operators nncc does not support, the message lists all of
/// them with their node names.
mlir::OwningOpRef<mlir::ModuleOp> importOnnxModel(mlir::MLIRContext &context,
                                                  const onnx::ModelProto &model,
                                                  const ImportOptions &options, std::string &error);

/// Graph inputs (initializers excluded) and outputs of a model, as declared
/// (symbolic dimensions are -1).
std::vector<TensorSignature> modelInputs(const onnx::ModelProto &model);
std::vector<TensorSignature> modelOutputs(const onnx::ModelProto &model);

/// Op types (with domain prefix for non-default domains) the importer knows.
std::vector<std::string> supportedOnnxOps();

} // namespace nncc

#endif
