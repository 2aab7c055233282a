//===- LayerOps.cpp - reductions, linear algebra, conv, norm, RNN ---------===//
#include "ir/OpsCommon.h"
#include "ir/RecurrentActivations.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace nncc::nn;

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

static LogicalResult inferReduce(Optional<Location> loc, RankedTensorType x, ArrayAttr axesAttr,
                                 bool keepdims, Type element, SmallVectorImpl<Type> &inferred) {
  auto axes = toI64(axesAttr);
  llvm::SmallBitVector reduced(x.getRank(), axes.empty());
  for (int64_t a : axes) {
    if (a < 0 || a >= x.getRank())
      return inferError(loc, "reduction axis " + Twine(a) + " out of range for rank " + Twine(x.getRank()));
    reduced.set(a);
  }
  Shape out;
  for (int64_t d = 0; d < x.getRank(); ++d) {
    if (!reduced[d])
      out.push_back(x.getDimSize(d));
    else if (keepdims)
      out.push_back(1);
  }
  inferred.push_back(tensor(out, element ? element : x.getElementType()));
  return success();
}

#define NN_REDUCE(OP)                                                                   \
  NN_INFER(OP) {                                                                        \
    OP::Adaptor a(operands, attrs, regions);                                            \
    return inferReduce(loc, tensorOf(operands[0]), a.getAxes(), a.getKeepdims(), Type(), \
                       inferred);                                                       \
  }                                                                                     \
  LogicalResult OP::verify() {                                                          \
    auto axes = toI64(getAxes());                                                       \
    for (size_t i = 1; i < axes.size(); ++i)                                            \
      if (axes[i] <= axes[i - 1])                                                       \
        return emitOpError("axes must be sorted and unique");                           \
    return success();                                                                   \
  }
NN_REDUCE(ReduceSumOp)
NN_REDUCE(ReduceMeanOp)
NN_REDUCE(ReduceMaxOp)
NN_REDUCE(ReduceMinOp)
NN_REDUCE(ReduceProdOp)
#undef NN_REDUCE

OpFoldResult ReduceProdOp::fold(ArrayRef<Attribute> operands) {
  auto v = readConst(operands[0]);
  auto type = getType().cast<RankedTensorType>();
  if (!v || type.getNumElements() != 1)
    return {};
  if (v->isFloat) {
    double p = 1;
    for (double x : v->f) p *= x;
    return makeConst(type, ArrayRef<double>{p});
  }
  int64_t p = 1;
  for (int64_t x : v->i) p *= x;
  return makeConst(type, ArrayRef<int64_t>{p});
}

#define NN_ARG_REDUCE(OP)                                                              \
  NN_INFER(OP) {                                                                       \
    OP::Adaptor a(operands, attrs, regions);                                           \
    auto x = tensorOf(operands[0]);                                                    \
    return inferReduce(loc, x, Builder(ctx).getI64ArrayAttr({(int64_t)a.getAxis()}),   \
                       a.getKeepdims(), IntegerType::get(ctx, 64), inferred);          \
  }
NN_ARG_REDUCE(ArgMaxOp)
NN_ARG_REDUCE(ArgMinOp)
#undef NN_ARG_REDUCE

NN_INFER(CumSumOp) {
  inferred.push_back(operands[0].getType());
  return success();
}

//===----------------------------------------------------------------------===//
// matmul, gemm, einsum, det
//===----------------------------------------------------------------------===//

/// numpy.matmul result shape.
static LogicalResult matmulShape(ArrayRef<int64_t> a, ArrayRef<int64_t> b, Shape &out,
                                 std::string &err) {
  if (a.empty() || b.empty()) {
    err = "matmul operands must have rank >= 1";
    return failure();
  }
  Shape sa(a.begin(), a.end()), sb(b.begin(), b.end());
  bool aVec = sa.size() == 1, bVec = sb.size() == 1;
  if (aVec) sa.insert(sa.begin(), 1);
  if (bVec) sb.push_back(1);
  int64_t k1 = sa.back(), k2 = sb[sb.size() - 2];
  if (k1 != k2 && k1 != kDynamic && k2 != kDynamic) {
    err = "matmul inner dimensions differ: " + std::to_string(k1) + " vs " + std::to_string(k2);
    return failure();
  }
  Shape batch;
  if (!broadcastShapes(ArrayRef<int64_t>(sa).drop_back(2), ArrayRef<int64_t>(sb).drop_back(2), batch)) {
    err = "matmul batch dimensions cannot be broadcast";
    return failure();
  }
  out = batch;
  if (!aVec) out.push_back(sa[sa.size() - 2]);
  if (!bVec) out.push_back(sb.back());
  return success();
}

NN_INFER(MatMulOp) {
  auto a = tensorOf(operands[0]), b = tensorOf(operands[1]);
  Shape out;
  std::string err;
  if (failed(matmulShape(a.getShape(), b.getShape(), out, err)))
    return inferError(loc, err);
  inferred.push_back(tensor(out, a.getElementType()));
  return success();
}

