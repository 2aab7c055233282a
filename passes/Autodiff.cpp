//===- Autodiff.cpp - reverse-mode differentiation of nn graphs -----------===//
//
// Walks the ops between the parameters and the loss in reverse order and
// emits, for each, the nn ops that compute its operands' gradients from its
// result's gradient. Broadcasting operands get their gradient summed back to
// their own shape; a value with several uses accumulates one gradient per
// use. Runs before nn-fuse (the rules read unfused ops).
//
//===----------------------------------------------------------------------===//
#include "passes/Autodiff.h"
#include "passes/Passes.h"
#include "passes/Rewrite.h"

#include "ir/NNOps.h"
#include "ir/ShapeUtils.h"
#include "runtime/kernels/RecurrentSegments.h"

#include "mlir/IR/BlockAndValueMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <functional>
#include <map>

using namespace mlir;
using namespace nncc::nn;

namespace nncc {
namespace {

RankedTensorType typeOf(Value v) { return v.getType().cast<RankedTensorType>(); }

bool isFloatTensor(Value v) {
  auto t = v.getType().dyn_cast<RankedTensorType>();
  return t && t.getElementType().isa<FloatType>();
}

/// Emits the backward ops; one instance per differentiate() call.
class Backward {
public:
  Backward(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value splat(RankedTensorType t, double v) {
    auto et = t.getElementType();
    return b.create<ConstantOp>(loc, t, DenseElementsAttr::get(t, b.getFloatAttr(et, v)));
  }
  Value scalar(Value like, double v) { return splat(RankedTensorType::get({}, typeOf(like).getElementType()), v); }
  Value zerosLike(Value v) { return splat(typeOf(v), 0.0); }

  Value add(Value x, Value y) { return b.create<AddOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<SubOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.create<MulOp>(loc, x, y); }
  Value div(Value x, Value y) { return b.create<DivOp>(loc, x, y); }
  Value neg(Value x) { return b.create<NegOp>(loc, x); }
  Value select(Value c, Value x, Value y) { return b.create<SelectOp>(loc, c, x, y); }
  Value reshape(Value x, ArrayRef<int64_t> shape) { return reshapeTo(b, loc, x, shape); }
  Value transpose(Value x, ArrayRef<int64_t> perm) { return b.create<TransposeOp>(loc, x, b.getI64ArrayAttr(perm)); }
  Value sum(Value x, ArrayRef<int64_t> axes, bool keep) {
    return b.create<ReduceSumOp>(loc, x, b.getI64ArrayAttr(axes), b.getBoolAttr(keep));
  }
  /// Swaps the last two dimensions.
  Value transposeLast2(Value x) {
    int64_t r = typeOf(x).getRank();
    SmallVector<int64_t> perm;
    for (int64_t i = 0; i < r; ++i)
      perm.push_back(i);
    std::swap(perm[r - 1], perm[r - 2]);
    return transpose(x, perm);
  }
  Value matmul(Value x, Value y) { return b.create<MatMulOp>(loc, x, y, Value(), b.getStrArrayAttr({})); }
  Value gemm(Value x, Value y, double alpha, bool ta, bool tb) {
    return b.create<GemmOp>(loc, x, y, Value(), b.getF32FloatAttr(alpha), b.getF32FloatAttr(1.0), b.getBoolAttr(ta),
                            b.getBoolAttr(tb), b.getStrArrayAttr({}));
  }
  Value broadcastTo(Value x, ArrayRef<int64_t> shape) {
    if (typeOf(x).getShape() == shape)
      return x;
    return b.create<ExpandOp>(loc, x, b.getI64ArrayAttr(shape));
  }

  /// The leading `sizes` of x (a slice from 0), or x when that is all of it.
  Value cropTo(Value x, ArrayRef<int64_t> sizes) {
    if (typeOf(x).getShape() == sizes)
      return x;
    SmallVector<int64_t> zeros(sizes.size(), 0), ones(sizes.size(), 1);
    return b.create<SliceOp>(loc, x, b.getI64ArrayAttr(zeros), b.getI64ArrayAttr(ones), b.getI64ArrayAttr(sizes));
  }

  /// The gradient of a window op's input x (NCHW) for window weights w: the
  /// transposed convolution of dY, padded at the end to x's size where the
  /// stride dropped rows.
  Value transposedConv(Value dy, Value w, RankedTensorType x, ArrayRef<int64_t> kernel, ArrayAttr strides,
                       ArrayAttr pads, ArrayAttr dilations, int64_t group) {
    auto s = toI64(strides), p = toI64(pads), d = toI64(dilations);
    int64_t sp = x.getRank() - 2;
    SmallVector<int64_t> outPad;
    for (int64_t i = 0; i < sp; ++i) {
      int64_t extent = (kernel[i] - 1) * d[i] + 1;
      int64_t covered = (typeOf(dy).getDimSize(2 + i) - 1) * s[i] + extent - p[i] - p[sp + i];
      outPad.push_back(x.getDimSize(2 + i) - covered);
    }
    return b.create<ConvTransposeOp>(loc, dy, w, Value(), strides, pads, dilations, b.getI64ArrayAttr(outPad),
                                     b.getI64IntegerAttr(group));
  }

  Value gt(Value x, Value y) { return b.create<GreaterOp>(loc, x, y); }
  Value lt(Value x, Value y) { return b.create<LessOp>(loc, x, y); }
  Value zeroUnless(Value mask, Value g) { return select(mask, g, zerosLike(g)); }
  Value sqrtOf(Value x) { return b.create<SqrtOp>(loc, x); }
  Value square(Value x) { return mul(x, x); }
  /// dy * 1 / sqrt(s * (x^2 + c)) style helpers take the ready expression.
  Value rsqrt(Value x) { return b.create<ReciprocalOp>(loc, sqrtOf(x)); }
  /// Shape of x with the given axes set to 1 (keepdims reductions).
  static SmallVector<int64_t> keptShape(RankedTensorType x, ArrayRef<int64_t> axes) {
    SmallVector<int64_t> s(x.getShape().begin(), x.getShape().end());
    for (int64_t a : axes)
      s[a] = 1;
    return s;
  }
  Value mean(Value x, ArrayRef<int64_t> axes) {
    return b.create<ReduceMeanOp>(loc, x, b.getI64ArrayAttr(axes), b.getBoolAttr(true));
  }
  /// The gradient of a normalization over `axes` of x = xhat / inv (+ mean):
  /// inv * (g - mean(g) - xhat * mean(g * xhat)) for g = dL/dxhat.
  Value normalizeGrad(Value g, Value xhat, Value inv, ArrayRef<int64_t> axes) {
    Value centered = sub(g, mean(g, axes));
    return mul(inv, sub(centered, mul(xhat, mean(mul(g, xhat), axes))));
  }

  /// conv(x, k) with the stride and dilation of a window op swapped, cut to
  /// [sizes..., kernel...]: the correlation of a weight gradient.
  Value correlate(Value x, Value k, int64_t groups, SmallVector<int64_t> sizes, ArrayRef<int64_t> kernel,
                  ArrayAttr strides, ArrayAttr pads, ArrayAttr dilations) {
    sizes.append(kernel.begin(), kernel.end());
    Value full = b.create<ConvOp>(loc, x, k, Value(), Value(), dilations, pads, strides, b.getI64IntegerAttr(groups),
                                  b.getStringAttr("nchw"), b.getStrArrayAttr({}));
    return cropTo(full, sizes);
  }

  /// dW[m, c, k] = sum_n,o dY[n, m, o] X[n, c, o*s + k*d - p] of a
  /// convolution of X [N, C, ...] giving dY [N, M, ...]: X^T [C, N, ...]
  /// correlated with dY^T [M, N, ...], per group ([M, C/group, k...]).
  Value groupedWeightGrad(Value x, Value dy, int64_t group, ArrayRef<int64_t> kernel, ArrayAttr strides,
                          ArrayAttr pads, ArrayAttr dilations) {
    auto xt = typeOf(x), yt = typeOf(dy);
    int64_t sp = xt.getRank() - 2, cg = xt.getDimSize(1) / group, mg = yt.getDimSize(1) / group;
    SmallVector<int64_t> swap = {1, 0};
    for (int64_t i = 0; i < sp; ++i)
      swap.push_back(2 + i);
    auto channels = [&](Value v, int64_t from, int64_t count) {
      if (group == 1)
        return v;
      auto shape = typeOf(v).getShape();
      SmallVector<int64_t> starts(shape.size(), 0), steps(shape.size(), 1), sizes(shape.begin(), shape.end());
      starts[1] = from;
      sizes[1] = count;
      return b.create<SliceOp>(loc, v, b.getI64ArrayAttr(starts), b.getI64ArrayAttr(steps), b.getI64ArrayAttr(sizes))
          .getResult();
    };
    SmallVector<Value> parts;
    for (int64_t g = 0; g < group; ++g) {
      Value xg = channels(x, g * cg, cg), dyg = channels(dy, g * mg, mg);
      parts.push_back(transpose(
          correlate(transpose(xg, swap), transpose(dyg, swap), 1, {cg, mg}, kernel, strides, pads, dilations), swap));
    }
    if (parts.size() == 1)
      return parts[0];
    SmallVector<int64_t> shape(typeOf(parts[0]).getShape().begin(), typeOf(parts[0]).getShape().end());
    shape[0] *= group;
    return b.create<ConcatOp>(loc, RankedTensorType::get(shape, typeOf(x).getElementType()), parts,
                              b.getI64IntegerAttr(0));
  }

  /// Sums a gradient of a broadcast result back to the operand's shape.
  Value unbroadcast(Value g, RankedTensorType target) {
    auto gs = typeOf(g).getShape();
    auto ts = target.getShape();
    if (gs == ts)
      return g;
    int64_t lead = (int64_t)gs.size() - (int64_t)ts.size();
    SmallVector<int64_t> axes;
    for (int64_t i = 0; i < (int64_t)gs.size(); ++i)
      if (i < lead || (ts[i - lead] == 1 && gs[i] != 1))
        axes.push_back(i);
    Value s = axes.empty() ? g : sum(g, axes, /*keep=*/true);
    return reshape(s, ts);
  }

  /// The gradient of a reduction's operand: dy spread over the reduced axes.
  Value spread(Value dy, RankedTensorType x, ArrayRef<int64_t> axesIn, bool keep) {
    SmallVector<int64_t> axes(axesIn.begin(), axesIn.end());
    if (axes.empty())
      for (int64_t i = 0; i < x.getRank(); ++i)
        axes.push_back(i);
    SmallVector<int64_t> kept(x.getShape().begin(), x.getShape().end());
    for (int64_t a : axes)
      kept[a] = 1;
    (void)keep;
    return broadcastTo(reshape(dy, kept), x.getShape());
  }

  OpBuilder &b;
  Location loc;
};

/// The gradients of a recurrent layer's operands from those of its results
/// (y, y_h and, for the LSTM, y_c; absent ones are zero): one nn.*_grad op.
template <typename GradFn, typename AccFn>
void recurrentBackward(OpBuilder &b, Location loc, Operation *op, GradFn gradOf, AccFn accumulate) {
  auto common = [&](auto o) {
    return std::make_tuple(o.getHiddenSizeAttr(), o.getDirectionAttr(), o.getActivationsAttr(),
                           o.getActivationAlphaAttr(), o.getActivationBetaAttr(), o.getClipAttr());
  };
  // The memory policy is the trainer's choice (setRecurrentMemoryPolicy).
  StringAttr policy = b.getStringAttr("store-all");
  IntegerAttr budget = b.getI64IntegerAttr(0);
  SmallVector<Value> inputs, results;
  if (auto o = dyn_cast<LSTMOp>(op)) {
    auto [hs, dir, acts, al, be, clip] = common(o);
    auto g = b.create<LSTMGradOp>(loc, o.getX(), o.getW(), o.getR(), o.getB(), o.getSeqLens(), o.getInitialH(),
                                  o.getInitialC(), o.getP(), o.getY(), gradOf(o.getY()), gradOf(o.getYH()),
                                  gradOf(o.getYC()), /*checkpoints=*/Value(), /*gates=*/Value(), hs, dir, acts, al,
                                  be, clip, policy, budget, o.getInputForgetAttr());
    inputs = {o.getX(), o.getW(), o.getR(), o.getB(), o.getInitialH(), o.getInitialC(), o.getP()};
    results = {g.getDx(), g.getDw(), g.getDr(), g.getDb(), g.getDInitialH(), g.getDInitialC(), g.getDp()};
  } else if (auto o = dyn_cast<GRUOp>(op)) {
    auto [hs, dir, acts, al, be, clip] = common(o);
    auto g = b.create<GRUGradOp>(loc, o.getX(), o.getW(), o.getR(), o.getB(), o.getSeqLens(), o.getInitialH(),
                                 o.getY(), gradOf(o.getY()), gradOf(o.getYH()), /*gates=*/Value(), hs, dir, acts,
                                 al, be, clip, policy, budget, o.getLinearBeforeResetAttr());
    inputs = {o.getX(), o.getW(), o.getR(), o.getB(), o.getInitialH()};
    results = {g.getDx(), g.getDw(), g.getDr(), g.getDb(), g.getDInitialH()};
  } else {
    auto r = cast<RNNOp>(op);
    auto [hs, dir, acts, al, be, clip] = common(r);
    auto g = b.create<RNNGradOp>(loc, r.getX(), r.getW(), r.getR(), r.getB(), r.getSeqLens(), r.getInitialH(),
                                 r.getY(), gradOf(r.getY()), gradOf(r.getYH()), /*gates=*/Value(), hs, dir, acts,
                                 al, be, clip, policy, budget);
    inputs = {r.getX(), r.getW(), r.getR(), r.getB(), r.getInitialH()};
    results = {g.getDx(), g.getDw(), g.getDr(), g.getDb(), g.getDInitialH()};
  }
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i])
      accumulate(inputs[i], results[i]);
}

/// Layer normalization over the axes from `axis` on, with the op's own mean
/// and inverse standard deviation: xhat = (x - mean) inv.
template <typename AccFn>
void layerNormBackward(Backward &bw, LayerNormOp o, Value dy, const llvm::DenseSet<Value> &active,
                       AccFn accumulate) {
  Value x = o.getX();
  auto xt = typeOf(x);
  SmallVector<int64_t> normalized, leading;
  for (int64_t i = 0; i < xt.getRank(); ++i)
    (i >= (int64_t)o.getAxis() ? normalized : leading).push_back(i);
  Value inv = o.getInvStdDev();
  Value xhat = bw.mul(bw.sub(x, o.getMean()), inv);
  if (active.count(x))
    accumulate(x, bw.normalizeGrad(bw.mul(dy, o.getScale()), xhat, inv, normalized));
  auto reduceLeading = [&](Value v, Value like) {
    return bw.reshape(leading.empty() ? v : bw.sum(v, leading, false), typeOf(like).getShape());
  };
  if (active.count(o.getScale()))
    accumulate(o.getScale(), reduceLeading(bw.mul(dy, xhat), o.getScale()));
  if (o.getBias() && active.count(o.getBias()))
    accumulate(o.getBias(), reduceLeading(dy, o.getBias()));
}

} // namespace

