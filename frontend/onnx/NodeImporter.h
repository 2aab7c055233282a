//===- NodeImporter.h - what an op handler sees of its ONNX node -*- C++ -*-===//
//
// Each ONNX op type has a handler `LogicalResult handler(Node &n)` that reads
// the node's inputs and attributes through `Node`, builds nn ops and sets the
// node's outputs. Handlers are grouped by kind in Import*.cpp and registered
// in one table (registerHandlers).
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_FRONTEND_ONNX_NODEIMPORTER_H
#define NNCC_FRONTEND_ONNX_NODEIMPORTER_H

#include "ir/ConstFold.h"
#include "ir/NNOps.h"
#include "ir/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

#include "onnx/onnx_pb.h"

namespace nncc {
class OnnxImporterImpl;

namespace onnximport {

using nn::ConstValues;
using nn::Shape;

template <typename OpT> constexpr unsigned numResultsOf() {
  if (OpT::template hasTrait<mlir::OpTrait::NResults<2>::Impl>())
    return 2;
  if (OpT::template hasTrait<mlir::OpTrait::NResults<3>::Impl>())
    return 3;
  return 1;
}

class Node {
public:
  Node(OnnxImporterImpl &importer, const onnx::NodeProto &proto, mlir::OpBuilder &b,
       mlir::Location loc, int64_t opset)
      : proto(proto), b(b), loc(loc), opset(opset), importer(importer) {}

  const onnx::NodeProto &proto;
  mlir::OpBuilder &b;
  mlir::Location loc;
  /// Version of the node's domain in the model's opset_import.
  int64_t opset;

  // --- inputs ---------------------------------------------------------------
  int numInputs() const { return proto.input_size(); }
  /// Input i is given (present and not the empty name).
  bool has(int i) const { return i < proto.input_size() && !proto.input(i).empty(); }
  mlir::Value in(int i);
  mlir::RankedTensorType type(int i) { return in(i).getType().cast<mlir::RankedTensorType>(); }
  llvm::ArrayRef<int64_t> shape(int i) { return type(i).getShape(); }
  mlir::Type elt(int i) { return type(i).getElementType(); }
  int64_t rank(int i) { return type(i).getRank(); }
  /// The value of input i when it is known at compile time.
  llvm::Optional<ConstValues> constant(int i);
  /// As constant(i), also specializing a graph input whose value is given or
  /// folding through such inputs; none (and no error) when still unknown.
  llvm::Optional<ConstValues> knownConstant(int i);
  /// The value of input i, which determines a shape: an error when unknown.
  mlir::FailureOr<ConstValues> requireConstant(int i, llvm::StringRef role);

  // --- attributes -----------------------------------------------------------
  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  const onnx::GraphProto *graph(llvm::StringRef name) const {
    const auto *a = attr(name);
    return a && a->has_g() ? &a->g() : nullptr;
  }
  bool hasAttr(llvm::StringRef name) const { return attr(name) != nullptr; }
  int64_t i(llvm::StringRef name, int64_t def) const;
  double f(llvm::StringRef name, double def) const;
  std::string s(llvm::StringRef name, llvm::StringRef def) const;
  llvm::SmallVector<int64_t, 6> ints(llvm::StringRef name, llvm::ArrayRef<int64_t> def = {}) const;
  llvm::SmallVector<double, 6> floats(llvm::StringRef name) const;
  llvm::SmallVector<std::string, 4> strings(llvm::StringRef name) const;

  // --- outputs --------------------------------------------------------------
  int numOutputs() const { return proto.output_size(); }
  bool wantsOutput(int i) const { return i < proto.output_size() && !proto.output(i).empty(); }
  void out(int i, mlir::Value v);
  /// Sets output i to a sequence of these elements (see isSequence).
  void outSequence(int i, mlir::ValueRange elements, mlir::Type elementType = {});

  /// Fails the import with a message naming this node.
  mlir::LogicalResult fail(const llvm::Twine &msg);

  // --- building helpers ----------------------------------------------------
  /// Builds an nn op from its operands and attributes (ODS argument order),
  /// inferring the result types. Returns null (with the error reported at
  /// this node) when inference fails or an operand is null, so a failure
  /// propagates through the helpers below without crashing.
  template <typename OpT, typename... Args> mlir::Operation *build(Args &&...args) {
    llvm::SmallVector<mlir::Type, 3> placeholder(numResultsOf<OpT>(), b.getNoneType());
    mlir::OperationState state(loc, OpT::getOperationName());
    OpT::build(b, state, mlir::TypeRange(placeholder), std::forward<Args>(args)...);
    for (mlir::Value v : state.operands)
      if (!v)
        return failedBuild = true, nullptr;
    llvm::SmallVector<mlir::Type, 3> types;
    if (mlir::failed(OpT::inferReturnTypes(b.getContext(), loc, state.operands,
                                           state.attributes.getDictionary(b.getContext()),
                                           /*regions=*/{}, types)))
      return failedBuild = true, nullptr;
    state.types.assign(types.begin(), types.end());
    return b.create(state);
  }
  /// As build, for single-result ops, folding the result when its operands
  /// are constants.
  template <typename OpT, typename... Args> mlir::Value create(Args &&...args) {
    mlir::Operation *op = build<OpT>(std::forward<Args>(args)...);
    return op ? foldResult(op) : mlir::Value();
  }
  mlir::Value foldResult(mlir::Operation *op);

