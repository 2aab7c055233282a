//===- TensorOps.cpp - constants, data movement and indexing --------------===//
#include "ir/OpsCommon.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace mlir;
using namespace nncc::nn;

//===----------------------------------------------------------------------===//
// constant
//===----------------------------------------------------------------------===//

NN_INFER(ConstantOp) {
  ConstantOp::Adaptor a(operands, attrs, regions);
  inferred.push_back(a.getValue().getType());
  return success();
}

OpFoldResult ConstantOp::fold(ArrayRef<Attribute>) { return getValue(); }

//===----------------------------------------------------------------------===//
// reshape
//===----------------------------------------------------------------------===//

NN_INFER(ReshapeOp) {
  ReshapeOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]);
  auto spec = toI64(a.getShape());
  bool allowZero = a.getAllowzero();
  Shape out;
  int64_t inferIndex = -1, known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == 0 && !allowZero) {
      if (i >= (size_t)x.getRank())
        return inferError(loc, "reshape: 0 in shape at position " + Twine(i) + " has no input dimension to copy");
      d = x.getDimSize(i);
    }
    if (d == -1) {
      if (inferIndex >= 0)
        return inferError(loc, "reshape: more than one -1 in shape");
      inferIndex = i;
    } else if (d < -1) {
      return inferError(loc, "reshape: invalid dimension " + Twine(d));
    } else if (d >= 0 && known >= 0) {
      known *= d;
    }
    if (d == kDynamic && spec[i] != -1)
      known = -1;
    out.push_back(d == -1 ? kDynamic : d);
  }
  int64_t total = numElements(x.getShape());
  if (inferIndex >= 0 && total >= 0 && known > 0) {
    if (total % known)
      return inferError(loc, "reshape: cannot infer -1: " + Twine(total) + " elements do not divide by " + Twine(known));
    out[inferIndex] = total / known;
  } else if (inferIndex >= 0 && total == 0) {
    out[inferIndex] = 0;
  }
  if (total >= 0 && isStatic(out) && numElements(out) != total)
    return inferError(loc, "reshape: " + Twine(total) + " elements cannot take shape with " + Twine(numElements(out)));
  inferred.push_back(tensor(out, x.getElementType()));
  return success();
}

OpFoldResult ReshapeOp::fold(ArrayRef<Attribute> operands) {
  if (getX().getType() == getType())
    return getX();
  if (auto v = readConst(operands[0]))
    return makeConst(getType().cast<RankedTensorType>(), *v);
  return {};
}

//===----------------------------------------------------------------------===//
// transpose
//===----------------------------------------------------------------------===//

NN_INFER(TransposeOp) {
  TransposeOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]);
  auto perm = toI64(a.getPerm());
  if ((int64_t)perm.size() != x.getRank())
    return inferError(loc, "transpose: perm has " + Twine(perm.size()) + " entries for rank " + Twine(x.getRank()));
  Shape out;
  for (int64_t p : perm) {
    if (p < 0 || p >= x.getRank())
      return inferError(loc, "transpose: perm entry " + Twine(p) + " out of range");
    out.push_back(x.getDimSize(p));
  }
  inferred.push_back(tensor(out, x.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// reorder
//===----------------------------------------------------------------------===//

NN_INFER(ReorderOp) {
  ReorderOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]);
  ActivationLayout from, to;
  if (!parseActivationLayout(a.getFrom(), from) || !parseActivationLayout(a.getTo(), to))
    return inferError(loc, "reorder: layouts are nchw, nhwc or nchw16c");
  int64_t spatial = spatialRank(x.getRank(), from);
  if (spatial < 0 || (from == ActivationLayout::NCHW16c && x.getShape().back() != 16))
    return inferError(loc, "reorder: " + Twine(shapeStr(x.getShape())) + " is not a " + a.getFrom() + " activation");
  int64_t c = channelCount(x.getShape(), from);
  if (to == ActivationLayout::NCHW16c && c % 16)
    return inferError(loc, "reorder: nchw16c needs channels in blocks of 16, got " + Twine(c));
  Shape sizes;
  for (int64_t i = 0; i < spatial; ++i)
    sizes.push_back(spatialDim(x.getShape(), from, i));
  inferred.push_back(tensor(activationShape(x.getDimSize(0), c, sizes, to), x.getElementType()));
  return success();
}