/// The values from outside `op` that the ops in its regions (an nn.loop's
/// body) read.
static llvm::SetVector<Value> readInside(Operation *op) {
  llvm::SetVector<Value> in;
  for (Region &r : op->getRegions())
    r.walk([&](Operation *inner) {
      for (Value v : inner->getOperands())
        if (!op->isAncestor(v.getParentRegion()->getParentOp()))
          in.insert(v);
    });
  return in;
}

/// The values an op reads: its operands and what its regions read.
static llvm::SetVector<Value> inputsOf(Operation *op) {
  llvm::SetVector<Value> in(op->getOperands().begin(), op->getOperands().end());
  llvm::SetVector<Value> inside = readInside(op);
  in.insert(inside.begin(), inside.end());
  return in;
}

/// Values that depend on `wrt` (forward) and that `loss` depends on
/// (backward); their defining ops need a backward.
static void activeValues(Value loss, ArrayRef<Value> wrt, llvm::DenseSet<Value> &active) {
  llvm::DenseSet<Value> fromWrt(wrt.begin(), wrt.end());
  Block *block = loss.getParentBlock();
  for (Operation &op : *block)
    if (llvm::any_of(inputsOf(&op), [&](Value v) { return fromWrt.count(v); }))
      for (Value r : op.getResults())
        fromWrt.insert(r);
  llvm::DenseSet<Value> toLoss{loss};
  for (Operation &op : llvm::reverse(*block))
    if (llvm::any_of(op.getResults(), [&](Value r) { return toLoss.count(r); }))
      for (Value v : inputsOf(&op))
        toLoss.insert(v);
  for (Value v : fromWrt)
    if (toLoss.count(v) && isFloatTensor(v))
      active.insert(v);
}

llvm::DenseSet<Operation *> opsNeedingBackward(Value loss, ArrayRef<Value> wrt) {
  llvm::DenseSet<Value> active;
  activeValues(loss, wrt, active);
  llvm::DenseSet<Operation *> ops;
  for (Value v : active)
    if (Operation *d = v.getDefiningOp())
      ops.insert(d);
  return ops;
}

/// The backward of an nn.loop (an ONNX Loop run as a loop). The loop is
/// replaced by one that also saves every iteration's carried values (as
/// scan outputs): as many rows as its trip count when that is known at
/// compile time and the loop runs all of it (a for loop) or the rows fit
/// LoopOp::kPlannedBytes, else a capacity (`options.loopRows`; its count then
/// goes to `options.cappedCounts`). A second loop runs as many iterations
/// backwards: iteration i takes step t = n - 1 - i,
/// gathers step t's carried values, recomputes the body from them (a clone)
/// and runs its backward (`backOp`, with `grad` and `active` swapped for the
/// body's), seeded with the carried values' gradients it carries and row t
/// of the scan outputs' gradients. It carries the carried values' gradients
/// back and sums those of the values from outside the body that the body
/// reads (weights). `accumulate` adds a gradient into `grad` for an `active`
/// value (whichever maps they hold at the time).
static bool loopGradient(OpBuilder &b, Backward &bw, LoopOp loop, llvm::DenseMap<Value, Value> &grad,
                         llvm::DenseSet<Value> &active, const std::function<void(Value, Value)> &accumulate,
                         const std::function<bool(Operation *)> &backOp, const DifferentiateOptions &options,
                         std::string &error) {
  Location loc = loop.getLoc();
  size_t nc = loop.getCarried().size();
  int64_t ns = (int64_t)loop.getScanOutputs();
  // The gradients of its results, and what its body reads from outside.
  SmallVector<Value> dOut, dScan;
  for (size_t k = 0; k < nc; ++k)
    dOut.push_back(grad.lookup(loop.getResult(k)));
  for (int64_t s = 0; s < ns; ++s)
    dScan.push_back(grad.lookup(loop.getResult(nc + s)));
  SmallVector<Value> carriedIn(loop.getCarried().begin(), loop.getCarried().end());
  SmallVector<unsigned> floats; // carried values with gradients
  for (size_t k = 0; k < nc; ++k)
    if (isFloatTensor(carriedIn[k]))
      floats.push_back(k);
  SmallVector<Value> outer; // values from outside the body with gradients (a carried init too)
  for (Value v : readInside(loop))
    if (active.count(v) && isFloatTensor(v))
      outer.push_back(v);
  auto some = [](ArrayRef<Value> gs) { return llvm::any_of(gs, [](Value g) { return bool(g); }); };
  bool flows = some(dOut) || some(dScan);
  if (!flows || (floats.empty() && outer.empty()))
    return true; // no gradient reaches its inputs
  // The backward recomputes the body: its random draws would differ.
  if (loop.getBody().walk([](RandomUniformOp) { return WalkResult::interrupt(); }).wasInterrupted()) {
    error = "the loop's body draws random numbers (Dropout, RandomUniform, ...), and its backward recomputes the "
            "body, which would draw others: nncc differentiates such a loop only unrolled (give it a constant "
            "trip count and condition)";
    return false;
  }
  // The trip count M (a constant, maybe reshaped; -1: known at run time)
  // and the rows of its scan outputs, which also bound its iterations.
  Value m = loop.getMaxTrip();
  while (auto r = m.getDefiningOp<ReshapeOp>())
    m = r.getX();
  DenseElementsAttr tripsAttr;
  int64_t M = -1;
  if (matchPattern(m, m_Constant(&tripsAttr)) && tripsAttr.getElementType().isInteger(64))
    M = std::max<int64_t>(0, (*tripsAttr.getValues<APInt>().begin()).getSExtValue());
  int64_t scanRows = loop.getScanRows();
  auto bounded = [&](int64_t n) { return scanRows < 0 ? n : n < 0 ? scanRows : std::min(n, scanRows); };
  int64_t N = bounded(M); // the iterations saved
  // Every iteration's carried values are saved.
  int64_t rowBytes = 0;
  for (Value c : loop.getCarried()) {
    if (!typeOf(c).hasStaticShape()) {
      error = "training through a Loop run as a loop needs carried values of static shapes";
      return false;
    }
    rowBytes += typeOf(c).getNumElements() * ((typeOf(c).getElementTypeBitWidth() + 7) / 8);
  }
  // A for loop (its condition passed through) runs all N iterations.
  Block &forward = loop.getBody().front();
  bool runsAll = cast<LoopYieldOp>(forward.getTerminator()).getValues()[0] == forward.getArgument(1);
  // A capacity of rows needs its count checked at the end of the run (a
  // function result): not for a loop inside another's body, which is
  // differentiated inside the outer backward's body.
  bool inner = isa<LoopOp>(loop->getParentOp());
  bool canCheck = options.loopRows != 0 && options.cappedCounts && !inner;
  constexpr int64_t kMaxSteps = 1 << 16;
  bool capped = false;
  // (Without carried values nothing is saved: nothing to cap.)
  if (nc > 0 && canCheck && (N < 0 || N > kMaxSteps || (!runsAll && N * rowBytes > LoopOp::kPlannedBytes)) &&
      !(runsAll && N >= 0)) {
    int64_t rows = LoopOp::capacityRows(rowBytes, options.loopRows, options.grownLoopRows,
                                        options.cappedCounts->size());
    N = bounded(M < 0 ? rows : std::min(M, rows));
    capped = true;
  } else if (N < 0 || (nc > 0 && N > kMaxSteps)) {
    error = N < 0 ? "training through a Loop run as a loop needs its trip count M known at compile time (it "
                    "saves every iteration's carried values); give M as a constant"
                  : "training through a Loop run as a loop saves every iteration's carried values: its trip "
                    "count M must be at most " + std::to_string(kMaxSteps) + " (it may run " +
                        std::to_string(N) + " iterations)";
    if (inner)
      error += " (a loop inside a loop body: its iterations must be planned at compile time)";
    return false;
  }
  // Scan rows from the import may stop it before its end too: its backward
  // would then miss the iterations past them, and more rows than the
  // import gave cannot be had here.
  if (!capped && (M < 0 || M > N)) {
    error = "training through a Loop run as a loop whose iterations may outrun the " + std::to_string(N) +
            " rows of its scan outputs (their capacity, its trip count known only at run time) is not supported; "
            "give its trip count M as a constant";
    return false;
  }
  if (N > (int64_t(1) << 31) / std::max<int64_t>(rowBytes, 1)) {
    error = "training through a Loop run as a loop saves every iteration's carried values: " +
            std::to_string(N) + " iterations take " + std::to_string((N * rowBytes) >> 20) + " MiB, more than 2 GiB";
    return false;
  }
  // The forward, saving each iteration's carried values.
  OpBuilder fb(loop);
  SmallVector<Type> types(loop.getResultTypes().begin(), loop.getResultTypes().begin() + nc + ns);
  for (Value c : carriedIn) {
    SmallVector<int64_t> shape{N};
    shape.append(typeOf(c).getShape().begin(), typeOf(c).getShape().end());
    types.push_back(RankedTensorType::get(shape, typeOf(c).getElementType()));
  }
  types.push_back(RankedTensorType::get({}, fb.getI64Type()));
  auto saving = fb.create<LoopOp>(loc, types, loop.getMaxTrip(), loop.getCond(), carriedIn,
                                  fb.getI64IntegerAttr(ns + (int64_t)nc));
  saving.getBody().takeBody(loop.getBody());
  Block &body = saving.getBody().front();
  auto yield = cast<LoopYieldOp>(body.getTerminator());
  SmallVector<Value> yields(yield.getValues().begin(), yield.getValues().end());
  for (size_t k = 0; k < nc; ++k)
    yields.push_back(body.getArgument(2 + k));
  yield->setOperands(yields);
  for (unsigned k = 0; k < nc + ns; ++k) {
    loop.getResult(k).replaceAllUsesWith(saving.getResult(k));
    grad.erase(loop.getResult(k));
    active.erase(loop.getResult(k));
  }
  if (ns > 0)
    loop.getResults().back().replaceAllUsesWith(saving.getResults().back());
  loop.erase();

  // The backward loop: n iterations, carrying the carried values' gradients
  // and the sums of the outer values'. A capped loop's count may be one
  // more than its rows (they ran out: the runtime recompiles with more and
  // runs again); the backward never reads past them.
  Value count = saving.getResults().back();
  if (capped) { // (canCheck: cappedCounts is set)
    options.cappedCounts->push_back(count);
    auto i64 = RankedTensorType::get({}, b.getI64Type());
    Value rows = b.create<ConstantOp>(loc, i64, DenseElementsAttr::get(i64, b.getI64IntegerAttr(N).getValue()));
    count = b.create<MinOp>(loc, count, rows);
  }
  SmallVector<Value> init;
  for (unsigned k : floats)
    init.push_back(dOut[k] ? dOut[k] : bw.zerosLike(carriedIn[k]));
  for (Value v : outer)
    init.push_back(bw.zerosLike(v));
  auto i1 = RankedTensorType::get({}, b.getI1Type());
  Value truth = b.create<ConstantOp>(loc, i1, DenseElementsAttr::get(i1, true));
  SmallVector<Type> backTypes;
  for (Value v : init)
    backTypes.push_back(v.getType());
  auto back = b.create<LoopOp>(loc, backTypes, count, truth, init);
  Block *block = new Block();
  back.getBody().push_back(block);
  block->addArgument(RankedTensorType::get({}, b.getI64Type()), loc);
  block->addArgument(i1, loc);
  for (Type t : backTypes)
    block->addArgument(t, loc);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(block);
    Location outerLoc = bw.loc;
    bw.loc = loc;
    auto i64 = RankedTensorType::get({}, b.getI64Type());
    Value one = b.create<ConstantOp>(loc, i64, DenseElementsAttr::get(i64, b.getI64IntegerAttr(1).getValue()));
    Value t = b.create<SubOp>(loc, count, b.create<AddOp>(loc, block->getArgument(0), one)); // n - 1 - i
    BlockAndValueMapping map;
    map.map(body.getArgument(0), t);
    map.map(body.getArgument(1), block->getArgument(1));
    SmallVector<Value> xs;
    for (size_t k = 0; k < nc; ++k) {
      xs.push_back(b.create<GatherOp>(loc, saving.getResult(nc + ns + k), t, b.getI64IntegerAttr(0)));
      map.map(body.getArgument(2 + k), xs.back());
    }
    SmallVector<Operation *> cloned;
    for (Operation &op : body.without_terminator())
      cloned.push_back(b.clone(op, map));
    // The body's active values: those that depend on its carried values or
    // on the outer values with gradients.
    llvm::DenseSet<Value> bodyActive;
    for (unsigned k : floats)
      bodyActive.insert(xs[k]);
    bodyActive.insert(outer.begin(), outer.end());
    for (Operation *op : cloned) // (an inner loop's body reads values too)
      if (llvm::any_of(inputsOf(op), [&](Value v) { return bodyActive.count(v); }))
        for (Value r : op->getResults())
          if (isFloatTensor(r))
            bodyActive.insert(r);
    llvm::DenseMap<Value, Value> bodyGrad;
    std::swap(grad, bodyGrad);
    std::swap(active, bodyActive);
    for (size_t idx = 0; idx < floats.size(); ++idx)
      accumulate(map.lookupOrDefault(yield.getValues()[1 + floats[idx]]), block->getArgument(2 + idx));
    for (int64_t s = 0; s < ns; ++s)
      if (dScan[s])
        accumulate(map.lookupOrDefault(yield.getValues()[1 + nc + s]),
                   b.create<GatherOp>(loc, dScan[s], t, b.getI64IntegerAttr(0)));
    bool ok = true;
    for (Operation *op : llvm::reverse(cloned))
      if (llvm::any_of(op->getResults(), [&](Value r) { return grad.count(r); }) && !(ok = backOp(op)))
        break;
    SmallVector<Value> next{block->getArgument(1)};
    for (unsigned k : floats) {
      Value g = grad.lookup(xs[k]);
      next.push_back(g ? g : bw.zerosLike(xs[k]));
    }
    for (size_t idx = 0; idx < outer.size(); ++idx) {
      Value sum = block->getArgument(2 + floats.size() + idx);
      Value g = grad.lookup(outer[idx]);
      next.push_back(g ? bw.add(sum, g) : sum);
    }
    std::swap(grad, bodyGrad);
    std::swap(active, bodyActive);
    bw.loc = outerLoc;
    b.create<LoopYieldOp>(loc, next);
    if (!ok)
      return false;
    // Recomputed ops that nothing reads (an inner loop would run at every
    // step) go now.
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*block)))
      if (isOpTriviallyDead(&op))
        op.erase();
  }
  for (size_t idx = 0; idx < floats.size(); ++idx)
    accumulate(carriedIn[floats[idx]], back.getResult(idx));
  for (size_t idx = 0; idx < outer.size(); ++idx)
    accumulate(outer[idx], back.getResult(floats.size() + idx));
  return true;
}

