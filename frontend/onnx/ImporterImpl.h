//===- ImporterImpl.h - the ONNX importer's state (private) ----*- C++ -*-===//
#ifndef NNCC_FRONTEND_ONNX_IMPORTERIMPL_H
#define NNCC_FRONTEND_ONNX_IMPORTERIMPL_H

#include "frontend/onnx/NodeImporter.h"
#include "frontend/onnx/OnnxImporter.h"

#include "ir/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <map>

namespace nncc {

using namespace mlir;

class OnnxImporterImpl {
public:
  OnnxImporterImpl(MLIRContext &ctx, const onnx::ModelProto &model, const ImportOptions &options)
      : ctx(ctx), model(model), options(options), builder(&ctx),
        store(ctx.getOrLoadDialect<nn::NNDialect>()->getWeightStore()) {
    for (const auto &o : model.opset_import())
      opsets[o.domain() == "ai.onnx" ? "" : o.domain()] = o.version();
    if (model.opset_import_size() == 0)
      opsets[""] = 1;
  }

  OwningOpRef<ModuleOp> run(std::string &error);

  /// Value of an ONNX name in the current scope.
  Value lookup(const std::string &name) {
    auto it = values.find(name);
    return it == values.end() ? Value() : it->second;
  }
  void define(const std::string &name, Value v) { values[name] = v; }

  Optional<nn::ConstValues> constantOf(const std::string &name, Value v);
  Value specialize(const std::string &name);
  Value constantOp(const nn::ConstValues &v, Location loc);

  MLIRContext &ctx;
  const onnx::ModelProto &model;
  const ImportOptions &options;
  OpBuilder builder;
  nn::WeightStore &store;
  std::map<std::string, int64_t> opsets;
  llvm::StringMap<Value> values;
  /// Bindings of the scopes enclosing the subgraph being imported.
  std::vector<llvm::StringMap<Value>> outerScopes;
  /// Data of the parameters, for reading them as constants.
  llvm::DenseMap<Value, const Tensor *> paramData;
  std::vector<std::unique_ptr<Tensor>> ownedTensors;
  std::map<std::string, const Tensor *> graphInputValues;
  /// Values with one dimension whose extent is known only at run time (the
  /// scan outputs of a loop run as a loop, NonMaxSuppression's selected
  /// indices, NonZero's, Unique's): it holds room for the most entries,
  /// `count` says how many are used. Nodes that read such a value are
  /// imported only when they carry the extent to their result
  /// (carryRunTimeExtent); a graph output returns the count as a hidden
  /// result. `what` names the value and `advice` says how to avoid it, for
  /// messages.
  struct RunTimeRows {
    Value count;
    std::string what, advice;
    int dim = 0; ///< the dimension whose extent is `count`
  };
  llvm::DenseMap<Value, RunTimeRows> rowsKnownAtRunTime;
  /// Loops whose scan outputs got a capacity of rows (a run may outgrow it),
  /// by their count result: their place in import order among the loops
  /// that could (ImportOptions::grownLoopRows), and how many could so far.
  llvm::DenseMap<Value, int> capacityLoops;
  int capacityLoopCount = 0;
  /// Streams given to the random ops so far (each op its own).
  int64_t randomStreams = 0;
  /// The seed of random ops without one: drawn once per import, as ONNX
  /// leaves it to the runtime.
  Optional<int64_t> importSeed;
  func::FuncOp func;

  /// Imports one node in the current scope.
  LogicalResult importNode(const onnx::NodeProto &node, int index);
  /// Imports a subgraph (If branch, Loop or Scan body) inline: its inputs are
  /// bound to `inputs`, it sees the enclosing scope, and its own names do not
  /// leak out. Sets `outputs` to the values of its outputs.
  /// A loop's or scan's body (not `branch`, an If's taken branch, whose
  /// outputs become the If's) may not output a run-time scan output.
  LogicalResult importSubgraph(const onnx::GraphProto &g, ArrayRef<Value> inputs, SmallVectorImpl<Value> &outputs,
                               bool branch = false);
  /// The value of `v` when it can be computed at compile time once the graph
  /// inputs it depends on are specialized to their known values; else null.
  Value foldThroughInputs(Value v);
  /// Whether nodes of this op type may read a value of run-time extent.
  static bool carriesRunTimeExtent(StringRef opType);
  /// Before node `n` is imported: when it reduces (Reduce*, ArgMax, ArgMin)
  /// along the run-time dimension of its input, binds the input's name to
  /// the input with the entries past the count set to the reduction's
  /// neutral element, and returns the original value (to bind again after
  /// the node); else null; failure when its axes are wrong (reported)
  /// (RunTimeExtent.cpp).
  FailureOr<Value> maskForReduction(onnximport::Node &n);
  /// After it: binds the input again and makes a mean one of the entries in
  /// use only.
  void unmaskAfterReduction(onnximport::Node &n, Value original);
  /// Set while a node reduces along a run-time dimension (its result has
  /// none).
  bool reducingRunTimeDim = false;
  /// After node `n` was imported: when it read values of run-time extent,
  /// its result gets that extent along the dimension the op maps theirs to;
  /// an error (naming `label`) when the op would mix the entries past the
  /// count into the others (RunTimeExtent.cpp).
  LogicalResult carryRunTimeExtent(onnximport::Node &n, StringRef label);
  /// Diagnostics of the import so far (errors, one per line).
  std::string diag;

private:
  LogicalResult checkSupported(const onnx::GraphProto &graph, std::string &error);
  LogicalResult importInitializer(const onnx::TensorProto &t, std::string &error);
  /// The type of graph input `name` (a tensor, or a sequence's element).
  Type inputType(const std::string &name, const onnx::TypeProto_Tensor &tt, std::string &error);
  /// The arguments (types and names) of a graph input `name` of ONNX type
  /// `type`: a tensor's one, a sequence's elements (`name[k]`; the length
  /// is ImportOptions::sequenceLengths' or that of the elements with a value
  /// or shape), an optional's value's (none when empty).
  LogicalResult inputArguments(const std::string &name, const onnx::TypeProto &type, SmallVectorImpl<Type> &types,
                               SmallVectorImpl<std::string> &names, std::string &error);
  /// The value of that graph input, from its arguments at the front of
  /// `args` (which it drops).
  Value inputValue(const std::string &name, const onnx::TypeProto &type, ArrayRef<BlockArgument> &args);
  /// The lengths inputArguments gave the sequence inputs, by name.
  std::map<std::string, int64_t> sequenceInputLengths;
  void replaceValue(Value from, Value to);
};

} // namespace nncc

#endif