OpFoldResult ReorderOp::fold(ArrayRef<Attribute>) {
  if (getFrom() == getTo())
    return getX();
  // reorder(reorder(x, a -> b), b -> c) = reorder(x, a -> c)
  if (auto inner = getX().getDefiningOp<ReorderOp>()) {
    if (inner.getFrom() == getTo())
      return inner.getX();
    setFromAttr(inner.getFromAttr());
    getXMutable().assign(inner.getX());
    return getResult();
  }
  // An NCHW -> NHWC transpose read as nhwc is the NCHW tensor.
  if (auto t = getX().getDefiningOp<TransposeOp>()) {
    auto perm = toI64(t.getPerm());
    int64_t rank = (int64_t)perm.size();
    bool toLast = rank >= 3 && perm[0] == 0 && perm[rank - 1] == 1;
    for (int64_t d = 1; d + 1 < rank && toLast; ++d)
      toLast = perm[d] == d + 1;
    if (toLast && getFrom() == "nhwc") {
      setFromAttr(StringAttr::get(getContext(), "nchw"));
      getXMutable().assign(t.getX());
      return getResult();
    }
  }
  return {};
}

LogicalResult TransposeOp::verify() {
  auto perm = toI64(getPerm());
  SmallVector<int64_t> sorted(perm.begin(), perm.end());
  llvm::sort(sorted);
  for (size_t i = 0; i < sorted.size(); ++i)
    if (sorted[i] != (int64_t)i)
      return emitOpError("perm is not a permutation of [0, rank)");
  return success();
}

OpFoldResult TransposeOp::fold(ArrayRef<Attribute> operands) {
  auto perm = toI64(getPerm());
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity &= perm[i] == (int64_t)i;
  if (identity)
    return getX();
  // transpose(transpose(x, p1), p2) = transpose(x, p1 . p2)
  if (auto inner = getX().getDefiningOp<TransposeOp>()) {
    auto p1 = toI64(inner.getPerm());
    SmallVector<int64_t> composed;
    for (int64_t p : perm)
      composed.push_back(p1[p]);
    bool id = true;
    for (size_t i = 0; i < composed.size(); ++i)
      id &= composed[i] == (int64_t)i;
    if (id)
      return inner.getX();
    setPermAttr(Builder(getContext()).getI64ArrayAttr(composed));
    getXMutable().assign(inner.getX());
    return getResult();
  }
  auto v = readConst(operands[0]);
  if (!v)
    return {};
  auto type = getType().cast<RankedTensorType>();
  Shape outStrides = stridesOf(type.getShape()), inStrides = stridesOf(v->type.getShape());
  return foldGather(type, *v, [&](int64_t k) {
    int64_t j = 0;
    for (size_t d = 0; d < perm.size(); ++d)
      j += ((k / outStrides[d]) % type.getDimSize(d)) * inStrides[perm[d]];
    return j;
  });
}

//===----------------------------------------------------------------------===//
// expand
//===----------------------------------------------------------------------===//

NN_INFER(ExpandOp) {
  ExpandOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]);
  Shape out;
  if (!broadcastShapes(x.getShape(), toI64(a.getShape()), out))
    return inferError(loc, "expand: input shape does not broadcast to the requested shape");
  inferred.push_back(tensor(out, x.getElementType()));
  return success();
}

OpFoldResult ExpandOp::fold(ArrayRef<Attribute> operands) {
  if (getX().getType() == getType())
    return getX();
  auto v = readConst(operands[0]);
  if (!v)
    return {};
  auto type = getType().cast<RankedTensorType>();
  auto inShape = v->type.getShape();
  Shape outStrides = stridesOf(type.getShape()), inStrides = stridesOf(inShape);
  int64_t offset = type.getRank() - v->type.getRank();
  return foldGather(type, *v, [&](int64_t k) {
    int64_t j = 0;
    for (int64_t d = offset; d < type.getRank(); ++d)
      if (inShape[d - offset] != 1)
        j += ((k / outStrides[d]) % type.getDimSize(d)) * inStrides[d - offset];
    return j;
  });
}