bool differentiate(OpBuilder &b, Value loss, ArrayRef<Value> wrt, SmallVectorImpl<Value> &grads,
                   std::string &error, const DifferentiateOptions &options) {
  auto lt = loss.getType().dyn_cast<RankedTensorType>();
  if (!lt || lt.getNumElements() != 1 || !lt.getElementType().isa<FloatType>()) {
    error = "the loss must be a float scalar (one element), got " +
            (lt ? shapeStr(lt.getShape()) + " " + typeName(lt.getElementType()) : std::string("a non-tensor"));
    return false;
  }
  llvm::DenseSet<Value> active;
  activeValues(loss, wrt, active);

  Backward bw(b, loss.getLoc());
  llvm::DenseMap<Value, Value> grad;
  auto accumulate = [&](Value v, Value g) {
    if (!active.count(v) || !g)
      return;
    if (typeOf(g).getShape() != typeOf(v).getShape())
      g = bw.unbroadcast(g, typeOf(v));
    auto it = grad.find(v);
    grad[v] = it == grad.end() ? g : bw.add(it->second, g);
  };
  grad[loss] = bw.splat(lt, 1.0);

  Block *block = loss.getParentBlock();
  SmallVector<Operation *> ops;
  for (Operation &op : *block)
    if (llvm::any_of(op.getResults(), [&](Value r) { return active.count(r); }))
      ops.push_back(&op);
  auto gradOf = [&](Value v) -> Value {
    auto it = grad.find(v);
    return it == grad.end() ? Value() : it->second;
  };
  // The backward of one op: from its results' gradients (in `grad`) into
  // its operands'; false (with `error`) when it has none.
  std::function<bool(Operation *)> backOp;
  std::function<bool(LoopOp)> loopBackward;
  backOp = [&](Operation *op) -> bool {
    if (auto loop = dyn_cast<LoopOp>(op))
      return loopBackward(loop);
    if (isa<LSTMOp, GRUOp, RNNOp>(op)) {
      bw.loc = op->getLoc();
      recurrentBackward(b, bw.loc, op, gradOf, accumulate);
      return true;
    }
    if (auto tk = dyn_cast<TopKOp>(op)) {
      // The values' gradient goes back to where they were taken from.
      if (Value dy = gradOf(tk.getValues())) {
        bw.loc = op->getLoc();
        accumulate(tk.getX(), b.create<ScatterElementsOp>(bw.loc, bw.zerosLike(tk.getX()), tk.getIndices(), dy,
                                                          tk.getAxisAttr(), b.getStringAttr("add")));
      }
      return true;
    }
    if (auto ln = dyn_cast<LayerNormOp>(op)) {
      if (gradOf(ln.getMean()) || gradOf(ln.getInvStdDev())) {
        error = "no gradient for the mean and inv_std_dev results of 'nn.layer_norm' (only for y)";
        return false;
      }
      if (Value dy = gradOf(ln.getY())) {
        bw.loc = op->getLoc();
        layerNormBackward(bw, ln, dy, active, accumulate);
      }
      return true;
    }
    if (op->getNumResults() != 1) {
      error = "no gradient for '" + op->getName().getStringRef().str() + "'";
      return false;
    }
    Value y = op->getResult(0);
    auto it = grad.find(y);
    if (it == grad.end())
      return true;
    Value dy = it->second;
    bw.loc = op->getLoc();
    bool ok = true;
    llvm::TypeSwitch<Operation *>(op)
        .Case<AddOp>([&](AddOp o) {
          accumulate(o.getLhs(), dy);
          accumulate(o.getRhs(), dy);
        })
        .Case<SubOp>([&](SubOp o) {
          accumulate(o.getLhs(), dy);
          if (active.count(o.getRhs()))
            accumulate(o.getRhs(), bw.neg(dy));
        })
        .Case<MulOp>([&](MulOp o) {
          if (active.count(o.getLhs()))
            accumulate(o.getLhs(), bw.mul(dy, o.getRhs()));
          if (active.count(o.getRhs()))
            accumulate(o.getRhs(), bw.mul(dy, o.getLhs()));
        })
        .Case<DivOp>([&](DivOp o) {
          if (active.count(o.getLhs()))
            accumulate(o.getLhs(), bw.div(dy, o.getRhs()));
          if (active.count(o.getRhs())) // d(a/b)/db = -y/b
            accumulate(o.getRhs(), bw.neg(bw.div(bw.mul(dy, y), o.getRhs())));
        })
        .Case<NegOp>([&](NegOp o) { accumulate(o.getX(), bw.neg(dy)); })
        .Case<ExpOp>([&](ExpOp o) { accumulate(o.getX(), bw.mul(dy, y)); })
        .Case<LogOp>([&](LogOp o) { accumulate(o.getX(), bw.div(dy, o.getX())); })
        .Case<SqrtOp>([&](SqrtOp o) { accumulate(o.getX(), bw.div(bw.mul(dy, bw.scalar(y, 0.5)), y)); })
        .Case<ReciprocalOp>([&](ReciprocalOp o) { accumulate(o.getX(), bw.neg(bw.mul(dy, bw.mul(y, y)))); })
        .Case<ReluOp>([&](ReluOp o) {
          Value pos = b.create<GreaterOp>(bw.loc, o.getX(), bw.scalar(y, 0.0));
          accumulate(o.getX(), bw.select(pos, dy, bw.zerosLike(dy)));
        })
        .Case<LeakyReluOp>([&](LeakyReluOp o) {
          Value pos = b.create<GreaterEqualOp>(bw.loc, o.getX(), bw.scalar(y, 0.0));
          Value slope = bw.select(pos, bw.scalar(y, 1.0), bw.scalar(y, o.getAlpha().convertToDouble()));
          accumulate(o.getX(), bw.mul(dy, slope));
        })
        .Case<SigmoidOp>([&](SigmoidOp o) {
          accumulate(o.getX(), bw.mul(dy, bw.mul(y, bw.sub(bw.scalar(y, 1.0), y))));
        })
        .Case<TanhOp>([&](TanhOp o) { accumulate(o.getX(), bw.mul(dy, bw.sub(bw.scalar(y, 1.0), bw.mul(y, y)))); })
        .Case<SoftplusOp>([&](SoftplusOp o) {
          accumulate(o.getX(), bw.mul(dy, b.create<SigmoidOp>(bw.loc, o.getX())));
        })
        .Case<AbsOp>([&](AbsOp o) { accumulate(o.getX(), bw.mul(dy, b.create<SignOp>(bw.loc, o.getX()))); })
        .Case<PowOp>([&](PowOp o) {
          Value x = o.getLhs(), e = o.getRhs();
          if (active.count(x)) // e * x^(e-1)
            accumulate(x, bw.mul(dy, bw.mul(e, b.create<PowOp>(bw.loc, x, bw.sub(e, bw.scalar(e, 1.0))))));
          if (active.count(e)) // log(x) * y
            accumulate(e, bw.mul(dy, bw.mul(b.create<LogOp>(bw.loc, x), y)));
        })
        .Case<MaxOp, MinOp>([&](Operation *o) {
          if (o->getNumOperands() != 2) {
            ok = false;
            return;
          }
          Value l = o->getOperand(0), r = o->getOperand(1);
          // Ties go to the first operand.
          Value first = isa<MaxOp>(o) ? b.create<GreaterEqualOp>(bw.loc, l, r).getResult()
                                      : b.create<LessEqualOp>(bw.loc, l, r).getResult();
          Value z = bw.zerosLike(dy);
          accumulate(l, bw.select(first, dy, z));
          accumulate(r, bw.select(first, z, dy));
        })
        .Case<SelectOp>([&](SelectOp o) {
          Value z = bw.zerosLike(dy);
          accumulate(o.getLhs(), bw.select(o.getCond(), dy, z));
          accumulate(o.getRhs(), bw.select(o.getCond(), z, dy));
        })
        .Case<CastOp>([&](CastOp o) {
          if (isFloatTensor(o.getX()))
            accumulate(o.getX(), b.create<CastOp>(bw.loc, dy, TypeAttr::get(typeOf(o.getX()).getElementType())));
        })
        .Case<MatMulOp>([&](MatMulOp o) {
          auto at = typeOf(o.getA()), bt = typeOf(o.getB());
          if (!toStrings(o.getPostOps()).empty() || at.getRank() < 2 || bt.getRank() < 2) {
            ok = false;
            return;
          }
          if (bt.getRank() == 2) {
            // A [..., K] by B [K, N]: one GEMM each over the flattened rows,
            // transposes folded into the GEMM (no batched dB to sum).
            int64_t k = at.getShape().back(), n = bt.getDimSize(1), m = at.getNumElements() / k;
            Value dy2 = bw.reshape(dy, {m, n});
            if (active.count(o.getA()))
              accumulate(o.getA(), bw.reshape(bw.gemm(dy2, o.getB(), 1.0, false, true), at.getShape()));
            if (active.count(o.getB()))
              accumulate(o.getB(), bw.gemm(bw.reshape(o.getA(), {m, k}), dy2, 1.0, true, false));
          } else {
            if (active.count(o.getA()))
              accumulate(o.getA(), bw.matmul(dy, bw.transposeLast2(o.getB())));
            if (active.count(o.getB()))
              accumulate(o.getB(), bw.matmul(bw.transposeLast2(o.getA()), dy));
          }
          if (o.getBias() && active.count(o.getBias()))
            accumulate(o.getBias(), bw.unbroadcast(dy, typeOf(o.getBias())));
        })
        .Case<GemmOp>([&](GemmOp o) {
          if (!toStrings(o.getPostOps()).empty()) {
            ok = false;
            return;
          }
          bool ta = o.getTransA(), tb = o.getTransB();
          double alpha = o.getAlpha().convertToDouble();
          Value a = o.getA(), bb = o.getB();
          if (active.count(a)) // d op(A) = alpha dY op(B)^T
            accumulate(a, ta ? bw.gemm(bb, dy, alpha, tb, true) : bw.gemm(dy, bb, alpha, false, !tb));
          if (active.count(bb)) // d op(B) = alpha op(A)^T dY
            accumulate(bb, tb ? bw.gemm(dy, a, alpha, true, ta) : bw.gemm(a, dy, alpha, !ta, false));
          if (o.getC() && active.count(o.getC())) {
            Value g = bw.unbroadcast(dy, typeOf(o.getC()));
            double beta = o.getBeta().convertToDouble();
            accumulate(o.getC(), beta == 1.0 ? g : bw.mul(g, bw.scalar(g, beta)));
          }
        })
        .Case<SoftmaxOp>([&](SoftmaxOp o) {
          int64_t axis = normalizeAxis(o.getAxis(), typeOf(y).getRank());
          Value s = bw.sum(bw.mul(dy, y), {axis}, true);
          accumulate(o.getX(), bw.mul(y, bw.sub(dy, s)));
        })
        .Case<LogSoftmaxOp>([&](LogSoftmaxOp o) {
          int64_t axis = normalizeAxis(o.getAxis(), typeOf(y).getRank());
          Value s = bw.sum(dy, {axis}, true);
          accumulate(o.getX(), bw.sub(dy, bw.mul(b.create<ExpOp>(bw.loc, y), s)));
        })
        .Case<ReduceSumOp>([&](ReduceSumOp o) {
          accumulate(o.getX(), bw.spread(dy, typeOf(o.getX()), toI64(o.getAxes()), o.getKeepdims()));
        })
        .Case<ReduceMeanOp>([&](ReduceMeanOp o) {
          auto xt = typeOf(o.getX());
          double count = (double)xt.getNumElements() / (double)std::max<int64_t>(typeOf(y).getNumElements(), 1);
          Value g = bw.spread(dy, xt, toI64(o.getAxes()), o.getKeepdims());
          accumulate(o.getX(), bw.mul(g, bw.scalar(g, 1.0 / count)));
        })
        .Case<ReshapeOp>([&](ReshapeOp o) { accumulate(o.getX(), bw.reshape(dy, typeOf(o.getX()).getShape())); })
        .Case<TransposeOp>([&](TransposeOp o) {
          auto perm = toI64(o.getPerm());
          SmallVector<int64_t> inv(perm.size());
          for (size_t i = 0; i < perm.size(); ++i)
            inv[perm[i]] = i;
          accumulate(o.getX(), bw.transpose(dy, inv));
        })
        .Case<ExpandOp>([&](ExpandOp o) { accumulate(o.getX(), dy); })
        // Unary math: dx = dy * f'(x), written with y = f(x) where shorter.
        .Case<SinOp>([&](SinOp o) { accumulate(o.getX(), bw.mul(dy, b.create<CosOp>(bw.loc, o.getX()))); })
        .Case<CosOp>([&](CosOp o) { accumulate(o.getX(), bw.neg(bw.mul(dy, b.create<SinOp>(bw.loc, o.getX())))); })
        .Case<TanOp>([&](TanOp o) { accumulate(o.getX(), bw.mul(dy, bw.add(bw.scalar(y, 1.0), bw.square(y)))); })
        .Case<AsinOp, AcosOp>([&](Operation *o) {
          Value x = o->getOperand(0);
          Value d = bw.div(dy, bw.sqrtOf(bw.sub(bw.scalar(x, 1.0), bw.square(x))));
          accumulate(x, isa<AsinOp>(o) ? d : bw.neg(d));
        })
        .Case<AtanOp>([&](AtanOp o) {
          accumulate(o.getX(), bw.div(dy, bw.add(bw.scalar(y, 1.0), bw.square(o.getX()))));
        })
        .Case<SinhOp>([&](SinhOp o) { accumulate(o.getX(), bw.mul(dy, b.create<CoshOp>(bw.loc, o.getX()))); })
        .Case<CoshOp>([&](CoshOp o) { accumulate(o.getX(), bw.mul(dy, b.create<SinhOp>(bw.loc, o.getX()))); })
        .Case<AsinhOp>([&](AsinhOp o) {
          accumulate(o.getX(), bw.div(dy, bw.sqrtOf(bw.add(bw.square(o.getX()), bw.scalar(y, 1.0)))));
        })
        .Case<AcoshOp>([&](AcoshOp o) {
          accumulate(o.getX(), bw.div(dy, bw.sqrtOf(bw.sub(bw.square(o.getX()), bw.scalar(y, 1.0)))));
        })
        .Case<AtanhOp>([&](AtanhOp o) {
          accumulate(o.getX(), bw.div(dy, bw.sub(bw.scalar(y, 1.0), bw.square(o.getX()))));
        })
        .Case<ErfOp>([&](ErfOp o) { // 2 / sqrt(pi) e^{-x^2}
          Value e = b.create<ExpOp>(bw.loc, bw.neg(bw.square(o.getX())));
          accumulate(o.getX(), bw.mul(dy, bw.mul(e, bw.scalar(y, 1.1283791670955126))));
        })
        .Case<SoftsignOp>([&](SoftsignOp o) {
          Value d = bw.add(bw.scalar(y, 1.0), b.create<AbsOp>(bw.loc, o.getX()));
          accumulate(o.getX(), bw.div(dy, bw.square(d)));
        })
        .Case<EluOp>([&](EluOp o) { // x <= 0: y + alpha
          double alpha = o.getAlpha().convertToDouble();
          Value pos = bw.gt(o.getX(), bw.scalar(y, 0.0));
          accumulate(o.getX(), bw.select(pos, dy, bw.mul(dy, bw.add(y, bw.scalar(y, alpha)))));
        })
        .Case<SeluOp>([&](SeluOp o) { // gamma, or y + alpha gamma
          double alpha = o.getAlpha().convertToDouble(), gamma = o.getGamma().convertToDouble();
          Value pos = bw.gt(o.getX(), bw.scalar(y, 0.0));
          accumulate(o.getX(), bw.select(pos, bw.mul(dy, bw.scalar(y, gamma)),
                                         bw.mul(dy, bw.add(y, bw.scalar(y, alpha * gamma)))));
        })
        .Case<CeluOp>([&](CeluOp o) { // x <= 0: e^{x / alpha}
          double alpha = o.getAlpha().convertToDouble();
          Value pos = bw.gt(o.getX(), bw.scalar(y, 0.0));
          Value e = b.create<ExpOp>(bw.loc, bw.mul(o.getX(), bw.scalar(y, 1.0 / alpha)));
          accumulate(o.getX(), bw.select(pos, dy, bw.mul(dy, e)));
        })
        .Case<HardSigmoidOp>([&](HardSigmoidOp o) { // alpha inside (0, 1)
          double alpha = o.getAlpha().convertToDouble(), beta = o.getBeta().convertToDouble();
          Value v = bw.add(bw.mul(o.getX(), bw.scalar(y, alpha)), bw.scalar(y, beta));
          Value inside = b.create<AndOp>(bw.loc, bw.gt(v, bw.scalar(y, 0.0)), bw.lt(v, bw.scalar(y, 1.0)));
          accumulate(o.getX(), bw.zeroUnless(inside, bw.mul(dy, bw.scalar(y, alpha))));
        })
        .Case<HardSwishOp>([&](HardSwishOp o) { // 0 below -3, 1 above 3, (2x + 3) / 6 between
          Value x = o.getX();
          Value mid = bw.mul(dy, bw.add(bw.mul(x, bw.scalar(y, 1.0 / 3.0)), bw.scalar(y, 0.5)));
          Value above = bw.gt(x, bw.scalar(y, 3.0)), below = bw.lt(x, bw.scalar(y, -3.0));
          accumulate(x, bw.zeroUnless(b.create<NotOp>(bw.loc, below), bw.select(above, dy, mid)));
        })
        .Case<ThresholdedReluOp>([&](ThresholdedReluOp o) {
          accumulate(o.getX(), bw.zeroUnless(bw.gt(o.getX(), bw.scalar(y, o.getAlpha().convertToDouble())), dy));
        })
        .Case<ShrinkOp>([&](ShrinkOp o) {
          double l = o.getLambd().convertToDouble();
          Value outside = b.create<OrOp>(bw.loc, bw.lt(o.getX(), bw.scalar(y, -l)), bw.gt(o.getX(), bw.scalar(y, l)));
          accumulate(o.getX(), bw.zeroUnless(outside, dy));
        })
        .Case<GeluOp>([&](GeluOp o) {
          Value x = o.getX();
          Value d;
          if (o.getApproximate() == "tanh") {
            // u = c (x + k x^3), t = tanh(u): 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 k x^2)
            const double c = 0.7978845608028654, k = 0.044715;
            Value x2 = bw.square(x);
            Value u = bw.mul(bw.scalar(y, c), bw.add(x, bw.mul(bw.scalar(y, k), bw.mul(x2, x))));
            Value t = b.create<TanhOp>(bw.loc, u);
            Value one = bw.scalar(y, 1.0), half = bw.scalar(y, 0.5);
            Value du = bw.mul(bw.scalar(y, c), bw.add(one, bw.mul(bw.scalar(y, 3 * k), x2)));
            d = bw.add(bw.mul(half, bw.add(one, t)), bw.mul(bw.mul(half, x), bw.mul(bw.sub(one, bw.square(t)), du)));
          } else {
            // Phi(x) + x phi(x)
            Value phi = bw.mul(b.create<ExpOp>(bw.loc, bw.mul(bw.square(x), bw.scalar(y, -0.5))),
                               bw.scalar(y, 0.3989422804014327));
            Value cdf = bw.mul(bw.scalar(y, 0.5),
                               bw.add(bw.scalar(y, 1.0), b.create<ErfOp>(bw.loc, bw.mul(x, bw.scalar(y, 0.7071067811865476)))));
            d = bw.add(cdf, bw.mul(x, phi));
          }
          accumulate(x, bw.mul(dy, d));
        })
        .Case<PReluOp>([&](PReluOp o) {
          Value x = o.getLhs(), slope = o.getRhs();
          Value pos = bw.gt(x, bw.zerosLike(x));
          Value z = bw.zerosLike(dy);
          if (active.count(x))
            accumulate(x, bw.select(pos, dy, bw.mul(dy, slope)));
          if (active.count(slope))
            accumulate(slope, bw.select(pos, z, bw.mul(dy, x)));
        })
        // Piecewise constant: no gradient flows.
        .Case<FloorOp, CeilOp, RoundOp, SignOp>([&](Operation *) {})
        .Case<ReduceMaxOp, ReduceMinOp>([&](Operation *o) {
          // Split evenly between the elements equal to the extremum.
          Value x = o->getOperand(0);
          auto xt = typeOf(x);
          auto mx = dyn_cast<ReduceMaxOp>(o);
          auto axes = toI64(mx ? mx.getAxes() : cast<ReduceMinOp>(o).getAxes());
          bool keep = mx ? mx.getKeepdims() : cast<ReduceMinOp>(o).getKeepdims();
          Value ext = bw.spread(y, xt, axes, keep);
          Value hit = b.create<EqualOp>(bw.loc, x, ext);
          Value ones = b.create<CastOp>(bw.loc, hit, TypeAttr::get(xt.getElementType()));
          SmallVector<int64_t> all(axes.begin(), axes.end());
          if (all.empty())
            for (int64_t i = 0; i < xt.getRank(); ++i)
              all.push_back(i);
          Value count = bw.broadcastTo(bw.sum(ones, all, true), xt.getShape());
          accumulate(x, bw.div(bw.mul(bw.spread(dy, xt, axes, keep), ones), count));
        })
        .Case<ReduceProdOp>([&](ReduceProdOp o) { // y / x (x nonzero)
          auto xt = typeOf(o.getX());
          auto axes = toI64(o.getAxes());
          accumulate(o.getX(), bw.div(bw.spread(bw.mul(dy, y), xt, axes, o.getKeepdims()), o.getX()));
        })
        .Case<SliceOp>([&](SliceOp o) {
          auto xt = typeOf(o.getX());
          auto starts = toI64(o.getStarts()), steps = toI64(o.getSteps()), sizes = toI64(o.getSizes());
          if (llvm::any_of(steps, [](int64_t st) { return st != 1; })) {
            ok = false;
            return;
          }
          SmallVector<int64_t> pads(2 * xt.getRank());
          for (int64_t i = 0; i < xt.getRank(); ++i) {
            pads[i] = starts[i];
            pads[xt.getRank() + i] = xt.getDimSize(i) - starts[i] - sizes[i];
          }
          accumulate(o.getX(), b.create<PadOp>(bw.loc, dy, b.getI64ArrayAttr(pads), b.getStringAttr("constant"),
                                               b.getF64FloatAttr(0.0)));
        })
        .Case<PadOp>([&](PadOp o) {
          // Constant padding: dX is dY without the padding (a slice), and
          // zero where a negative pad cropped x.
          if (o.getMode() != "constant") {
            ok = false;
            return;
          }
          auto xt = typeOf(o.getX());
          int64_t r = xt.getRank();
          auto pads = toI64(o.getPads());
          SmallVector<int64_t> starts(r), steps(r, 1), sizes(r), back(2 * r);
          bool cropped = false;
          for (int64_t i = 0; i < r; ++i) {
            int64_t pb = pads[i], pe = pads[r + i];
            starts[i] = std::max<int64_t>(pb, 0);
            sizes[i] = xt.getDimSize(i) - std::max<int64_t>(-pb, 0) - std::max<int64_t>(-pe, 0);
            back[i] = std::max<int64_t>(-pb, 0);
            back[r + i] = std::max<int64_t>(-pe, 0);
            cropped |= pb < 0 || pe < 0;
          }
          Value inner = b.create<SliceOp>(bw.loc, dy, b.getI64ArrayAttr(starts), b.getI64ArrayAttr(steps),
                                          b.getI64ArrayAttr(sizes));
          if (cropped)
            inner = b.create<PadOp>(bw.loc, inner, b.getI64ArrayAttr(back), b.getStringAttr("constant"),
                                    b.getF64FloatAttr(0.0));
          accumulate(o.getX(), inner);
        })
        .Case<TileOp>([&](TileOp o) {
          // dY viewed as [r0, d0, r1, d1, ...], summed over the repeats.
          auto xt = typeOf(o.getX());
          auto reps = toI64(o.getRepeats());
          SmallVector<int64_t> split, axes;
          for (int64_t i = 0; i < xt.getRank(); ++i) {
            split.push_back(reps[i]);
            split.push_back(xt.getDimSize(i));
            axes.push_back(2 * i);
          }
          accumulate(o.getX(), bw.reshape(bw.sum(bw.reshape(dy, split), axes, false), xt.getShape()));
        })
        .Case<CumSumOp>([&](CumSumOp o) {
          accumulate(o.getX(), b.create<CumSumOp>(bw.loc, dy, o.getAxisAttr(), o.getExclusiveAttr(),
                                                  b.getBoolAttr(!o.getReverse())));
        })
        .Case<GatherNDOp>([&](GatherNDOp o) {
          if (o.getBatchDims() != 0) {
            ok = false;
            return;
          }
          accumulate(o.getX(), b.create<ScatterNDOp>(bw.loc, bw.zerosLike(o.getX()), o.getIndices(), dy,
                                                     b.getStringAttr("add")));
        })
        .Case<ReverseSequenceOp>([&](ReverseSequenceOp o) {
          accumulate(o.getX(), b.create<ReverseSequenceOp>(bw.loc, dy, o.getLens(), o.getBatchAxisAttr(),
                                                           o.getTimeAxisAttr()));
        })
        .Case<TriluOp>([&](TriluOp o) {
          accumulate(o.getX(), b.create<TriluOp>(bw.loc, dy, o.getUpperAttr(), o.getKAttr()));
        })
        .Case<BatchNormOp>([&](BatchNormOp o) {
          // Inference form: y = (x - mean) inv scale + bias, inv = 1/sqrt(var + eps),
          // per channel (axis 1).
          Value x = o.getX();
          auto xt = typeOf(x);
          SmallVector<int64_t> chan(xt.getRank(), 1), axes;
          chan[1] = xt.getDimSize(1);
          for (int64_t i = 0; i < xt.getRank(); ++i)
            if (i != 1)
              axes.push_back(i);
          auto perChannel = [&](Value v) { return bw.reshape(v, chan); };
          Value eps = bw.scalar(y, o.getEpsilon().convertToDouble());
          Value inv = bw.rsqrt(bw.add(o.getVar(), eps)); // [C]
          Value scale = o.getScale();
          Value centered = bw.sub(x, perChannel(o.getMean()));
          auto cshape = typeOf(scale).getShape();
          if (active.count(x))
            accumulate(x, bw.mul(dy, perChannel(bw.mul(scale, inv))));
          if (active.count(scale))
            accumulate(scale, bw.reshape(bw.sum(bw.mul(dy, bw.mul(centered, perChannel(inv))), axes, false), cshape));
          if (active.count(o.getBias()))
            accumulate(o.getBias(), bw.reshape(bw.sum(dy, axes, false), cshape));
          if (active.count(o.getMean()))
            accumulate(o.getMean(), bw.neg(bw.mul(bw.reshape(bw.sum(dy, axes, false), cshape), bw.mul(scale, inv))));
          if (active.count(o.getVar())) { // -1/2 scale inv^3 sum(dy (x - mean))
            Value s = bw.reshape(bw.sum(bw.mul(dy, centered), axes, false), cshape);
            Value inv3 = bw.mul(inv, bw.square(inv));
            accumulate(o.getVar(), bw.mul(s, bw.mul(scale, bw.mul(inv3, bw.scalar(y, -0.5)))));
          }
        })
        .Case<InstanceNormOp>([&](InstanceNormOp o) {
          // Per (n, c) over the spatial axes: xhat = (x - mean) inv.
          Value x = o.getX();
          auto xt = typeOf(x);
          SmallVector<int64_t> spatial, chan(xt.getRank(), 1), outer = {0};
          chan[1] = xt.getDimSize(1);
          for (int64_t i = 2; i < xt.getRank(); ++i) {
            spatial.push_back(i);
            outer.push_back(i);
          }
          Value centered = bw.sub(x, bw.mean(x, spatial));
          Value inv = bw.rsqrt(bw.add(bw.mean(bw.square(centered), spatial),
                                      bw.scalar(y, o.getEpsilon().convertToDouble())));
          Value xhat = bw.mul(centered, inv);
          auto cshape = typeOf(o.getScale()).getShape();
          if (active.count(x))
            accumulate(x, bw.normalizeGrad(bw.mul(dy, bw.reshape(o.getScale(), chan)), xhat, inv, spatial));
          if (active.count(o.getScale()))
            accumulate(o.getScale(), bw.reshape(bw.sum(bw.mul(dy, xhat), outer, false), cshape));
          if (active.count(o.getBias()))
            accumulate(o.getBias(), bw.reshape(bw.sum(dy, outer, false), cshape));
        })
        .Case<ConcatOp>([&](ConcatOp o) {
          int64_t axis = o.getAxis(), at = 0;
          auto ys = typeOf(y).getShape();
          for (Value part : o.getInputs()) {
            int64_t n = typeOf(part).getDimSize(axis);
            if (active.count(part)) {
              SmallVector<int64_t> starts(ys.size(), 0), steps(ys.size(), 1);
              starts[axis] = at;
              accumulate(part, b.create<SliceOp>(bw.loc, dy, b.getI64ArrayAttr(starts), b.getI64ArrayAttr(steps),
                                                 b.getI64ArrayAttr(typeOf(part).getShape())));
            }
            at += n;
          }
        })
        .Case<GatherElementsOp>([&](GatherElementsOp o) {
          accumulate(o.getX(), b.create<ScatterElementsOp>(bw.loc, bw.zerosLike(o.getX()), o.getIndices(), dy,
                                                           o.getAxisAttr(), b.getStringAttr("add")));
        })
        .Case<GatherOp>([&](GatherOp o) {
          // Embedding lookups and the like: dY's slices are added into a
          // zero dX at their indices (repeated indices sum), a ScatterND
          // over x with `axis` moved to the front.
          auto xt = typeOf(o.getX()), it = typeOf(o.getIndices());
          int64_t r = xt.getRank(), q = it.getRank();
          int64_t axis = o.getAxis() < 0 ? o.getAxis() + r : o.getAxis();
          SmallVector<int64_t> perm, front = {xt.getDimSize(axis)}, back;
          for (int64_t i = 0; i < q; ++i)
            perm.push_back(axis + i);
          for (int64_t i = 0; i < r + q - 1; ++i)
            if (i < axis || i >= axis + q)
              perm.push_back(i);
          for (int64_t i = 0; i < r; ++i)
            if (i != axis)
              front.push_back(xt.getDimSize(i));
          for (int64_t i = 0; i < r; ++i)
            back.push_back(i < axis ? i + 1 : (i == axis ? 0 : i));
          bool identity = axis == 0;
          Value updates = identity ? dy : bw.transpose(dy, perm);
          SmallVector<int64_t> idxShape(it.getShape().begin(), it.getShape().end());
          idxShape.push_back(1);
          Value idx = bw.reshape(o.getIndices(), idxShape);
          Value zeros = bw.splat(RankedTensorType::get(front, xt.getElementType()), 0.0);
          Value dx = b.create<ScatterNDOp>(bw.loc, zeros, idx, updates, b.getStringAttr("add"));
          accumulate(o.getX(), identity ? dx : bw.transpose(dx, back));
        })
        .Case<ConvOp>([&](ConvOp o) {
          // Before nn-layout and nn-fuse: plain NCHW, no epilogue.
          auto xt = typeOf(o.getX()), wt = typeOf(o.getW());
          int64_t sp = xt.getRank() - 2, group = o.getGroup(), n = xt.getDimSize(0), c = xt.getDimSize(1);
          bool depthwise = group == c && wt.getDimSize(0) == c;
          if (o.getLayout() != "nchw" || !toStrings(o.getPostOps()).empty() || o.getResidual()) {
            ok = false;
            return;
          }
          SmallVector<int64_t> kernel;
          for (int64_t i = 0; i < sp; ++i)
            kernel.push_back(wt.getDimSize(2 + i));
          if (active.count(o.getX()))
            accumulate(o.getX(), bw.transposedConv(dy, o.getW(), xt, kernel, o.getStrides(), o.getPads(),
                                                   o.getDilations(), group));
          if (active.count(o.getW())) {
            Value dw;
            if (!depthwise || group == 1) {
              dw = bw.groupedWeightGrad(o.getX(), dy, group, kernel, o.getStrides(), o.getPads(), o.getDilations());
            } else {
              // Image (n, c) correlates with dY's (n, c) only: X as one
              // image of N*C channels by dY as N*C one-channel kernels
              // (N*C groups), summed over N.
              SmallVector<int64_t> xs = {1, n * c}, ks = {n * c, 1}, perImage = {n, c};
              for (int64_t i = 0; i < sp; ++i) {
                xs.push_back(xt.getDimSize(2 + i));
                ks.push_back(typeOf(y).getDimSize(2 + i));
              }
              perImage.append(kernel.begin(), kernel.end());
              Value full = bw.correlate(bw.reshape(o.getX(), xs), bw.reshape(dy, ks), n * c, {1, n * c}, kernel,
                                        o.getStrides(), o.getPads(), o.getDilations());
              dw = bw.reshape(bw.sum(bw.reshape(full, perImage), {0}, false), wt.getShape());
            }
            accumulate(o.getW(), dw);
          }
          if (o.getB() && active.count(o.getB())) {
            SmallVector<int64_t> axes = {0};
            for (int64_t i = 0; i < sp; ++i)
              axes.push_back(2 + i);
            accumulate(o.getB(), bw.sum(dy, axes, false));
          }
        })
        .Case<ConvTransposeOp>([&](ConvTransposeOp o) {
          // The adjoint of a transposed convolution is the convolution with
          // the same weights; its weight gradient correlates dY (as the
          // input) with X, group by group ([C_in, C_out/group, k...]).
          auto xt = typeOf(o.getX()), wt = typeOf(o.getW());
          int64_t sp = xt.getRank() - 2;
          SmallVector<int64_t> kernel;
          for (int64_t i = 0; i < sp; ++i)
            kernel.push_back(wt.getDimSize(2 + i));
          if (active.count(o.getX())) {
            Value full = b.create<ConvOp>(bw.loc, dy, o.getW(), Value(), Value(), o.getStrides(), o.getPads(),
                                          o.getDilations(), o.getGroupAttr(), b.getStringAttr("nchw"),
                                          b.getStrArrayAttr({}));
            accumulate(o.getX(), bw.cropTo(full, xt.getShape()));
          }
          if (active.count(o.getW()))
            accumulate(o.getW(), bw.groupedWeightGrad(dy, o.getX(), o.getGroup(), kernel, o.getStrides(),
                                                      o.getPads(), o.getDilations()));
          if (o.getB() && active.count(o.getB())) {
            SmallVector<int64_t> axes = {0};
            for (int64_t i = 0; i < sp; ++i)
              axes.push_back(2 + i);
            accumulate(o.getB(), bw.sum(dy, axes, false));
          }
        })
        .Case<LRNOp>([&](LRNOp o) {
          // y = x s^-beta, s = bias + alpha / size * (window sum of x^2 over
          // channels). The window sum is a 1x1 convolution by a banded
          // (symmetric) channel matrix, so its adjoint is the same one:
          // dx = dy s^-beta - 2 alpha beta / size * x * band(dy x s^(-beta-1)).
          Value x = o.getX();
          auto xt = typeOf(x);
          int64_t c = xt.getDimSize(1), size = o.getSize();
          double alpha = o.getAlpha().convertToDouble(), beta = o.getBeta().convertToDouble();
          SmallVector<int64_t> wshape = {c, c};
          for (int64_t i = 2; i < xt.getRank(); ++i)
            wshape.push_back(1);
          SmallVector<double> band(c * c, 0.0);
          for (int64_t i = 0; i < c; ++i)
            for (int64_t j = std::max<int64_t>(0, i - (size - 1) / 2); j <= std::min<int64_t>(c - 1, i + size / 2); ++j)
              band[i * c + j] = 1.0;
          auto bt = RankedTensorType::get(wshape, b.getF64Type());
          Value w = b.create<ConstantOp>(bw.loc, bt, DenseElementsAttr::get(bt, ArrayRef<double>(band)));
          if (!xt.getElementType().isF64())
            w = b.create<CastOp>(bw.loc, w, TypeAttr::get(xt.getElementType()));
          int64_t sp = xt.getRank() - 2;
          SmallVector<int64_t> ones(sp, 1), zeros(2 * sp, 0);
          auto window = [&](Value v) {
            return b.create<ConvOp>(bw.loc, v, w, Value(), Value(), b.getI64ArrayAttr(ones), b.getI64ArrayAttr(zeros),
                                    b.getI64ArrayAttr(ones), b.getI64IntegerAttr(1), b.getStringAttr("nchw"),
                                    b.getStrArrayAttr({}))
                .getResult();
          };
          Value sum = bw.add(bw.mul(window(bw.square(x)), bw.scalar(y, alpha / (double)size)),
                             bw.scalar(y, o.getBias().convertToDouble()));
          Value sPow = b.create<PowOp>(bw.loc, sum, bw.scalar(y, -beta));      // s^-beta
          Value g = bw.mul(bw.mul(dy, x), bw.div(sPow, sum));                     // dy x s^(-beta-1)
          Value back = bw.mul(bw.mul(x, window(g)), bw.scalar(y, -2.0 * alpha * beta / (double)size));
          accumulate(x, bw.add(bw.mul(dy, sPow), back));
        })
        .Case<LpPoolOp>([&](LpPoolOp o) {
          // y = (sum_window |x|^p)^(1/p): each x gets |x|^(p-1) sign(x) times
          // the sum of dy y^(1-p) over the windows it is in (a depthwise
          // transposed convolution by ones).
          if (o.getChannelsLast() || o.getCeilMode()) {
            ok = false;
            return;
          }
          Value x = o.getX();
          auto xt = typeOf(x);
          double p = (double)o.getP();
          auto ks = toI64(o.getKernelShape());
          int64_t c = xt.getDimSize(1);
          SmallVector<int64_t> wshape = {c, 1};
          wshape.append(ks.begin(), ks.end());
          Value ones = bw.splat(RankedTensorType::get(wshape, xt.getElementType()), 1.0);
          Value scaled = bw.mul(dy, b.create<PowOp>(bw.loc, y, bw.scalar(y, 1.0 - p)));
          Value spread = bw.transposedConv(scaled, ones, xt, ks, o.getStrides(), o.getPads(), o.getDilations(), c);
          Value ax = b.create<AbsOp>(bw.loc, x);
          Value local = bw.mul(b.create<PowOp>(bw.loc, ax, bw.scalar(y, p - 1.0)), b.create<SignOp>(bw.loc, x));
          accumulate(x, bw.mul(spread, local));
        })
        .Case<ScatterElementsOp, ScatterNDOp>([&](Operation *op2) {
          // Reduction none: dX is dY with the overwritten places zeroed, the
          // updates get dY at their places. (add: dX = dY, updates gathered.)
          auto se = dyn_cast<ScatterElementsOp>(op2);
          StringRef red = se ? se.getReduction() : cast<ScatterNDOp>(op2).getReduction();
          if (red != "none" && red != "add") {
            ok = false;
            return;
          }
          Value x = op2->getOperand(0), idx = op2->getOperand(1), upd = op2->getOperand(2);
          bool elements = isa<ScatterElementsOp>(op2);
          if (active.count(x)) {
            Value dx = dy;
            if (red == "none")
              dx = elements ? b.create<ScatterElementsOp>(bw.loc, dy, idx, bw.zerosLike(upd), se.getAxisAttr(),
                                                         b.getStringAttr("none")).getResult()
                            : b.create<ScatterNDOp>(bw.loc, dy, idx, bw.zerosLike(upd), b.getStringAttr("none"))
                                  .getResult();
            accumulate(x, dx);
          }
          if (active.count(upd))
            accumulate(upd, elements ? b.create<GatherElementsOp>(bw.loc, dy, idx, se.getAxisAttr()).getResult()
                                     : b.create<GatherNDOp>(bw.loc, dy, idx, b.getI64IntegerAttr(0)).getResult());
        })
        .Case<EinsumOp>([&](EinsumOp o) {
          // dX_k = einsum(dY, the other operands -> X_k's letters), then
          // broadcast over X_k's letters that appear nowhere else (the
          // forward summed them). No ellipses or repeated letters.
          StringRef eq = o.getEquation();
          if (eq.contains('.')) {
            ok = false;
            return;
          }
          auto [lhs, out] = eq.split("->");
          SmallVector<StringRef> terms;
          lhs.split(terms, ',');
          for (StringRef t : terms)
            for (char ch : t)
              if (t.count(ch) > 1)
                ok = false;
          if (!ok || terms.size() != o.getInputs().size())
            return;
          for (size_t k = 0; k < terms.size(); ++k) {
            Value xk = o.getInputs()[k];
            if (!active.count(xk))
              continue;
            std::string others = out.str(), kept;
            SmallVector<Value> operands{dy};
            for (size_t j = 0; j < terms.size(); ++j)
              if (j != k) {
                others += "," + terms[j].str();
                operands.push_back(o.getInputs()[j]);
              }
            auto xt = typeOf(xk);
            SmallVector<int64_t> keptShape;
            for (size_t i = 0; i < terms[k].size(); ++i) {
              char ch = terms[k][i];
              bool elsewhere = StringRef(others).contains(ch);
              keptShape.push_back(elsewhere ? xt.getDimSize(i) : 1);
              if (elsewhere)
                kept += ch;
            }
            Value g = b.create<EinsumOp>(bw.loc, operands, b.getStringAttr(others + "->" + kept));
            accumulate(xk, bw.broadcastTo(bw.reshape(g, keptShape), xt.getShape()));
          }
        })
        .Case<ResizeOp>([&](ResizeOp o) {
          // Every mode is separable and linear: y = x times R_d along each
          // resized axis d, R_d [out_d, in_d]. R_d^T is the same resize
          // applied to an identity matrix along that axis (the rows are the
          // unit vectors; extrapolated values, constants, contribute
          // nothing), and dX = dY times R_d^T along each axis.
          Value x = o.getX();
          auto xt = typeOf(x);
          int64_t r = xt.getRank();
          auto sizes = toI64(o.getSizes());
          auto scales = toF64(o.getScales()), roi = toF64(o.getRoi());
          Type et = xt.getElementType();
          Value g = dy;
          for (int64_t d = 0; d < r; ++d) {
            int64_t in = xt.getDimSize(d), out = sizes[d];
            double scale = d < (int64_t)scales.size() ? scales[d] : 1.0;
            if (in == out && scale == 1.0 && (roi.empty() || (roi[d] == 0.0 && roi[r + d] == 1.0)))
              continue;
            auto idType = RankedTensorType::get({in, in}, b.getF64Type());
            SmallVector<double> id(in * in, 0.0);
            for (int64_t i = 0; i < in; ++i)
              id[i * in + i] = 1.0;
            Value eye = b.create<ConstantOp>(bw.loc, idType, DenseElementsAttr::get(idType, ArrayRef<double>(id)));
            if (!et.isF64())
              eye = b.create<CastOp>(bw.loc, eye, TypeAttr::get(et));
            SmallVector<double> axisRoi;
            if (!roi.empty())
              axisRoi = {0.0, roi[d], 1.0, roi[r + d]};
            auto f32s = [&](ArrayRef<double> v) {
              SmallVector<Attribute> a;
              for (double e : v)
                a.push_back(b.getF32FloatAttr((float)e));
              return b.getArrayAttr(a);
            };
            Value rt = b.create<ResizeOp>(bw.loc, RankedTensorType::get({in, out}, et), eye,
                                          b.getI64ArrayAttr({in, out}), f32s({1.0, scale}), f32s(axisRoi),
                                          o.getModeAttr(), o.getCoordinateTransformationModeAttr(),
                                          o.getNearestModeAttr(), o.getCubicCoeffAAttr(), o.getExcludeOutsideAttr(),
                                          b.getF32FloatAttr(0.0f)); // [in, out] = R_d^T
            // Axis d last, times R_d ([out, in]), back in place.
            SmallVector<int64_t> perm, inverse(r);
            for (int64_t i = 0; i < r; ++i)
              if (i != d)
                perm.push_back(i);
            perm.push_back(d);
            for (int64_t i = 0; i < r; ++i)
              inverse[perm[i]] = i;
            Value moved = bw.transpose(g, perm);
            Value prod = bw.matmul(moved, bw.transpose(rt, {1, 0}));
            g = bw.transpose(prod, inverse);
          }
          accumulate(x, g);
        })
        .Case<DetOp>([&](DetOp o) {
          // d det(A) / dA = the cofactor matrix: each cofactor the signed
          // determinant of a minor, the minors gathered all at once (exact
          // for singular matrices too).
          auto xt = typeOf(o.getX());
          int64_t r = xt.getRank(), n = xt.getDimSize(r - 1);
          SmallVector<int64_t> lead(xt.getShape().begin(), xt.getShape().end() - 2), flat = lead, keep = lead;
          flat.push_back(n * n);
          keep.append({1, 1});
          Value cof;
          if (n == 1) {
            cof = bw.splat(xt, 1.0);
          } else {
            SmallVector<int64_t> idx;
            for (int64_t i = 0; i < n; ++i)
              for (int64_t j = 0; j < n; ++j)
                for (int64_t a = 0; a < n; ++a)
                  for (int64_t c = 0; c < n; ++c)
                    if (a != i && c != j)
                      idx.push_back(a * n + c);
            auto it = RankedTensorType::get({n, n, n - 1, n - 1}, b.getI64Type());
            Value indices = b.create<ConstantOp>(bw.loc, it, DenseElementsAttr::get(it, ArrayRef<int64_t>(idx)));
            Value minors = b.create<GatherOp>(bw.loc, bw.reshape(o.getX(), flat), indices,
                                              b.getI64IntegerAttr(r - 2));
            Value dets = b.create<DetOp>(bw.loc, minors);
            SmallVector<double> sign;
            for (int64_t i = 0; i < n; ++i)
              for (int64_t j = 0; j < n; ++j)
                sign.push_back((i + j) % 2 ? -1.0 : 1.0);
            auto st = RankedTensorType::get({n, n}, b.getF64Type());
            Value signs = b.create<ConstantOp>(bw.loc, st, DenseElementsAttr::get(st, ArrayRef<double>(sign)));
            if (!xt.getElementType().isF64())
              signs = b.create<CastOp>(bw.loc, signs, TypeAttr::get(xt.getElementType()));
            cof = bw.mul(dets, signs);
          }
          accumulate(o.getX(), bw.mul(bw.reshape(dy, keep), cof));
        })
        .Case<GridSampleOp>([&](GridSampleOp o) {
          auto g = b.create<GridSampleGradOp>(bw.loc, TypeRange{o.getX().getType(), o.getGrid().getType()},
                                              o.getX(), o.getGrid(), dy, o.getModeAttr(), o.getPaddingModeAttr(),
                                              o.getAlignCornersAttr());
          accumulate(o.getX(), g.getDx());
          accumulate(o.getGrid(), g.getDgrid());
        })
        .Case<RoiAlignOp>([&](RoiAlignOp o) {
          // The boxes get no gradient (as in Detectron and torchvision).
          accumulate(o.getX(), b.create<RoiAlignGradOp>(bw.loc, o.getX().getType(), o.getX(), o.getRois(),
                                                        o.getBatchIndices(), dy, o.getModeAttr(),
                                                        o.getSamplingRatioAttr(), o.getSpatialScaleAttr(),
                                                        o.getHalfPixelAttr()));
        })
        .Case<STFTOp>([&](STFTOp o) {
          // Per frame, the adjoint of the DFT (dropped onesided bins are
          // zeros), then the window, then overlap-add back into the signal
          // (a scatter-add at f * step + n); the window's gradient sums
          // over the frames it multiplied.
          Value sig = o.getSignal();
          auto st = typeOf(sig);
          int64_t batch = st.getDimSize(0), length = st.getDimSize(1), comps = st.getDimSize(2);
          int64_t len = o.getFrameLength(), step = o.getFrameStep(), frames = typeOf(y).getDimSize(1);
          int64_t bins = typeOf(y).getDimSize(2);
          Value g = dy;
          if (bins < len) {
            SmallVector<int64_t> pads(8, 0);
            pads[4 + 2] = len - bins;
            g = b.create<PadOp>(bw.loc, g, b.getI64ArrayAttr(pads), b.getStringAttr("constant"),
                                b.getF64FloatAttr(0.0));
          }
          g = b.create<DFTOp>(bw.loc, g, b.getI64IntegerAttr(2), b.getI64IntegerAttr(len), b.getBoolAttr(true),
                              b.getBoolAttr(false));
          g = bw.mul(g, bw.scalar(g, (double)len)); // d(windowed frames) [B, F, len, 2]
          g = bw.cropTo(g, {batch, frames, len, comps});
          Value window = o.getWindow();
          if (window && active.count(window)) {
            SmallVector<int64_t> idx;
            for (int64_t f = 0; f < frames; ++f)
              for (int64_t n = 0; n < len; ++n)
                idx.push_back(f * step + n);
            auto it = RankedTensorType::get({frames, len}, b.getI64Type());
            Value at = b.create<ConstantOp>(bw.loc, it, DenseElementsAttr::get(it, ArrayRef<int64_t>(idx)));
            Value framesOf = b.create<GatherOp>(bw.loc, sig, at, b.getI64IntegerAttr(1)); // [B, F, len, c]
            accumulate(window, bw.reshape(bw.sum(bw.mul(g, framesOf), {0, 1, 3}, false), typeOf(window).getShape()));
          }
          if (active.count(sig)) {
            Value d = window ? bw.mul(g, bw.reshape(window, {1, 1, len, 1})) : g;
            SmallVector<int64_t> idx;
            for (int64_t f = 0; f < frames; ++f)
              for (int64_t n = 0; n < len; ++n)
                idx.push_back(f * step + n);
            auto it = RankedTensorType::get({frames * len, 1}, b.getI64Type());
            Value at = b.create<ConstantOp>(bw.loc, it, DenseElementsAttr::get(it, ArrayRef<int64_t>(idx)));
            Value upd = bw.reshape(bw.transpose(d, {1, 2, 0, 3}), {frames * len, batch, comps});
            Value zeros = bw.splat(RankedTensorType::get({length, batch, comps}, st.getElementType()), 0.0);
            Value sum = b.create<ScatterNDOp>(bw.loc, zeros, at, upd, b.getStringAttr("add"));
            accumulate(sig, bw.transpose(sum, {1, 0, 2}));
          }
        })
        .Case<DFTOp>([&](DFTOp o) {
          // A DFT is linear; its adjoint (on (re, im) pairs) is the
          // conjugate transpose: the opposite-direction transform, scaled
          // by N (forward) or 1/N (inverse). A onesided result's dropped
          // bins are zeros; the length's padding or truncation of x is
          // undone by a crop or a zero pad; a real x keeps the real part.
          auto xt = typeOf(o.getX());
          int64_t axis = o.getAxis(), n = o.getLength(), r = xt.getRank(), nIn = xt.getDimSize(axis);
          auto padAxis = [&](Value v, int64_t before, int64_t after, int64_t at) {
            SmallVector<int64_t> pads(2 * r, 0);
            pads[at] = before;
            pads[r + at] = after;
            return b.create<PadOp>(bw.loc, v, b.getI64ArrayAttr(pads), b.getStringAttr("constant"),
                                   b.getF64FloatAttr(0.0))
                .getResult();
          };
          Value g = dy;
          int64_t bins = typeOf(dy).getDimSize(axis);
          if (bins < n)
            g = padAxis(g, 0, n - bins, axis);
          g = b.create<DFTOp>(bw.loc, g, o.getAxisAttr(), o.getLengthAttr(), b.getBoolAttr(!o.getInverse()),
                              b.getBoolAttr(false));
          g = bw.mul(g, bw.scalar(g, o.getInverse() ? 1.0 / (double)n : (double)n));
          SmallVector<int64_t> shape(typeOf(g).getShape().begin(), typeOf(g).getShape().end());
          if (n > nIn)
            shape[axis] = nIn;
          shape.back() = xt.getShape().back();
          g = bw.cropTo(g, shape);
          if (n < nIn)
            g = padAxis(g, 0, nIn - n, axis);
          accumulate(o.getX(), g);
        })
        .Case<MaxUnpoolOp>([&](MaxUnpoolOp o) {
          // Each x went to one place of y: its gradient is dY there.
          auto idxShape = toI64(o.getIndexShape());
          auto ys = typeOf(y).getShape();
          if (idxShape.size() != ys.size()) {
            ok = false;
            return;
          }
          for (size_t i = 0; i < ys.size(); ++i)
            if (idxShape[i] > ys[i]) {
              ok = false;
              return;
            }
          auto xt = typeOf(o.getX());
          int64_t n = 1, m = xt.getNumElements();
          for (int64_t d : idxShape)
            n *= d;
          Value region = bw.cropTo(dy, idxShape);
          Value flat = bw.reshape(region, {n});
          Value picked = b.create<GatherElementsOp>(bw.loc, flat, bw.reshape(o.getIndices(), {m}),
                                                    b.getI64IntegerAttr(0));
          accumulate(o.getX(), bw.reshape(picked, xt.getShape()));
        })
        .Case<ModOp>([&](ModOp o) {
          // y = a - b q with q constant almost everywhere: dy/da = 1,
          // dy/db = -q = (y - a) / b.
          if (!isFloatTensor(o.getLhs())) {
            ok = false;
            return;
          }
          accumulate(o.getLhs(), dy);
          if (active.count(o.getRhs()))
            accumulate(o.getRhs(), bw.mul(dy, bw.div(bw.sub(y, o.getLhs()), o.getRhs())));
        })
        .Case<MaxPoolOp>([&](MaxPoolOp o) {
          if (o.getChannelsLast()) {
            ok = false;
            return;
          }
          // The gradient goes to each window's maximum: the pool again,
          // with the flat indices of the maxima, then a scatter-add.
          auto xt = typeOf(o.getX());
          Type idxType = RankedTensorType::get(typeOf(y).getShape(), b.getI64Type());
          auto withIdx = b.create<MaxPoolWithIndicesOp>(bw.loc, TypeRange{y.getType(), idxType}, o.getX(),
                                                        o.getKernelShape(), o.getStrides(), o.getPads(),
                                                        o.getDilations(), o.getCeilModeAttr(),
                                                        b.getI64IntegerAttr(0));
          int64_t n = xt.getNumElements(), m = typeOf(y).getNumElements();
          Value flatIdx = bw.reshape(withIdx.getIndices(), {m});
          Value flatDy = bw.reshape(dy, {m});
          Value zeros = bw.splat(RankedTensorType::get({n}, xt.getElementType()), 0.0);
          Value dx = b.create<ScatterElementsOp>(bw.loc, zeros, flatIdx, flatDy, b.getI64IntegerAttr(0),
                                                 b.getStringAttr("add"));
          accumulate(o.getX(), bw.reshape(dx, xt.getShape()));
        })
        .Case<AvgPoolOp>([&](AvgPoolOp o) {
          auto xt = typeOf(o.getX());
          auto pads = toI64(o.getPads());
          bool padded = llvm::any_of(pads, [](int64_t p) { return p != 0; });
          if (o.getChannelsLast() || o.getCeilMode() || (padded && !o.getCountIncludePad())) {
            ok = false;
            return;
          }
          // Each input element gets dY / window size from every window it
          // is in: a depthwise transposed convolution by a constant kernel.
          auto ks = toI64(o.getKernelShape());
          int64_t c = xt.getDimSize(1), window = 1;
          SmallVector<int64_t> wshape = {c, 1};
          for (int64_t k : ks) {
            wshape.push_back(k);
            window *= k;
          }
          Value w = bw.splat(RankedTensorType::get(wshape, xt.getElementType()), 1.0 / (double)window);
          accumulate(o.getX(), bw.transposedConv(dy, w, xt, ks, o.getStrides(), o.getPads(), o.getDilations(), c));
        })
        .Default([&](Operation *) { ok = false; });
    if (!ok) {
      std::string name = sourceName(op);
      error = "no gradient for '" + op->getName().getStringRef().str() + "'" +
              (name.empty() ? std::string() : " (node '" + name + "')") +
              "; differentiable ops: elementwise arithmetic and activations, matmul, gemm, softmax, "
              "log_softmax, reductions, reshape, transpose, tile, slice (unit steps), pad (constant), concat, gather, "
              "gather_elements, gather_nd, scatter_elements, scatter_nd, topk, mod, einsum, max_unpool, resize, grid_sample, "
              "roi_align, "
              "dft, stft, "
              "det, "
              "cumsum, "
              "trilu, "
              "reverse_sequence, "
              "conv, conv_transpose, max_pool, avg_pool, lp_pool, lrn, batch_norm, layer_norm, instance_norm, lstm, "
              "gru, rnn";
      return false;
    }
    return true;
  };
  loopBackward = [&](LoopOp loop) -> bool {
    return loopGradient(b, bw, loop, grad, active, accumulate, backOp, options, error);
  };
  for (Operation *op : llvm::reverse(ops))
    if (!backOp(op))
      return false;
  for (Value v : wrt) {
    auto it = grad.find(v);
    grads.push_back(it != grad.end() ? it->second : bw.zerosLike(v));
  }
  return true;
}

