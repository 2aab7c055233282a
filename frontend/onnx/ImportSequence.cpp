//===- ImportSequence.cpp - ONNX sequences and optionals, resolved at import -===//
//
// nncc compiles static shapes, so a sequence inside a graph has a length and
// elements known at compile time: the importer keeps it as the list of its
// element tensors (NodeImporter.h, "Sequences") and each sequence operator
// rearranges that list. Only a position known at compile time may insert or
// erase; SequenceAt with a position known only at run time gathers from the
// stacked elements when they all have one shape. Whether an optional holds a
// value is known at compile time too.
//
//===----------------------------------------------------------------------===//
#include "frontend/onnx/ImporterImpl.h"
#include "frontend/onnx/NodeImporter.h"

using namespace mlir;
using namespace nncc;
using namespace nncc::onnximport;

static constexpr StringLiteral kOptional = "nn.optional";
static constexpr StringLiteral kElementType = "nn.element_type";

bool nncc::onnximport::isSequence(Value v) {
  auto cast = v ? v.getDefiningOp<UnrealizedConversionCastOp>() : nullptr;
  return cast && v.getType().isa<TupleType>() && !cast->hasAttr(kOptional);
}

SmallVector<Value> nncc::onnximport::sequenceElements(Value v) {
  assert(isSequence(v) && "not a sequence");
  auto operands = v.getDefiningOp()->getOperands();
  return SmallVector<Value>(operands.begin(), operands.end());
}

Value nncc::onnximport::makeSequence(OpBuilder &b, Location loc, ValueRange elements, Type elementType) {
  auto type = TupleType::get(b.getContext(), elements.getTypes());
  auto cast = b.create<UnrealizedConversionCastOp>(loc, TypeRange{type}, elements);
  if (elements.empty() && elementType)
    cast->setAttr(kElementType, TypeAttr::get(elementType));
  return cast.getResult(0);
}

Type nncc::onnximport::sequenceElementType(Value v) {
  assert(isSequence(v) && "not a sequence");
  Operation *cast = v.getDefiningOp();
  if (cast->getNumOperands() > 0)
    return cast->getOperand(0).getType().cast<RankedTensorType>().getElementType();
  auto attr = cast->getAttrOfType<TypeAttr>(kElementType);
  return attr ? attr.getValue() : Type();
}

bool nncc::onnximport::isOptional(Value v) {
  auto cast = v ? v.getDefiningOp<UnrealizedConversionCastOp>() : nullptr;
  return cast && v.getType().isa<TupleType>() && cast->hasAttr(kOptional);
}

Value nncc::onnximport::optionalValue(Value v) {
  assert(isOptional(v) && "not an optional");
  auto operands = v.getDefiningOp()->getOperands();
  return operands.empty() ? Value() : operands[0];
}

Value nncc::onnximport::makeOptional(OpBuilder &b, Location loc, Value value) {
  SmallVector<Value, 1> operands;
  if (value)
    operands.push_back(value);
  auto type = TupleType::get(b.getContext(), ValueRange(operands).getTypes());
  auto cast = b.create<UnrealizedConversionCastOp>(loc, TypeRange{type}, operands);
  cast->setAttr(kOptional, b.getUnitAttr());
  return cast.getResult(0);
}

bool nncc::onnximport::takesList(StringRef opType, int index) {
  if (opType == "SequenceMap")
    return true;
  if (opType == "Loop") // the carried values
    return index >= 2;
  static const StringRef first[] = {"SequenceAt",         "SequenceLength", "SequenceInsert",     "SequenceErase",
                                    "ConcatFromSequence", "Identity",       "Optional",           "OptionalHasElement",
                                    "OptionalGetElement"};
  return index == 0 && llvm::is_contained(first, opType);
}