//===----------------------------------------------------------------------===//
// tile
//===----------------------------------------------------------------------===//

NN_INFER(TileOp) {
  TileOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]);
  auto repeats = toI64(a.getRepeats());
  if ((int64_t)repeats.size() != x.getRank())
    return inferError(loc, "tile: repeats has " + Twine(repeats.size()) + " entries for rank " + Twine(x.getRank()));
  Shape out;
  for (int64_t i = 0; i < x.getRank(); ++i) {
    if (repeats[i] < 0)
      return inferError(loc, "tile: negative repeat");
    out.push_back(x.isDynamicDim(i) ? kDynamic : x.getDimSize(i) * repeats[i]);
  }
  inferred.push_back(tensor(out, x.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// concat
//===----------------------------------------------------------------------===//

NN_INFER(ConcatOp) {
  ConcatOp::Adaptor a(operands, attrs, regions);
  if (operands.empty())
    return inferError(loc, "concat needs at least one input");
  auto first = tensorOf(operands[0]);
  int64_t axis = a.getAxis();
  if (axis < 0 || axis >= first.getRank())
    return inferError(loc, "concat: axis " + Twine(axis) + " out of range for rank " + Twine(first.getRank()));
  Shape out(first.getShape().begin(), first.getShape().end());
  out[axis] = 0;
  for (Value v : operands) {
    auto t = tensorOf(v);
    if (t.getRank() != first.getRank())
      return inferError(loc, "concat: inputs have different ranks");
    if (out[axis] != kDynamic)
      out[axis] = t.isDynamicDim(axis) ? kDynamic : out[axis] + t.getDimSize(axis);
  }
  inferred.push_back(tensor(out, first.getElementType()));
  return success();
}

LogicalResult ConcatOp::verify() {
  auto first = tensorOf(getInputs()[0]);
  for (Value v : getInputs()) {
    auto t = tensorOf(v);
    if (t.getElementType() != first.getElementType())
      return emitOpError("inputs have different element types");
    for (int64_t d = 0; d < t.getRank(); ++d)
      if (d != (int64_t)getAxis() && t.getDimSize(d) != first.getDimSize(d) &&
          !t.isDynamicDim(d) && !first.isDynamicDim(d))
        return emitOpError("inputs differ in dimension ") << d << " (not the axis): " << first << " and " << t;
  }
  return success();
}

/// The x whose consecutive unit-step slices along `axis` (each whole along
/// the other dimensions) `inputs` are, covering it: concatenated, they are x
/// (null if they are not).
static Value concatenatedSlices(ValueRange inputs, int64_t axis, Type type) {
  Value x;
  int64_t next = 0;
  for (Value v : inputs) {
    auto s = v.getDefiningOp<SliceOp>();
    if (!s || (x && s.getX() != x))
      return Value();
    x = s.getX();
    auto shape = tensorOf(x).getShape();
    auto starts = toI64(s.getStarts()), steps = toI64(s.getSteps()), sizes = toI64(s.getSizes());
    for (size_t d = 0; d < shape.size(); ++d)
      if (steps[d] != 1 || starts[d] != (int64_t(d) == axis ? next : 0) ||
          (int64_t(d) != axis && sizes[d] != shape[d]))
        return Value();
    next += sizes[axis];
  }
  return x && x.getType() == type && tensorOf(x).getDimSize(axis) == next ? x : Value();
}

OpFoldResult ConcatOp::fold(ArrayRef<Attribute> operands) {
  if (getInputs().size() == 1)
    return getInputs()[0];
  // Slices of one tensor, put back together (the rows of a stacked
  // RNN's states, nn-stack-recurrent).
  if (Value x = concatenatedSlices(getInputs(), getAxis(), getType()))
    return x;
  SmallVector<ConstValues> parts;
  for (Attribute a : operands) {
    auto v = readConst(a);
    if (!v)
      return {};
    parts.push_back(*v);
  }
  auto type = getType().cast<RankedTensorType>();
  if (!type.hasStaticShape())
    return {};
  int64_t axis = getAxis();
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= type.getDimSize(d);
  ConstValues result;
  result.type = type;
  result.isFloat = parts[0].isFloat;
  for (int64_t o = 0; o < outer; ++o)
    for (auto &p : parts) {
      int64_t chunk = outer ? p.size() / outer : 0;
      for (int64_t k = o * chunk; k < (o + 1) * chunk; ++k) {
        if (result.isFloat)
          result.f.push_back(p.f[k]);
        else
          result.i.push_back(p.i[k]);
      }
    }
  return makeConst(type, result);
}

//===----------------------------------------------------------------------===//
// slice
//===----------------------------------------------------------------------===//

NN_INFER(SliceOp) {
  SliceOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]);
  auto sizes = toI64(a.getSizes());
  if ((int64_t)sizes.size() != x.getRank())
    return inferError(loc, "slice: sizes has " + Twine(sizes.size()) + " entries for rank " + Twine(x.getRank()));
  inferred.push_back(tensor(sizes, x.getElementType()));
  return success();
}