bool parseLossKind(StringRef name, LossKind &kind) {
  if (name == "softmax_cross_entropy")
    kind = LossKind::SoftmaxCrossEntropy;
  else if (name == "mse")
    kind = LossKind::MeanSquaredError;
  else if (name == "bce_with_logits" || name == "binary_cross_entropy_with_logits")
    kind = LossKind::BinaryCrossEntropyWithLogits;
  else if (name == "sum_squares")
    kind = LossKind::SumOfSquares;
  else
    return false;
  return true;
}

Value emitLoss(OpBuilder &b, Location loc, LossKind kind, Value prediction, Value target) {
  Backward e(b, loc);
  auto pt = typeOf(prediction);
  auto mean = [&](Value v) { return b.create<ReduceMeanOp>(loc, v, b.getI64ArrayAttr({}), b.getBoolAttr(false)); };
  switch (kind) {
  case LossKind::SoftmaxCrossEntropy: {
    // -mean(log_softmax(z)[n, label[n]])
    Value ls = b.create<LogSoftmaxOp>(loc, prediction, b.getI64IntegerAttr(pt.getRank() - 1));
    SmallVector<int64_t> idxShape(pt.getShape().begin(), pt.getShape().end());
    idxShape.back() = 1;
    Value idx = e.reshape(target, idxShape);
    Value picked = b.create<GatherElementsOp>(loc, ls, idx, b.getI64IntegerAttr(pt.getRank() - 1));
    return e.neg(mean(picked));
  }
  case LossKind::MeanSquaredError: {
    Value d = e.sub(prediction, target);
    return mean(e.mul(d, d));
  }
  case LossKind::SumOfSquares:
    return b.create<ReduceSumOp>(loc, e.mul(prediction, prediction), b.getI64ArrayAttr({}), b.getBoolAttr(false));
  case LossKind::BinaryCrossEntropyWithLogits: {
    // max(z, 0) - z t + log(1 + exp(-|z|)), stable for any z.
    Value z = prediction;
    Value relu = b.create<ReluOp>(loc, z);
    Value soft = b.create<SoftplusOp>(loc, e.neg(b.create<AbsOp>(loc, z)));
    return mean(e.add(e.sub(relu, e.mul(z, target)), soft));
  }
  }
  return Value();
}

