//===- RunTimeExtent.cpp - values whose length is known only at run time --===//
//
// NonZero, Unique, NonMaxSuppression, Compress with a condition known only
// at run time, and the scan outputs of a loop run as a loop give a value
// one dimension whose extent is known only at run time. nncc compiles
// static shapes: such a value has room for the most entries along that
// dimension, and an i64 value counts those in use
// (OnnxImporterImpl::RunTimeRows). The entries past the count are zeros
// (the kernels write them), copies of entry 0 (gathered with such zeros), or
// unspecified (a loop's); nothing below depends on which.
//
// A node may read such a value when each entry of its result along the
// dimension the op maps that one to depends only on the same entry of its
// inputs: elementwise ops, the ops that move or select along other
// dimensions, and reductions along other dimensions. Its result then has
// the same count along that dimension. Shape and Size read the count
// itself (their result is data then, not a constant, so it cannot give a
// shape at compile time). A reduction along that dimension reads its input
// with the unused entries set to its neutral element (maskForReduction).
// Ops that would mix the unused entries into the used ones (a Gather along
// the dimension, an integer maximum along it) are refused with the
// reason. Graph outputs are trimmed to the count by the
// runtime.
//
// Indices past the count are in bounds where a kernel wrote zeros, and
// Gather bounds its indices in any case, so nothing reads outside a buffer.
//
//===----------------------------------------------------------------------===//
#include "frontend/onnx/ImporterImpl.h"

#include "llvm/ADT/StringSet.h"

#include <cmath>

using namespace mlir;
using namespace nncc;
using namespace nncc::onnximport;

