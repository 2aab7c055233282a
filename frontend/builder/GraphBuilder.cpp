//===- GraphBuilder.cpp - build a model in C++ ----------------------------===//
//
// Each call creates one nn op at the end of the function `main`; its result
// type comes from the op's own shape inference, so a shape error is caught
// (and reported) before the op exists. Inputs become the function's
// arguments, weights nn.param ops whose data goes to the dialect's weight
// store, outputs the operands of its return.
//
//===----------------------------------------------------------------------===//
#include "frontend/builder/GraphBuilder.h"

#include "ir/NNDialect.h"
#include "ir/NNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace nncc {

struct GraphBuilder::Impl {
  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  ModuleOp moduleOp;
  func::FuncOp func;
  Block *body = nullptr;
  std::vector<mlir::Value> values;
  std::vector<std::string> inputNames, outputNames;
  std::vector<mlir::Value> outputs;
  std::string error;
  bool finished = false;

  Impl() {
    context.getOrLoadDialect<nn::NNDialect>();
    context.getOrLoadDialect<func::FuncDialect>();
    OpBuilder b(&context);
    module = ModuleOp::create(b.getUnknownLoc());
    b.setInsertionPointToEnd(module->getBody());
    func = b.create<func::FuncOp>(b.getUnknownLoc(), "main", b.getFunctionType({}, {}));
    body = func.addEntryBlock();
  }

  OpBuilder builder() {
    OpBuilder b(&context);
    b.setInsertionPointToEnd(body);
    return b;
  }
  GraphBuilder::Value fail(const std::string &what) {
    if (error.empty())
      error = what;
    return {};
  }
  GraphBuilder::Value add(mlir::Value v) {
    values.push_back(v);
    return {(int)values.size() - 1};
  }
  /// The value of a handle, or null (the builder then becomes invalid).
  mlir::Value get(GraphBuilder::Value v, const char *op) {
    if (!error.empty())
      return {};
    if (finished) {
      fail(std::string(op) + ": the graph is finished (module() was called)");
      return {};
    }
    if (v.id < 0 || v.id >= (int)values.size()) {
      fail(std::string(op) + ": an invalid value handle");
      return {};
    }
    return values[v.id];
  }
  Location loc(const char *op) { return NameLoc::get(StringAttr::get(&context, op)); }

  /// Creates op OpT on `operands` with `attrs`: its result type from its
  /// own shape inference, its diagnostics in `error`.
  template <typename OpT>
  GraphBuilder::Value make(const char *name, ArrayRef<mlir::Value> operands, ArrayRef<NamedAttribute> attrs = {}) {
    for (mlir::Value v : operands)
      if (!v)
        return fail(error.empty() ? std::string(name) + ": an invalid operand" : error);
    std::string diagnostics;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      diagnostics += (diagnostics.empty() ? "" : "; ") + d.str();
      return success();
    });
    SmallVector<Type> types;
    DictionaryAttr dict = DictionaryAttr::get(&context, attrs);
    Location l = loc(name);
    if (failed(OpT::inferReturnTypes(&context, l, operands, dict, {}, types)))
      return fail(std::string(name) + ": " + (diagnostics.empty() ? "the operands do not fit" : diagnostics));
    OpBuilder b = builder();
    OperationState state(l, OpT::getOperationName());
    OpT::build(b, state, types, operands, attrs);
    Operation *op = b.create(state);
    if (failed(verify(op))) {
      op->erase();
      return fail(std::string(name) + ": " + (diagnostics.empty() ? "invalid operands" : diagnostics));
    }
    return add(op->getResult(0));
  }
  NamedAttribute attr(const char *name, Attribute a) { return NamedAttribute(StringAttr::get(&context, name), a); }
  Attribute ints(ArrayRef<int64_t> v) { return Builder(&context).getI64ArrayAttr(v); }
  Attribute i64(int64_t v) { return Builder(&context).getI64IntegerAttr(v); }
};

GraphBuilder::GraphBuilder() : impl(new Impl()) {}
GraphBuilder::~GraphBuilder() = default;

static bool validShape(const std::vector<int64_t> &shape) {
  for (int64_t d : shape)
    if (d <= 0)
      return false;
  return true;
}