std::vector<std::string> paramsToArguments(func::FuncOp func) {
  std::vector<std::string> names;
  std::map<std::string, BlockArgument> args;
  Block &body = func.getBody().front();
  SmallVector<ParamOp> params;
  // Running statistics (batch_norm's mean and var) are not trained by
  // gradient: they stay constants.
  auto isRunningStat = [](OpOperand &use) {
    auto bn = dyn_cast<BatchNormOp>(use.getOwner());
    return bn && (use.get() == bn.getMean() || use.get() == bn.getVar());
  };
  func.walk([&](ParamOp p) {
    if (p.getFrozen() || !isFloatTensor(p.getResult()))
      return;
    if (!p.getResult().use_empty() && llvm::all_of(p.getResult().getUses(), isRunningStat))
      return;
    params.push_back(p);
  });
  for (ParamOp p : params) {
    std::string name = p.getName().str();
    auto it = args.find(name);
    if (it == args.end()) {
      it = args.emplace(name, appendNamedArgument(func, p.getType(), name)).first;
      names.push_back(name);
    }
    p.getResult().replaceAllUsesWith(it->second);
    p.erase();
  }
  return names;
}

bool parseRecurrentMemoryPolicy(StringRef text, std::string &policy, int64_t &budget, std::string &error) {
  budget = 0;
  const std::string given = text.str();
  if (text == "store-all" || text == "recompute-gates" || text == "checkpoint") {
    policy = text.str();
    return true;
  }
  if (text.consume_front("budget=")) {
    uint64_t scale = 1;
    if (text.consume_back("K") || text.consume_back("k"))
      scale = 1ull << 10;
    else if (text.consume_back("M") || text.consume_back("m"))
      scale = 1ull << 20;
    else if (text.consume_back("G") || text.consume_back("g"))
      scale = 1ull << 30;
    uint64_t n = 0;
    if (!text.getAsInteger(10, n) && n > 0) {
      policy = "budget";
      budget = (int64_t)(n * scale);
      return true;
    }
  }
  error = "--rnn-memory takes store-all, recompute-gates, checkpoint or budget=BYTES (e.g. budget=64M), got '" +
          given + "'";
  return false;
}