LogicalResult SliceOp::verify() {
  auto x = tensorOf(getX());
  auto starts = toI64(getStarts()), steps = toI64(getSteps()), sizes = toI64(getSizes());
  if ((int64_t)starts.size() != x.getRank() || (int64_t)steps.size() != x.getRank())
    return emitOpError("starts and steps need one entry per dimension");
  for (int64_t d = 0; d < x.getRank(); ++d) {
    if (steps[d] == 0)
      return emitOpError("step of dimension ") << d << " is 0";
    if (sizes[d] == 0 || x.isDynamicDim(d))
      continue;
    int64_t last = starts[d] + (sizes[d] - 1) * steps[d];
    if (starts[d] < 0 || starts[d] >= x.getDimSize(d) || last < 0 || last >= x.getDimSize(d))
      return emitOpError("dimension ") << d << " reads elements [" << starts[d] << ", " << last
                                       << "] outside [0, " << x.getDimSize(d) << ")";
  }
  return success();
}

OpFoldResult SliceOp::fold(ArrayRef<Attribute> operands) {
  if (getX().getType() == getType() && llvm::all_of(toI64(getSteps()), [](int64_t s) { return s == 1; }))
    return getX();
  auto v = readConst(operands[0]);
  if (!v)
    return {};
  auto type = getType().cast<RankedTensorType>();
  auto starts = toI64(getStarts()), steps = toI64(getSteps());
  Shape outStrides = stridesOf(type.getShape()), inStrides = stridesOf(v->type.getShape());
  return foldGather(type, *v, [&](int64_t k) {
    int64_t j = 0;
    for (int64_t d = 0; d < type.getRank(); ++d)
      j += (starts[d] + ((k / outStrides[d]) % type.getDimSize(d)) * steps[d]) * inStrides[d];
    return j;
  });
}

//===----------------------------------------------------------------------===//
// pad
//===----------------------------------------------------------------------===//

NN_INFER(PadOp) {
  PadOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]);
  auto pads = toI64(a.getPads());
  if ((int64_t)pads.size() != 2 * x.getRank())
    return inferError(loc, "pad: pads has " + Twine(pads.size()) + " entries for rank " + Twine(x.getRank()));
  Shape out;
  for (int64_t d = 0; d < x.getRank(); ++d) {
    if (x.isDynamicDim(d)) {
      out.push_back(kDynamic);
      continue;
    }
    int64_t n = x.getDimSize(d) + pads[d] + pads[d + x.getRank()];
    if (n < 0)
      return inferError(loc, "pad: negative pads remove more than dimension " + Twine(d) + " holds");
    out.push_back(n);
  }
  inferred.push_back(tensor(out, x.getElementType()));
  return success();
}