/// Checks the fused epilogue names ("relu", "clip:LO:HI", ...); `sum` tells
/// whether a residual "sum" is among them.
static LogicalResult verifyPostOps(Operation *op, ArrayAttr postOps, bool allowSum, bool &sum) {
  sum = false;
  for (Attribute a : postOps) {
    StringRef p = a.cast<StringAttr>().getValue();
    StringRef kind = p.split(':').first;
    if (kind == "sum" && allowSum)
      sum = true;
    else if (kind != "relu" && kind != "clip" && kind != "leaky_relu" && kind != "elu" && kind != "sigmoid" &&
             kind != "tanh")
      return op->emitOpError("unknown post-op '") << p << "'";
  }
  return success();
}

LogicalResult MatMulOp::verify() {
  Shape out;
  std::string err;
  if (failed(matmulShape(tensorOf(getA()).getShape(), tensorOf(getB()).getShape(), out, err)))
    return emitOpError(err);
  if (tensorOf(getA()).getElementType() != tensorOf(getB()).getElementType())
    return emitOpError("operands have different element types");
  if (getBias()) {
    auto bias = tensorOf(getBias()), y = tensorOf(getY());
    if (bias.getRank() != 1 || y.getRank() < 1 || bias.getDimSize(0) != y.getShape().back())
      return emitOpError("bias must be [") << y.getShape().back() << "], got " << bias;
  }
  bool sum;
  return verifyPostOps(*this, getPostOps(), /*allowSum=*/false, sum);
}

NN_INFER(GemmOp) {
  GemmOp::Adaptor ad(operands, attrs, regions);
  auto a = tensorOf(ad.getA()), b = tensorOf(ad.getB());
  if (a.getRank() != 2 || b.getRank() != 2)
    return inferError(loc, "gemm expects rank-2 A and B");
  int64_t m = ad.getTransA() ? a.getDimSize(1) : a.getDimSize(0);
  int64_t n = ad.getTransB() ? b.getDimSize(0) : b.getDimSize(1);
  inferred.push_back(tensor({m, n}, a.getElementType()));
  return success();
}

LogicalResult GemmOp::verify() {
  auto a = tensorOf(getA()), b = tensorOf(getB());
  int64_t k1 = getTransA() ? a.getDimSize(0) : a.getDimSize(1);
  int64_t k2 = getTransB() ? b.getDimSize(1) : b.getDimSize(0);
  if (k1 != k2)
    return emitOpError("inner dimensions differ: ") << k1 << " vs " << k2;
  if (getC()) {
    Shape out;
    auto y = tensorOf(getY());
    if (!broadcastShapes(tensorOf(getC()).getShape(), y.getShape(), out) ||
        llvm::makeArrayRef(out) != y.getShape())
      return emitOpError("C ") << getC().getType() << " does not broadcast to " << y;
  }
  bool sum;
  return verifyPostOps(*this, getPostOps(), /*allowSum=*/false, sum);
}

/// Parses "ab,bc->ac" into operand letter lists and the output letters.
static bool parseEinsum(StringRef eq, SmallVectorImpl<std::string> &ins, std::string &out) {
  auto arrow = eq.find("->");
  if (arrow == StringRef::npos)
    return false;
  SmallVector<StringRef> parts;
  eq.substr(0, arrow).split(parts, ',');
  for (StringRef p : parts)
    ins.push_back(p.trim().str());
  out = eq.substr(arrow + 2).trim().str();
  return true;
}

NN_INFER(EinsumOp) {
  EinsumOp::Adaptor a(operands, attrs, regions);
  SmallVector<std::string> ins;
  std::string out;
  if (!parseEinsum(a.getEquation(), ins, out) || ins.size() != operands.size())
    return inferError(loc, "einsum: equation must name every operand and the output");
  llvm::DenseMap<char, int64_t> dims;
  for (size_t i = 0; i < ins.size(); ++i) {
    auto t = tensorOf(operands[i]);
    if ((int64_t)ins[i].size() != t.getRank())
      return inferError(loc, "einsum: operand " + Twine(i) + " has rank " + Twine(t.getRank()) +
                                 " but '" + ins[i] + "' has " + Twine(ins[i].size()) + " letters");
    for (size_t k = 0; k < ins[i].size(); ++k) {
      int64_t d = t.getDimSize(k);
      auto it = dims.find(ins[i][k]);
      if (it != dims.end() && it->second != d && it->second != 1 && d != 1)
        return inferError(loc, "einsum: letter '" + Twine(ins[i][k]) + "' has sizes " +
                                   Twine(it->second) + " and " + Twine(d));
      if (it == dims.end() || it->second == 1)
        dims[ins[i][k]] = d;
    }
  }
  Shape shape;
  for (char c : out) {
    if (!dims.count(c))
      return inferError(loc, "einsum: output letter '" + Twine(c) + "' is in no operand");
    shape.push_back(dims[c]);
  }
  inferred.push_back(tensor(shape, tensorOf(operands[0]).getElementType()));
  return success();
}

LogicalResult EinsumOp::verify() { return success(); }