/// Puts a `name` op (the forward's operands and attributes, and `extra`)
/// with one more result, of type `saved`, in the forward's place; returns
/// that result.
static Value extendForward(Operation *fwd, StringRef name, Type saved, ArrayRef<NamedAttribute> extra = {}) {
  SmallVector<Type> types(fwd->getResultTypes());
  types.push_back(saved);
  return replaceWithKind(fwd, name, types, extra)->getResults().back();
}

/// [directions, d1, d2, ...] of the recurrent layer x feeds.
static RankedTensorType savedType(Value x, StringRef direction, ArrayRef<int64_t> dims) {
  SmallVector<int64_t> shape{direction == "bidirectional" ? 2 : 1};
  shape.append(dims.begin(), dims.end());
  return RankedTensorType::get(shape, x.getType().cast<RankedTensorType>().getElementType());
}

void setRecurrentMemoryPolicy(func::FuncOp func, StringRef policy, int64_t budget) {
  Builder b(func.getContext());
  auto set = [&](auto op) {
    op.setMemoryPolicyAttr(b.getStringAttr(policy));
    op.setMemoryBudgetAttr(b.getI64IntegerAttr(budget));
  };
  auto dimOf = [](Value v, unsigned i) { return v.getType().cast<RankedTensorType>().getDimSize(i); };
  // The backward's working set for segments of recomputeSegmentSteps,
  // counted generously: a segment's x, dx, h_{t-1} and c rows (and, when
  // it recomputes them, its pre-activations, `recomputed` wide), a cell
  // state per segment (the LSTM's checkpoints), per-row buffers, the
  // portable GEMM's packing scratch (runtime/kernels/Gemm.cpp: its K is the
  // segment's rows, at most 256) and each buffer's alignment. (x of static
  // shape.)
  auto workingBytes = [&](Value x, int64_t H, int64_t elt, int64_t recomputed) {
    int64_t T = dimOf(x, 0), B = dimOf(x, 1), I = dimOf(x, 2), S = recomputeSegmentSteps(T, B);
    int64_t N = std::max({4 * H, I, H}), K = std::min<int64_t>(std::max({S * B, 4 * H, I}), 256);
    return elt * (S * B * (2 * I + 2 * H + recomputed) + (T + S - 1) / S * B * H + 16 * B * H +
                  8 * H + K * std::min<int64_t>(N, 512) + K) +
           8 * S + 32 * 64;
  };
  // Store-all: the forward keeps every step's pre-activations ([D, T, B,
  // width]; the GRU's rows also keep r * h_{t-1}), so the backward runs no
  // GEMM to recompute them. A budget does too when they fit beside the
  // backward's working set for segments of recomputeSegmentSteps (GEMMs of
  // about 256 rows); the kernel then picks the longest segments that fit
  // beside them. (Shorter segments would add their weight gradients with
  // GEMMs over a few rows each, reading and writing dW and dR every time:
  // slower than recomputing the gates.)
  auto fitsBudget = [&](RankedTensorType saved, Value x, int64_t H) {
    if (policy != "budget" || !saved.hasStaticShape() || !x.getType().cast<RankedTensorType>().hasStaticShape())
      return false;
    int64_t elt = (saved.getElementTypeBitWidth() + 7) / 8, bytes = saved.getNumElements() * elt;
    return bytes + workingBytes(x, H, elt, 0) <= budget;
  };
  auto saveGates = [&](auto grad, auto fwd, StringRef name, int64_t width) {
    if (!fwd || grad.getGates())
      return false;
    Value x = grad.getX();
    auto type = savedType(x, fwd.getDirection(), {dimOf(x, 0), dimOf(x, 1), width});
    if (policy != "store-all" && !fitsBudget(type, x, (int64_t)grad.getHiddenSize()))
      return false;
    grad.getGatesMutable().assign(extendForward(fwd, name, type));
    return true;
  };
  // A budget that holds the pre-activations (rows of `width`, in D
  // directions) of at least half the steps but not of all, beside the
  // working set of recomputed segments and `held` bytes the forward saves
  // besides: the steps after the first m segments of recomputeSegmentSteps,
  // the fewest m that leave the rest within the budget; else 0. The
  // backward works in their rows and recomputes the others. (With fewer,
  // the budget does more as room for longer recomputed segments. A 1-layer
  // LSTM of 512 units, batch 16, 1600 steps, under budget=64M took 1.29x
  // store-all's step time saving the gates of its last 416 steps, 1.21x
  // recomputing all of them in the longest segments; the same GRU, 1023 to
  // 1029 ms saving the rows of its last 432 steps against 982 to 1041 ms
  // recomputing them all. Under budget=128M the GRU took 836 to 993 ms
  // saving those of its last 944 steps, 1005 to 1084 ms recomputing them.)
  auto lastStepsFitting = [&](Value x, int64_t H, int64_t D, int64_t width, int64_t elt, int64_t held) {
    int64_t T = dimOf(x, 0), B = dimOf(x, 1), S = recomputeSegmentSteps(T, B);
    int64_t room = budget - workingBytes(x, H, elt, width) - held;
    int64_t fit = room > 0 ? room / (D * B * width * elt) : 0;
    int64_t m = std::max<int64_t>(1, (T - fit + S - 1) / S), saved = T - m * S;
    return fit > 0 && saved >= 1 && 2 * saved >= T ? saved : int64_t(0);
  };
  // A GRU's or RNN's forward saves the rows of such steps (nn.*_with_gates
  // with saved_steps): its state is h, which y holds, so the backward
  // recomputes the others from x and y, with no states saved.
  auto saveLastGates = [&](auto grad, auto fwd, StringRef name, int64_t width) {
    Value x = grad.getX();
    if (!fwd || grad.getGates() || policy != "budget" || !x.getType().cast<RankedTensorType>().hasStaticShape())
      return;
    auto xType = x.getType().cast<RankedTensorType>();
    int64_t elt = (xType.getElementTypeBitWidth() + 7) / 8, D = fwd.getDirection() == "bidirectional" ? 2 : 1;
    int64_t saved = lastStepsFitting(x, (int64_t)grad.getHiddenSize(), D, width, elt, 0);
    if (saved == 0)
      return;
    auto type = savedType(x, fwd.getDirection(), {saved, dimOf(x, 1), width});
    grad.getGatesMutable().assign(
        extendForward(fwd, name, type, {b.getNamedAttr("saved_steps", b.getI64IntegerAttr(saved))}));
  };
  func.walk([&](LSTMGradOp op) {
    set(op);
    auto fwd = op.getY() ? op.getY().getDefiningOp<LSTMOp>() : LSTMOp();
    if (op.getCheckpoints() ||
        saveGates(op, fwd, LSTMWithGatesOp::getOperationName(), 4 * (int64_t)op.getHiddenSize()))
      return;
    // The forward also saves the states before each segment of the
    // backward, which starts each segment from them instead of running a
    // first pass forward to compute them. Checkpointing: segments of about
    // sqrt(T) steps; the backward recomputes h inside each, reading no y,
    // so y (T-sized) can die with the loss and its gradient.
    // Recompute-gates and a budget that does not hold the gates keep y and
    // save only c every recompute segment of 256 rows (1 / (256 / B) of y's
    // size; the budget's segments are multiples of them where they fit).
    if (!fwd || op.getGates() || policy == "store-all")
      return;
    Value x = op.getX();
    auto xType = x.getType().cast<RankedTensorType>();
    if (!xType.hasStaticShape())
      return;
    int64_t T = dimOf(x, 0), B = dimOf(x, 1), H = op.getHiddenSize();
    bool checkpoint = policy == "checkpoint";
    int64_t S = checkpoint ? checkpointSegmentSteps(T) : recomputeSegmentSteps(T, B);
    if (!checkpoint && S >= T)
      return; // one segment, which starts from the initial states
    int64_t states = checkpoint ? 2 : 1;
    auto type = savedType(x, fwd.getDirection(), {(T + S - 1) / S, states, B, H});
    SmallVector<NamedAttribute> attrs{b.getNamedAttr("segment_steps", b.getI64IntegerAttr(S))};
    if (states != 2) // (the default)
      attrs.push_back(b.getNamedAttr("states", b.getI64IntegerAttr(states)));
    // A budget that holds the gates of at least half the steps but not of
    // all, beside the checkpoints (lastStepsFitting): the forward also saves
    // those (nn.lstm_saving), and the backward works in them there.
    if (policy == "budget") {
      int64_t elt = (type.getElementTypeBitWidth() + 7) / 8, D = type.getDimSize(0);
      int64_t saved = lastStepsFitting(x, H, D, 4 * H, elt, type.getNumElements() * elt);
      if (saved > 0) {
        attrs.push_back(b.getNamedAttr("saved_steps", b.getI64IntegerAttr(saved)));
        SmallVector<Type> types(fwd->getResultTypes());
        types.push_back(type);
        types.push_back(savedType(x, fwd.getDirection(), {saved, B, 4 * H}));
        Operation *saving = replaceWithKind(fwd, LSTMSavingOp::getOperationName(), types, attrs);
        op.getCheckpointsMutable().assign(saving->getResult(3));
        op.getGatesMutable().assign(saving->getResult(4));
        return;
      }
    }
    op.getCheckpointsMutable().assign(
        extendForward(fwd, LSTMCheckpointedOp::getOperationName(), type, attrs));
    if (checkpoint)
      op.getYMutable().clear();
  });
  func.walk([&](GRUGradOp op) {
    set(op);
    auto fwd = op.getY() ? op.getY().getDefiningOp<GRUOp>() : GRUOp();
    int64_t width = 4 * (int64_t)op.getHiddenSize();
    if (!saveGates(op, fwd, GRUWithGatesOp::getOperationName(), width))
      saveLastGates(op, fwd, GRUWithGatesOp::getOperationName(), width);
  });
  func.walk([&](RNNGradOp op) {
    set(op);
    auto fwd = op.getY() ? op.getY().getDefiningOp<RNNOp>() : RNNOp();
    int64_t width = op.getHiddenSize();
    if (!saveGates(op, fwd, RNNWithGatesOp::getOperationName(), width))
      saveLastGates(op, fwd, RNNWithGatesOp::getOperationName(), width);
  });
}

