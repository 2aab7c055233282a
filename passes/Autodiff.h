//===- Autodiff.h - reverse-mode differentiation of nn graphs ---*- C++ -*-===//
//
// The gradient graph is built in the nn dialect itself, after the forward
// ops, so fusion, memory planning and codegen treat it like any graph.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_PASSES_AUTODIFF_H
#define NNCC_PASSES_AUTODIFF_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <string>

namespace nncc {

struct DifferentiateOptions {
  /// The backward of an nn.loop saves every iteration's carried values. A
  /// loop whose iterations are not known at compile time (a trip count
  /// from the data, or a while loop whose trip count is unknown or would
  /// take more than 64 MiB to save) gets this many rows: -1 picks them (as
  /// many as fit 64 MiB, 16 to 4096), 0 refuses such loops. The loop stops
  /// when they run out, and its count of iterations is then one more than
  /// the rows.
  int64_t loopRows = -1;
  /// Rows for such loops by their place among them (a recompilation's);
  /// 0 or missing: as loopRows says.
  llvm::ArrayRef<int64_t> grownLoopRows;
  /// Gets the iteration counts of such loops (tensor<i64>), and of loops
  /// whose scan outputs' rows may stop them early: the function should
  /// return them as results marked `nn.rows_within` (the rows), for the
  /// runtime to recompile with more when a count exceeds them
  /// (setResultsWithRowChecks). Without it (null) such loops are refused.
  llvm::SmallVectorImpl<mlir::Value> *cappedCounts = nullptr;
};

/// Emits, at the builder's insertion point, d(loss)/d(v) for every v in
/// `wrt` (loss: a scalar float tensor). Gradients of values with several
/// uses are accumulated; ops that do not lie between `wrt` and `loss` get
/// no backward. A v that the loss does not depend on gets zeros. On an op
/// without a gradient rule, returns false and names it in `error`.
bool differentiate(mlir::OpBuilder &b, mlir::Value loss, llvm::ArrayRef<mlir::Value> wrt,
                   llvm::SmallVectorImpl<mlir::Value> &grads, std::string &error,
                   const DifferentiateOptions &options = {});

/// Replaces each nn.gradient of `func` (ONNX's Gradient) by the backward
/// graph of its y (summed when not a scalar) w.r.t. its xs, emitted where
/// it stands; one whose results nothing reads is dropped. On failure calls
/// `report` with the op and the reason and returns false.
bool expandGradientOps(mlir::func::FuncOp func,
                       llvm::function_ref<void(mlir::Operation *, const std::string &)> report);

/// Makes `values` the results of `func` followed by `cappedCounts`
/// (DifferentiateOptions), each marked `nn.rows_within` = the rows of its
/// loop's scan outputs (saved iterations included; the fewest) and
/// `nn.grows_loop` = its place.
void setResultsWithRowChecks(mlir::func::FuncOp func, llvm::ArrayRef<mlir::Value> values,
                             llvm::ArrayRef<mlir::Value> cappedCounts);

/// Ops of `func` that need a backward pass to reach the gradients of `wrt`
/// from `loss` (for nncc inspect).
llvm::DenseSet<mlir::Operation *> opsNeedingBackward(mlir::Value loss, llvm::ArrayRef<mlir::Value> wrt);

enum class LossKind { SoftmaxCrossEntropy, MeanSquaredError, BinaryCrossEntropyWithLogits, SumOfSquares };
bool parseLossKind(llvm::StringRef name, LossKind &kind);

/// The scalar mean loss of `prediction` against `target`, emitted at the
/// builder's insertion point. SoftmaxCrossEntropy takes integer class labels
/// [N] (or [N, 1]) for logits [N, C]; the others a target of the
/// prediction's shape; SumOfSquares (the loss of `nncc bench --train` for a
/// model without one) takes no target.
mlir::Value emitLoss(mlir::OpBuilder &b, mlir::Location loc, LossKind kind, mlir::Value prediction,
                     mlir::Value target);

/// Replaces every float, non-frozen nn.param of `func` (but batch_norm's
/// running mean and var, which gradients do not train) by a new trailing
/// argument (same type); returns their names in argument order. Several
/// nn.param ops of one name (shared weights) become one argument.
std::vector<std::string> paramsToArguments(mlir::func::FuncOp func);

/// Appends an argument named `name` (the `nn.name` the compiled graph's
/// signature reports) to `func`.
mlir::BlockArgument appendNamedArgument(mlir::func::FuncOp func, mlir::Type type, llvm::StringRef name);

/// Reads an --rnn-memory value: store-all, recompute-gates, checkpoint or
/// budget=BYTES (a number with an optional K, M or G suffix, powers of 1024).
bool parseRecurrentMemoryPolicy(llvm::StringRef text, std::string &policy, int64_t &budget, std::string &error);

/// Sets the memory policy of every LSTM, GRU and RNN gradient op of `func`.
/// Under checkpoint, a forward nn.lstm becomes nn.lstm_checkpointed (erased
/// and replaced) and its nn.lstm_grad reads the checkpoints instead of y;
/// under recompute-gates too, keeping y (only c saved); under store-all it
/// becomes nn.lstm_with_gates (nn.gru and nn.rnn: nn.gru_with_gates,
/// nn.rnn_with_gates) and its gradient op reads the saved gate
/// pre-activations instead of recomputing them. A budget picks one of
/// these per layer, or for an LSTM whose gates do not all fit,
/// nn.lstm_saving (the checkpoints and the gates of its last steps); for a
/// GRU or RNN, nn.*_with_gates with saved_steps (the rows of its last
/// steps).
void setRecurrentMemoryPolicy(mlir::func::FuncOp func, llvm::StringRef policy, int64_t budget);

/// Makes `values` the results of `func` (its return operands and type).
void setFunctionResults(mlir::func::FuncOp func, llvm::ArrayRef<mlir::Value> values);

} // namespace nncc

#endif