LogicalResult PadOp::verify() {
  StringRef mode = getMode();
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap")
    return emitOpError("unknown mode '") << mode << "' (expected constant, reflect, edge or wrap)";
  auto x = tensorOf(getX());
  auto pads = toI64(getPads());
  if (mode == "reflect")
    for (int64_t d = 0; d < x.getRank(); ++d)
      if ((pads[d] > 0 || pads[d + x.getRank()] > 0) && x.getDimSize(d) < 2)
        return emitOpError("reflect padding needs at least 2 elements in dimension ") << d;
  return success();
}

//===----------------------------------------------------------------------===//
// gather family
//===----------------------------------------------------------------------===//

NN_INFER(GatherOp) {
  GatherOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]), idx = tensorOf(operands[1]);
  int64_t axis = a.getAxis();
  if (axis < 0 || axis >= x.getRank())
    return inferError(loc, "gather: axis " + Twine(axis) + " out of range for rank " + Twine(x.getRank()));
  Shape out;
  for (int64_t d = 0; d < axis; ++d) out.push_back(x.getDimSize(d));
  for (int64_t d : idx.getShape()) out.push_back(d);
  for (int64_t d = axis + 1; d < x.getRank(); ++d) out.push_back(x.getDimSize(d));
  inferred.push_back(tensor(out, x.getElementType()));
  return success();
}

OpFoldResult GatherOp::fold(ArrayRef<Attribute> operands) {
  auto v = readConst(operands[0]), idx = readConst(operands[1]);
  if (!v || !idx)
    return {};
  auto type = getType().cast<RankedTensorType>();
  auto inShape = v->type.getShape();
  int64_t axis = getAxis();
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < (int64_t)inShape.size(); ++d)
    inner *= inShape[d];
  int64_t nIdx = idx->size(), dim = inShape[axis];
  return foldGather(type, *v, [&](int64_t k) -> int64_t {
    int64_t i = k % inner, rest = k / inner;
    int64_t which = rest % nIdx, o = rest / nIdx;
    int64_t index = idx->i[which];
    if (index < 0) index += dim;
    if (index < 0 || index >= dim)
      return -1;
    return (o * dim + index) * inner + i;
  });
}

NN_INFER(GatherElementsOp) {
  inferred.push_back(tensor(tensorOf(operands[1]).getShape(), tensorOf(operands[0]).getElementType()));
  return success();
}

LogicalResult GatherElementsOp::verify() {
  if (tensorOf(getX()).getRank() != tensorOf(getIndices()).getRank())
    return emitOpError("data and indices must have the same rank");
  if ((int64_t)getAxis() < 0 || (int64_t)getAxis() >= tensorOf(getX()).getRank())
    return emitOpError("axis out of range");
  return success();
}

NN_INFER(GatherNDOp) {
  GatherNDOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]), idx = tensorOf(operands[1]);
  int64_t b = a.getBatchDims();
  int64_t last = idx.getShape().back();
  if (last == kDynamic)
    return inferError(loc, "gather_nd: last dimension of indices must be known");
  if (b + last > x.getRank())
    return inferError(loc, "gather_nd: indices address more dimensions than data has");
  Shape out(idx.getShape().begin(), idx.getShape().end() - 1);
  for (int64_t d = b + last; d < x.getRank(); ++d)
    out.push_back(x.getDimSize(d));
  inferred.push_back(tensor(out, x.getElementType()));
  return success();
}

NN_INFER(ScatterElementsOp) {
  inferred.push_back(operands[0].getType());
  return success();
}

LogicalResult ScatterElementsOp::verify() {
  if (getIndices().getType().cast<ShapedType>().getShape() !=
      getUpdates().getType().cast<ShapedType>().getShape())
    return emitOpError("indices and updates must have the same shape");
  StringRef r = getReduction();
  if (r != "none" && r != "add" && r != "mul" && r != "max" && r != "min")
    return emitOpError("unknown reduction '") << r << "'";
  return success();
}