BlockArgument appendNamedArgument(func::FuncOp func, Type type, StringRef name) {
  unsigned n = func.getNumArguments();
  MLIRContext *ctx = func.getContext();
  auto attrs = DictionaryAttr::get(ctx, {NamedAttribute(StringAttr::get(ctx, "nn.name"), StringAttr::get(ctx, name))});
  func.insertArgument(n, type, attrs, func.getLoc());
  return func.getArgument(n);
}

void setFunctionResults(func::FuncOp func, ArrayRef<Value> values) {
  Operation *ret = func.getBody().front().getTerminator();
  ret->setOperands(values);
  func->removeAttr("res_attrs");
  SmallVector<Type> types;
  for (Value v : values)
    types.push_back(v.getType());
  func.setType(FunctionType::get(func.getContext(), func.getArgumentTypes(), types));
}

void setResultsWithRowChecks(func::FuncOp func, ArrayRef<Value> values, ArrayRef<Value> cappedCounts) {
  SmallVector<Value> all(values.begin(), values.end());
  all.append(cappedCounts.begin(), cappedCounts.end());
  setFunctionResults(func, all);
  auto i64 = IntegerType::get(func.getContext(), 64);
  for (size_t k = 0; k < cappedCounts.size(); ++k) {
    // (The loop stops at the fewest rows of its scan outputs: codegen.)
    int64_t rows = cast<LoopOp>(cappedCounts[k].getDefiningOp()).getScanRows();
    func.setResultAttr(values.size() + k, "nn.rows_within", IntegerAttr::get(i64, rows));
    func.setResultAttr(values.size() + k, "nn.grows_loop", IntegerAttr::get(i64, (int64_t)k));
  }
}

