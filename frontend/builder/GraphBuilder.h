//===- GraphBuilder.h - build a model in C++ ---------------------*- C++ -*-===//
//
// The third way into nncc, next to ONNX and Caffe2 files: a graph written in
// C++, op by op, with shapes inferred as it grows.
//
//   nncc::GraphBuilder g;
//   auto x = g.input("x", {8, 784});
//   auto w = g.weight("fc.weight", wTensor);            // [784, 10]
//   g.output(g.softmax(g.matmul(x, w, g.weight("fc.bias", bTensor)), 1), "probs");
//   auto model = nncc::CompiledModel::fromBuilder(g, error);
//
// Handles (GraphBuilder::Value) belong to the builder that made them. A
// misuse (a wrong handle, shapes that do not fit) makes the builder invalid:
// later calls return invalid handles, and error() names the first problem;
// compiling an invalid builder fails with that message. Recurrent cells built
// from these ops are in frontend/builder/Cells.h.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_FRONTEND_BUILDER_GRAPHBUILDER_H
#define NNCC_FRONTEND_BUILDER_GRAPHBUILDER_H

#include "runtime/Tensor.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir {
class ModuleOp;
}

namespace nncc {

/// A value of a GraphBuilder's graph (a float32 tensor).
struct GraphValue {
  int id = -1;
  bool valid() const { return id >= 0; }
};

class GraphBuilder {
public:
  using Value = GraphValue;

  GraphBuilder();
  ~GraphBuilder();
  GraphBuilder(const GraphBuilder &) = delete;
  GraphBuilder &operator=(const GraphBuilder &) = delete;

  /// A graph input (float32), in the order of the calls.
  Value input(const std::string &name, const std::vector<int64_t> &shape);
  /// A trainable weight with its initial value (float32).
  Value weight(const std::string &name, const Tensor &value);
  /// A float32 constant filled with `value`.
  Value constant(const std::vector<int64_t> &shape, float value);

  /// numpy.matmul (batched, broadcasting), plus `bias` on every row.
  Value matmul(Value a, Value b, Value bias = {});
  /// Elementwise, numpy broadcasting.
  Value add(Value a, Value b);
  Value sub(Value a, Value b);
  Value mul(Value a, Value b);
  Value sigmoid(Value x);
  Value tanh(Value x);
  Value relu(Value x);
  Value exp(Value x);
  Value softmax(Value x, int64_t axis);
  /// Elements [start, end) of dimension `axis`.
  Value slice(Value x, int64_t axis, int64_t start, int64_t end);
  Value concat(const std::vector<Value> &parts, int64_t axis);
  /// ONNX semantics: -1 is inferred.
  Value reshape(Value x, const std::vector<int64_t> &shape);
  Value transpose(Value x, const std::vector<int64_t> &perm);
  Value reduceSum(Value x, const std::vector<int64_t> &axes, bool keepDims);

  /// A graph output, in the order of the calls.
  void output(Value v, const std::string &name);

  std::vector<int64_t> shape(Value v) const;
  /// Empty while the builder is valid, else the first problem.
  const std::string &error() const;
  /// The graph so far, in the nn dialect's textual form (for debugging).
  std::string ir() const;
  /// The finished graph (inputs, weights, ops, outputs) for the compiler;
  /// null if the builder is invalid. The builder keeps ownership.
  mlir::ModuleOp *module(std::string &error);

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace nncc

#endif