NN_INFER(ScatterNDOp) {
  inferred.push_back(operands[0].getType());
  return success();
}

NN_INFER(TriluOp) {
  inferred.push_back(operands[0].getType());
  return success();
}

NN_INFER(ReverseSequenceOp) {
  inferred.push_back(operands[0].getType());
  return success();
}

NN_INFER(TopKOp) {
  TopKOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]);
  int64_t axis = a.getAxis();
  if (axis < 0 || axis >= x.getRank())
    return inferError(loc, "topk: axis out of range");
  Shape out(x.getShape().begin(), x.getShape().end());
  int64_t k = a.getK();
  if (!x.isDynamicDim(axis) && (k < 0 || k > x.getDimSize(axis)))
    return inferError(loc, "topk: k = " + Twine(k) + " exceeds dimension " + Twine(x.getDimSize(axis)));
  out[axis] = k;
  inferred.push_back(tensor(out, x.getElementType()));
  inferred.push_back(tensor(out, IntegerType::get(ctx, 64)));
  return success();
}

NN_INFER(ResizeOp) {
  ResizeOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]);
  auto sizes = toI64(a.getSizes());
  if ((int64_t)sizes.size() != x.getRank())
    return inferError(loc, "resize: sizes needs one entry per dimension");
  inferred.push_back(tensor(sizes, x.getElementType()));
  return success();
}

NN_INFER(GridSampleOp) {
  auto x = tensorOf(operands[0]), grid = tensorOf(operands[1]);
  if (x.getRank() < 3 || grid.getRank() != x.getRank())
    return inferError(loc, "grid_sample: x is [N, C, D...] and grid [N, D_out..., r]");
  Shape out = {x.getDimSize(0), x.getDimSize(1)};
  for (int64_t d = 1; d + 1 < grid.getRank(); ++d)
    out.push_back(grid.getDimSize(d));
  inferred.push_back(tensor(out, x.getElementType()));
  return success();
}

NN_INFER(NonMaxSuppressionOp) {
  NonMaxSuppressionOp::Adaptor a(operands, attrs, regions);
  auto boxes = tensorOf(operands[0]), scores = tensorOf(operands[1]);
  if (boxes.getRank() != 3 || boxes.getDimSize(2) != 4 || scores.getRank() != 3 ||
      scores.getDimSize(0) != boxes.getDimSize(0) || scores.getDimSize(2) != boxes.getDimSize(1))
    return emitOptionalError(loc, "non_max_suppression takes boxes [B, N, 4] and scores [B, C, N]");
  if ((int64_t)a.getCapacity() < 0)
    return emitOptionalError(loc, "non_max_suppression's capacity is negative");
  Type i64 = IntegerType::get(ctx, 64);
  inferred.push_back(tensor({(int64_t)a.getCapacity(), 3}, i64));
  inferred.push_back(tensor({}, i64));
  return success();
}

NN_INFER(NonZeroOp) {
  auto x = tensorOf(operands[0]);
  if (x.getRank() < 1)
    return emitOptionalError(loc, "non_zero takes a tensor of rank 1 or more");
  Type i64 = IntegerType::get(ctx, 64);
  inferred.push_back(tensor({x.getRank(), x.getNumElements()}, i64));
  inferred.push_back(tensor({}, i64));
  return success();
}

NN_INFER(UniqueOp) {
  auto x = tensorOf(operands[0]);
  if (x.getRank() != 3)
    return emitOptionalError(loc, "unique takes x as [outer, n, inner]");
  Type i64 = IntegerType::get(ctx, 64);
  int64_t n = x.getDimSize(1);
  inferred.push_back(x);
  for (int k = 0; k < 3; ++k)
    inferred.push_back(tensor({n}, i64));
  inferred.push_back(tensor({}, i64));
  return success();
}

NN_INFER(PackPrefixOp) {
  PackPrefixOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]);
  int64_t dim = (int64_t)a.getDim();
  if (dim < 0 || dim >= x.getRank())
    return emitOptionalError(loc, "pack_prefix's dim is not a dimension of x");
  inferred.push_back(x);
  return success();
}