/// Fails unless the body's outputs [from, to) are tensors (not sequences or
/// optionals): a condition, a scan's values, whatever a loop run as a loop
/// yields.
LogicalResult nncc::onnximport::tensorOutputs(Node &n, const onnx::GraphProto &body, ArrayRef<Value> outs, size_t from, size_t to) {
  for (size_t k = from; k < std::min(to, outs.size()); ++k)
    if (isSequence(outs[k]) || isOptional(outs[k]))
      return n.fail(Twine("the body's output ") + Twine(k) + " ('" + body.output((int)k).name() + "') is " +
                    (isSequence(outs[k]) ? "a sequence" : "an optional") +
                    ", which is supported only as the carried value of a loop that is unrolled");
  return success();
}

void Node::outSequence(int i, ValueRange elements, Type elementType) {
  out(i, makeSequence(b, loc, elements, elementType));
}

namespace {

/// Input i as a sequence's elements, or an error naming the node.
FailureOr<SmallVector<Value>> sequenceIn(Node &n, int i) {
  if (!n.has(i) || !isSequence(n.in(i)))
    return n.fail(Twine("input ") + Twine(i) + " must be a sequence");
  return sequenceElements(n.in(i));
}

/// A position known at compile time, in [0, size] (`end`: size allowed, for
/// SequenceInsert), ONNX's negative positions counted from the back.
FailureOr<int64_t> position(Node &n, int i, int64_t size, bool end, StringRef role) {
  auto c = n.requireConstant(i, role);
  if (failed(c))
    return failure();
  if (nn::numElements(n.shape(i)) != 1)
    return n.fail(Twine("the ") + role + " must hold one value");
  int64_t p = c->asInt(0);
  int64_t q = p < 0 ? p + size : p;
  if (q < 0 || q > size || (!end && q == size))
    return n.fail(Twine("position ") + Twine(p) + " is out of range for a sequence of " + Twine(size) +
                  " element" + (size == 1 ? "" : "s"));
  return q;
}

/// Fails unless `v` has the element type `want` of a sequence's tensors
/// (null: any).
LogicalResult checkElementType(Node &n, Type want, Value v) {
  Type got = v.getType().cast<RankedTensorType>().getElementType();
  if (!want || want == got)
    return success();
  std::string msg;
  llvm::raw_string_ostream os(msg);
  os << "the sequence holds " << want << " tensors; a " << got << " tensor cannot join it";
  return n.fail(os.str());
}

LogicalResult importSequenceEmpty(Node &n) {
  Type et = nn::typeFromOnnxDataType(n.b.getContext(), (int)n.i("dtype", 1));
  if (!et)
    return n.fail("unsupported dtype");
  n.outSequence(0, {}, et);
  return success();
}

LogicalResult importSequenceConstruct(Node &n) {
  SmallVector<Value> elements;
  for (int k = 0; k < n.numInputs(); ++k) {
    if (k && failed(checkElementType(n, n.elt(0), n.in(k))))
      return failure();
    elements.push_back(n.in(k));
  }
  n.outSequence(0, elements);
  return success();
}

LogicalResult importSequenceInsert(Node &n) {
  auto elements = sequenceIn(n, 0);
  if (failed(elements) || failed(checkElementType(n, sequenceElementType(n.in(0)), n.in(1))))
    return failure();
  int64_t size = elements->size();
  FailureOr<int64_t> at = n.has(2) ? position(n, 2, size, /*end=*/true, "position") : FailureOr<int64_t>(size);
  if (failed(at))
    return failure();
  elements->insert(elements->begin() + *at, n.in(1));
  n.outSequence(0, *elements);
  return success();
}

LogicalResult importSequenceErase(Node &n) {
  auto elements = sequenceIn(n, 0);
  if (failed(elements))
    return failure();
  int64_t size = elements->size();
  if (size == 0)
    return n.fail("cannot erase from an empty sequence");
  FailureOr<int64_t> at = n.has(1) ? position(n, 1, size, /*end=*/false, "position") : FailureOr<int64_t>(size - 1);
  if (failed(at))
    return failure();
  Type et = sequenceElementType(n.in(0));
  elements->erase(elements->begin() + *at);
  n.outSequence(0, *elements, et);
  return success();
}

LogicalResult importSequenceAt(Node &n) {
  auto elements = sequenceIn(n, 0);
  if (failed(elements))
    return failure();
  int64_t size = elements->size();
  if (size == 0)
    return n.fail("cannot take an element of an empty sequence");
  if (n.knownConstant(1)) {
    auto at = position(n, 1, size, /*end=*/false, "position");
    if (failed(at))
      return failure();
    n.out(0, (*elements)[*at]);
    return success();
  }
  // Known only at run time: gather from the stacked elements.
  for (Value e : *elements)
    if (e.getType() != (*elements)[0].getType())
      return n.fail("the position is known only at run time and the elements' shapes differ; nncc supports a "
                    "run-time position only over elements of one shape (pass the position's value as an input)");
  if (nn::numElements(n.shape(1)) != 1)
    return n.fail("the position must hold one value");
  Value index = n.reshape(n.in(1), {});
  n.out(0, n.create<nn::GatherOp>(stack(n, *elements, 0), index, n.b.getI64IntegerAttr(0)));
  return success();
}

LogicalResult importSequenceLength(Node &n) {
  auto elements = sequenceIn(n, 0);
  if (failed(elements))
    return failure();
  n.out(0, n.constI64({(int64_t)elements->size()}, {}));
  return success();
}

LogicalResult importSplitToSequence(Node &n) {
  auto shape = n.shape(0);
  int64_t axis = nn::normalizeAxis(n.i("axis", 0), shape.size());
  if (axis < 0)
    return n.fail("axis out of range");
  int64_t dim = shape[axis];
  SmallVector<int64_t> sizes;
  bool squeeze = false;
  if (!n.has(1)) {
    sizes.assign(dim, 1);
    squeeze = n.i("keepdims", 1) == 0;
  } else {
    auto split = n.requireConstant(1, "split");
    if (failed(split))
      return failure();
    if (n.rank(1) == 0) {
      int64_t chunk = split->asInt(0);
      if (chunk <= 0)
        return n.fail("split must be positive, not " + Twine(chunk));
      for (int64_t start = 0; start < dim; start += chunk)
        sizes.push_back(std::min(chunk, dim - start));
    } else {
      int64_t total = 0;
      for (int64_t s : split->i) {
        if (s < 0)
          return n.fail("split sizes must not be negative");
        sizes.push_back(s);
        total += s;
      }
      if (total != dim)
        return n.fail("split sizes add up to " + Twine(total) + ", not " + Twine(dim));
    }
  }
  SmallVector<Value> elements;
  int64_t start = 0;
  for (int64_t s : sizes) {
    elements.push_back(squeeze ? takeAt(n, n.in(0), axis, start) : sliceAxis(n, n.in(0), axis, start, s));
    start += s;
  }
  n.outSequence(0, elements);
  return success();
}

LogicalResult importConcatFromSequence(Node &n) {
  auto elements = sequenceIn(n, 0);
  if (failed(elements))
    return failure();
  if (elements->empty())
    return n.fail("cannot concatenate an empty sequence (its result has no shape)");
  if (!n.hasAttr("axis"))
    return n.fail("missing attribute 'axis'");
  bool newAxis = n.i("new_axis", 0) != 0;
  int64_t rank = (*elements)[0].getType().cast<RankedTensorType>().getRank();
  int64_t axis = nn::normalizeAxis(n.i("axis", 0), rank + (newAxis ? 1 : 0));
  if (axis < 0)
    return n.fail("axis out of range");
  if (newAxis) {
    for (Value e : *elements)
      if (e.getType() != (*elements)[0].getType())
        return n.fail("new_axis stacks the elements, which then must all have one shape");
    n.out(0, stack(n, *elements, axis));
    return success();
  }
  n.out(0, elements->size() == 1 ? (*elements)[0] : n.create<nn::ConcatOp>(*elements, n.b.getI64IntegerAttr(axis)));
  return success();
}

/// SequenceMap: the body, imported once per element; the other inputs are
/// sequences of the same length (taken element by element) or tensors
/// (given whole to each).
LogicalResult importSequenceMap(Node &n) {
  const onnx::GraphProto *body = n.graph("body");
  if (!body)
    return n.fail("missing body graph");
  auto first = sequenceIn(n, 0);
  if (failed(first))
    return failure();
  size_t size = first->size();
  SmallVector<SmallVector<Value>> inputs; // per input: elements (or the tensor, once)
  for (int k = 0; k < n.numInputs(); ++k) {
    if (isSequence(n.in(k))) {
      inputs.push_back(sequenceElements(n.in(k)));
      if (inputs.back().size() != size)
        return n.fail(Twine("input ") + Twine(k) + " has " + Twine(inputs.back().size()) +
                      " elements, input 0 has " + Twine(size));
    } else {
      inputs.push_back({n.in(k)});
    }
  }
  SmallVector<SmallVector<Value>> outputs(n.numOutputs());
  for (size_t i = 0; i < size; ++i) {
    SmallVector<Value> args, outs;
    for (int k = 0; k < n.numInputs(); ++k)
      args.push_back(isSequence(n.in(k)) ? inputs[k][i] : inputs[k][0]);
    if (failed(n.importer.importSubgraph(*body, args, outs)) || failed(tensorOutputs(n, *body, outs)))
      return failure();
    if ((int)outs.size() != n.numOutputs())
      return n.fail(Twine("the body has ") + Twine(outs.size()) + " outputs, the node " + Twine(n.numOutputs()));
    for (size_t k = 0; k < outs.size(); ++k)
      outputs[k].push_back(outs[k]);
  }
  for (int k = 0; k < n.numOutputs(); ++k)
    n.outSequence(k, outputs[k]);
  return success();
}

LogicalResult importOptional(Node &n) {
  if (n.has(0) && isOptional(n.in(0)))
    return n.fail("an optional of an optional is not supported");
  if (!n.has(0) && !n.hasAttr("type"))
    return n.fail("an empty optional needs its attribute 'type'");
  n.out(0, makeOptional(n.b, n.loc, n.has(0) ? n.in(0) : Value()));
  return success();
}

/// OptionalHasElement: whether the optional holds a value; a tensor or a
/// sequence does (opset 18), a missing input does not.
LogicalResult importOptionalHasElement(Node &n) {
  bool has = n.has(0) && (!isOptional(n.in(0)) || optionalValue(n.in(0)));
  n.out(0, n.create<nn::ConstantOp>(DenseElementsAttr::get(RankedTensorType::get({}, n.b.getI1Type()), has)));
  return success();
}

/// OptionalGetElement: the optional's value; a tensor or a sequence is its
/// own (opset 18).
LogicalResult importOptionalGetElement(Node &n) {
  Value v = n.in(0);
  if (isOptional(v) && !(v = optionalValue(v)))
    return n.fail("the optional '" + n.proto.input(0) + "' is empty; guard the read with OptionalHasElement");
  n.out(0, v);
  return success();
}

} // namespace

void nncc::onnximport::registerSequenceHandlers(HandlerMap &m) {
  m["Optional"] = importOptional;
  m["OptionalHasElement"] = importOptionalHasElement;
  m["OptionalGetElement"] = importOptionalGetElement;
  m["SequenceEmpty"] = importSequenceEmpty;
  m["SequenceConstruct"] = importSequenceConstruct;
  m["SequenceInsert"] = importSequenceInsert;
  m["SequenceErase"] = importSequenceErase;
  m["SequenceAt"] = importSequenceAt;
  m["SequenceLength"] = importSequenceLength;
  m["SplitToSequence"] = importSplitToSequence;
  m["ConcatFromSequence"] = importConcatFromSequence;
  m["SequenceMap"] = importSequenceMap;
}