static std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k)
    s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + "]";
}

GraphBuilder::Value GraphBuilder::input(const std::string &name, const std::vector<int64_t> &shape) {
  if (!impl->error.empty() || impl->finished)
    return impl->fail("input '" + name + "': the builder is invalid or finished");
  if (!validShape(shape))
    return impl->fail("input '" + name + "': dimensions must be positive, got " + shapeText(shape));
  auto type = RankedTensorType::get(shape, Builder(&impl->context).getF32Type());
  mlir::Value arg = impl->body->addArgument(type, impl->func.getLoc());
  impl->inputNames.push_back(name);
  return impl->add(arg);
}

GraphBuilder::Value GraphBuilder::weight(const std::string &name, const Tensor &value) {
  if (!impl->error.empty() || impl->finished)
    return impl->fail("weight '" + name + "': the builder is invalid or finished");
  if (value.dtype() != DType::Float32 || !validShape(value.shape()))
    return impl->fail("weight '" + name + "': expected a float32 tensor with positive dimensions, got " +
                      value.describe());
  auto &store = impl->context.getOrLoadDialect<nn::NNDialect>()->getWeightStore();
  std::string stored = store.uniqueName(name);
  const uint8_t *bytes = (const uint8_t *)value.data();
  store.set(stored, nn::WeightStore::Bytes(bytes, bytes + value.byteSize()));
  OpBuilder b = impl->builder();
  auto type = RankedTensorType::get(value.shape(), b.getF32Type());
  auto p = b.create<nn::ParamOp>(NameLoc::get(b.getStringAttr(name)), type, b.getStringAttr(stored), UnitAttr());
  return impl->add(p);
}

GraphBuilder::Value GraphBuilder::constant(const std::vector<int64_t> &shape, float value) {
  if (!impl->error.empty() || impl->finished)
    return impl->fail("constant: the builder is invalid or finished");
  if (!validShape(shape))
    return impl->fail("constant: dimensions must be positive, got " + shapeText(shape));
  OpBuilder b = impl->builder();
  auto type = RankedTensorType::get(shape, b.getF32Type());
  return impl->add(b.create<nn::ConstantOp>(impl->loc("constant"), type,
                                            DenseElementsAttr::get(type, b.getF32FloatAttr(value))));
}

GraphBuilder::Value GraphBuilder::matmul(Value a, Value b, Value bias) {
  SmallVector<mlir::Value> ops{impl->get(a, "matmul"), impl->get(b, "matmul")};
  if (bias.valid())
    ops.push_back(impl->get(bias, "matmul"));
  return impl->make<nn::MatMulOp>("matmul", ops);
}

