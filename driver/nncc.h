//===- nncc.h - the nncc C++ API --------------------------------*- C++ -*-===//
//
// Compile a model for this machine and run it on tensors:
//
//   std::string error;
//   auto model = nncc::CompiledModel::fromOnnxFile("model.onnx", error);
//   std::vector<nncc::Tensor> outputs;
//   model->run({input}, outputs, error);
//
// See docs/cpp-api.md and docs/examples/run_model.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_DRIVER_NNCC_H
#define NNCC_DRIVER_NNCC_H

#include "frontend/builder/GraphBuilder.h"
#include "frontend/onnx/OnnxImporter.h"
#include "runtime/Tensor.h"

#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

namespace nncc {

class Executable;

struct ModelOptions {
  /// Shapes for inputs with symbolic dimensions ("batch" -> [1, 3, 224, 224]).
  /// Symbolic dimensions left open here make the model compile at run():
  /// once per shape of its inputs (the last `shapesKept` kept).
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// Values of inputs that determine shapes (a Reshape's shape given as a
  /// graph input, ...). The model is compiled for these values.
  std::map<std::string, const Tensor *> inputValues;
  /// Lengths of sequence inputs: a sequence `xs` of N tensors is N inputs,
  /// `xs[0]` .. `xs[N-1]` (without a length here, the elements given a shape
  /// above count). Sequence outputs are one output per element.
  std::map<std::string, int64_t> sequenceLengths;
  /// Optional inputs that hold no value (they are no input); any other
  /// optional input is its value's input(s).
  std::set<std::string> emptyOptionals;
  /// LLVM optimization level, 0 to 3.
  unsigned optLevel = 2;
  /// Compilations for input shapes kept at once (a model with symbolic
  /// dimensions left open); the least recently run goes first.
  int shapesKept = 8;
};

class CompiledModel {
public:
  ~CompiledModel();
  /// Loads an ONNX model (any file name; recognised by content) and compiles
  /// it for the host. Returns null and sets `error` on failure.
  static std::unique_ptr<CompiledModel> fromOnnxFile(const std::string &path, std::string &error,
                                                     const ModelOptions &options = {});

  /// Compiles a graph written in C++ (frontend/builder/GraphBuilder.h; its
  /// recurrent cells: frontend/builder/Cells.h). The builder is finished by
  /// this call. Returns null and sets `error` on failure.
  static std::unique_ptr<CompiledModel> fromBuilder(GraphBuilder &graph, std::string &error,
                                                    const ModelOptions &options = {});
  /// Signatures. A model whose symbolic dimensions are left open reports
  /// them as -1, and its outputs as the model declares them (-1 where the
  /// model gives no extent).
  const std::vector<TensorSignature> &inputs() const;
  const std::vector<TensorSignature> &outputs() const;
  /// Runs on `inputs` (graph-input order); fills `outputs`. Checks element
  /// types and shapes. Tensors `outputs` already holds with an output's
  /// element type and shape (a previous run's) are written over rather
  /// than allocated again (`outputs` may be `inputs`: a recurrent model's
  /// state fed back reads as it was). Calls are serialized (per input
  /// shapes, for a model compiled per shape); the model may be shared. The scan output of an ONNX Loop that runs as a loop (its
  /// trip count or condition comes from the data) has as many rows as
  /// iterations ran: at most the leading dimension of its signature, which
  /// grows (the model is recompiled, once per 8 times as many rows for that
  /// loop) when a run needs more; read outputs() only while no run is under
  /// way.
  /// A model with symbolic dimensions left open compiles for the shapes of
  /// `inputs` on their first run (its declared extents must match).
  bool run(const std::vector<Tensor> &inputs, std::vector<Tensor> &outputs, std::string &error);
  /// Bytes of the planned workspace for intermediate tensors (of the last
  /// shapes run, for a model compiled per shape; 0 before its first run).
  int64_t workspaceBytes() const;
  /// Compilations for input shapes this model holds (1 for a model with
  /// static shapes).
  int compiledShapes() const;
  /// Compilations so far, dropped ones included (1 for static shapes).
  /// Runs of other shapes go on while one compiles.
  int compilations() const;

private:
  std::unique_ptr<Executable> exe;
  struct PerShape;
  std::unique_ptr<PerShape> perShape; ///< models with symbolic dimensions left open
};

class TrainingSession;

struct TrainOptions {
  std::string loss = "softmax_cross_entropy"; ///< mse, bce_with_logits, sum_squares
  std::string solver = "sgd"; ///< momentum, nesterov, adagrad, rmsprop, adam
  double momentum = 0.9;      ///< momentum/nesterov; Adam's beta1
  double beta2 = 0.999, rmsDecay = 0.99, eps = 1e-8;
  double weightDecay = 0; ///< L2
  double clipNorm = 0;    ///< global-norm clipping (0: off)
  /// The features' first dimension (a model with carried states keeps its
  /// own when the model fixes it).
  int64_t batch = 64;
};

/// Trains a model: each step (forward, loss, backward, solver update) is one
/// compiled graph.
///
///   auto t = nncc::Trainer::fromOnnxFile("mlp.onnx", {}, error);
///   float loss;
///   t->step(x, labels, /*lr=*/0.1, loss, error);   // x: [batch, ...], labels: int64 [batch]
///   t->save("trained.onnx", error);
class Trainer {
public:
  ~Trainer();
  static std::unique_ptr<Trainer> fromOnnxFile(const std::string &path, const TrainOptions &options,
                                               std::string &error);
  const TensorSignature &input() const;
  const TensorSignature &output() const;
  /// One training step; returns the loss of the batch (before the update).
  bool step(const Tensor &x, const Tensor &labels, double lr, float &loss, std::string &error);
  /// A recurrent model's carried states: its inputs after the first that
  /// its outputs at the same places hand back (h0 -> h_n). Each step starts
  /// from them and leaves the model's final states here (truncated BPTT;
  /// zeros at first; set them, e.g. to zeros, to start a new sequence).
  /// Empty for a model with one input.
  std::vector<Tensor> &carriedStates();
  /// The model's other inputs after the first (no output hands them back):
  /// given for every step and predict(), e.g. a batch's sequence lengths
  /// (zeros until set; no gradient flows into them). Empty when there are
  /// none.
  std::vector<Tensor> &givenInputs();
  /// The model's first output for a batch, with the current parameters
  /// (from zero carried states, which it leaves as they are, and the given
  /// inputs as set).
  bool predict(const Tensor &x, Tensor &y, std::string &error);
  std::vector<std::string> parameterNames() const;
  bool getParameter(const std::string &name, Tensor &value, std::string &error) const;
  bool setParameter(const std::string &name, const Tensor &value, std::string &error);
  /// The model with the trained parameters, written atomically.
  bool save(const std::string &path, std::string &error) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// ONNX TensorProto files (the backend-test `input_0.pb` format).
bool readTensor(const std::string &path, Tensor &tensor, std::string &error);
bool writeTensor(const std::string &path, const Tensor &tensor, std::string &error);

} // namespace nncc

#endif