NN_INFER(GradientOp) {
  for (size_t k = 1; k < operands.size(); ++k)
    inferred.push_back(operands[k].getType());
  return success();
}

NN_INFER(TfIdfVectorizerOp) {
  TfIdfVectorizerOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]);
  if (x.getRank() != 1 && x.getRank() != 2)
    return emitOptionalError(loc, "tfidf_vectorizer takes tokens [C] or [N, C]");
  Shape shape;
  if (x.getRank() == 2)
    shape.push_back(x.getDimSize(0));
  shape.push_back((int64_t)a.getOutputSize());
  inferred.push_back(tensor(shape, Float32Type::get(ctx)));
  return success();
}

NN_INFER(MaxRoiPoolOp) {
  MaxRoiPoolOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]), rois = tensorOf(operands[1]);
  auto pooled = toI64(a.getPooledShape());
  if (x.getRank() != 4 || rois.getRank() != 2 || pooled.size() != 2 || pooled[0] < 1 || pooled[1] < 1)
    return emitOptionalError(loc, "max_roi_pool takes x [N, C, H, W], rois [num_rois, 5] and 2 positive pooled "
                                  "sizes");
  inferred.push_back(tensor({rois.getDimSize(0), x.getDimSize(1), pooled[0], pooled[1]}, x.getElementType()));
  return success();
}

LogicalResult MaxRoiPoolOp::verify() {
  auto rois = getRois().getType().cast<RankedTensorType>();
  if (rois.getRank() != 2 || rois.getDimSize(1) != 5)
    return emitOpError("rois must be [num_rois, 5] (batch index, x1, y1, x2, y2)");
  auto pooled = toI64(getPooledShape());
  if (pooled.size() != 2 || pooled[0] < 1 || pooled[1] < 1)
    return emitOpError("pooled_shape must be two positive sizes");
  Type et = getX().getType().cast<RankedTensorType>().getElementType();
  if (!et.isF32() && !et.isF64())
    return emitOpError("x must be f32 or f64 (the importer widens f16 and bf16)");
  if (getRois().getType().cast<RankedTensorType>().getElementType() != et)
    return emitOpError("rois must have the element type of x");
  return success();
}

NN_INFER(RoiAlignOp) {
  RoiAlignOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]), rois = tensorOf(operands[1]);
  inferred.push_back(tensor({rois.getDimSize(0), x.getDimSize(1), (int64_t)a.getOutputHeight(),
                             (int64_t)a.getOutputWidth()},
                            x.getElementType()));
  return success();
}

NN_INFER(MaxUnpoolOp) {
  MaxUnpoolOp::Adaptor a(operands, attrs, regions);
  inferred.push_back(tensor(toI64(a.getOutputShape()), tensorOf(operands[0]).getElementType()));
  return success();
}

NN_INFER(RandomUniformOp) {
  RandomUniformOp::Adaptor a(operands, attrs, regions);
  Type et = a.getElementType();
  if (!et.isF32() && !et.isF64())
    return emitOptionalError(loc, "random_uniform draws f32 or f64 values");
  auto shape = toI64(a.getShape());
  if (llvm::any_of(shape, [](int64_t d) { return d < 0; }))
    return emitOptionalError(loc, "random_uniform's shape has a negative size");
  inferred.push_back(tensor(shape, et));
  return success();
}

NN_INFER(RangeOp) {
  RangeOp::Adaptor a(operands, attrs, regions);
  inferred.push_back(tensor({(int64_t)a.getSize()}, a.getElementType()));
  return success();
}

OpFoldResult RangeOp::fold(ArrayRef<Attribute>) {
  auto type = getType().cast<RankedTensorType>();
  if (type.getNumElements() > kMaxFoldElements)
    return {};
  double start = getStart().convertToDouble(), delta = getDelta().convertToDouble();
  if (type.getElementType().isa<FloatType>()) {
    std::vector<double> v;
    for (int64_t i = 0; i < type.getNumElements(); ++i)
      v.push_back(start + i * delta);
    return makeConst(type, v);
  }
  std::vector<int64_t> v;
  for (int64_t i = 0; i < type.getNumElements(); ++i)
    v.push_back((int64_t)start + i * (int64_t)delta);
  return makeConst(type, v);
}