#define NNCC_BINARY(method, OpT)                                                                  \
  GraphBuilder::Value GraphBuilder::method(Value a, Value b) {                                    \
    return impl->make<OpT>(#method, {impl->get(a, #method), impl->get(b, #method)});             \
  }
NNCC_BINARY(add, nn::AddOp)
NNCC_BINARY(sub, nn::SubOp)
NNCC_BINARY(mul, nn::MulOp)
#undef NNCC_BINARY

#define NNCC_UNARY(method, OpT)                                                                   \
  GraphBuilder::Value GraphBuilder::method(Value x) { return impl->make<OpT>(#method, {impl->get(x, #method)}); }
NNCC_UNARY(sigmoid, nn::SigmoidOp)
NNCC_UNARY(tanh, nn::TanhOp)
NNCC_UNARY(relu, nn::ReluOp)
NNCC_UNARY(exp, nn::ExpOp)
#undef NNCC_UNARY

GraphBuilder::Value GraphBuilder::softmax(Value x, int64_t axis) {
  mlir::Value v = impl->get(x, "softmax");
  if (v && (axis < 0 || axis >= v.getType().cast<RankedTensorType>().getRank()))
    return impl->fail("softmax: axis " + std::to_string(axis) + " out of range");
  return impl->make<nn::SoftmaxOp>("softmax", {v}, {impl->attr("axis", impl->i64(axis))});
}

GraphBuilder::Value GraphBuilder::slice(Value x, int64_t axis, int64_t start, int64_t end) {
  mlir::Value v = impl->get(x, "slice");
  if (!v)
    return {};
  auto shape = v.getType().cast<RankedTensorType>().getShape();
  if (axis < 0 || axis >= (int64_t)shape.size() || start < 0 || end > shape[axis] || start >= end)
    return impl->fail("slice: [" + std::to_string(start) + ", " + std::to_string(end) + ") of axis " +
                      std::to_string(axis) + " is not inside " + shapeText(shape.vec()));
  std::vector<int64_t> starts(shape.size(), 0), steps(shape.size(), 1), sizes(shape.begin(), shape.end());
  starts[axis] = start;
  sizes[axis] = end - start;
  return impl->make<nn::SliceOp>("slice", {v},
                                 {impl->attr("starts", impl->ints(starts)), impl->attr("steps", impl->ints(steps)),
                                  impl->attr("sizes", impl->ints(sizes))});
}

GraphBuilder::Value GraphBuilder::concat(const std::vector<Value> &parts, int64_t axis) {
  SmallVector<mlir::Value> ops;
  for (Value p : parts)
    ops.push_back(impl->get(p, "concat"));
  if (ops.empty())
    return impl->fail("concat: no parts");
  return impl->make<nn::ConcatOp>("concat", ops, {impl->attr("axis", impl->i64(axis))});
}

GraphBuilder::Value GraphBuilder::reshape(Value x, const std::vector<int64_t> &shape) {
  return impl->make<nn::ReshapeOp>("reshape", {impl->get(x, "reshape")},
                                   {impl->attr("shape", impl->ints(shape)),
                                    impl->attr("allowzero", BoolAttr::get(&impl->context, true))});
}

GraphBuilder::Value GraphBuilder::transpose(Value x, const std::vector<int64_t> &perm) {
  return impl->make<nn::TransposeOp>("transpose", {impl->get(x, "transpose")}, {impl->attr("perm", impl->ints(perm))});
}

GraphBuilder::Value GraphBuilder::reduceSum(Value x, const std::vector<int64_t> &axes, bool keepDims) {
  return impl->make<nn::ReduceSumOp>("reduce_sum", {impl->get(x, "reduce_sum")},
                                     {impl->attr("axes", impl->ints(axes)),
                                      impl->attr("keepdims", BoolAttr::get(&impl->context, keepDims))});
}

void GraphBuilder::output(Value v, const std::string &name) {
  mlir::Value value = impl->get(v, "output");
  if (!value)
    return;
  impl->outputs.push_back(value);
  impl->outputNames.push_back(name);
}

std::vector<int64_t> GraphBuilder::shape(Value v) const {
  if (v.id < 0 || v.id >= (int)impl->values.size())
    return {};
  auto s = impl->values[v.id].getType().cast<RankedTensorType>().getShape();
  return std::vector<int64_t>(s.begin(), s.end());
}

const std::string &GraphBuilder::error() const { return impl->error; }

std::string GraphBuilder::ir() const {
  std::string s;
  llvm::raw_string_ostream os(s);
  impl->module->print(os);
  return os.str();
}

ModuleOp *GraphBuilder::module(std::string &error) {
  if (!impl->error.empty()) {
    error = impl->error;
    return nullptr;
  }
  if (!impl->finished) {
    if (impl->outputs.empty()) {
      error = "the graph has no output (call output())";
      return nullptr;
    }
    OpBuilder b = impl->builder();
    b.create<func::ReturnOp>(impl->func.getLoc(), impl->outputs);
    SmallVector<Type> in, out;
    for (BlockArgument a : impl->body->getArguments())
      in.push_back(a.getType());
    for (mlir::Value v : impl->outputs)
      out.push_back(v.getType());
    impl->func.setType(b.getFunctionType(in, out));
    for (size_t k = 0; k < impl->inputNames.size(); ++k)
      impl->func.setArgAttr(k, "nn.name", b.getStringAttr(impl->inputNames[k]));
    for (size_t k = 0; k < impl->outputNames.size(); ++k)
      impl->func.setResultAttr(k, "nn.name", b.getStringAttr(impl->outputNames[k]));
    impl->finished = true;
    impl->moduleOp = *impl->module;
  }
  return &impl->moduleOp;
}

} // namespace nncc