//===----------------------------------------------------------------------===//
// The pass, for nncc-opt and IR dumps.
//===----------------------------------------------------------------------===//

namespace {
#define GEN_PASS_CLASSES
#include "passes/Passes.h.inc"

struct AutodiffPass : AutodiffBase<AutodiffPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    if (params)
      paramsToArguments(func);
    Operation *ret = func.getBody().front().getTerminator();
    if (ret->getNumOperands() == 0) {
      func.emitError("nn-autodiff: the function returns nothing; its first result must be the loss");
      return signalPassFailure();
    }
    Value loss = ret->getOperand(0);
    SmallVector<Value> wrt, grads;
    for (BlockArgument a : func.getArguments())
      if (isFloatTensor(a))
        wrt.push_back(a);
    std::string error, policy;
    int64_t budget = 0;
    if (!parseRecurrentMemoryPolicy(rnnMemory, policy, budget, error)) {
      func.emitError("nn-autodiff: ") << error;
      return signalPassFailure();
    }
    OpBuilder b(ret);
    SmallVector<Value> capped;
    DifferentiateOptions options;
    options.loopRows = loopRows;
    options.cappedCounts = &capped;
    if (!differentiate(b, loss, wrt, grads, error, options)) {
      func.emitError("nn-autodiff: ") << error;
      return signalPassFailure();
    }
    loss = ret->getOperand(0); // differentiate may have replaced its op (a loop)
    numBackward = opsNeedingBackward(loss, wrt).size();
    setRecurrentMemoryPolicy(func, policy, budget);
    SmallVector<Value> results(ret->getOperands());
    results.append(grads.begin(), grads.end());
    setResultsWithRowChecks(func, results, capped);
  }
};
} // namespace

std::unique_ptr<Pass> createAutodiffPass() { return std::make_unique<AutodiffPass>(); }

namespace {

struct ExpandGradientsPass : ExpandGradientsBase<ExpandGradientsPass> {
  void runOnOperation() override {
    if (!expandGradientOps(getOperation(), [](Operation *op, const std::string &error) {
          op->emitError("nn-expand-gradients: ") << error;
        }))
      signalPassFailure();
  }
};

} // namespace

bool expandGradientOps(func::FuncOp func, llvm::function_ref<void(Operation *, const std::string &)> report) {
  SmallVector<nn::GradientOp> ops;
  func.walk([&](nn::GradientOp g) { ops.push_back(g); });
  for (nn::GradientOp g : ops) {
    if (g->use_empty()) {
      g.erase();
      continue;
    }
    // Autodiff walks back from y within its block: y computed outside the
    // loop body the op is in would leave the body's gradient out.
    if (g.getY().getParentBlock() != g->getBlock()) {
      report(g, "y is computed outside the region (a loop body, a branch) the Gradient is in");
      return false;
    }
    OpBuilder b(g);
    Value y = g.getY();
    if (y.getType().cast<RankedTensorType>().getRank() > 0) // each element's seed is 1
      y = b.create<nn::ReduceSumOp>(g.getLoc(), y, b.getI64ArrayAttr({}), b.getBoolAttr(false));
    SmallVector<Value> wrt(g.getXs().begin(), g.getXs().end()), grads;
    std::string error;
    if (!differentiate(b, y, wrt, grads, error)) {
      report(g, error);
      return false;
    }
    g.replaceAllUsesWith(grads);
    g.erase();
  }
  return true;
}

std::unique_ptr<Pass> createExpandGradientsPass() { return std::make_unique<ExpandGradientsPass>(); }

} // namespace nncc