namespace {

/// Ops whose result entry i (after broadcasting) depends only on entry i of
/// each input.
const llvm::StringSet<> &elementwiseOps() {
  static const llvm::StringSet<> ops = {
      "Abs", "Neg", "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round",
      "Sign", "Not", "Erf", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh",
      "Atanh", "Softplus", "Softsign", "Elu", "Selu", "LeakyRelu", "ThresholdedRelu", "HardSigmoid", "HardSwish",
      "Mish", "Gelu", "Celu", "Shrink", "IsNaN", "IsInf", "BitwiseNot", "Cast", "Identity", "Clip", "Add", "Sub",
      "Mul", "Div", "Pow", "Mod", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or",
      "Xor", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "Where", "Max", "Min", "Sum", "Mean", "PRelu"};
  return ops;
}

const llvm::StringSet<> &otherCarriers() {
  static const llvm::StringSet<> ops = {"Shape", "Size", "CastLike", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze",
                                        "Slice", "Concat", "Gather", "GatherElements", "GatherND", "MatMul",
                                        "Softmax", "LogSoftmax", "Hardmax", "ArgMax", "ArgMin", "ReduceSum",
                                        "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
                                        "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};
  return ops;
}

int64_t normalized(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

/// Axes of a node given by attribute `axes` (before `opsetOfInput`) or by
/// constant input `input`; none when neither is given.
FailureOr<SmallVector<int64_t>> axesOf(Node &n, int64_t opsetOfInput, int input, int64_t rank) {
  SmallVector<int64_t> axes;
  if (n.opset < opsetOfInput) {
    axes = n.ints("axes");
  } else if (n.has(input)) {
    auto c = n.knownConstant(input);
    if (!c)
      return failure();
    for (int64_t k = 0; k < c->size(); ++k)
      axes.push_back(c->asInt(k));
  }
  for (int64_t &a : axes)
    a = normalized(a, rank);
  return axes;
}

} // namespace

namespace {

bool isReduction(StringRef op) { return op.startswith("Reduce") || op == "ArgMax" || op == "ArgMin"; }

/// The dimensions node `n` (a reduction) reduces of its input of rank `rank`.
FailureOr<SmallVector<int64_t>> reducedAxes(Node &n, int64_t rank) {
  StringRef op = n.proto.op_type();
  if (op == "ArgMax" || op == "ArgMin")
    return SmallVector<int64_t>{normalized(n.i("axis", 0), rank)};
  bool noop = false;
  auto axes = reduceAxes(n, noop);
  if (succeeded(axes) && axes->empty() && !noop)
    for (int64_t k = 0; k < rank; ++k)
      axes->push_back(k);
  return axes;
}

} // namespace

FailureOr<Value> OnnxImporterImpl::maskForReduction(Node &n) {
  reducingRunTimeDim = false;
  StringRef op = n.proto.op_type();
  if (!isReduction(op) || !n.has(0))
    return Value();
  Value x = n.in(0);
  auto rows = rowsKnownAtRunTime.find(x);
  if (rows == rowsKnownAtRunTime.end() || capacityLoops.count(rows->second.count))
    return Value();
  int64_t rank = n.rank(0), d = rows->second.dim, extent = n.shape(0)[d];
  auto axes = reducedAxes(n, rank);
  if (failed(axes))
    return failure(); // (reported)
  if (!llvm::is_contained(*axes, d))
    return Value();
  // The neutral element: 0 for sums (and means, norms), 1 for a product,
  // -inf for a maximum, +inf for a minimum (floats only: an integer
  // maximum, minimum or mean along it stays refused).
  Type et = n.elt(0);
  bool isFloat = et.isa<FloatType>();
  double neutral = 0;
  if (op == "ReduceProd")
    neutral = 1;
  else if (op == "ReduceMax" || op == "ArgMax" || op == "ReduceLogSumExp")
    neutral = -INFINITY;
  else if (op == "ReduceMin" || op == "ArgMin")
    neutral = INFINITY;
  if (!isFloat && (std::isinf(neutral) || op == "ReduceMean"))
    return Value();
  SmallVector<int64_t> positions, shape(rank, 1);
  for (int64_t k = 0; k < extent; ++k)
    positions.push_back(k);
  shape[d] = extent;
  Value inUse = n.create<nn::LessOp>(n.constI64(positions, shape), rows->second.count);
  Value masked = n.create<nn::SelectOp>(inUse, x, n.scalar(neutral, et));
  if (!masked)
    return failure(); // (reported)
  define(n.proto.input(0), masked);
  reducingRunTimeDim = true;
  return x;
}

void OnnxImporterImpl::unmaskAfterReduction(Node &n, Value original) {
  define(n.proto.input(0), original);
  Value y = n.wantsOutput(0) ? lookup(n.proto.output(0)) : Value();
  if (n.proto.op_type() != "ReduceMean" || !y)
    return;
  // The mean of the entries in use: the masked sum over the static extent,
  // scaled by extent / count (an empty selection: NaN, as PyTorch's).
  const RunTimeRows &rows = rowsKnownAtRunTime.find(original)->second;
  Type et = y.getType().cast<RankedTensorType>().getElementType();
  double extent = (double)original.getType().cast<RankedTensorType>().getDimSize(rows.dim);
  Value scale = n.create<nn::DivOp>(n.scalar(extent, et), n.cast(rows.count, et));
  define(n.proto.output(0), n.create<nn::MulOp>(y, scale));
}

bool OnnxImporterImpl::carriesRunTimeExtent(StringRef opType) {
  return elementwiseOps().contains(opType) || otherCarriers().contains(opType);
}

LogicalResult OnnxImporterImpl::carryRunTimeExtent(Node &n, StringRef label) {
  const onnx::NodeProto &node = n.proto;
  SmallVector<std::pair<int, RunTimeRows>> read;
  for (int k = 0; k < node.input_size(); ++k)
    if (n.has(k)) {
      auto it = rowsKnownAtRunTime.find(n.in(k));
      if (it != rowsKnownAtRunTime.end())
        read.push_back({k, it->second});
    }
  if (read.empty())
    return success();
  int input = read.front().first, d = read.front().second.dim;
  const RunTimeRows &source = read.front().second;
  std::string op = node.op_type();
  auto refuse = [&](const Twine &why) {
    return emitError(n.loc) << op << " node '" << label << "' reads '" << node.input(input) << "', " << source.what
                            << ": its length (dimension " << d << ") is known only at run time, and " << why << ". "
                            << source.advice;
  };
  for (auto &r : read)
    if (r.second.count != source.count)
      return refuse("so is that of '" + node.input(r.first) + "', which may differ");
  if (!n.wantsOutput(0) || !lookup(node.output(0)))
    return success();
  if (reducingRunTimeDim) { // (masked before the node: its result has no run-time dimension)
    reducingRunTimeDim = false;
    return success();
  }
  if (op == "Shape" || op == "Size") { // (their result: the run's count, as data)
    if (capacityLoops.count(source.count))
      return refuse("it is a loop that may run out of its rows, which its shape would hide from the run");
    return success();
  }
  Value result = lookup(node.output(0));
  auto resultType = result.getType().dyn_cast<RankedTensorType>();
  if (!resultType)
    return refuse("its result is not a tensor");
  int64_t rankOut = resultType.getRank(), rankIn = n.rank(input);
  auto readOnly = [&](int k) -> LogicalResult {
    if (read.size() > 1 || input != k)
      return refuse("nncc carries it only through input " + Twine(k) + " of " + op);
    return success();
  };
  int out = -1;
  Value sliced; // a Slice's count, when it takes fewer
  if (elementwiseOps().contains(op)) {
    // Broadcasting aligns trailing dimensions: every operand read at run
    // time must have its extent on the same result dimension, which the
    // others must broadcast along.
    for (auto &r : read) {
      int mapped = r.second.dim + (int)(rankOut - n.rank(r.first));
      if (out >= 0 && mapped != out)
        return refuse("'" + node.input(r.first) + "' has its run-time length along another dimension");
      out = mapped;
    }
    for (int k = 0; k < node.input_size(); ++k) {
      if (!n.has(k) || rowsKnownAtRunTime.count(n.in(k)))
        continue;
      int64_t j = out - (rankOut - n.rank(k));
      if (j >= 0 && n.shape(k)[j] != 1)
        return refuse("it is combined with '" + node.input(k) + "', whose dimension " + Twine(j) +
                      " has the fixed extent " + Twine(n.shape(k)[j]) + " (they agree only when both are that long)");
    }
    if ((op == "Div" || op == "Mod") && n.elt(0).isa<IntegerType>())
      for (auto &r : read)
        if (r.first == 1)
          return refuse("an integer divisor would divide by the zeros past its length");
  } else if (op == "CastLike") {
    if (failed(readOnly(0)))
      return failure();
    out = d;
  } else if (op == "Transpose") {
    SmallVector<int64_t> perm = n.ints("perm");
    if (perm.empty())
      for (int64_t k = rankIn - 1; k >= 0; --k)
        perm.push_back(k);
    out = (int)(llvm::find(perm, d) - perm.begin());
  } else if (op == "Reshape" || op == "Flatten") {
    // Kept only when the dimensions up to that one keep their extents (then
    // entry j stays entry j), or all before it are 1 and it becomes the first.
    if (failed(readOnly(0)))
      return failure();
    auto in = n.shape(0);
    auto shapeOut = resultType.getShape();
    bool prefixKept = rankOut > d && llvm::equal(in.take_front(d + 1), shapeOut.take_front(d + 1));
    int64_t before = 1;
    for (int k = 0; k < d; ++k)
      before *= in[k];
    if (prefixKept)
      out = d;
    else if (op == "Flatten" && before == 1 && normalized(n.i("axis", 1), rankIn) == d + 1)
      out = 0;
    else
      return refuse("the reshape does not keep the dimensions up to that one");
  } else if (op == "Squeeze" || op == "Unsqueeze") {
    if (failed(readOnly(0)))
      return failure();
    bool squeeze = op == "Squeeze";
    auto axes = axesOf(n, 13, 1, squeeze ? rankIn : rankOut);
    if (failed(axes))
      return refuse("its axes are not known at compile time");
    if (squeeze && axes->empty())
      for (int64_t k = 0; k < rankIn; ++k)
        if (n.shape(0)[k] == 1)
          axes->push_back(k);
    if (squeeze) {
      if (llvm::is_contained(*axes, (int64_t)d))
        return refuse("it squeezes that dimension");
      out = d - (int)llvm::count_if(*axes, [&](int64_t a) { return a < d; });
    } else {
      for (int64_t k = 0, j = 0; k < rankOut; ++k)
        if (!llvm::is_contained(*axes, k) && j++ == d)
          out = (int)k;
    }
  } else if (op == "Slice") {
    if (failed(readOnly(0)))
      return failure();
    // Along that dimension, entries [start, end) counted from the front
    // (x[:k], x[s:]; start, end >= 0, step 1) keep the used ones first:
    // max(min(count, end) - start, 0) of them.
    auto params = sliceParams(n);
    if (failed(params))
      return refuse("its starts, ends, axes or steps are not known at compile time");
    auto &[starts, ends, axes, steps] = *params;
    out = d;
    if (llvm::count_if(axes, [&](int64_t a) { return normalized(a, rankIn) == d; }) > 1)
      return refuse("it names that dimension twice");
    for (size_t k = 0; k < axes.size(); ++k) {
      if (normalized(axes[k], rankIn) != d)
        continue;
      int64_t step = steps[k], start = starts[k], end = ends[k];
      if (step != 1 || start < 0 || end < 0)
        return refuse("it slices along that dimension other than from the front (step 1, start and end 0 or "
                      "more): which entries it takes depends on the length");
      if (start == 0 && end >= n.shape(0)[d])
        continue; // all of them
      if (capacityLoops.count(source.count))
        return refuse("it slices the rows of a loop that may run out of them, which the run would no longer see");
      Value c = n.create<nn::MinOp>(source.count, n.constI64({end}, {}));
      c = n.create<nn::SubOp>(c, n.constI64({start}, {}));
      sliced = n.create<nn::MaxOp>(c, n.constI64({0}, {}));
    }
  } else if (op == "Gather") {
    int64_t axis = normalized(n.i("axis", 0), n.rank(0));
    if (read.size() > 1)
      return refuse("so are its indices");
    if (input == 0 && axis == d)
      return refuse("it gathers along that dimension");
    out = input == 1 ? (int)axis + d : (d < axis ? d : d + (int)n.rank(1) - 1);
  } else if (op == "GatherElements") {
    if (failed(readOnly(1)))
      return failure();
    out = d;
  } else if (op == "GatherND") {
    if (failed(readOnly(1)))
      return failure();
    if (d >= rankIn - 1 || d < n.i("batch_dims", 0))
      return refuse("that dimension of its indices is not one it gathers along");
    out = d;
  } else if (op == "MatMul") {
    if (failed(readOnly(0)))
      return failure();
    if (rankIn < 2 || d >= rankIn - 1)
      return refuse("it sums along that dimension");
    // Batch dimensions broadcast (aligned at the end, before the matrix
    // dimensions); a 1-D B drops A's last dimension from the result.
    int64_t j = d - rankIn + n.rank(1);
    if (d < rankIn - 2 && j >= 0 && j < n.rank(1) - 2 && n.shape(1)[j] != 1)
      return refuse("it is multiplied with a batch of fixed extent " + Twine(n.shape(1)[j]));
    out = d + (int)(rankOut - rankIn) + (n.rank(1) == 1 ? 1 : 0);
  } else if (op == "Concat") {
    for (int k = 0; k < node.input_size(); ++k)
      if (n.has(k) && !rowsKnownAtRunTime.count(n.in(k)))
        return refuse("it is concatenated with '" + node.input(k) + "', of fixed length");
    for (auto &r : read)
      if (r.second.dim != d)
        return refuse("'" + node.input(r.first) + "' has its run-time length along another dimension");
    if (normalized(n.i("axis", 0), rankIn) == d)
      return refuse("it is concatenated along that dimension");
    out = d;
  } else if (op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") {
    int64_t axis = normalized(n.i("axis", n.opset < 13 ? 1 : -1), rankIn);
    if (n.opset < 13 ? d >= axis : d == axis)
      return refuse("it normalizes along that dimension");
    out = d;
  } else {
    // Reductions (Reduce*, ArgMax, ArgMin) along other dimensions.
    if (failed(readOnly(0)))
      return failure();
    auto axes = reducedAxes(n, rankIn);
    if (failed(axes))
      return refuse("its axes are not known at compile time");
    if (llvm::is_contained(*axes, (int64_t)d))
      return refuse("it reduces along that dimension");
    out = n.i("keepdims", 1) ? d : d - (int)llvm::count_if(*axes, [&](int64_t a) { return a < d; });
  }
  if (out < 0 || out >= rankOut)
    return refuse("nncc cannot tell where its result holds it");
  RunTimeRows carried = source;
  carried.dim = out;
  if (sliced)
    carried.count = sliced;
  if (!StringRef(carried.what).startswith("computed from "))
    carried.what = "computed from " + carried.what;
  rowsKnownAtRunTime[result] = carried;
  return success();
}