int64_t LoopOp::getScanRows() {
  int64_t rows = -1;
  size_t nc = getCarried().size();
  for (int64_t k = 0; k < (int64_t)getScanOutputs(); ++k) {
    int64_t r = getResult(nc + k).getType().cast<RankedTensorType>().getDimSize(0);
    rows = rows < 0 ? r : std::min(rows, r);
  }
  return rows;
}

int64_t LoopOp::capacityRows(int64_t rowBytes, int64_t rows, ArrayRef<int64_t> grown, size_t place) {
  if (place < grown.size() && grown[place] > 0)
    return grown[place];
  if (rows > 0)
    return rows;
  return std::clamp<int64_t>(kPlannedBytes / std::max<int64_t>(rowBytes, 1), 16, 4096);
}

LogicalResult LoopOp::verify() {
  auto scalar = [](Type t, unsigned width) {
    auto rt = t.dyn_cast<RankedTensorType>();
    return rt && rt.getRank() == 0 && rt.getElementType().isInteger(width);
  };
  if (!scalar(getMaxTrip().getType(), 64) || !scalar(getCond().getType(), 1))
    return emitOpError("max_trip must be tensor<i64> and cond tensor<i1>");
  Block &block = getBody().front();
  auto carried = getCarried();
  if (block.getNumArguments() != carried.size() + 2)
    return emitOpError("body takes ") << block.getNumArguments() << " arguments for " << carried.size()
                                      << " carried values (plus the iteration number and the condition)";
  if (!scalar(block.getArgument(0).getType(), 64) || !scalar(block.getArgument(1).getType(), 1))
    return emitOpError("body arguments 0 and 1 must be tensor<i64> (iteration) and tensor<i1> (condition)");
  int64_t scans = (int64_t)getScanOutputs();
  if (scans < 0)
    return emitOpError("scan_outputs must not be negative");
  size_t expected = carried.size() + (scans > 0 ? scans + 1 : 0);
  if (getResults().size() != expected)
    return emitOpError("has ") << getResults().size() << " results for " << carried.size() << " carried values and "
                               << scans << " scan outputs (and then the iteration count)";
  auto yield = block.empty() ? LoopYieldOp() : dyn_cast<LoopYieldOp>(block.back());
  if (!yield || yield.getValues().size() != carried.size() + 1 + scans)
    return emitOpError("body must end in nn.loop_yield of the condition, the carried values and the scan values");
  for (int64_t k = 0; k < scans; ++k) {
    auto value = yield.getValues()[1 + carried.size() + k].getType().dyn_cast<RankedTensorType>();
    auto result = getResults()[carried.size() + k].getType().dyn_cast<RankedTensorType>();
    if (!result || !value || !value.hasStaticShape() || !result.hasStaticShape() ||
        result.getRank() != value.getRank() + 1 ||
        result.getShape().drop_front() != value.getShape() || result.getElementType() != value.getElementType())
      return emitOpError("scan output ") << k << " must be [N, ...] of its yielded value's static type "
                                          << yield.getValues()[1 + carried.size() + k].getType();
  }
  if (scans > 0 && !scalar(getResults().back().getType(), 64))
    return emitOpError("the last result, the iteration count, must be tensor<i64>");
  if (!scalar(yield.getValues()[0].getType(), 1))
    return emitOpError("the body's condition must be tensor<i1>");
  for (size_t k = 0; k < carried.size(); ++k) {
    Type t = carried[k].getType();
    if (block.getArgument(k + 2).getType() != t || yield.getValues()[k + 1].getType() != t ||
        getResults()[k].getType() != t)
      return emitOpError("carried value ") << k << " must keep its type " << t
                                           << " (body argument, yielded value and result)";
  }
  return success();
}
