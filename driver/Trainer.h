//===- Trainer.h - compiled training steps, solvers, nncc train -*- C++ -*-===//
//
// A training step is one compiled graph: forward, loss, the gradient graph
// of passes/Autodiff and the solver's update, all nn ops:
//
//   step(x, carried..., params..., labels, lr, state...)
//       -> (loss, params'..., state'..., carried'...)
//
// The host keeps the parameters and the solver state and feeds each step's
// results to the next; it computes the learning rate of the iteration from
// the policy. A model whose inputs after the first (the features) its
// outputs at the same places hand back (a recurrent model's initial and
// final states: PyTorch's `y, h = rnn(x, h0)`) carries them from step to
// step, as truncated backpropagation through time does: each step starts
// from the previous step's final states, and no gradient flows into them.
// Its other inputs after the features are given by the caller for each step
// (a batch's sequence lengths, a mask), also without gradients; the step
// takes the inputs in the model's order (`carried...` above stands for
// both).
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_DRIVER_TRAINER_H
#define NNCC_DRIVER_TRAINER_H

#include "driver/Compiler.h"
#include "runtime/Tensor.h"

#include "mlir/IR/Builders.h"

#include <memory>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
}

namespace nncc {

struct SolverConfig {
  std::string solver = "sgd"; ///< sgd momentum nesterov adagrad rmsprop adam
  double momentum = 0.9;      ///< momentum, nesterov; Adam's beta1
  double beta2 = 0.999;       ///< Adam
  double rmsDecay = 0.99;     ///< RMSProp
  double eps = 1e-8;          ///< adagrad, rmsprop, adam
  double weightDecay = 0;     ///< L2 (or L1 with l1 = true)
  bool l1 = false;
  double clipNorm = 0; ///< clip gradients to this global norm (0: off)
};

/// Number of state tensors per parameter.
int solverStateCount(const std::string &solver);
bool validSolver(const std::string &solver);

struct LrPolicy {
  std::string policy = "fixed"; ///< fixed step exp inv multistep poly sigmoid
  double base = 0.01, gamma = 0.1, power = 1.0;
  int64_t stepSize = 1000, maxIter = 0, warmup = 0;
  std::vector<int64_t> stepValues;
  /// Learning rate at iteration `iter` (0-based), after linear warm-up over
  /// the first `warmup` iterations.
  double at(int64_t iter) const;
};
bool validPolicy(const std::string &policy);

/// Emits the solver's update (weight decay, global-norm clipping, then the
/// rule) of every parameter as nn ops; appends the new parameters and the
/// new state (state k of parameter i is state[i * solverStateCount + k]).
/// `lr` is a scalar tensor: the policy's rate (Adam: its bias-corrected
/// step size, adamStepSize).
void emitSolverUpdate(mlir::OpBuilder &b, mlir::Location loc, const SolverConfig &cfg, mlir::Value lr,
                      llvm::ArrayRef<mlir::Value> params, llvm::SmallVector<mlir::Value> grads,
                      llvm::ArrayRef<mlir::Value> state, llvm::SmallVectorImpl<mlir::Value> &newParams,
                      llvm::SmallVectorImpl<mlir::Value> &newState);

/// Bias-corrected step size of Adam at 1-based step t.
double adamStepSize(double lr, double beta1, double beta2, int64_t t);

struct TrainStepOptions {
  std::string loss = "softmax_cross_entropy";
  SolverConfig solver;
  /// The features' first dimension (a model with carried states keeps its
  /// own when the model fixes it).
  int64_t batch = 64;
  /// Backward of the recurrent layers: store-all, recompute-gates,
  /// checkpoint or budget (with rnnMemoryBudget bytes).
  std::string rnnMemory = "store-all";
  int64_t rnnMemoryBudget = 0;
  /// Iterations saved for the backward of a loop whose iterations are not
  /// known at compile time (DifferentiateOptions::loopRows): -1 picks them;
  /// a step that needs more recompiles with 8 times as many.
  int64_t loopRows = -1;
  /// Rows for such loops by their place (set by a recompilation).
  std::vector<int64_t> grownLoopRows;
  CompileOptions compile;
};

/// What buildTrainingGraph made: the parameters (names, initial values),
/// the signatures, and for each forward node whether it needs a backward.
struct TrainingGraph {
  std::vector<std::string> names;
  std::vector<Tensor> initial;
  TensorSignature input, output, labels;
  /// The carried states: the model's inputs after the first that the
  /// output at their place hands back, each fed the previous step's.
  std::vector<TensorSignature> carried;
  /// The other inputs after the first: given for each step.
  std::vector<TensorSignature> given;
  /// Per input after the first, in the model's order: whether it is carried.
  std::vector<bool> isCarried;
  bool hasLabels = false;
  std::vector<std::pair<std::string, bool>> backward; ///< node name, needs backward
  /// Loops whose saved iterations have a capacity (their counts are the
  /// step's last results, nn.rows_within).
  int cappedLoops = 0;
};

/// Imports `model` into `context` and builds either the training step
/// (`step`: forward, loss, gradients, solver update, parameters and state
/// as arguments) or the inference graph with the parameters as arguments.
mlir::OwningOpRef<mlir::ModuleOp> buildTrainingGraph(mlir::MLIRContext &context, const onnx::ModelProto &model,
                                                     const TrainStepOptions &options, bool step, TrainingGraph &g,
                                                     std::string &error);

/// A model's training step and its evaluation graph, compiled, with the
/// parameters and solver state they work on.
class TrainingSession {
public:
  /// Imports `model`, builds and compiles the step (batch `options.batch`);
  /// the inference graph is compiled on the first predict(). The parameters
  /// start from the initializers. `model` must outlive the session.
  static std::unique_ptr<TrainingSession> create(const onnx::ModelProto &model, const TrainStepOptions &options,
                                                 std::string &error);