  mlir::Value constant(const ConstValues &v);
  mlir::Value constI64(llvm::ArrayRef<int64_t> values, llvm::ArrayRef<int64_t> shape);
  /// A rank-0 tensor of element type `elt` holding `v`.
  mlir::Value scalar(double v, mlir::Type elt);
  mlir::Value reshape(mlir::Value v, llvm::ArrayRef<int64_t> shape);
  mlir::Value cast(mlir::Value v, mlir::Type elt);
  mlir::Value transpose(mlir::Value v, llvm::ArrayRef<int64_t> perm);
  mlir::Value expandTo(mlir::Value v, llvm::ArrayRef<int64_t> shape);
  /// The type kernels and comparisons that must not round use for floats of
  /// type `et`: f64 for f64, else f32 (f16 and bf16 widen).
  mlir::Type wideFloat(mlir::Type et) { return et.isF64() ? et : b.getF32Type(); }
  mlir::ArrayAttr i64s(llvm::ArrayRef<int64_t> v) { return b.getI64ArrayAttr(v); }
  mlir::FloatAttr f32(double v) { return b.getF32FloatAttr((float)v); }

  OnnxImporterImpl &importer;
  /// Set when building an op failed (its error was reported).
  bool failedBuild = false;
};

/// The axes a Reduce* node reduces, normalized (attribute before the opset
/// that made them an input: 13 for ReduceSum, 18 for the others). Empty
/// means all axes, or none when `noop` (noop_with_empty_axes) is set.
mlir::FailureOr<llvm::SmallVector<int64_t>> reduceAxes(Node &n, bool &noop);

/// A Slice node's starts, ends, axes (default: 0, 1, ...) and steps
/// (default: 1), one of each per sliced axis, as given (not clamped).
struct SliceParams {
  llvm::SmallVector<int64_t> starts, ends, axes, steps;
};
mlir::FailureOr<SliceParams> sliceParams(Node &n);

using Handler = mlir::LogicalResult (*)(Node &);
using HandlerMap = llvm::StringMap<Handler>;

void registerElementwiseHandlers(HandlerMap &m);
void registerTensorHandlers(HandlerMap &m);
void registerNNHandlers(HandlerMap &m);
void registerReductionHandlers(HandlerMap &m);
void registerLossHandlers(HandlerMap &m);
void registerControlFlowHandlers(HandlerMap &m);
void registerGeneratorHandlers(HandlerMap &m);
void registerSequenceHandlers(HandlerMap &m);
const HandlerMap &handlers();

// --- sequences and optionals ------------------------------------------------
// A sequence's length and elements are known at compile time (static
// shapes), and so is whether an optional holds a value. While a graph is
// imported, either is a value of tuple type: the result of a
// builtin.unrealized_conversion_cast of its elements (an optional's: none or
// its value, a tensor or a sequence; the cast marked `nn.optional`), which
// the operators take apart and build anew. Graph inputs and outputs of these
// types pass as their elements (OnnxImporter.h); no such cast outlives the
// import.

/// Whether `v` is a sequence (see above).
bool isSequence(mlir::Value v);
/// The elements of sequence `v`.
llvm::SmallVector<mlir::Value> sequenceElements(mlir::Value v);
/// The sequence of `elements`, built at the builder's insertion point; an
/// empty one keeps `elementType` (SequenceEmpty's dtype), when given.
mlir::Value makeSequence(mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange elements,
                         mlir::Type elementType = {});
/// The element type of sequence `v`'s tensors; null when it is empty and
/// none was given.
mlir::Type sequenceElementType(mlir::Value v);
/// Whether `v` is an optional.
bool isOptional(mlir::Value v);
/// The value optional `v` holds, or null when it is empty.
mlir::Value optionalValue(mlir::Value v);
/// The optional holding `value` (empty when null).
mlir::Value makeOptional(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value);
/// Fails (at node n) unless a body's outputs [from, to) are tensors, not
/// sequences or optionals: a condition, a scan's values, what a loop run as
/// a loop yields, what SequenceMap collects.
mlir::LogicalResult tensorOutputs(Node &n, const onnx::GraphProto &body, llvm::ArrayRef<mlir::Value> outs,
                                  size_t from = 0, size_t to = SIZE_MAX);
/// Whether input `index` of an ONNX `opType` node may be a sequence or an
/// optional.
bool takesList(llvm::StringRef opType, int index);

// --- slicing helpers shared by the handlers -------------------------------------
/// A contiguous slice [start, start + size) of dimension `axis` (every
/// `step`-th element).
mlir::Value sliceAxis(Node &n, mlir::Value x, int64_t axis, int64_t start, int64_t size, int64_t step = 1);
/// Element t of x along `axis`, without that dimension.
mlir::Value takeAt(Node &n, mlir::Value x, int64_t axis, int64_t t);
/// Stacks equal-shaped values along a new dimension `axis`.
mlir::Value stack(Node &n, llvm::ArrayRef<mlir::Value> parts, int64_t axis);

// --- random numbers -----------------------------------------------------------
/// Uniform random numbers in [low, high) of `shape`, drawn anew on every
/// run: f32 (f64 when `elt` is) cast to `elt`, from the node's `seed`
/// attribute (else the import's) and a stream of their own.
mlir::Value randomUniform(Node &n, llvm::ArrayRef<int64_t> shape, mlir::Type elt, double low, double high);

/// Reads ONNX-style axes (negative counts from the end) into sorted,
/// non-negative, unique axes; false when one is out of range.
bool normalizeAxes(llvm::ArrayRef<int64_t> axes, int64_t rank, llvm::SmallVectorImpl<int64_t> &out);

} // namespace onnximport
} // namespace nncc

#endif