NN_INFER(DetOp) {
  auto x = tensorOf(operands[0]);
  if (x.getRank() < 2 || x.getDimSize(x.getRank() - 1) != x.getDimSize(x.getRank() - 2))
    return inferError(loc, "det needs square matrices in the last two dimensions");
  inferred.push_back(tensor(x.getShape().drop_back(2), x.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// conv, pools
//===----------------------------------------------------------------------===//

static LogicalResult checkWindowAttrs(Optional<Location> loc, int64_t spatial, ArrayAttr strides,
                                      ArrayAttr pads, ArrayAttr dilations) {
  if ((int64_t)strides.size() != spatial || (int64_t)dilations.size() != spatial ||
      (int64_t)pads.size() != 2 * spatial)
    return inferError(loc, "strides/dilations need " + Twine(spatial) + " entries and pads " +
                               Twine(2 * spatial));
  return success();
}

NN_INFER(ConvOp) {
  ConvOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(a.getX()), w = tensorOf(a.getW());
  int64_t spatial = w.getRank() - 2;
  if (spatial < 1)
    return inferError(loc, "conv: w is [M, C/group, K...] with at least one kernel dimension");
  if (failed(checkWindowAttrs(loc, spatial, a.getStrides(), a.getPads(), a.getDilations())))
    return failure();
  auto strides = toI64(a.getStrides()), pads = toI64(a.getPads()), dil = toI64(a.getDilations());
  ActivationLayout layout;
  if (!parseActivationLayout(a.getLayout(), layout))
    return inferError(loc, "conv: unknown layout '" + a.getLayout().str() + "'");
  if (x.getRank() != spatial + (layout == ActivationLayout::NCHW16c ? 3 : 2))
    return inferError(loc, "conv: x is [N, C, D...] (or [N, D..., C], [N, C/16, D..., 16]) and w [M, C/group, K...]");
  Shape in(x.getShape().begin(), x.getShape().end()), sizes;
  for (int64_t i = 0; i < spatial; ++i)
    sizes.push_back(windowOutputSize(spatialDim(in, layout, i), w.getDimSize(2 + i), strides[i], pads[i],
                                     pads[i + spatial], dil[i], false));
  int64_t m = w.getDimSize(0);
  if (layout == ActivationLayout::NCHW16c && m % 16)
    return inferError(loc, "conv: layout nchw16c needs output channels in blocks of 16, got " + std::to_string(m));
  inferred.push_back(tensor(activationShape(x.getDimSize(0), m, sizes, layout), x.getElementType()));
  return success();
}

LogicalResult ConvOp::verify() {
  auto x = tensorOf(getX()), w = tensorOf(getW());
  int64_t g = getGroup();
  ActivationLayout layout;
  if (!parseActivationLayout(getLayout(), layout))
    return emitOpError("unknown layout '") << getLayout() << "'";
  int64_t c = channelCount(x.getShape(), layout);
  if (g < 1 || c != w.getDimSize(1) * g)
    return emitOpError("input channels ") << c << " != weight channels "
                                          << w.getDimSize(1) << " x group " << g;
  if (w.getDimSize(0) % g)
    return emitOpError("output channels ") << w.getDimSize(0) << " not divisible by group " << g;
  if (getB() && (tensorOf(getB()).getRank() != 1 || tensorOf(getB()).getDimSize(0) != w.getDimSize(0)))
    return emitOpError("bias must be [") << w.getDimSize(0) << "]";
  bool sum = false;
  if (failed(verifyPostOps(*this, getPostOps(), /*allowSum=*/true, sum)))
    return failure();
  if (sum != (bool)getResidual())
    return emitOpError("a \"sum\" post-op and a residual operand go together");
  if (getResidual() && getResidual().getType() != getY().getType())
    return emitOpError("residual ") << getResidual().getType() << " must have the result's type " << getY().getType();
  return success();
}

NN_INFER(ConvTransposeOp) {
  ConvTransposeOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(a.getX()), w = tensorOf(a.getW());
  if (x.getRank() < 3 || w.getRank() != x.getRank())
    return inferError(loc, "conv_transpose: x is [N, C, D...] and w [C, M/group, K...]");
  int64_t spatial = x.getRank() - 2;
  if (failed(checkWindowAttrs(loc, spatial, a.getStrides(), a.getPads(), a.getDilations())))
    return failure();
  auto strides = toI64(a.getStrides()), pads = toI64(a.getPads()), dil = toI64(a.getDilations()),
       outPad = toI64(a.getOutputPadding());
  Shape out = {x.getDimSize(0), w.getDimSize(1) * (int64_t)a.getGroup()};
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t op = i < (int64_t)outPad.size() ? outPad[i] : 0;
    out.push_back(strides[i] * (x.getDimSize(2 + i) - 1) + op + (w.getDimSize(2 + i) - 1) * dil[i] + 1 -
                  pads[i] - pads[i + spatial]);
  }
  inferred.push_back(tensor(out, x.getElementType()));
  return success();
}

LogicalResult ConvTransposeOp::verify() {
  auto x = tensorOf(getX()), w = tensorOf(getW());
  if (x.getDimSize(1) != w.getDimSize(0))
    return emitOpError("input channels ") << x.getDimSize(1) << " != weight dimension 0 " << w.getDimSize(0);
  return success();
}

static LogicalResult inferPool(Optional<Location> loc, RankedTensorType x, ArrayAttr kernelAttr,
                               ArrayAttr stridesAttr, ArrayAttr padsAttr, ArrayAttr dilAttr,
                               bool ceil, bool last, Shape &out) {
  // x is [N, C, D...] or, channels last, [N, D..., C].
  int64_t spatial = kernelAttr.size();
  if (spatial < 1 || x.getRank() != spatial + 2)
    return inferError(loc, "pool: kernel_shape needs one entry per spatial dimension");
  if (failed(checkWindowAttrs(loc, spatial, stridesAttr, padsAttr, dilAttr)))
    return failure();
  auto k = toI64(kernelAttr), s = toI64(stridesAttr), p = toI64(padsAttr), d = toI64(dilAttr);
  int64_t first = last ? 1 : 2;
  out = {x.getDimSize(0)};
  if (!last)
    out.push_back(x.getDimSize(1));
  for (int64_t i = 0; i < spatial; ++i)
    out.push_back(windowOutputSize(x.getDimSize(first + i), k[i], s[i], p[i], p[i + spatial], d[i], ceil));
  if (last)
    out.push_back(x.getShape().back());
  return success();
}

#define NN_POOL(OP)                                                                     \
  NN_INFER(OP) {                                                                        \
    OP::Adaptor a(operands, attrs, regions);                                            \
    auto x = tensorOf(operands[0]);                                                     \
    Shape out;                                                                          \
    if (failed(inferPool(loc, x, a.getKernelShape(), a.getStrides(), a.getPads(),       \
                         a.getDilations(), a.getCeilMode(), a.getChannelsLast(), out))) \
      return failure();                                                                 \
    inferred.push_back(tensor(out, x.getElementType()));                                \
    return success();                                                                   \
  }                                                                                     \
  LogicalResult OP::verify() {                                                          \
    for (int64_t k : toI64(getKernelShape()))                                           \
      if (k < 1)                                                                        \
        return emitOpError("kernel sizes must be positive");                            \
    return success();                                                                   \
  }
NN_POOL(MaxPoolOp)
NN_POOL(AvgPoolOp)
NN_POOL(LpPoolOp)
#undef NN_POOL

NN_INFER(MaxPoolWithIndicesOp) {
  MaxPoolWithIndicesOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]);
  Shape out;
  if (failed(inferPool(loc, x, a.getKernelShape(), a.getStrides(), a.getPads(), a.getDilations(),
                       a.getCeilMode(), false, out)))
    return failure();
  inferred.push_back(tensor(out, x.getElementType()));
  inferred.push_back(tensor(out, IntegerType::get(ctx, 64)));
  return success();
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

NN_INFER(BatchNormOp) {
  inferred.push_back(operands[0].getType());
  return success();
}

LogicalResult BatchNormOp::verify() {
  auto x = tensorOf(getX());
  if (x.getRank() < 2)
    return emitOpError("x must have a channel dimension");
  for (Value v : {getScale(), getBias(), getMean(), getVar()}) {
    auto t = tensorOf(v);
    if (t.getRank() != 1 || t.getDimSize(0) != x.getDimSize(1))
      return emitOpError("scale, bias, mean and var must be [") << x.getDimSize(1) << "], got " << t;
  }
  return success();
}

NN_INFER(LayerNormOp) {
  LayerNormOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(a.getX());
  int64_t axis = a.getAxis();
  if (axis < 0 || axis > x.getRank())
    return inferError(loc, "layer_norm: axis out of range");
  inferred.push_back(x);
  Shape stat(x.getShape().begin(), x.getShape().end());
  for (int64_t d = axis; d < x.getRank(); ++d)
    stat[d] = 1;
  inferred.push_back(tensor(stat, x.getElementType()));
  inferred.push_back(tensor(stat, x.getElementType()));
  return success();
}

NN_INFER(InstanceNormOp) {
  inferred.push_back(operands[0].getType());
  return success();
}

//===----------------------------------------------------------------------===//
// Recurrent layers
//===----------------------------------------------------------------------===//

static LogicalResult inferRecurrent(Optional<Location> loc, RankedTensorType x, int64_t hidden,
                                    StringRef direction, int numStates, SmallVectorImpl<Type> &inferred) {
  if (x.getRank() != 3)
    return inferError(loc, "recurrent layer input must be [seq, batch, input]");
  int64_t dirs = direction == "bidirectional" ? 2 : 1;
  Type et = x.getElementType();
  inferred.push_back(tensor({x.getDimSize(0), dirs, x.getDimSize(1), hidden}, et));
  for (int i = 0; i < numStates; ++i)
    inferred.push_back(tensor({dirs, x.getDimSize(1), hidden}, et));
  return success();
}

/// A recurrent forward's results, then its saved pre-activations
/// [dirs, steps, batch, width]: of every step, or of the last `savedSteps`
/// (when given).
static LogicalResult inferWithGates(Optional<Location> loc, RankedTensorType x, int64_t hidden,
                                    StringRef direction, int numStates, int64_t width,
                                    SmallVectorImpl<Type> &inferred, Optional<uint64_t> savedSteps = llvm::None) {
  if (failed(inferRecurrent(loc, x, hidden, direction, numStates, inferred)))
    return failure();
  int64_t dirs = direction == "bidirectional" ? 2 : 1;
  int64_t steps = savedSteps ? std::max<int64_t>(0, (int64_t)*savedSteps) : x.getDimSize(0); // (< 1: the verifier's)
  inferred.push_back(tensor({dirs, steps, x.getDimSize(1), width}, x.getElementType()));
  return success();
}

NN_INFER(LSTMOp) {
  LSTMOp::Adaptor a(operands, attrs, regions);
  return inferRecurrent(loc, tensorOf(a.getX()), a.getHiddenSize(), a.getDirection(), 2, inferred);
}
/// An LSTM forward's results and, after them, its `checkpoints` ([D,
/// ceil(T / segment_steps), states, B, H]: nn.lstm_checkpointed,
/// nn.lstm_saving).
template <typename Adaptor>
LogicalResult inferCheckpointed(Optional<Location> loc, Adaptor a, SmallVectorImpl<Type> &inferred) {
  auto x = tensorOf(a.getX());
  if (failed(inferRecurrent(loc, x, a.getHiddenSize(), a.getDirection(), 2, inferred)))
    return failure();
  int64_t dirs = a.getDirection() == "bidirectional" ? 2 : 1;
  int64_t T = x.getDimSize(0), S = std::max<int64_t>(1, a.getSegmentSteps()); // 0: the verifier's error
  int64_t states = a.getStates() == 1 ? 1 : 2;                                   // else: the verifier's
  inferred.push_back(tensor({dirs, (T + S - 1) / S, states, x.getDimSize(1), (int64_t)a.getHiddenSize()},
                            x.getElementType()));
  return success();
}
NN_INFER(LSTMCheckpointedOp) {
  return inferCheckpointed(loc, LSTMCheckpointedOp::Adaptor(operands, attrs, regions), inferred);
}
NN_INFER(LSTMSavingOp) {
  LSTMSavingOp::Adaptor a(operands, attrs, regions);
  if (failed(inferCheckpointed(loc, a, inferred)))
    return failure();
  auto x = tensorOf(a.getX());
  int64_t dirs = inferred.back().cast<RankedTensorType>().getDimSize(0), K = std::max<int64_t>(0, a.getSavedSteps());
  inferred.push_back(tensor({dirs, K, x.getDimSize(1), 4 * (int64_t)a.getHiddenSize()}, x.getElementType()));
  return success();
}
NN_INFER(LSTMWithGatesOp) {
  LSTMWithGatesOp::Adaptor a(operands, attrs, regions);
  return inferWithGates(loc, tensorOf(a.getX()), a.getHiddenSize(), a.getDirection(), 2, 4 * a.getHiddenSize(),
                        inferred);
}
NN_INFER(GRUOp) {
  GRUOp::Adaptor a(operands, attrs, regions);
  return inferRecurrent(loc, tensorOf(a.getX()), a.getHiddenSize(), a.getDirection(), 1, inferred);
}
NN_INFER(RNNOp) {
  RNNOp::Adaptor a(operands, attrs, regions);
  return inferRecurrent(loc, tensorOf(a.getX()), a.getHiddenSize(), a.getDirection(), 1, inferred);
}
NN_INFER(GRUWithGatesOp) {
  GRUWithGatesOp::Adaptor a(operands, attrs, regions);
  return inferWithGates(loc, tensorOf(a.getX()), a.getHiddenSize(), a.getDirection(), 1, 4 * a.getHiddenSize(),
                        inferred, a.getSavedSteps());
}
NN_INFER(RNNWithGatesOp) {
  RNNWithGatesOp::Adaptor a(operands, attrs, regions);
  return inferWithGates(loc, tensorOf(a.getX()), a.getHiddenSize(), a.getDirection(), 1, a.getHiddenSize(),
                        inferred, a.getSavedSteps());
}

/// dX, dW, dR like the operands; dB [dirs, 2 * gates * H]; the initial
/// states' gradients [dirs, batch, H]; the peepholes' [dirs, 3H].
static void inferRecurrentGrad(Value xv, Value wv, Value rv, int64_t hidden, StringRef direction, int gates,
                               int numStates, bool peepholes, SmallVectorImpl<Type> &inferred) {
  auto x = tensorOf(xv);
  int64_t dirs = direction == "bidirectional" ? 2 : 1;
  Type et = x.getElementType();
  inferred.push_back(x);
  inferred.push_back(wv.getType());
  inferred.push_back(rv.getType());
  inferred.push_back(tensor({dirs, 2 * gates * hidden}, et));
  for (int i = 0; i < numStates; ++i)
    inferred.push_back(tensor({dirs, x.getDimSize(1), hidden}, et));
  if (peepholes)
    inferred.push_back(tensor({dirs, 3 * hidden}, et));
}

NN_INFER(LSTMGradOp) {
  LSTMGradOp::Adaptor a(operands, attrs, regions);
  inferRecurrentGrad(a.getX(), a.getW(), a.getR(), a.getHiddenSize(), a.getDirection(), 4, 2, true, inferred);
  return success();
}
NN_INFER(GRUGradOp) {
  GRUGradOp::Adaptor a(operands, attrs, regions);
  inferRecurrentGrad(a.getX(), a.getW(), a.getR(), a.getHiddenSize(), a.getDirection(), 3, 1, false, inferred);
  return success();
}
NN_INFER(RNNGradOp) {
  RNNGradOp::Adaptor a(operands, attrs, regions);
  inferRecurrentGrad(a.getX(), a.getW(), a.getR(), a.getHiddenSize(), a.getDirection(), 1, 1, false, inferred);
  return success();
}

/// ONNX's clip (a layer's or a stack's), where given: a positive threshold.
template <typename OpT> static LogicalResult verifyClip(OpT op) {
  if (auto clip = op.getClip(); clip && !(clip->convertToDouble() > 0))
    return op.emitOpError("clip must be positive, got ") << clip->convertToDouble();
  return success();
}

template <typename OpT>
static LogicalResult verifyRecurrent(OpT op, int gates) {
  StringRef dir = op.getDirection();
  if (dir != "forward" && dir != "reverse" && dir != "bidirectional")
    return op.emitOpError("direction must be forward, reverse or bidirectional, got '") << dir << "'";
  int64_t dirs = dir == "bidirectional" ? 2 : 1;
  int64_t h = op.getHiddenSize();
  auto w = tensorOf(op.getW()), r = tensorOf(op.getR());
  if (w.getRank() != 3 || w.getDimSize(0) != dirs || w.getDimSize(1) != gates * h)
    return op.emitOpError("W must be [") << dirs << ", " << gates * h << ", input], got " << w;
  if (r.getRank() != 3 || r.getDimSize(0) != dirs || r.getDimSize(1) != gates * h || r.getDimSize(2) != h)
    return op.emitOpError("R must be [") << dirs << ", " << gates * h << ", " << h << "], got " << r;
  // Activations: none (ONNX's defaults) or each function of the cell for
  // each direction (LSTM 3, GRU 2, RNN 1), ONNX's names.
  auto names = toStrings(op.getActivations());
  size_t perDirection = gates == 4 ? 3 : gates == 3 ? 2 : 1;
  if (!names.empty() && names.size() != dirs * perDirection)
    return op.emitOpError("activations must name ") << perDirection << " function(s) per direction, " << dirs
                                                    << " direction(s): " << dirs * perDirection << ", got "
                                                    << names.size();
  for (const std::string &name : names)
    if (recurrentActivationCode(name) < 0)
      return op.emitOpError("activation '")
             << name << "' is not one of ONNX's (Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, "
                        "ScaledTanh, HardSigmoid, Elu, Softsign, Softplus)";
  return verifyClip(op);
}

LogicalResult LSTMOp::verify() { return verifyRecurrent(*this, 4); }
/// An LSTM forward that saves checkpoints: their segments and states.
template <typename OpT> LogicalResult verifyCheckpointed(OpT op) {
  if (op.getSegmentSteps() < 1)
    return op.emitOpError("segment_steps must be at least 1, got ") << op.getSegmentSteps();
  if (op.getStates() != 1 && op.getStates() != 2)
    return op.emitOpError("states must be 1 (c) or 2 (c and h), got ") << op.getStates();
  return verifyRecurrent(op, 4);
}
LogicalResult LSTMCheckpointedOp::verify() { return verifyCheckpointed(*this); }
LogicalResult LSTMWithGatesOp::verify() { return verifyRecurrent(*this, 4); }
/// The steps whose gates a forward saves, when not all (`saved_steps`):
/// at least one, and fewer than the sequence's (`all`: what saves them all).
template <typename OpT> static LogicalResult verifySavedSteps(OpT op, int64_t savedSteps, StringRef all) {
  auto x = op.getX().getType().template dyn_cast<RankedTensorType>();
  int64_t T = x && x.getRank() > 0 ? x.getDimSize(0) : ShapedType::kDynamicSize;
  if (savedSteps < 1 || (!ShapedType::isDynamic(T) && savedSteps >= T))
    return op.emitOpError("saved_steps must be at least 1 and fewer than the steps (else ")
           << all << "), got " << savedSteps;
  return success();
}
LogicalResult LSTMSavingOp::verify() {
  if (failed(verifySavedSteps(*this, getSavedSteps(), "nn.lstm_with_gates")))
    return failure();
  return verifyCheckpointed(*this);
}
LogicalResult GRUOp::verify() { return verifyRecurrent(*this, 3); }
LogicalResult RNNOp::verify() { return verifyRecurrent(*this, 1); }
/// A GRU's or RNN's forward that saves its pre-activations, of every step
/// or of the last saved_steps.
template <typename OpT> static LogicalResult verifyWithGates(OpT op, int gates) {
  if (auto k = op.getSavedSteps(); k && failed(verifySavedSteps(op, (int64_t)*k, "no saved_steps")))
    return failure();
  return verifyRecurrent(op, gates);
}
LogicalResult GRUWithGatesOp::verify() { return verifyWithGates(*this, 3); }
LogicalResult RNNWithGatesOp::verify() { return verifyWithGates(*this, 1); }

//===----------------------------------------------------------------------===//
// Signal processing
//===----------------------------------------------------------------------===//

NN_INFER(DFTOp) {
  DFTOp::Adaptor a(operands, attrs, regions);
  auto x = tensorOf(operands[0]);
  int64_t axis = a.getAxis(), len = a.getLength();
  if (x.getRank() < 2 || axis < 0 || axis >= x.getRank() - 1)
    return inferError(loc, "dft: axis must be a signal dimension (not the last, complex one)");
  if (x.getShape().back() != 1 && x.getShape().back() != 2)
    return inferError(loc, "dft: the last dimension must be 1 (real) or 2 (complex)");
  Shape out(x.getShape().begin(), x.getShape().end());
  out[axis] = a.getOnesided() ? len / 2 + 1 : len;
  out.back() = 2;
  inferred.push_back(tensor(out, x.getElementType()));
  return success();
}

NN_INFER(STFTOp) {
  STFTOp::Adaptor a(operands, attrs, regions);
  auto s = tensorOf(operands[0]);
  if (s.getRank() != 3)
    return inferError(loc, "stft: signal must be [batch, length, 1 or 2]");
  int64_t step = a.getFrameStep(), len = a.getFrameLength();
  if (step <= 0 || len <= 0 || len > s.getDimSize(1))
    return inferError(loc, "stft: frame_step and frame_length must be positive and fit the signal");
  int64_t frames = (s.getDimSize(1) - len) / step + 1;
  int64_t bins = a.getOnesided() ? len / 2 + 1 : len;
  inferred.push_back(tensor({s.getDimSize(0), frames, bins, 2}, s.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Stacked recurrent layers (nn-stack-recurrent): the kernels trust these shapes
//===----------------------------------------------------------------------===//

namespace {
/// Checks a stack's x, weights (W, R, B per layer), hidden size and chunk
/// steps for a cell of `gates` gates; returns the layer count (0 after an
/// error).
int64_t verifyStackOperands(Operation *op, Value x, ValueRange weights, int64_t H, int64_t chunkSteps,
                            int64_t gates) {
  auto xt = tensorOf(x);
  if (xt.getRank() != 3 || !xt.getElementType().isF32())
    return op->emitOpError("x must be a float32 [steps, batch, input] tensor"), 0;
  int64_t L = weights.size() / 3;
  if (weights.size() % 3 || L < 2 || L > 32)
    return op->emitOpError("needs W, R and B for each of 2 to 32 layers"), 0;
  if (H <= 0 || chunkSteps <= 0)
    return op->emitOpError("hidden_size and chunk_steps must be positive"), 0;
  int64_t G = gates * H;
  for (int64_t l = 0; l < L; ++l) {
    int64_t I = l == 0 ? xt.getDimSize(2) : H;
    Shape want[3] = {{1, G, I}, {1, G, H}, {1, 2 * G}};
    for (int k = 0; k < 3; ++k)
      if (tensorOf(weights[3 * l + k]).getShape() != ArrayRef<int64_t>(want[k]))
        return op->emitOpError("layer ") << l << ": " << (k == 0 ? "W" : k == 1 ? "R" : "B") << " must be "
                                         << tensor(want[k], xt.getElementType()),
               0;
  }
  return L;
}

/// Checks a stack's states, (an LSTM's) cells and gates (where present):
/// [L-1, T, B, H], [L, chunks, B, H] and [L, T, B, saved * H].
LogicalResult verifyStackSaved(Operation *op, Value x, int64_t L, int64_t H, int64_t chunkSteps, Value states,
                               Value cells, Value gates, int64_t saved) {
  auto xt = tensorOf(x);
  int64_t T = xt.getDimSize(0), B = xt.getDimSize(1);
  int64_t S = std::max<int64_t>(1, std::min(chunkSteps, T)), chunks = (T + S - 1) / S;
  auto is = [&](Value v, Shape s) { return tensorOf(v).getShape() == ArrayRef<int64_t>(s); };
  if (!is(states, {L - 1, T, B, H}))
    return op->emitOpError("states must be [layers - 1, steps, batch, hidden]");
  if (cells && !is(cells, {L, chunks, B, H}))
    return op->emitOpError("cells must be [layers, chunks, batch, hidden]");
  if (gates && !is(gates, {L, T, B, saved * H}))
    return op->emitOpError("gates must be [layers, steps, batch, ") << saved << " * hidden]";
  return success();
}

/// Checks that each of `states` (named by `names`), where present, is a
/// [layers, batch, hidden] tensor of x's element type.
LogicalResult verifyLayerStates(Operation *op, Value x, int64_t L, int64_t H, ArrayRef<Value> states,
                                ArrayRef<StringRef> names) {
  auto want = tensor({L, tensorOf(x).getDimSize(1), H}, tensorOf(x).getElementType());
  for (auto [v, name] : llvm::zip(states, names))
    if (v && v.getType() != want)
      return op->emitOpError() << name << " must be " << want << " ([layers, batch, hidden])";
  return success();
}

template <typename Op>
LogicalResult verifyStack(Op op, int64_t gates, int64_t saved, Value cells) {
  int64_t H = op.getHiddenSize(), S = op.getChunkSteps();
  int64_t L = verifyStackOperands(op, op.getX(), op.getWeights(), H, S, gates);
  if (!L)
    return failure();
  auto xt = tensorOf(op.getX());
  if (tensorOf(op.getY()).getShape() != ArrayRef<int64_t>({xt.getDimSize(0), 1, xt.getDimSize(1), H}))
    return op.emitOpError("y must be [steps, 1, batch, hidden]");
  if (failed(verifyLayerStates(op, op.getX(), L, H, {op.getInitialH()}, {"initial_h"})))
    return failure();
  if (op.getSeqLens() && tensorOf(op.getSeqLens()).getShape() != ArrayRef<int64_t>({xt.getDimSize(1)}))
    return op.emitOpError("seq_lens must be [batch]");
  if (failed(verifyClip(op)))
    return failure();
  return verifyStackSaved(op, op.getX(), L, H, S, op.getStates(), cells, op.getGates(), saved);
}

/// A forward stack: its initial and final states too.
template <typename Op> LogicalResult verifyStackForward(Op op, int64_t gates, int64_t saved, Value cells) {
  if (failed(verifyStack(op, gates, saved, cells)))
    return failure();
  int64_t L = op.getWeights().size() / 3;
  return verifyLayerStates(op, op.getX(), L, op.getHiddenSize(),
                           {stackInitialC(op), op.getYH(), stackFinalC(op)}, {"initial_c", "y_h", "y_c"});
}

template <typename Op>
LogicalResult verifyStackGrad(Op op, int64_t gates, int64_t saved, Value cells) {
  if (failed(verifyStack(op, gates, saved, cells)))
    return failure();
  if ((op.getDy() && op.getDy().getType() != op.getY().getType()) || op.getDx().getType() != op.getX().getType())
    return op.emitOpError("dy must be typed as y and dx as x");
  if (op.getDweights().getTypes() != op.getWeights().getTypes())
    return op.emitOpError("dweights must be typed as the weights");
  int64_t L = op.getWeights().size() / 3;
  return verifyLayerStates(op, op.getX(), L, op.getHiddenSize(),
                           {op.getDyH(), stackFinalCGrad(op), op.getDInitialH(), stackInitialCGrad(op)},
                           {"dy_h", "dy_c", "d_initial_h", "d_initial_c"});
}
/// A simple RNN stack's activation: what its kernel runs.
LogicalResult verifyStackActivation(Operation *op, StringRef activation) {
  if (!activation.equals_insensitive("tanh") && !activation.equals_insensitive("relu"))
    return op->emitOpError("activation must be Tanh or Relu, got '") << activation << "'";
  return success();
}
} // namespace

Value nncc::nn::stackInitialC(Operation *op) {
  auto s = dyn_cast<LSTMStackOp>(op);
  return s ? s.getInitialC() : Value();
}
Value nncc::nn::stackFinalC(Operation *op) {
  auto s = dyn_cast<LSTMStackOp>(op);
  return s ? s.getYC() : Value();
}
Value nncc::nn::stackFinalCGrad(Operation *op) {
  auto s = dyn_cast<LSTMStackGradOp>(op);
  return s ? s.getDyC() : Value();
}
Value nncc::nn::stackInitialCGrad(Operation *op) {
  auto s = dyn_cast<LSTMStackGradOp>(op);
  return s ? s.getDInitialC() : Value();
}

LogicalResult LSTMStackOp::verify() { return verifyStackForward(*this, 4, 4, getCells()); }
LogicalResult GRUStackOp::verify() { return verifyStackForward(*this, 3, 4, Value()); }
LogicalResult RNNStackOp::verify() {
  return success(succeeded(verifyStackActivation(*this, getActivation())) &&
                 succeeded(verifyStackForward(*this, 1, 1, Value())));
}
LogicalResult LSTMStackGradOp::verify() { return verifyStackGrad(*this, 4, 4, getCells()); }
LogicalResult GRUStackGradOp::verify() { return verifyStackGrad(*this, 3, 4, Value()); }
LogicalResult RNNStackGradOp::verify() {
  // (Without a clip the activation's derivative comes from the outputs;
  // with one, from the pre-activations: zero where the clip bound.)
  if (getClip() && !getGates())
    return emitOpError("with a clip needs the forward's saved pre-activations (gates): the outputs do not tell "
                       "where the clip bound");
  return success(succeeded(verifyStackActivation(*this, getActivation())) &&
                 succeeded(verifyStackGrad(*this, 1, 1, Value())));
}

//===----------------------------------------------------------------------===//
// TableGen'd definitions
//===----------------------------------------------------------------------===//

#define GET_OP_CLASSES
#include "ir/NNOps.cpp.inc"