  /// One step on a batch (x: the model input's shape with the batch size;
  /// labels: int64 [batch] for softmax_cross_entropy, the output's shape
  /// for mse and bce_with_logits, ignored for sum_squares); `lr` is the
  /// policy's rate. Returns the loss.
  /// Each step starts from the carried states (carried(); zeros at first)
  /// and leaves the model's final ones there for the next.
  bool step(const Tensor &x, const Tensor &labels, double lr, float &loss, std::string &error);
  /// The model's first output for a batch (inference graph, same batch),
  /// from zero carried states (they are left as they are) and the given
  /// inputs as set.
  bool predict(const Tensor &x, Tensor &y, std::string &error);
  /// The carried states (see the file comment): empty for a model with one
  /// input. Set them to start the next step elsewhere (e.g. zeros at the
  /// start of a new sequence).
  std::vector<Tensor> &carried() { return carriedValues; }
  const std::vector<TensorSignature> &carriedSignatures() const { return carriedSigs; }
  /// The inputs after the first that no output hands back (a batch's
  /// sequence lengths, a mask): what each step and predict() take for them
  /// (zeros until set). Empty when there are none.
  std::vector<Tensor> &given() { return givenValues; }
  const std::vector<TensorSignature> &givenSignatures() const { return givenSigs; }
  /// The inputs after the first in the model's order (carried states and
  /// given inputs), with their signatures.
  std::vector<std::pair<Tensor *, const TensorSignature *>> laterInputs();

  const std::vector<std::string> &paramNames() const { return names; }
  std::vector<Tensor> &params() { return paramValues; }
  std::vector<Tensor> &state() { return stateValues; }
  int64_t stepsTaken() const { return steps; }
  void setStepsTaken(int64_t n) { steps = n; }
  const TensorSignature &input() const { return inputSig; }
  const TensorSignature &output() const { return outputSig; }
  const TensorSignature &labels() const { return labelSig; }
  /// Whether the step takes labels (every loss but sum_squares).
  bool takesLabels() const { return hasLabels; }
  /// The step's planned intermediate memory (activations, gradients,
  /// optimizer scratch) and its parameter and state bytes.
  int64_t stepWorkspaceBytes() const { return stepExe->workspaceBytes(); }
  /// How often the step was recompiled because a loop ran more iterations
  /// than the rows planned to save them (TrainStepOptions::loopRows).
  int stepRecompilations() const { return stepExe->recompilations; }
  /// Names of the step's timed ops (TrainStepOptions::compile.profile).
  const std::vector<std::string> &stepProfileNames() const { return stepExe->profileNames(); }
  /// Ops that needed a backward (node names), for the log.
  const std::vector<std::string> &backwardOps() const { return backwardNames; }

private:
  TrainStepOptions options;
  const onnx::ModelProto *model = nullptr;
  std::unique_ptr<Executable> stepExe, predictExe;
  std::vector<std::string> names, backwardNames;
  std::vector<Tensor> paramValues, stateValues, carriedValues, givenValues;
  /// The step before last's outputs (its loss, parameters, optimizer state
  /// and carried states), which the next step writes over.
  std::vector<Tensor> spareOutputs;
  TensorSignature inputSig, outputSig, labelSig;
  std::vector<TensorSignature> carriedSigs, givenSigs;
  std::vector<bool> isCarried;
  /// The inputs after the features, in the model's order: the carried
  /// states (from `carried`) and the given inputs.
  void appendInputs(std::vector<const Tensor *> &in, const std::vector<Tensor> &carried) const;
  int64_t steps = 0;
  bool hasLabels = true;
};

/// Writes `model` with its initializers replaced by `params` (by name) to
/// `path`, atomically (temporary file, then rename).
bool saveOnnxWithParams(const onnx::ModelProto &model, const std::vector<std::string> &names,
                        const std::vector<Tensor> &params, const std::string &path, std::string &error);

} // namespace nncc

#endif
