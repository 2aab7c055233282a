//===- ImportNN.cpp - ONNX conv, pooling, linear algebra, norms, RNNs -----===//
#include "frontend/onnx/NodeImporter.h"

#include <cmath>
#include <set>

using namespace mlir;
using namespace nncc;
using namespace nncc::onnximport;

namespace {

/// Resolves auto_pad (SAME_UPPER, SAME_LOWER, VALID, NOTSET) to explicit pads.
static FailureOr<SmallVector<int64_t>> windowPads(Node &n, ArrayRef<int64_t> inSpatial,
                                                  ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                                                  ArrayRef<int64_t> dilations) {
  int64_t sp = inSpatial.size();
  std::string autoPad = n.s("auto_pad", "NOTSET");
  SmallVector<int64_t> pads = SmallVector<int64_t>(n.ints("pads", SmallVector<int64_t>(2 * sp, 0)));
  if ((int64_t)pads.size() != 2 * sp)
    return (n.fail("pads needs " + Twine(2 * sp) + " entries"), failure());
  if (autoPad == "NOTSET" || autoPad.empty())
    return pads;
  if (autoPad == "VALID")
    return SmallVector<int64_t>(2 * sp, 0);
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    return (n.fail("unknown auto_pad '" + autoPad + "'"), failure());
  for (int64_t i = 0; i < sp; ++i) {
    int64_t out = (inSpatial[i] + strides[i] - 1) / strides[i];
    int64_t total = std::max<int64_t>(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - inSpatial[i]);
    int64_t small = total / 2, large = total - small;
    pads[i] = autoPad == "SAME_UPPER" ? small : large;
    pads[i + sp] = autoPad == "SAME_UPPER" ? large : small;
  }
  return pads;
}

LogicalResult importConv(Node &n) {
  auto xs = n.shape(0), ws = n.shape(1);
  int64_t sp = xs.size() - 2;
  if (sp < 1 || ws.size() != xs.size())
    return n.fail("x must be [N, C, D...] and w [M, C/group, K...] of the same rank");
  SmallVector<int64_t> kernel(ws.begin() + 2, ws.end());
  auto strides = n.ints("strides", SmallVector<int64_t>(sp, 1));
  auto dil = n.ints("dilations", SmallVector<int64_t>(sp, 1));
  auto pads = windowPads(n, xs.drop_front(2), kernel, strides, dil);
  if (failed(pads))
    return failure();
  Value b = n.has(2) ? n.in(2) : Value();
  n.out(0, n.create<nn::ConvOp>(n.in(0), n.in(1), b, Value(), n.i64s(strides), n.i64s(*pads), n.i64s(dil),
                                n.b.getI64IntegerAttr(n.i("group", 1)), n.b.getStringAttr("nchw"),
                                n.b.getStrArrayAttr({})));
  return success();
}

LogicalResult importConvTranspose(Node &n) {
  auto xs = n.shape(0), ws = n.shape(1);
  int64_t sp = xs.size() - 2;
  if (sp < 1 || ws.size() != xs.size())
    return n.fail("x must be [N, C, D...] and w [C, M/group, K...] of the same rank");
  SmallVector<int64_t> kernel(ws.begin() + 2, ws.end());
  auto strides = n.ints("strides", SmallVector<int64_t>(sp, 1));
  auto dil = n.ints("dilations", SmallVector<int64_t>(sp, 1));
  auto outPad = n.ints("output_padding", SmallVector<int64_t>(sp, 0));
  auto pads = n.ints("pads", SmallVector<int64_t>(2 * sp, 0));
  std::string autoPad = n.s("auto_pad", "NOTSET");
  auto outShape = n.ints("output_shape");
  if (outShape.size() > (size_t)sp)
    outShape.erase(outShape.begin(), outShape.begin() + (outShape.size() - sp));
  if (outShape.empty() && (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER"))
    for (int64_t i = 0; i < sp; ++i)
      outShape.push_back(xs[2 + i] * strides[i]);
  if (!outShape.empty()) {
    for (int64_t i = 0; i < sp; ++i) {
      int64_t total = strides[i] * (xs[2 + i] - 1) + outPad[i] + (kernel[i] - 1) * dil[i] + 1 - outShape[i];
      int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2); // floor division
      if (autoPad == "SAME_UPPER") {
        pads[i] = half;
        pads[i + sp] = total - half;
      } else {
        pads[i] = total - half;
        pads[i + sp] = half;
      }
    }
  } else if (autoPad == "VALID") {
    pads.assign(2 * sp, 0);
  }
  Value b = n.has(2) ? n.in(2) : Value();
  n.out(0, n.create<nn::ConvTransposeOp>(n.in(0), n.in(1), b, n.i64s(strides), n.i64s(pads), n.i64s(dil),
                                         n.i64s(outPad), n.b.getI64IntegerAttr(n.i("group", 1))));
  return success();
}

struct PoolAttrs {
  SmallVector<int64_t> kernel, strides, pads, dilations;
  bool ceil;
};

static FailureOr<PoolAttrs> poolAttrs(Node &n) {
  auto xs = n.shape(0);
  int64_t sp = xs.size() - 2;
  PoolAttrs p;
  p.kernel = SmallVector<int64_t>(n.ints("kernel_shape"));
  if ((int64_t)p.kernel.size() != sp)
    return (n.fail("kernel_shape needs " + Twine(sp) + " entries"), failure());
  p.strides = SmallVector<int64_t>(n.ints("strides", SmallVector<int64_t>(sp, 1)));
  p.dilations = SmallVector<int64_t>(n.ints("dilations", SmallVector<int64_t>(sp, 1)));
  auto pads = windowPads(n, xs.drop_front(2), p.kernel, p.strides, p.dilations);
  if (failed(pads))
    return failure();
  p.pads = *pads;
  p.ceil = n.i("ceil_mode", 0) != 0;
  return p;
}

LogicalResult importMaxPool(Node &n) {
  auto p = poolAttrs(n);
  if (failed(p))
    return failure();
  if (n.wantsOutput(1)) {
    Operation *op = n.build<nn::MaxPoolWithIndicesOp>(
        n.in(0), n.i64s(p->kernel), n.i64s(p->strides), n.i64s(p->pads), n.i64s(p->dilations),
        n.b.getBoolAttr(p->ceil), n.b.getI64IntegerAttr(n.i("storage_order", 0)));
    if (!op)
      return failure();
    n.out(0, op->getResult(0));
    n.out(1, op->getResult(1));
    return success();
  }
  n.out(0, n.create<nn::MaxPoolOp>(n.in(0), n.i64s(p->kernel), n.i64s(p->strides), n.i64s(p->pads),
                                   n.i64s(p->dilations), n.b.getBoolAttr(p->ceil), n.b.getBoolAttr(false)));
  return success();
}

LogicalResult importAveragePool(Node &n) {
  auto p = poolAttrs(n);
  if (failed(p))
    return failure();
  n.out(0, n.create<nn::AvgPoolOp>(n.in(0), n.i64s(p->kernel), n.i64s(p->strides), n.i64s(p->pads),
                                   n.i64s(p->dilations), n.b.getBoolAttr(p->ceil), n.b.getBoolAttr(false),
                                   n.b.getBoolAttr(n.i("count_include_pad", 0) != 0)));
  return success();
}

LogicalResult importLpPool(Node &n) {
  auto p = poolAttrs(n);
  if (failed(p))
    return failure();
  n.out(0, n.create<nn::LpPoolOp>(n.in(0), n.i64s(p->kernel), n.i64s(p->strides), n.i64s(p->pads),
                                  n.i64s(p->dilations), n.b.getBoolAttr(p->ceil), n.b.getBoolAttr(false),
                                  n.b.getI64IntegerAttr(n.i("p", 2))));
  return success();
}

static SmallVector<int64_t> spatialAxes(Node &n) {
  SmallVector<int64_t> axes;
  for (int64_t d = 2; d < n.rank(0); ++d)
    axes.push_back(d);
  return axes;
}

LogicalResult importGlobalAveragePool(Node &n) {
  n.out(0, n.create<nn::ReduceMeanOp>(n.in(0), n.i64s(spatialAxes(n)), n.b.getBoolAttr(true)));
  return success();
}

LogicalResult importGlobalMaxPool(Node &n) {
  n.out(0, n.create<nn::ReduceMaxOp>(n.in(0), n.i64s(spatialAxes(n)), n.b.getBoolAttr(true)));
  return success();
}

LogicalResult importGlobalLpPool(Node &n) {
  double p = n.i("p", 2);
  Type et = n.elt(0);
  Value a = n.create<nn::PowOp>(n.create<nn::AbsOp>(n.in(0)), n.scalar(p, et));
  Value s = n.create<nn::ReduceSumOp>(a, n.i64s(spatialAxes(n)), n.b.getBoolAttr(true));
  n.out(0, n.create<nn::PowOp>(s, n.scalar(1.0 / p, et)));
  return success();
}

/// LpNormalization: x / ||x||_p along `axis` (p 1 or 2).
LogicalResult importLpNormalization(Node &n) {
  int64_t p = n.i("p", 2);
  if (p != 1 && p != 2)
    return n.fail("p must be 1 or 2, not " + Twine(p));
  int64_t axis = nn::normalizeAxis(n.i("axis", -1), n.rank(0));
  if (axis < 0)
    return n.fail("axis out of range");
  Value x = n.in(0);
  Value norm = p == 1 ? n.create<nn::ReduceSumOp>(n.create<nn::AbsOp>(x), n.i64s({axis}), n.b.getBoolAttr(true))
                      : n.create<nn::SqrtOp>(n.create<nn::ReduceSumOp>(n.create<nn::MulOp>(x, x), n.i64s({axis}),
                                                                       n.b.getBoolAttr(true)));
  // A zero vector stays zero (as ONNX Runtime), not 0 / 0.
  Value zero = n.scalar(0, n.elt(0));
  n.out(0, n.create<nn::SelectOp>(n.create<nn::EqualOp>(norm, zero), zero, n.create<nn::DivOp>(x, norm)));
  return success();
}

LogicalResult importGemm(Node &n) {
  Value c = n.has(2) ? n.in(2) : Value();
  n.out(0, n.create<nn::GemmOp>(n.in(0), n.in(1), c, n.f32(n.f("alpha", 1.0)), n.f32(n.f("beta", 1.0)),
                                n.b.getBoolAttr(n.i("transA", 0) != 0), n.b.getBoolAttr(n.i("transB", 0) != 0),
                                n.b.getStrArrayAttr({})));
  return success();
}

LogicalResult importMatMul(Node &n) {
  n.out(0, n.create<nn::MatMulOp>(n.in(0), n.in(1), Value(), n.b.getStrArrayAttr({})));
  return success();
}

/// x - zero_point in int32 (zero point per row of A / per column of B or scalar).
static Value minusZeroPoint(Node &n, Value x, int zpIndex, bool isA) {
  Type i32 = n.b.getI32Type();
  Value v = n.cast(x, i32);
  if (!n.has(zpIndex))
    return v;
  Value zp = n.cast(n.in(zpIndex), i32);
  auto zs = zp.getType().cast<RankedTensorType>();
  if (isA && zs.getRank() == 1 && zs.getDimSize(0) != 1)
    zp = n.reshape(zp, {zs.getDimSize(0), 1});
  return n.create<nn::SubOp>(v, zp);
}

LogicalResult importMatMulInteger(Node &n) {
  Value a = minusZeroPoint(n, n.in(0), 2, true), b = minusZeroPoint(n, n.in(1), 3, false);
  n.out(0, n.create<nn::MatMulOp>(a, b, Value(), n.b.getStrArrayAttr({})));
  return success();
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

/// Reshapes a per-channel vector [C] to broadcast along dimension 1 of rank r.
static Value perChannel(Node &n, Value v, int64_t rank) {
  auto s = v.getType().cast<RankedTensorType>();
  Shape shape(rank - 1, 1);
  shape[0] = s.getNumElements();
  return n.reshape(v, shape);
}

LogicalResult importBatchNorm(Node &n) {
  if (n.opset < 7 && n.hasAttr("spatial") && n.i("spatial", 1) == 0)
    return n.fail("spatial=0 is not supported");
  double eps = n.f("epsilon", 1e-5);
  bool training = n.opset >= 14 && n.i("training_mode", 0) != 0;
  if (!training) {
    n.out(0, n.create<nn::BatchNormOp>(n.in(0), n.in(1), n.in(2), n.in(3), n.in(4), n.f32(eps)));
    return success();
  }
  // Training mode: normalize with the batch statistics, update running ones.
  int64_t rank = n.rank(0);
  Type et = n.elt(0);
  SmallVector<int64_t> axes = {0};
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  Value x = n.in(0);
  Value mean = n.create<nn::ReduceMeanOp>(x, n.i64s(axes), n.b.getBoolAttr(true));
  Value centered = n.create<nn::SubOp>(x, mean);
  Value var = n.create<nn::ReduceMeanOp>(n.create<nn::MulOp>(centered, centered), n.i64s(axes),
                                         n.b.getBoolAttr(true));
  Value inv = n.create<nn::ReciprocalOp>(n.create<nn::SqrtOp>(n.create<nn::AddOp>(var, n.scalar(eps, et))));
  Value y = n.create<nn::MulOp>(centered, inv);
  y = n.create<nn::MulOp>(y, perChannel(n, n.in(1), rank));
  y = n.create<nn::AddOp>(y, perChannel(n, n.in(2), rank));
  n.out(0, y);
  double momentum = n.f("momentum", 0.9);
  int64_t c = n.shape(0)[1];
  Value m1 = n.reshape(mean, {c}), v1 = n.reshape(var, {c});
  Value mom = n.scalar(momentum, et), rest = n.scalar(1 - momentum, et);
  n.out(1, n.create<nn::AddOp>(n.create<nn::MulOp>(n.in(3), mom), n.create<nn::MulOp>(m1, rest)));
  n.out(2, n.create<nn::AddOp>(n.create<nn::MulOp>(n.in(4), mom), n.create<nn::MulOp>(v1, rest)));
  return success();
}

LogicalResult importInstanceNorm(Node &n) {
  n.out(0, n.create<nn::InstanceNormOp>(n.in(0), n.in(1), n.in(2), n.f32(n.f("epsilon", 1e-5))));
  return success();
}

LogicalResult importLayerNorm(Node &n) {
  int64_t axis = nn::normalizeAxis(n.i("axis", -1), n.rank(0));
  if (axis < 0)
    return n.fail("axis out of range");
  Value b = n.has(2) ? n.in(2) : Value();
  Operation *op = n.build<nn::LayerNormOp>(n.in(0), n.in(1), b, n.b.getI64IntegerAttr(axis),
                                           n.f32(n.f("epsilon", 1e-5)));
  if (!op)
    return failure();
  for (int k = 0; k < 3; ++k)
    n.out(k, op->getResult(k));
  return success();
}

LogicalResult importLRN(Node &n) {
  n.out(0, n.create<nn::LRNOp>(n.in(0), n.b.getI64IntegerAttr(n.i("size", 1)), n.f32(n.f("alpha", 1e-4)),
                               n.f32(n.f("beta", 0.75)), n.f32(n.f("bias", 1.0))));
  return success();
}

LogicalResult importMVN(Node &n) {
  SmallVector<int64_t> axes;
  if (!normalizeAxes(n.ints("axes", {0, 2, 3}), n.rank(0), axes))
    return n.fail("axes out of range");
  Type et = n.elt(0);
  Value x = n.in(0);
  Value mean = n.create<nn::ReduceMeanOp>(x, n.i64s(axes), n.b.getBoolAttr(true));
  Value meanSq = n.create<nn::ReduceMeanOp>(n.create<nn::MulOp>(x, x), n.i64s(axes), n.b.getBoolAttr(true));
  Value var = n.create<nn::SubOp>(meanSq, n.create<nn::MulOp>(mean, mean));
  Value sd = n.create<nn::SqrtOp>(n.create<nn::AddOp>(var, n.scalar(1e-9, et)));
  n.out(0, n.create<nn::DivOp>(n.create<nn::SubOp>(x, mean), sd));
  return success();
}

/// Softmax-like ops before opset 13 flatten x to 2-D at `axis`.
template <typename OpT> LogicalResult importSoftmaxLike(Node &n) {
  int64_t rank = n.rank(0);
  int64_t axis = nn::normalizeAxis(n.i("axis", n.opset < 13 ? 1 : -1), rank);
  if (axis < 0 && rank > 0)
    return n.fail("axis out of range");
  if (rank == 0) {
    n.out(0, n.create<OpT>(n.in(0), n.b.getI64IntegerAttr(0)));
    return success();
  }
  if (n.opset >= 13 || axis == rank - 1) {
    n.out(0, n.create<OpT>(n.in(0), n.b.getI64IntegerAttr(axis)));
    return success();
  }
  auto shape = n.shape(0);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < axis ? outer : inner) *= shape[d];
  Value flat = n.reshape(n.in(0), {outer, inner});
  Value y = n.create<OpT>(flat, n.b.getI64IntegerAttr(1));
  n.out(0, n.reshape(y, shape));
  return success();
}

LogicalResult importHardmax(Node &n) {
  int64_t rank = n.rank(0);
  int64_t axis = nn::normalizeAxis(n.i("axis", n.opset < 13 ? 1 : -1), rank);
  if (axis < 0)
    return n.fail("axis out of range");
  auto shape = n.shape(0);
  Value x = n.in(0);
  Shape work(shape.begin(), shape.end());
  if (n.opset < 13) {
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d)
      (d < axis ? outer : inner) *= shape[d];
    work = {outer, inner};
    x = n.reshape(x, work);
    axis = 1;
  }
  Value arg = n.create<nn::ArgMaxOp>(x, n.b.getI64IntegerAttr(axis), n.b.getBoolAttr(true), n.b.getBoolAttr(false));
  std::vector<int64_t> iota(work[axis]);
  for (int64_t k = 0; k < work[axis]; ++k)
    iota[k] = k;
  Shape ishape(work.size(), 1);
  ishape[axis] = work[axis];
  Value hit = n.create<nn::EqualOp>(n.constI64(iota, ishape), arg);
  n.out(0, n.reshape(n.cast(hit, n.elt(0)), shape));
  return success();
}

//===----------------------------------------------------------------------===//
// Recurrent layers
//===----------------------------------------------------------------------===//

template <typename OpT> LogicalResult importRecurrent(Node &n, int gates, ArrayRef<StringRef> defaults) {
  int64_t layout = n.i("layout", 0);
  std::string direction = n.s("direction", "forward");
  int64_t dirs = direction == "bidirectional" ? 2 : 1;
  auto rs = n.shape(2);
  int64_t hidden = n.i("hidden_size", rs.size() == 3 ? rs[2] : 0);
  SmallVector<Attribute> acts;
  auto given = n.strings("activations");
  for (int64_t d = 0; d < dirs; ++d)
    for (size_t k = 0; k < defaults.size(); ++k) {
      size_t idx = d * defaults.size() + k;
      std::string a = idx < given.size() ? given[idx] : (k < given.size() ? given[k] : defaults[k].str());
      acts.push_back(n.b.getStringAttr(a));
    }
  auto alphas = n.floats("activation_alpha"), betas = n.floats("activation_beta");
  Value x = n.in(0);
  Value h0 = n.has(5) ? n.in(5) : Value();
  Value c0 = (gates == 4 && n.has(6)) ? n.in(6) : Value();
  if (layout == 1) {
    x = n.transpose(x, {1, 0, 2});
    if (h0) h0 = n.transpose(h0, {1, 0, 2});
    if (c0) c0 = n.transpose(c0, {1, 0, 2});
  }
  Value b = n.has(3) ? n.in(3) : Value();
  Value lens = n.has(4) ? n.in(4) : Value();
  FloatAttr clip = n.hasAttr("clip") ? n.f32(n.f("clip", 0)) : FloatAttr();
  Operation *op;
  if constexpr (std::is_same<OpT, nn::LSTMOp>::value) {
    Value p = n.has(7) ? n.in(7) : Value();
    op = n.build<nn::LSTMOp>(x, n.in(1), n.in(2), b, lens, h0, c0, p, n.b.getI64IntegerAttr(hidden),
                             n.b.getStringAttr(direction), n.b.getArrayAttr(acts), nn::f32Array(n.b, alphas),
                             nn::f32Array(n.b, betas), clip, n.b.getBoolAttr(n.i("input_forget", 0) != 0));
  } else if constexpr (std::is_same<OpT, nn::GRUOp>::value) {
    op = n.build<nn::GRUOp>(x, n.in(1), n.in(2), b, lens, h0, n.b.getI64IntegerAttr(hidden),
                            n.b.getStringAttr(direction), n.b.getArrayAttr(acts), nn::f32Array(n.b, alphas),
                            nn::f32Array(n.b, betas), clip, n.b.getBoolAttr(n.i("linear_before_reset", 0) != 0));
  } else {
    op = n.build<nn::RNNOp>(x, n.in(1), n.in(2), b, lens, h0, n.b.getI64IntegerAttr(hidden),
                            n.b.getStringAttr(direction), n.b.getArrayAttr(acts), nn::f32Array(n.b, alphas),
                            nn::f32Array(n.b, betas), clip);
  }
  if (!op)
    return failure();
  for (unsigned k = 0; k < op->getNumResults(); ++k) {
    Value r = op->getResult(k);
    if (layout == 1)
      r = k == 0 ? n.transpose(r, {2, 0, 1, 3}) : n.transpose(r, {1, 0, 2});
    n.out(k, r);
  }
  return success();
}

LogicalResult importLSTM(Node &n) { return importRecurrent<nn::LSTMOp>(n, 4, {"Sigmoid", "Tanh", "Tanh"}); }
LogicalResult importGRU(Node &n) { return importRecurrent<nn::GRUOp>(n, 3, {"Sigmoid", "Tanh"}); }
LogicalResult importRNN(Node &n) { return importRecurrent<nn::RNNOp>(n, 1, {"Tanh"}); }

//===----------------------------------------------------------------------===//
// Einsum, Det
//===----------------------------------------------------------------------===//

LogicalResult importEinsum(Node &n) {
  std::string eq;
  for (char c : n.s("equation", ""))
    if (c != ' ')
      eq += c;
  std::string lhs = eq, rhs;
  bool explicitOut = false;
  if (auto p = eq.find("->"); p != std::string::npos) {
    lhs = eq.substr(0, p);
    rhs = eq.substr(p + 2);
    explicitOut = true;
  }
  SmallVector<std::string> terms;
  size_t start = 0;
  for (size_t k = 0; k <= lhs.size(); ++k)
    if (k == lhs.size() || lhs[k] == ',') {
      terms.push_back(lhs.substr(start, k - start));
      start = k + 1;
    }
  if ((int)terms.size() != n.numInputs())
    return n.fail("equation names " + Twine(terms.size()) + " operands for " + Twine(n.numInputs()) + " inputs");
  // Letters for the ellipsis dimensions, right-aligned across operands.
  std::set<char> used(eq.begin(), eq.end());
  std::string ell;
  int64_t maxEll = 0;
  for (size_t i = 0; i < terms.size(); ++i)
    if (terms[i].find("...") != std::string::npos)
      maxEll = std::max<int64_t>(maxEll, n.rank(i) - (int64_t)(terms[i].size() - 3));
  for (char c = 'A'; (int64_t)ell.size() < maxEll && c <= 'Z'; ++c)
    if (!used.count(c))
      ell += c;
  for (size_t i = 0; i < terms.size(); ++i) {
    auto p = terms[i].find("...");
    if (p == std::string::npos)
      continue;
    int64_t k = n.rank(i) - (int64_t)(terms[i].size() - 3);
    terms[i] = terms[i].substr(0, p) + ell.substr(ell.size() - k) + terms[i].substr(p + 3);
  }
  if (explicitOut) {
    auto p = rhs.find("...");
    if (p != std::string::npos)
      rhs = rhs.substr(0, p) + ell + rhs.substr(p + 3);
  } else {
    std::map<char, int> count;
    for (auto &t : terms)
      for (char c : t)
        count[c]++;
    rhs = ell;
    for (auto &kv : count)
      if (kv.second == 1 && ell.find(kv.first) == std::string::npos)
        rhs += kv.first;
  }
  std::string full;
  for (size_t i = 0; i < terms.size(); ++i)
    full += (i ? "," : "") + terms[i];
  full += "->" + rhs;
  SmallVector<Value> ins;
  for (int k = 0; k < n.numInputs(); ++k)
    ins.push_back(n.in(k));
  n.out(0, n.create<nn::EinsumOp>(ins, n.b.getStringAttr(full)));
  return success();
}

LogicalResult importDet(Node &n) {
  n.out(0, n.create<nn::DetOp>(n.in(0)));
  return success();
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

/// Broadcasts a per-axis parameter (1-D, one value per slice of `axis`).
static Value perAxis(Node &n, Value p, int64_t rank, int64_t axis) {
  auto s = p.getType().cast<RankedTensorType>();
  if (s.getRank() != 1 || rank == 0)
    return p;
  Shape shape(rank - axis, 1);
  shape[0] = s.getDimSize(0);
  return n.reshape(p, shape);
}

static std::pair<double, double> intRange(Type t) {
  unsigned w = t.getIntOrFloatBitWidth();
  if (t.isUnsignedInteger())
    return {0.0, std::pow(2.0, w) - 1};
  return {-std::pow(2.0, w - 1), std::pow(2.0, w - 1) - 1};
}

/// saturate(round_half_even(v) + zp) cast to `qt`.
static Value quantize(Node &n, Value v, Value zp, Type qt) {
  Type ft = v.getType().cast<RankedTensorType>().getElementType();
  v = n.create<nn::RoundOp>(v);
  if (zp)
    v = n.create<nn::AddOp>(v, n.cast(zp, ft));
  auto range = intRange(qt);
  v = n.create<nn::MaxOp>(v, n.scalar(range.first, ft));
  v = n.create<nn::MinOp>(v, n.scalar(range.second, ft));
  return n.cast(v, qt);
}

LogicalResult importQuantizeLinear(Node &n) {
  int64_t rank = n.rank(0);
  int64_t axis = nn::normalizeAxis(n.i("axis", 1), std::max<int64_t>(rank, 1));
  Type ft = n.elt(0);
  Value scale = perAxis(n, n.cast(n.in(1), ft), rank, axis);
  Value zp = n.has(2) ? perAxis(n, n.in(2), rank, axis) : Value();
  Type qt = n.has(2) ? n.elt(2) : n.b.getIntegerType(8, false);
  n.out(0, quantize(n, n.create<nn::DivOp>(n.in(0), scale), zp, qt));
  return success();
}

LogicalResult importDequantizeLinear(Node &n) {
  int64_t rank = n.rank(0);
  int64_t axis = nn::normalizeAxis(n.i("axis", 1), std::max<int64_t>(rank, 1));
  Type ft = n.elt(1);
  Value x = n.cast(n.in(0), ft);
  if (n.has(2))
    x = n.create<nn::SubOp>(x, perAxis(n, n.cast(n.in(2), ft), rank, axis));
  n.out(0, n.create<nn::MulOp>(x, perAxis(n, n.in(1), rank, axis)));
  return success();
}

LogicalResult importDynamicQuantizeLinear(Node &n) {
  Type ft = n.elt(0);
  Value x = n.in(0);
  SmallVector<int64_t> all;
  Value mx = n.create<nn::MaxOp>(n.create<nn::ReduceMaxOp>(x, n.i64s(all), n.b.getBoolAttr(false)), n.scalar(0, ft));
  Value mn = n.create<nn::MinOp>(n.create<nn::ReduceMinOp>(x, n.i64s(all), n.b.getBoolAttr(false)), n.scalar(0, ft));
  Value scale = n.create<nn::DivOp>(n.create<nn::SubOp>(mx, mn), n.scalar(255, ft));
  Type u8 = n.b.getIntegerType(8, false);
  Value zpf = n.create<nn::SubOp>(n.scalar(0, ft), n.create<nn::DivOp>(mn, scale));
  Value zp = quantize(n, zpf, Value(), u8);
  n.out(0, quantize(n, n.create<nn::DivOp>(x, scale), zp, u8));
  n.out(1, scale);
  n.out(2, zp);
  return success();
}

LogicalResult importQLinearMatMul(Node &n) {
  // a: 0, a_scale: 1, a_zp: 2, b: 3, b_scale: 4, b_zp: 5, y_scale: 6, y_zp: 7
  Type f64 = n.b.getF64Type();
  Value a = n.cast(n.in(0), f64), b = n.cast(n.in(3), f64);
  auto as = n.shape(2);
  Value azp = n.cast(n.in(2), f64), bzp = n.cast(n.in(5), f64);
  if (as.size() == 1 && as[0] != 1)
    azp = n.reshape(azp, {as[0], 1});
  Value acc = n.create<nn::MatMulOp>(n.create<nn::SubOp>(a, azp), n.create<nn::SubOp>(b, bzp), Value(),
                                       n.b.getStrArrayAttr({}));
  auto sa = n.shape(1);
  Value ascale = n.cast(n.in(1), f64);
  if (sa.size() == 1 && sa[0] != 1)
    ascale = n.reshape(ascale, {sa[0], 1});
  Value scale = n.create<nn::DivOp>(n.create<nn::MulOp>(ascale, n.cast(n.in(4), f64)), n.cast(n.in(6), f64));
  n.out(0, quantize(n, n.create<nn::MulOp>(acc, scale), n.in(7), n.elt(7)));
  return success();
}

static Value integerConv(Node &n, Value x, Value xzp, Value w, Value wzp, Type ft) {
  x = n.cast(x, ft);
  if (xzp)
    x = n.create<nn::SubOp>(x, n.cast(xzp, ft));
  w = n.cast(w, ft);
  if (wzp) {
    Value z = n.cast(wzp, ft);
    auto zs = z.getType().cast<RankedTensorType>();
    int64_t rank = w.getType().cast<RankedTensorType>().getRank();
    if (zs.getRank() == 1 && zs.getDimSize(0) != 1) {
      Shape shape(rank, 1);
      shape[0] = zs.getDimSize(0);
      z = n.reshape(z, shape);
    }
    w = n.create<nn::SubOp>(w, z);
  }
  auto xs = x.getType().cast<RankedTensorType>().getShape();
  auto ws = w.getType().cast<RankedTensorType>().getShape();
  int64_t sp = xs.size() - 2;
  SmallVector<int64_t> kernel(ws.begin() + 2, ws.end());
  auto strides = n.ints("strides", SmallVector<int64_t>(sp, 1));
  auto dil = n.ints("dilations", SmallVector<int64_t>(sp, 1));
  auto pads = windowPads(n, xs.drop_front(2), kernel, strides, dil);
  if (failed(pads))
    return {};
  return n.create<nn::ConvOp>(x, w, Value(), Value(), n.i64s(strides), n.i64s(*pads), n.i64s(dil),
                              n.b.getI64IntegerAttr(n.i("group", 1)), n.b.getStringAttr("nchw"),
                              n.b.getStrArrayAttr({}));
}

LogicalResult importConvInteger(Node &n) {
  Value y = integerConv(n, n.in(0), n.has(2) ? n.in(2) : Value(), n.in(1), n.has(3) ? n.in(3) : Value(),
                        n.b.getF64Type());
  n.out(0, n.cast(y, n.b.getI32Type()));
  return success();
}

LogicalResult importQLinearConv(Node &n) {
  // x: 0, x_scale: 1, x_zp: 2, w: 3, w_scale: 4, w_zp: 5, y_scale: 6, y_zp: 7, B: 8
  Type f64 = n.b.getF64Type();
  Value acc = integerConv(n, n.in(0), n.in(2), n.in(3), n.in(5), f64);
  if (!acc)
    return failure();
  int64_t rank = n.rank(0);
  if (n.has(8))
    acc = n.create<nn::AddOp>(acc, perChannel(n, n.cast(n.in(8), f64), rank));
  Value wscale = n.cast(n.in(4), f64);
  if (n.shape(4).size() == 1 && n.shape(4)[0] != 1)
    wscale = perChannel(n, wscale, rank);
  Value scale = n.create<nn::DivOp>(n.create<nn::MulOp>(n.cast(n.in(1), f64), wscale), n.cast(n.in(6), f64));
  n.out(0, quantize(n, n.create<nn::MulOp>(acc, scale), n.in(7), n.elt(7)));
  return success();
}

} // namespace

void nncc::onnximport::registerNNHandlers(HandlerMap &m) {
  m["Conv"] = importConv;
  m["ConvTranspose"] = importConvTranspose;
  m["MaxPool"] = importMaxPool;
  m["AveragePool"] = importAveragePool;
  m["LpPool"] = importLpPool;
  m["GlobalAveragePool"] = importGlobalAveragePool;
  m["GlobalMaxPool"] = importGlobalMaxPool;
  m["GlobalLpPool"] = importGlobalLpPool;
  m["LpNormalization"] = importLpNormalization;
  m["Gemm"] = importGemm;
  m["MatMul"] = importMatMul;
  m["MatMulInteger"] = importMatMulInteger;
  m["BatchNormalization"] = importBatchNorm;
  m["InstanceNormalization"] = importInstanceNorm;
  m["LayerNormalization"] = importLayerNorm;
  m["LRN"] = importLRN;
  m["MeanVarianceNormalization"] = importMVN;
  m["Softmax"] = importSoftmaxLike<nn::SoftmaxOp>;
  m["LogSoftmax"] = importSoftmaxLike<nn::LogSoftmaxOp>;
  m["Hardmax"] = importHardmax;
  m["LSTM"] = importLSTM;
  m["GRU"] = importGRU;
  m["RNN"] = importRNN;
  m["Einsum"] = importEinsum;
  m["Det"] = importDet;
  m["QuantizeLinear"] = importQuantizeLinear;
  m["DequantizeLinear"] = importDequantizeLinear;
  m["DynamicQuantizeLinear"] = importDynamicQuantizeLinear;
  m["QLinearMatMul"] = importQLinearMatMul;
  m["ConvInteger"] = importConvInteger;
  m["QLinearConv"] = importQLinearConv;
}
