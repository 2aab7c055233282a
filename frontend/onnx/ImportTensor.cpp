//===- ImportTensor.cpp - ONNX constants, shapes, data movement, indexing -===//
#include "frontend/onnx/ImporterImpl.h"
#include "frontend/onnx/NodeImporter.h"
#include "frontend/onnx/TensorProto.h"

#include <climits>
#include <cmath>

using namespace mlir;
using namespace nncc;
using namespace nncc::onnximport;

namespace {

//===----------------------------------------------------------------------===//
// Constants and shapes
//===----------------------------------------------------------------------===//

LogicalResult importConstant(Node &n) {
  MLIRContext *ctx = n.b.getContext();
  ConstValues v;
  if (const auto *a = n.attr("value")) {
    Tensor t;
    std::string err;
    if (!tensorFromProto(a->t(), "", t, err))
      return n.fail(err);
    v.type = RankedTensorType::get(t.shape(), nn::typeFromOnnxDataType(ctx, (int)t.dtype()));
    v.isFloat = isFloatDType(t.dtype());
    if (t.numElements() > nn::kMaxFoldElements)
      return n.fail("constant with " + Twine(t.numElements()) + " elements; use an initializer");
    for (int64_t k = 0; k < t.numElements(); ++k) {
      if (v.isFloat) v.f.push_back(t.elementAsDouble(k));
      else if (t.dtype() == DType::Int64) v.i.push_back(t.data<int64_t>()[k]);
      else if (t.dtype() == DType::UInt64) v.i.push_back((int64_t)t.data<uint64_t>()[k]);
      else v.i.push_back((int64_t)t.elementAsDouble(k));
    }
  } else if (const auto *a = n.attr("value_float")) {
    v.type = RankedTensorType::get({}, n.b.getF32Type());
    v.isFloat = true;
    v.f = {a->f()};
  } else if (const auto *a = n.attr("value_floats")) {
    v.type = RankedTensorType::get({(int64_t)a->floats_size()}, n.b.getF32Type());
    v.isFloat = true;
    for (float x : a->floats()) v.f.push_back(x);
  } else if (const auto *a = n.attr("value_int")) {
    v.type = RankedTensorType::get({}, n.b.getI64Type());
    v.i = {a->i()};
  } else if (const auto *a = n.attr("value_ints")) {
    v.type = RankedTensorType::get({(int64_t)a->ints_size()}, n.b.getI64Type());
    for (int64_t x : a->ints()) v.i.push_back(x);
  } else {
    return n.fail("only tensor, float(s) and int(s) constants are supported (no strings or sparse tensors)");
  }
  n.out(0, n.constant(v));
  return success();
}

LogicalResult importShape(Node &n) {
  auto shape = n.shape(0);
  if (!nn::isStatic(shape))
    return n.fail("input has unknown dimensions");
  int64_t rank = shape.size();
  int64_t start = n.i("start", 0), end = n.i("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::max<int64_t>(0, std::min(start, rank));
  end = std::max<int64_t>(start, std::min(end, rank));
  SmallVector<int64_t> dims(shape.begin() + start, shape.begin() + end);
  // A dimension whose extent only the run knows (RunTimeExtent.cpp): its
  // count, at run time; the shape is then data, not a constant.
  auto rows = n.importer.rowsKnownAtRunTime.find(n.in(0));
  int64_t d = rows == n.importer.rowsKnownAtRunTime.end() ? -1 : rows->second.dim;
  if (d < start || d >= end) {
    n.out(0, n.constI64(dims, {(int64_t)dims.size()}));
    return success();
  }
  SmallVector<int64_t> oneHot(dims.size(), 0);
  dims[d - start] = 0, oneHot[d - start] = 1;
  Value count = n.create<nn::MulOp>(n.constI64(oneHot, {(int64_t)oneHot.size()}), rows->second.count);
  n.out(0, n.create<nn::AddOp>(n.constI64(dims, {(int64_t)dims.size()}), count));
  return success();
}

LogicalResult importSize(Node &n) {
  int64_t count = nn::numElements(n.shape(0));
  if (count < 0)
    return n.fail("input has unknown dimensions");
  auto rows = n.importer.rowsKnownAtRunTime.find(n.in(0));
  if (rows == n.importer.rowsKnownAtRunTime.end()) {
    n.out(0, n.constI64({count}, {}));
    return success();
  }
  // The elements in use: the other dimensions' times the run's count.
  int64_t extent = n.shape(0)[rows->second.dim];
  int64_t others = extent ? count / extent : nn::numElements(n.shape(0).take_front(rows->second.dim)) *
                                                 nn::numElements(n.shape(0).drop_front(rows->second.dim + 1));
  n.out(0, n.create<nn::MulOp>(rows->second.count, n.constI64({others}, {})));
  return success();
}

LogicalResult importConstantOfShape(Node &n) {
  auto shape = n.requireConstant(0, "shape");
  if (failed(shape))
    return failure();
  ConstValues v;
  double value = 0;
  Type et = n.b.getF32Type();
  if (const auto *a = n.attr("value")) {
    Tensor t;
    std::string err;
    if (!tensorFromProto(a->t(), "", t, err))
      return n.fail(err);
    et = nn::typeFromOnnxDataType(n.b.getContext(), (int)t.dtype());
    if (t.numElements() != 1)
      return n.fail("value must hold one element");
    value = t.elementAsDouble(0);
  }
  SmallVector<int64_t> dims(shape->i.begin(), shape->i.end());
  auto type = RankedTensorType::get(dims, et);
  DenseElementsAttr attr;
  if (et.isa<FloatType>())
    attr = DenseElementsAttr::get(type, nn::makeConst(RankedTensorType::get({}, et), ArrayRef<double>{value}).getSplatValue<Attribute>());
  else
    attr = DenseElementsAttr::get(type, nn::makeConst(RankedTensorType::get({}, et), ArrayRef<int64_t>{(int64_t)value}).getSplatValue<Attribute>());
  n.out(0, n.create<nn::ConstantOp>(attr));
  return success();
}

LogicalResult importEyeLike(Node &n) {
  auto shape = n.shape(0);
  if (shape.size() != 2 || !nn::isStatic(shape))
    return n.fail("input must be a 2-D tensor of known shape");
  Type et = n.hasAttr("dtype") ? nn::typeFromOnnxDataType(n.b.getContext(), (int)n.i("dtype", 1)) : n.elt(0);
  if (!et)
    return n.fail("unsupported dtype");
  int64_t k = n.i("k", 0);
  std::vector<int64_t> values(shape[0] * shape[1], 0);
  for (int64_t r = 0; r < shape[0]; ++r)
    if (r + k >= 0 && r + k < shape[1])
      values[r * shape[1] + r + k] = 1;
  n.out(0, n.create<nn::ConstantOp>(nn::makeConst(RankedTensorType::get(shape, et), values)));
  return success();
}

LogicalResult importRange(Node &n) {
  auto start = n.requireConstant(0, "start"), limit = n.requireConstant(1, "limit"),
       delta = n.requireConstant(2, "delta");
  if (failed(start) || failed(limit) || failed(delta))
    return failure();
  double s = start->asDouble(0), l = limit->asDouble(0), d = delta->asDouble(0);
  if (d == 0)
    return n.fail("delta is 0");
  int64_t size = std::max<int64_t>(0, (int64_t)std::ceil((l - s) / d));
  n.out(0, n.create<nn::RangeOp>(n.b.getF64FloatAttr(s), n.b.getF64FloatAttr(d),
                                 n.b.getI64IntegerAttr(size), TypeAttr::get(n.elt(0))));
  return success();
}

//===----------------------------------------------------------------------===//
// Reshapes
//===----------------------------------------------------------------------===//

LogicalResult importReshape(Node &n) {
  SmallVector<int64_t> shape;
  if (n.opset < 5) {
    shape = SmallVector<int64_t>(n.ints("shape"));
  } else {
    auto c = n.requireConstant(1, "shape");
    if (failed(c))
      return failure();
    shape.assign(c->i.begin(), c->i.end());
  }
  n.out(0, n.create<nn::ReshapeOp>(n.in(0), n.i64s(shape), n.b.getBoolAttr(n.i("allowzero", 0) != 0)));
  return success();
}

LogicalResult importFlatten(Node &n) {
  auto shape = n.shape(0);
  int64_t rank = shape.size();
  int64_t axis = n.i("axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    return n.fail("axis out of range");
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < axis ? outer : inner) *= shape[d];
  n.out(0, n.reshape(n.in(0), {outer, inner}));
  return success();
}

static FailureOr<SmallVector<int64_t>> axesOf(Node &n, int inputIndex) {
  if (n.opset < 13 || !n.has(inputIndex)) {
    if (n.opset >= 13 && !n.hasAttr("axes"))
      return SmallVector<int64_t>();
    return SmallVector<int64_t>(n.ints("axes"));
  }
  auto c = n.requireConstant(inputIndex, "axes");
  if (failed(c))
    return failure();
  return SmallVector<int64_t>(c->i.begin(), c->i.end());
}

LogicalResult importSqueeze(Node &n) {
  auto axes = axesOf(n, 1);
  if (failed(axes))
    return failure();
  auto shape = n.shape(0);
  SmallVector<int64_t> norm;
  if (!normalizeAxes(*axes, shape.size(), norm))
    return n.fail("axes out of range");
  Shape out;
  for (int64_t d = 0; d < (int64_t)shape.size(); ++d) {
    bool squeeze = norm.empty() ? shape[d] == 1 : llvm::is_contained(norm, d);
    if (squeeze && shape[d] != 1)
      return n.fail("cannot squeeze dimension " + Twine(d) + " of size " + Twine(shape[d]));
    if (!squeeze)
      out.push_back(shape[d]);
  }
  n.out(0, n.reshape(n.in(0), out));
  return success();
}

LogicalResult importUnsqueeze(Node &n) {
  auto axes = axesOf(n, 1);
  if (failed(axes))
    return failure();
  auto shape = n.shape(0);
  int64_t outRank = shape.size() + axes->size();
  SmallVector<int64_t> norm;
  if (!normalizeAxes(*axes, outRank, norm) || norm.size() != axes->size())
    return n.fail("axes out of range or repeated");
  Shape out;
  size_t src = 0;
  for (int64_t d = 0; d < outRank; ++d)
    out.push_back(llvm::is_contained(norm, d) ? 1 : shape[src++]);
  n.out(0, n.reshape(n.in(0), out));
  return success();
}

LogicalResult importTranspose(Node &n) {
  int64_t rank = n.rank(0);
  SmallVector<int64_t> perm = SmallVector<int64_t>(n.ints("perm"));
  if (perm.empty())
    for (int64_t d = rank - 1; d >= 0; --d)
      perm.push_back(d);
  for (auto &p : perm)
    if (p < 0)
      p += rank;
  n.out(0, n.transpose(n.in(0), perm));
  return success();
}

LogicalResult importExpand(Node &n) {
  auto shape = n.requireConstant(1, "shape");
  if (failed(shape))
    return failure();
  n.out(0, n.create<nn::ExpandOp>(n.in(0), n.i64s(shape->i)));
  return success();
}

LogicalResult importTile(Node &n) {
  auto repeats = n.requireConstant(1, "repeats");
  if (failed(repeats))
    return failure();
  n.out(0, n.create<nn::TileOp>(n.in(0), n.i64s(repeats->i)));
  return success();
}

LogicalResult importConcat(Node &n) {
  SmallVector<Value> inputs;
  for (int k = 0; k < n.numInputs(); ++k)
    if (n.has(k))
      inputs.push_back(n.in(k));
  if (inputs.empty())
    return n.fail("no inputs");
  int64_t rank = inputs[0].getType().cast<RankedTensorType>().getRank();
  int64_t axis = nn::normalizeAxis(n.i("axis", 1), rank);
  if (axis < 0)
    return n.fail("axis out of range");
  // Empty inputs contribute nothing (PyTorch exports concatenate them).
  SmallVector<Value> nonEmpty;
  for (Value v : inputs)
    if (v.getType().cast<RankedTensorType>().getNumElements() != 0)
      nonEmpty.push_back(v);
  if (nonEmpty.empty())
    nonEmpty.push_back(inputs[0]);
  n.out(0, n.create<nn::ConcatOp>(nonEmpty, n.b.getI64IntegerAttr(axis)));
  return success();
}


LogicalResult importSplit(Node &n) {
  auto shape = n.shape(0);
  int64_t axis = nn::normalizeAxis(n.i("axis", 0), shape.size());
  if (axis < 0)
    return n.fail("axis out of range");
  SmallVector<int64_t> split;
  if (n.opset >= 13 && n.has(1)) {
    auto c = n.requireConstant(1, "split");
    if (failed(c))
      return failure();
    split.assign(c->i.begin(), c->i.end());
  } else if (n.opset < 13 && n.hasAttr("split")) {
    split = SmallVector<int64_t>(n.ints("split"));
  } else if (n.opset < 13 && n.has(1)) {
    auto c = n.requireConstant(1, "split");
    if (failed(c))
      return failure();
    split.assign(c->i.begin(), c->i.end());
  } else {
    int64_t parts = n.hasAttr("num_outputs") ? n.i("num_outputs", 1) : n.numOutputs();
    int64_t chunk = (shape[axis] + parts - 1) / parts;
    for (int64_t k = 0; k < parts; ++k)
      split.push_back(std::max<int64_t>(0, std::min(chunk, shape[axis] - k * chunk)));
  }
  int64_t total = 0;
  for (int64_t s : split)
    total += s;
  if (total != shape[axis])
    return n.fail("split sizes add up to " + Twine(total) + ", not " + Twine(shape[axis]));
  int64_t start = 0;
  for (size_t k = 0; k < split.size(); ++k) {
    n.out(k, sliceAxis(n, n.in(0), axis, start, split[k]));
    start += split[k];
  }
  return success();
}

} // namespace

FailureOr<SliceParams> nncc::onnximport::sliceParams(Node &n) {
  SmallVector<int64_t> starts, ends, axes, steps;
  if (n.opset < 10) {
    starts = SmallVector<int64_t>(n.ints("starts"));
    ends = SmallVector<int64_t>(n.ints("ends"));
    axes = SmallVector<int64_t>(n.ints("axes"));
  } else {
    auto s = n.requireConstant(1, "starts"), e = n.requireConstant(2, "ends");
    if (failed(s) || failed(e))
      return failure();
    starts.assign(s->i.begin(), s->i.end());
    ends.assign(e->i.begin(), e->i.end());
    if (n.has(3)) {
      auto a = n.requireConstant(3, "axes");
      if (failed(a))
        return failure();
      axes.assign(a->i.begin(), a->i.end());
    }
    if (n.has(4)) {
      auto st = n.requireConstant(4, "steps");
      if (failed(st))
        return failure();
      steps.assign(st->i.begin(), st->i.end());
    }
  }
  if (axes.empty())
    for (size_t k = 0; k < starts.size(); ++k)
      axes.push_back(k);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (starts.size() != ends.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return n.fail("starts, ends, axes and steps must have the same length");
  return SliceParams{starts, ends, axes, steps};
}

namespace {

LogicalResult importSlice(Node &n) {
  auto shape = n.shape(0);
  int64_t rank = shape.size();
  auto params = sliceParams(n);
  if (failed(params))
    return failure();
  auto &[starts, ends, axes, steps] = *params;
  SmallVector<int64_t> oStarts(rank, 0), oSteps(rank, 1), oSizes(shape.begin(), shape.end());
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t a = nn::normalizeAxis(axes[k], rank);
    if (a < 0)
      return n.fail("axis " + Twine(axes[k]) + " out of range");
    int64_t d = shape[a], step = steps[k];
    if (step == 0)
      return n.fail("step is 0");
    int64_t s = starts[k], e = ends[k];
    if (s < 0) s = s < -d ? -1 : s + d; // keep below 0 when far out (clamped next)
    if (e < 0) e = e < -d ? -1 : e + d;
    if (step > 0) {
      s = std::max<int64_t>(0, std::min(s, d));
      e = std::max<int64_t>(0, std::min(e, d));
    } else {
      s = std::max<int64_t>(0, std::min(s, d - 1));
      e = std::max<int64_t>(-1, std::min(e, d - 1));
    }
    int64_t size = step > 0 ? (e - s + step - 1) / step : (s - e + (-step) - 1) / (-step);
    size = std::max<int64_t>(0, size);
    oStarts[a] = size ? s : 0;
    oSteps[a] = step;
    oSizes[a] = size;
  }
  n.out(0, n.create<nn::SliceOp>(n.in(0), n.i64s(oStarts), n.i64s(oSteps), n.i64s(oSizes)));
  return success();
}

LogicalResult importPad(Node &n) {
  int64_t rank = n.rank(0);
  std::string mode = n.s("mode", "constant");
  SmallVector<int64_t> pads;
  double value = 0;
  if (n.opset < 11) {
    pads = SmallVector<int64_t>(n.ints(n.opset < 2 ? "paddings" : "pads"));
    value = n.f("value", 0.0);
  } else {
    auto p = n.requireConstant(1, "pads");
    if (failed(p))
      return failure();
    pads.assign(p->i.begin(), p->i.end());
    if (n.has(2)) {
      auto v = n.requireConstant(2, "constant_value");
      if (failed(v))
        return failure();
      if (v->size())
        value = v->asDouble(0);
    }
    if (n.has(3)) {
      auto a = n.requireConstant(3, "axes");
      if (failed(a))
        return failure();
      SmallVector<int64_t> full(2 * rank, 0);
      for (size_t k = 0; k < a->i.size(); ++k) {
        int64_t ax = nn::normalizeAxis(a->i[k], rank);
        if (ax < 0)
          return n.fail("axis out of range");
        full[ax] = pads[k];
        full[ax + rank] = pads[k + a->i.size()];
      }
      pads = full;
    }
  }
  if ((int64_t)pads.size() != 2 * rank)
    return n.fail("pads has " + Twine(pads.size()) + " entries for rank " + Twine(rank));
  n.out(0, n.create<nn::PadOp>(n.in(0), n.i64s(pads), n.b.getStringAttr(mode), n.b.getF64FloatAttr(value)));
  return success();
}

LogicalResult importDepthToSpace(Node &n) {
  auto s = n.shape(0);
  if (s.size() != 4)
    return n.fail("input must be 4-D");
  int64_t b = n.i("blocksize", 0);
  if (b <= 0 || s[1] % (b * b))
    return n.fail("channels not divisible by blocksize^2");
  std::string mode = n.s("mode", "DCR");
  int64_t N = s[0], C = s[1], H = s[2], W = s[3], c = C / (b * b);
  Value t;
  if (mode == "DCR") {
    t = n.reshape(n.in(0), {N, b, b, c, H, W});
    t = n.transpose(t, {0, 3, 4, 1, 5, 2});
  } else {
    t = n.reshape(n.in(0), {N, c, b, b, H, W});
    t = n.transpose(t, {0, 1, 4, 2, 5, 3});
  }
  n.out(0, n.reshape(t, {N, c, H * b, W * b}));
  return success();
}

LogicalResult importSpaceToDepth(Node &n) {
  auto s = n.shape(0);
  if (s.size() != 4)
    return n.fail("input must be 4-D");
  int64_t b = n.i("blocksize", 0);
  if (b <= 0 || s[2] % b || s[3] % b)
    return n.fail("spatial size not divisible by blocksize");
  int64_t N = s[0], C = s[1], H = s[2], W = s[3];
  Value t = n.reshape(n.in(0), {N, C, H / b, b, W / b, b});
  t = n.transpose(t, {0, 3, 5, 1, 2, 4});
  n.out(0, n.reshape(t, {N, C * b * b, H / b, W / b}));
  return success();
}

//===----------------------------------------------------------------------===//
// Indexing
//===----------------------------------------------------------------------===//

LogicalResult importGather(Node &n) {
  int64_t axis = nn::normalizeAxis(n.i("axis", 0), n.rank(0));
  if (axis < 0)
    return n.fail("axis out of range");
  n.out(0, n.create<nn::GatherOp>(n.in(0), n.in(1), n.b.getI64IntegerAttr(axis)));
  return success();
}

LogicalResult importGatherElements(Node &n) {
  int64_t axis = nn::normalizeAxis(n.i("axis", 0), n.rank(0));
  if (axis < 0)
    return n.fail("axis out of range");
  n.out(0, n.create<nn::GatherElementsOp>(n.in(0), n.in(1), n.b.getI64IntegerAttr(axis)));
  return success();
}

LogicalResult importGatherND(Node &n) {
  n.out(0, n.create<nn::GatherNDOp>(n.in(0), n.in(1), n.b.getI64IntegerAttr(n.i("batch_dims", 0))));
  return success();
}

LogicalResult importScatterElements(Node &n) {
  int64_t axis = nn::normalizeAxis(n.i("axis", 0), n.rank(0));
  if (axis < 0)
    return n.fail("axis out of range");
  n.out(0, n.create<nn::ScatterElementsOp>(n.in(0), n.in(1), n.in(2), n.b.getI64IntegerAttr(axis),
                                           n.b.getStringAttr(n.s("reduction", "none"))));
  return success();
}

LogicalResult importScatterND(Node &n) {
  n.out(0, n.create<nn::ScatterNDOp>(n.in(0), n.in(1), n.in(2), n.b.getStringAttr(n.s("reduction", "none"))));
  return success();
}

LogicalResult importTrilu(Node &n) {
  int64_t k = 0;
  if (n.has(1)) {
    auto c = n.requireConstant(1, "k");
    if (failed(c))
      return failure();
    k = c->asInt(0);
  }
  if (n.rank(0) < 2)
    return n.fail("input must have rank >= 2");
  n.out(0, n.create<nn::TriluOp>(n.in(0), n.b.getBoolAttr(n.i("upper", 1) != 0), n.b.getI64IntegerAttr(k)));
  return success();
}

LogicalResult importOneHot(Node &n) {
  auto depthC = n.requireConstant(1, "depth");
  if (failed(depthC))
    return failure();
  int64_t depth = (int64_t)depthC->asDouble(0);
  if (depth <= 0)
    return n.fail("depth must be positive");
  auto ishape = n.shape(0);
  int64_t outRank = ishape.size() + 1;
  int64_t axis = nn::normalizeAxis(n.i("axis", -1), outRank);
  if (axis < 0)
    return n.fail("axis out of range");
  Value idx = n.cast(n.in(0), n.b.getI64Type());
  // Negative indices count from the end.
  Value neg = n.create<nn::LessOp>(idx, n.constI64({0}, {}));
  idx = n.create<nn::SelectOp>(neg, n.create<nn::AddOp>(idx, n.constI64({depth}, {})), idx);
  Shape ushape(ishape.begin(), ishape.end());
  ushape.insert(ushape.begin() + axis, 1);
  idx = n.reshape(idx, ushape);
  std::vector<int64_t> iota(depth);
  for (int64_t k = 0; k < depth; ++k)
    iota[k] = k;
  Shape rshape(outRank, 1);
  rshape[axis] = depth;
  Value range = n.constI64(iota, rshape);
  Value hit = n.create<nn::EqualOp>(idx, range);
  Value values = n.in(2);
  Type vt = n.elt(2);
  Value off = n.reshape(sliceAxis(n, values, 0, 0, 1), {});
  Value on = n.reshape(sliceAxis(n, values, 0, 1, 1), {});
  (void)vt;
  n.out(0, n.create<nn::SelectOp>(hit, on, off));
  return success();
}

LogicalResult importTopK(Node &n) {
  int64_t k;
  if (n.opset < 10) {
    k = n.i("k", -1);
  } else {
    auto c = n.requireConstant(1, "K");
    if (failed(c))
      return failure();
    k = c->asInt(0);
  }
  int64_t axis = nn::normalizeAxis(n.i("axis", -1), n.rank(0));
  if (axis < 0)
    return n.fail("axis out of range");
  Operation *op = n.build<nn::TopKOp>(n.in(0), n.b.getI64IntegerAttr(k), n.b.getI64IntegerAttr(axis),
                                      n.b.getBoolAttr(n.i("largest", 1) != 0),
                                      n.b.getBoolAttr(n.i("sorted", 1) != 0));
  if (!op)
    return failure();
  n.out(0, op->getResult(0));
  n.out(1, op->getResult(1));
  return success();
}

LogicalResult importCumSum(Node &n) {
  auto a = n.requireConstant(1, "axis");
  if (failed(a))
    return failure();
  int64_t axis = nn::normalizeAxis(a->asInt(0), n.rank(0));
  if (axis < 0)
    return n.fail("axis out of range");
  n.out(0, n.create<nn::CumSumOp>(n.in(0), n.b.getI64IntegerAttr(axis),
                                  n.b.getBoolAttr(n.i("exclusive", 0) != 0),
                                  n.b.getBoolAttr(n.i("reverse", 0) != 0)));
  return success();
}

LogicalResult importReverseSequence(Node &n) {
  n.out(0, n.create<nn::ReverseSequenceOp>(n.in(0), n.in(1), n.b.getI64IntegerAttr(n.i("batch_axis", 1)),
                                           n.b.getI64IntegerAttr(n.i("time_axis", 0))));
  return success();
}

//===----------------------------------------------------------------------===//
// Resampling
//===----------------------------------------------------------------------===//

static LogicalResult buildResize(Node &n, Value x, ArrayRef<double> scalesIn, ArrayRef<int64_t> sizesIn,
                                 ArrayRef<double> roi, StringRef mode, StringRef ctm, StringRef nearestMode) {
  auto shape = x.getType().cast<RankedTensorType>().getShape();
  int64_t rank = shape.size();
  SmallVector<int64_t> sizes;
  SmallVector<double> scales;
  if (!sizesIn.empty()) {
    if ((int64_t)sizesIn.size() != rank)
      return n.fail("sizes needs one entry per dimension");
    sizes.assign(sizesIn.begin(), sizesIn.end());
    for (int64_t d = 0; d < rank; ++d)
      scales.push_back(shape[d] ? (double)sizes[d] / shape[d] : 1.0);
  } else {
    if ((int64_t)scalesIn.size() != rank)
      return n.fail("scales needs one entry per dimension");
    scales.assign(scalesIn.begin(), scalesIn.end());
    for (int64_t d = 0; d < rank; ++d) {
      if (scales[d] <= 0)
        return n.fail("scales must be positive");
      sizes.push_back((int64_t)std::floor(shape[d] * scales[d]));
    }
  }
  SmallVector<double> roiFull(roi.begin(), roi.end());
  if (roiFull.empty())
    for (int64_t d = 0; d < 2 * rank; ++d)
      roiFull.push_back(d < rank ? 0.0 : 1.0);
  std::string m = mode.str();
  if (m == "bilinear" || m == "trilinear")
    m = "linear";
  if (m != "nearest" && m != "linear" && m != "cubic")
    return n.fail("unsupported mode '" + m + "'");
  n.out(0, n.create<nn::ResizeOp>(x, n.i64s(sizes), nn::f32Array(n.b, scales), nn::f32Array(n.b, roiFull),
                                  n.b.getStringAttr(m), n.b.getStringAttr(ctm), n.b.getStringAttr(nearestMode),
                                  n.f32(n.f("cubic_coeff_a", -0.75)),
                                  n.b.getBoolAttr(n.i("exclude_outside", 0) != 0),
                                  n.f32(n.f("extrapolation_value", 0.0))));
  return success();
}

LogicalResult importResize(Node &n) {
  int64_t rank = n.rank(0);
  SmallVector<double> scales, roi;
  SmallVector<int64_t> sizes;
  int scalesIdx = n.opset < 11 ? 1 : 2;
  if (n.opset >= 11 && n.has(1)) {
    auto r = n.requireConstant(1, "roi");
    if (failed(r))
      return failure();
    for (int64_t k = 0; k < r->size(); ++k)
      roi.push_back(r->asDouble(k));
  }
  if (n.has(scalesIdx)) {
    auto s = n.requireConstant(scalesIdx, "scales");
    if (failed(s))
      return failure();
    for (int64_t k = 0; k < s->size(); ++k)
      scales.push_back(s->asDouble(k));
  }
  if (n.opset >= 11 && n.has(3)) {
    auto s = n.requireConstant(3, "sizes");
    if (failed(s))
      return failure();
    sizes.assign(s->i.begin(), s->i.end());
  }
  SmallVector<int64_t> axes = SmallVector<int64_t>(n.ints("axes"));
  std::string policy = n.s("keep_aspect_ratio_policy", "stretch");
  if (!axes.empty()) {
    // Expand per-axis scales/sizes/roi to every dimension.
    auto shape = n.shape(0);
    SmallVector<double> fs(rank, 1.0), froi;
    SmallVector<int64_t> fz(shape.begin(), shape.end());
    for (int64_t d = 0; d < rank; ++d) froi.push_back(0.0);
    for (int64_t d = 0; d < rank; ++d) froi.push_back(1.0);
    for (size_t k = 0; k < axes.size(); ++k) {
      int64_t a = nn::normalizeAxis(axes[k], rank);
      if (a < 0) return n.fail("axis out of range");
      if (!scales.empty()) fs[a] = scales[k];
      if (!sizes.empty()) fz[a] = sizes[k];
      if (!roi.empty()) { froi[a] = roi[k]; froi[a + rank] = roi[k + axes.size()]; }
    }
    if (!scales.empty()) scales = fs;
    if (!sizes.empty()) sizes = fz;
    if (!roi.empty()) roi = froi;
  }
  if (!sizes.empty() && policy != "stretch") {
    auto shape = n.shape(0);
    double scale = policy == "not_larger" ? 1e300 : -1e300;
    for (int64_t d = 0; d < rank; ++d) {
      if (axes.empty() || llvm::is_contained(axes, d) || llvm::is_contained(axes, d - rank)) {
        double s = (double)sizes[d] / shape[d];
        scale = policy == "not_larger" ? std::min(scale, s) : std::max(scale, s);
      }
    }
    for (int64_t d = 0; d < rank; ++d)
      if (axes.empty() || llvm::is_contained(axes, d) || llvm::is_contained(axes, d - rank))
        sizes[d] = (int64_t)std::floor(shape[d] * scale + 0.5);
    scales.clear();
    for (int64_t d = 0; d < rank; ++d)
      scales.push_back(axes.empty() || llvm::is_contained(axes, d) || llvm::is_contained(axes, d - rank) ? scale : 1.0);
    return buildResize(n, n.in(0), scales, {}, roi, n.s("mode", "nearest"),
                       n.s("coordinate_transformation_mode", "half_pixel"),
                       n.s("nearest_mode", "round_prefer_floor"));
  }
  if (scales.empty() && sizes.empty())
    return n.fail("needs scales or sizes");
  std::string ctm = n.opset < 11 ? "asymmetric" : n.s("coordinate_transformation_mode", "half_pixel");
  std::string nearest = n.opset < 11 ? "floor" : n.s("nearest_mode", "round_prefer_floor");
  if (n.i("antialias", 0))
    return n.fail("antialias is not supported");
  return buildResize(n, n.in(0), sizes.empty() ? ArrayRef<double>(scales) : ArrayRef<double>(),
                     sizes, roi, n.s("mode", "nearest"), ctm, nearest);
}

LogicalResult importUpsample(Node &n) {
  SmallVector<double> scales;
  if (n.opset < 9) {
    scales = SmallVector<double>(n.floats("scales"));
    if (scales.empty() && n.hasAttr("height_scale")) {
      scales = {1.0, 1.0, n.f("height_scale", 1.0), n.f("width_scale", 1.0)};
    }
  } else {
    auto s = n.requireConstant(1, "scales");
    if (failed(s))
      return failure();
    for (int64_t k = 0; k < s->size(); ++k)
      scales.push_back(s->asDouble(k));
  }
  return buildResize(n, n.in(0), scales, {}, {}, n.s("mode", "nearest"), "asymmetric", "floor");
}

LogicalResult importGridSample(Node &n) {
  std::string mode = n.s("mode", n.opset >= 20 ? "linear" : "bilinear");
  if (mode == "linear") mode = "bilinear";
  if (mode == "cubic") mode = "bicubic";
  n.out(0, n.create<nn::GridSampleOp>(n.in(0), n.in(1), n.b.getStringAttr(mode),
                                      n.b.getStringAttr(n.s("padding_mode", "zeros")),
                                      n.b.getBoolAttr(n.i("align_corners", 0) != 0)));
  return success();
}

/// NonMaxSuppression: its selected indices have room for every box each
/// class may keep (max_output_boxes_per_class when known at compile time,
/// else all N) and as many rows as it selected at run time, then zeros
/// (RunTimeExtent.cpp).
LogicalResult importNonMaxSuppression(Node &n) {
  if (n.rank(0) != 3 || n.shape(0)[2] != 4 || n.rank(1) != 3 || n.shape(1)[0] != n.shape(0)[0] ||
      n.shape(1)[2] != n.shape(0)[1])
    return n.fail("boxes must be [B, N, 4] and scores [B, C, N]");
  int64_t B = n.shape(0)[0], N = n.shape(0)[1], C = n.shape(1)[1];
  int64_t perClass = 0;
  if (n.has(2)) {
    auto known = n.knownConstant(2);
    perClass = known ? std::min(std::max<int64_t>(known->asInt(0), 0), N) : N;
  }
  Type f32 = n.b.getF32Type(), i64 = n.b.getI64Type();
  auto scalarIn = [&](int i, Type et, double def) {
    return n.has(i) ? n.cast(n.reshape(n.in(i), {}), et) : n.scalar(def, et);
  };
  for (int i = 2; i < 5; ++i)
    if (n.has(i) && nn::numElements(n.shape(i)) != 1)
      return n.fail(Twine("input ") + Twine(i) + " must hold one value");
  Operation *op = n.build<nn::NonMaxSuppressionOp>(
      n.cast(n.in(0), f32), n.cast(n.in(1), f32), scalarIn(2, i64, 0), scalarIn(3, f32, 0), scalarIn(4, f32, 0),
      n.b.getI64IntegerAttr(n.i("center_point_box", 0)), n.b.getBoolAttr(n.has(4)),
      n.b.getI64IntegerAttr(B * C * perClass));
  if (!op)
    return failure();
  n.out(0, op->getResult(0));
  n.importer.rowsKnownAtRunTime[op->getResult(0)] = {
      op->getResult(1), "the indices NonMaxSuppression selected",
      "Gather the boxes with them (Gather carries the count) or after the model runs"};
  return success();
}

/// NonZero: the indices of the nonzero elements, [rank, how many]; the
/// second dimension has room for every element and is known at run time.
LogicalResult importNonZero(Node &n) {
  if (n.rank(0) < 1)
    return n.fail("a scalar input is not supported; Reshape it to [1] first");
  Value x = n.in(0);
  if (n.elt(0).isF16() || n.elt(0).isBF16())
    x = n.cast(x, n.b.getF32Type()); // (the kernel reads their bits as integers)
  Operation *op = n.build<nn::NonZeroOp>(x);
  if (!op)
    return failure();
  n.out(0, op->getResult(0));
  n.importer.rowsKnownAtRunTime[op->getResult(0)] = {
      op->getResult(1), "the indices NonZero found",
      "A mask multiplied in (Mul, Where) keeps every shape known at compile time", 1};
  return success();
}

/// Unique (sorted or in order of first occurrence), of the flattened input
/// or of its slices along `axis`: the distinct values (or slices), their
/// first indices and counts have room for every one along that dimension
/// and are known at run time; the inverse indices are not.
LogicalResult importUnique(Node &n) {
  ArrayRef<int64_t> shape = n.shape(0);
  int64_t rank = n.rank(0), axis = 0, outer = 1, length = nn::numElements(shape), inner = 1;
  bool alongAxis = n.hasAttr("axis");
  if (alongAxis) {
    axis = n.i("axis", 0);
    if (axis < -rank || axis >= rank)
      return n.fail("axis " + Twine(axis) + " is out of range for rank " + Twine(rank));
    axis = axis < 0 ? axis + rank : axis;
    outer = nn::numElements(shape.take_front(axis));
    length = shape[axis];
    inner = nn::numElements(shape.drop_front(axis + 1));
  }
  Type et = n.elt(0);
  Value x = n.in(0);
  if (et.isF16() || et.isBF16())
    x = n.cast(x, n.b.getF32Type()); // (compared as numbers, not bits)
  Operation *op = n.build<nn::UniqueOp>(n.reshape(x, {outer, length, inner}), n.b.getBoolAttr(n.i("sorted", 1) != 0));
  if (!op)
    return failure();
  Value y = n.cast(n.reshape(op->getResult(0), alongAxis ? shape : ArrayRef<int64_t>{length}), et);
  Value count = op->getResult(4);
  std::string advice = "Its inverse indices have a length known at compile time";
  n.out(0, y);
  n.importer.rowsKnownAtRunTime[y] = {count, "the values Unique found", advice, (int)axis};
  for (int k : {1, 3}) {
    n.out(k, op->getResult(k));
    n.importer.rowsKnownAtRunTime[op->getResult(k)] = {
        count, k == 1 ? "the first indices of the values Unique found" : "the counts of the values Unique found",
        advice};
  }
  n.out(2, op->getResult(2));
  return success();
}

/// TfIdfVectorizer over integer tokens (nncc has no string tensors).
LogicalResult importTfIdfVectorizer(Node &n) {
  if (n.hasAttr("pool_strings") && !n.hasAttr("pool_int64s"))
    return n.fail("a pool of strings is not supported (nncc has no string tensors); give the tokens as integers "
                  "with pool_int64s");
  if (!n.elt(0).isInteger(32) && !n.elt(0).isInteger(64))
    return n.fail("tokens must be int32 or int64");
  std::string mode = n.s("mode", "");
  if (mode != "TF" && mode != "IDF" && mode != "TFIDF")
    return n.fail("mode must be TF, IDF or TFIDF, not '" + mode + "'");
  int64_t minN = n.i("min_gram_length", 0), maxN = n.i("max_gram_length", 0), skip = n.i("max_skip_count", 0);
  if (minN < 1 || maxN < minN || skip < 0)
    return n.fail("need 1 <= min_gram_length <= max_gram_length and max_skip_count >= 0");
  auto pool = n.ints("pool_int64s"), indexes = n.ints("ngram_indexes"), counts = n.ints("ngram_counts");
  auto weights = n.floats("weights");
  if (indexes.empty())
    return n.fail("ngram_indexes is empty");
  if (!weights.empty() && weights.size() != indexes.size())
    return n.fail("weights must have one entry per n-gram (" + Twine(indexes.size()) + "), not " +
                  Twine(weights.size()));
  for (size_t k = 0; k < counts.size(); ++k)
    if (counts[k] < 0 || counts[k] > (int64_t)pool.size() || (k && counts[k] < counts[k - 1]))
      return n.fail("ngram_counts must be increasing offsets into the pool");
  int64_t width = *std::max_element(indexes.begin(), indexes.end()) + 1;
  if (*std::min_element(indexes.begin(), indexes.end()) < 0)
    return n.fail("ngram_indexes must not be negative");
  std::vector<double> w(indexes.size(), 1.0);
  for (size_t k = 0; k < weights.size(); ++k)
    w[k] = weights[k];
  Value poolValue = n.constI64(pool, {(int64_t)pool.size()});
  Value indexValue = n.constI64(indexes, {(int64_t)indexes.size()});
  Value weightValue = n.b.create<nn::ConstantOp>(
      n.loc, nn::makeConst(RankedTensorType::get({(int64_t)w.size()}, n.b.getF32Type()), ArrayRef<double>(w)));
  n.out(0, n.create<nn::TfIdfVectorizerOp>(n.in(0), poolValue, indexValue, weightValue, n.i64s(counts),
                                           n.b.getI64IntegerAttr(minN), n.b.getI64IntegerAttr(maxN),
                                           n.b.getI64IntegerAttr(skip), n.b.getStringAttr(mode),
                                           n.b.getI64IntegerAttr(width)));
  return success();
}

LogicalResult importMaxRoiPool(Node &n) {
  if (n.rank(0) != 4)
    return n.fail("input must be [N, C, H, W]");
  if (n.rank(1) != 2 || n.shape(1)[1] != 5)
    return n.fail("rois must be [num_rois, 5] (batch index, x1, y1, x2, y2), not " +
                  shapeToString(std::vector<int64_t>(n.shape(1).begin(), n.shape(1).end())));
  auto pooled = n.ints("pooled_shape");
  if (pooled.size() != 2 || pooled[0] < 1 || pooled[1] < 1)
    return n.fail("pooled_shape must be two positive sizes");
  // The kernel pools f32 or f64: f16 and bf16 widen to f32 and back.
  Type et = n.elt(0), wide = n.wideFloat(et);
  Value y = n.create<nn::MaxRoiPoolOp>(n.cast(n.in(0), wide), n.cast(n.in(1), wide), n.i64s(pooled),
                                       n.f32(n.f("spatial_scale", 1.0)));
  n.out(0, n.cast(y, et));
  return success();
}

LogicalResult importRoiAlign(Node &n) {
  bool halfPixel = n.opset >= 16 && n.s("coordinate_transformation_mode", "half_pixel") == "half_pixel";
  // The kernel reads f32 or f64: f16 and bf16 widen to f32 and back.
  Type et = n.elt(0), wide = n.wideFloat(et);
  Value y = n.create<nn::RoiAlignOp>(n.cast(n.in(0), wide), n.cast(n.in(1), wide), n.in(2),
                                     n.b.getStringAttr(n.s("mode", "avg")),
                                     n.b.getI64IntegerAttr(n.i("output_height", 1)),
                                     n.b.getI64IntegerAttr(n.i("output_width", 1)),
                                     n.b.getI64IntegerAttr(n.i("sampling_ratio", 0)),
                                     n.f32(n.f("spatial_scale", 1.0)), n.b.getBoolAttr(halfPixel));
  n.out(0, n.cast(y, et));
  return success();
}

LogicalResult importMaxUnpool(Node &n) {
  auto shape = n.shape(0);
  int64_t spatial = shape.size() - 2;
  auto k = n.ints("kernel_shape");
  auto s = n.ints("strides", SmallVector<int64_t>(spatial, 1));
  auto p = n.ints("pads", SmallVector<int64_t>(2 * spatial, 0));
  if ((int64_t)k.size() != spatial)
    return n.fail("kernel_shape needs one entry per spatial dimension");
  SmallVector<int64_t> inferred = {shape[0], shape[1]};
  for (int64_t i = 0; i < spatial; ++i)
    inferred.push_back((shape[2 + i] - 1) * s[i] + k[i] - p[i] - p[i + spatial]);
  SmallVector<int64_t> out = inferred;
  if (n.has(2)) {
    auto c = n.requireConstant(2, "output_shape");
    if (failed(c))
      return failure();
    out.assign(c->i.begin(), c->i.end());
  }
  n.out(0, n.create<nn::MaxUnpoolOp>(n.in(0), n.in(1), n.i64s(out), n.i64s(inferred)));
  return success();
}

} // namespace

void nncc::onnximport::registerTensorHandlers(HandlerMap &m) {
  m["Constant"] = importConstant;
  m["Shape"] = importShape;
  m["Size"] = importSize;
  m["ConstantOfShape"] = importConstantOfShape;
  m["EyeLike"] = importEyeLike;
  m["Range"] = importRange;
  m["Reshape"] = importReshape;
  m["Flatten"] = importFlatten;
  m["Squeeze"] = importSqueeze;
  m["Unsqueeze"] = importUnsqueeze;
  m["Transpose"] = importTranspose;
  m["Expand"] = importExpand;
  m["Tile"] = importTile;
  m["Concat"] = importConcat;
  m["Split"] = importSplit;
  m["Slice"] = importSlice;
  m["Pad"] = importPad;
  m["DepthToSpace"] = importDepthToSpace;
  m["SpaceToDepth"] = importSpaceToDepth;
  m["Gather"] = importGather;
  m["GatherElements"] = importGatherElements;
  m["GatherND"] = importGatherND;
  m["ScatterElements"] = importScatterElements;
  m["Scatter"] = importScatterElements;
  m["ScatterND"] = importScatterND;
  m["Trilu"] = importTrilu;
  m["OneHot"] = importOneHot;
  m["TopK"] = importTopK;
  m["CumSum"] = importCumSum;
  m["ReverseSequence"] = importReverseSequence;
  m["Resize"] = importResize;
  m["Upsample"] = importUpsample;
  m["GridSample"] = importGridSample;
  m["RoiAlign"] = importRoiAlign;
  m["MaxRoiPool"] = importMaxRoiPool;
  m["TfIdfVectorizer"] = importTfIdfVectorizer;
  m["NonMaxSuppression"] = importNonMaxSuppression;
  m["NonZero"] = importNonZero;
  m["Unique"] = importUnique;
  m["MaxUnpool"] = importMaxUnpool;
}
