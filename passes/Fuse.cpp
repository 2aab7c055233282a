//===- Fuse.cpp - epilogues into convolutions and matmuls -----------------===//
#include "passes/Passes.h"
#include "passes/Rewrite.h"

#include "ir/ConstFold.h"
#include "ir/ShapeUtils.h"

#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

#include <cmath>
#include <cstring>

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <sstream>

using namespace mlir;
using namespace nncc::nn;

namespace nncc {
namespace {
#define GEN_PASS_CLASSES
#include "passes/Passes.h.inc"

/// The convolution producing `v` when `v` has no other use.
ConvOp soleConv(Value v) {
  auto conv = v.getDefiningOp<ConvOp>();
  return conv && v.hasOneUse() ? conv : ConvOp();
}

/// The op producing `v` that runs post-ops (conv, matmul, gemm on floats)
/// when `v` has no other use.
Operation *soleProducer(Value v) {
  Operation *p = v.getDefiningOp();
  if (!p || !v.hasOneUse() || !isa<ConvOp, MatMulOp, GemmOp>(p) ||
      !v.getType().cast<RankedTensorType>().getElementType().isa<FloatType>())
    return nullptr;
  return p;
}

ArrayAttr postOpsOf(Operation *op) { return op->getAttrOfType<ArrayAttr>("post_ops"); }

std::string num(double v) {
  std::ostringstream os;
  os.precision(9);
  os << v;
  return os.str();
}

/// Replaces `op` by a copy of `producer` with `postOp` appended (and, for a
/// convolution, `residual`); `between` are the ops from producer to op,
/// erased with it.
void fuseInto(PatternRewriter &b, Operation *op, Operation *producer, StringRef postOp, Value residual = {},
              ArrayRef<Operation *> between = {}) {
  SmallVector<Attribute> ops;
  if (ArrayAttr old = postOpsOf(producer))
    ops.append(old.begin(), old.end());
  ops.push_back(b.getStringAttr(postOp));
  Operation *fused;
  if (residual) {
    auto conv = cast<ConvOp>(producer);
    fused = b.create<ConvOp>(op->getLoc(), conv.getX(), conv.getW(), conv.getB(), residual, conv.getStrides(),
                             conv.getPads(), conv.getDilations(), conv.getGroupAttr(), conv.getLayoutAttr(),
                             b.getArrayAttr(ops));
  } else {
    fused = b.clone(*producer);
    fused->setAttr("post_ops", b.getArrayAttr(ops));
  }
  b.replaceOp(op, fused->getResult(0));
  for (Operation *dead : between)
    b.eraseOp(dead);
  b.eraseOp(producer);
}

template <typename OpT> struct Activation : OpRewritePattern<OpT> {
  using OpRewritePattern<OpT>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpT op, PatternRewriter &b) const override {
    Operation *producer = soleProducer(op.getX());
    if (!producer)
      return failure();
    std::string p;
    if constexpr (std::is_same<OpT, ReluOp>::value) p = "relu";
    else if constexpr (std::is_same<OpT, SigmoidOp>::value) p = "sigmoid";
    else if constexpr (std::is_same<OpT, TanhOp>::value) p = "tanh";
    else if constexpr (std::is_same<OpT, LeakyReluOp>::value) p = "leaky_relu:" + num(op.getAlpha().convertToDouble());
    else if constexpr (std::is_same<OpT, EluOp>::value) p = "elu:" + num(op.getAlpha().convertToDouble());
    fuseInto(b, op, producer, p);
    return success();
  }
};

/// min(max(conv, lo), hi) -> clip; max(conv, 0) -> relu (Clip imports as max/min).
struct ClipMin : OpRewritePattern<MinOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MinOp op, PatternRewriter &b) const override {
    double hi, lo;
    auto max = op.getLhs().getDefiningOp<MaxOp>();
    if (!max || !op.getLhs().hasOneUse() || !scalarConstant(op.getRhs(), hi) || !scalarConstant(max.getRhs(), lo))
      return failure();
    Operation *producer = soleProducer(max.getLhs());
    if (!producer || op.getType() != producer->getResult(0).getType())
      return failure();
    fuseInto(b, op, producer, "clip:" + num(lo) + ":" + num(hi), {}, {max});
    return success();
  }
};

struct ReluMax : OpRewritePattern<MaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MaxOp op, PatternRewriter &b) const override {
    double lo;
    Operation *producer = soleProducer(op.getLhs());
    if (!producer || !scalarConstant(op.getRhs(), lo) || lo != 0 || op.getType() != producer->getResult(0).getType())
      return failure();
    // A max feeding a min is the lower half of a clip: leave it to ClipMin.
    for (Operation *user : op->getUsers())
      if (isa<MinOp>(user))
        return failure();
    fuseInto(b, op, producer, "relu");
    return success();
  }
};

/// add(conv, r) -> conv(..., residual = r) {post_ops = [..., "sum"]}
struct Residual : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp op, PatternRewriter &b) const override {
    for (int k = 0; k < 2; ++k) {
      Value c = k ? op.getRhs() : op.getLhs(), r = k ? op.getLhs() : op.getRhs();
      ConvOp conv = soleConv(c);
      if (!conv || conv.getResidual() || r.getType() != conv.getType() || op.getType() != conv.getType())
        continue;
      fuseInto(b, op, conv, "sum", r);
      return success();
    }
    return failure();
  }
};

/// add(matmul(a, b), c) with c a row ([N] or [1, ..., N]) -> matmul(a, b, bias = c)
struct MatMulBias : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp op, PatternRewriter &b) const override {
    for (int k = 0; k < 2; ++k) {
      Value m = k ? op.getRhs() : op.getLhs(), c = k ? op.getLhs() : op.getRhs();
      auto mm = m.getDefiningOp<MatMulOp>();
      // The bias comes before any post-op: only a matmul without them takes it.
      if (!mm || !m.hasOneUse() || mm.getBias() || !mm.getPostOps().empty() || op.getType() != mm.getType())
        continue;
      auto ct = c.getType().cast<RankedTensorType>();
      auto yt = mm.getType().cast<RankedTensorType>();
      int64_t n = yt.getShape().back();
      if (ct.getRank() < 1 || ct.getShape().back() != n || ct.getNumElements() != n)
        continue;
      Value bias = reshapeTo(b, op.getLoc(), c, {n});
      auto fused = b.create<MatMulOp>(op.getLoc(), mm.getA(), mm.getB(), bias, b.getStrArrayAttr({}));
      b.replaceOp(op, fused.getY());
      b.eraseOp(mm);
      return success();
    }
    return failure();
  }
};

/// The float32 values of a parameter (from the weight store) or constant.
bool readFloats(Value v, std::vector<double> &out) {
  auto t = v.getType().cast<RankedTensorType>();
  if (!t.getElementType().isF32() || !t.hasStaticShape())
    return false;
  int64_t n = t.getNumElements();
  if (auto p = v.getDefiningOp<ParamOp>()) {
    auto &store = v.getContext()->getLoadedDialect<NNDialect>()->getWeightStore();
    const auto *bytes = store.lookup(p.getName());
    if (!bytes || (int64_t)bytes->size() != n * 4)
      return false;
    const float *f = reinterpret_cast<const float *>(bytes->data());
    out.assign(f, f + n);
    return true;
  }
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return false;
  auto c = readConst(attr);
  if (!c || c->size() != n)
    return false;
  out.assign(c->f.begin(), c->f.end());
  return true;
}

/// A new frozen parameter holding `values` (float32).
Value newParam(PatternRewriter &b, Location loc, StringRef base, RankedTensorType type,
               const std::vector<double> &values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  for (size_t k = 0; k < values.size(); ++k) {
    float f = (float)values[k];
    std::memcpy(bytes.data() + 4 * k, &f, 4);
  }
  return newFrozenParam(b, loc, base, type, std::move(bytes));
}

/// batch_norm(conv(x, w, b)) in inference -> conv(x, w * s, (b - mean) * s + beta)
/// with s = gamma / sqrt(var + eps) per output channel: the normalization
/// costs nothing at run time. Needs the weights and statistics as
/// parameters or constants, and a convolution used only here.
struct FoldBatchNorm : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BatchNormOp op, PatternRewriter &b) const override {
    auto conv = op.getX().getDefiningOp<ConvOp>();
    if (!conv || !op.getX().hasOneUse() || !conv.getPostOps().empty() || conv.getResidual() ||
        conv.getLayout() != "nchw" || !conv.getW().getDefiningOp<ParamOp>())
      return failure();
    auto wt = conv.getW().getType().cast<RankedTensorType>();
    int64_t m = wt.getDimSize(0), per = wt.getNumElements() / m;
    std::vector<double> w, bias, gamma, beta, mean, var;
    if (!readFloats(conv.getW(), w) || !readFloats(op.getScale(), gamma) || !readFloats(op.getBias(), beta) ||
        !readFloats(op.getMean(), mean) || !readFloats(op.getVar(), var))
      return failure();
    if (conv.getB() && !readFloats(conv.getB(), bias))
      return failure();
    if (!conv.getB())
      bias.assign(m, 0.0);
    for (auto *v : {&gamma, &beta, &mean, &var, &bias})
      if ((int64_t)v->size() != m)
        return failure();
    double eps = op.getEpsilon().convertToDouble();
    std::vector<double> b2(m);
    for (int64_t c = 0; c < m; ++c) {
      double s = gamma[c] / std::sqrt(var[c] + eps);
      for (int64_t k = 0; k < per; ++k)
        w[c * per + k] *= s;
      b2[c] = (bias[c] - mean[c]) * s + beta[c];
    }
    std::string base = conv.getW().getDefiningOp<ParamOp>().getName().str() + ".bn_folded";
    Value newW = newParam(b, conv.getLoc(), base, wt, w);
    Value newB = newParam(b, conv.getLoc(), base + ".bias", RankedTensorType::get({m}, wt.getElementType()), b2);
    auto folded = b.create<ConvOp>(op.getLoc(), conv.getX(), newW, newB, Value(), conv.getStrides(), conv.getPads(),
                                   conv.getDilations(), conv.getGroupAttr(), conv.getLayoutAttr(),
                                   conv.getPostOpsAttr());
    b.replaceOp(op, folded.getY());
    b.eraseOp(conv);
    return success();
  }
};

/// The layer normalization exporters spell out (PyTorch at opset < 17):
///   d = x - mean(x); n = d / sqrt(mean(d^2) + eps); [n * gamma] [+ beta]
/// over trailing axes, matched at the division -> nn.layer_norm (one
/// kernel instead of nine ops and their buffers).
struct LayerNormParts : OpRewritePattern<DivOp> {
  using OpRewritePattern::OpRewritePattern;

  /// The first normalized axis when `r` is a keepdims mean over trailing axes.
  static int64_t trailingMeanAxis(ReduceMeanOp r) {
    auto axes = toI64(r.getAxes());
    int64_t rank = r.getX().getType().cast<RankedTensorType>().getRank();
    if (!r.getKeepdims() || axes.empty())
      return -1;
    for (size_t k = 0; k < axes.size(); ++k)
      if (axes[k] != rank - (int64_t)axes.size() + (int64_t)k)
        return -1;
    return axes.front();
  }

  LogicalResult matchAndRewrite(DivOp div, PatternRewriter &b) const override {
    auto d = div.getLhs().getDefiningOp<SubOp>();
    auto sqrt = div.getRhs().getDefiningOp<SqrtOp>();
    if (!d || !sqrt)
      return failure();
    auto mean = d.getRhs().getDefiningOp<ReduceMeanOp>();
    if (!mean || mean.getX() != d.getLhs() || d.getType() != d.getLhs().getType())
      return failure();
    Value x = d.getLhs();
    int64_t axis = trailingMeanAxis(mean);
    auto add = sqrt.getX().getDefiningOp<AddOp>();
    if (axis < 0 || !add)
      return failure();
    double eps;
    Value var = add.getLhs();
    if (!scalarConstant(add.getRhs(), eps)) {
      var = add.getRhs();
      if (!scalarConstant(add.getLhs(), eps))
        return failure();
    }
    auto varMean = var.getDefiningOp<ReduceMeanOp>();
    if (!varMean || trailingMeanAxis(varMean) != axis)
      return failure();
    Operation *sq = varMean.getX().getDefiningOp();
    double two;
    bool squares = (isa_and_nonnull<MulOp>(sq) && sq->getOperand(0) == d && sq->getOperand(1) == d) ||
                   (isa_and_nonnull<PowOp>(sq) && sq->getOperand(0) == d && scalarConstant(sq->getOperand(1), two) &&
                    two == 2);
    if (!squares)
      return failure();

    // Then a scale and a shift over the normalized shape, when present.
    auto xt = x.getType().cast<RankedTensorType>();
    int64_t len = 1;
    for (int64_t k = axis; k < xt.getRank(); ++k)
      len *= xt.getDimSize(k);
    auto perElement = [&](Value v) {
      auto t = v.getType().cast<RankedTensorType>();
      return t.getElementType() == xt.getElementType() && t.hasStaticShape() && t.getNumElements() == len &&
             t.getRank() <= xt.getRank() - axis;
    };
    auto other = [](Operation *op, Value v) { return op->getOperand(0) == v ? op->getOperand(1) : op->getOperand(0); };
    Operation *last = div;
    Value scale, bias;
    if (div->hasOneUse())
      if (auto mul = dyn_cast<MulOp>(*div->user_begin()); mul && perElement(other(mul, div)) &&
                                                           mul.getType() == div.getType()) {
        scale = other(mul, div);
        last = mul;
      }
    if (scale && last->hasOneUse())
      if (auto shift = dyn_cast<AddOp>(*last->user_begin()); shift && perElement(other(shift, last->getResult(0))) &&
                                                              shift.getType() == div.getType()) {
        bias = other(shift, last->getResult(0));
        last = shift;
      }
    if (!scale) {
      auto one = RankedTensorType::get({1}, xt.getElementType());
      scale = b.create<ConstantOp>(div.getLoc(), one, DenseElementsAttr::get(one, b.getFloatAttr(xt.getElementType(), 1.0)));
    }
    auto ln = b.create<LayerNormOp>(last->getLoc(), x, scale, bias, b.getI64IntegerAttr(axis), b.getF32FloatAttr(eps));
    b.replaceOp(last, ln.getY());
    return success();
  }
};

/// sum(a * b) over every element (a and b of one shape, floats) as a dot
/// product: a matmul of a's elements as [1, N] by b's as [N, 1]. The
/// elementwise product is never stored (a training loss of squares would
/// otherwise keep a copy of the whole output).
struct SumOfProducts : OpRewritePattern<ReduceSumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceSumOp op, PatternRewriter &b) const override {
    auto mul = op.getX().getDefiningOp<MulOp>();
    if (!mul || !mul->hasOneUse())
      return failure();
    auto t = mul.getType().cast<RankedTensorType>();
    if (mul.getLhs().getType() != t || mul.getRhs().getType() != t || !t.hasStaticShape() ||
        !(t.getElementType().isF32() || t.getElementType().isF64()) || t.getNumElements() < 2)
      return failure();
    // Every dimension reduced (an empty list means all of them).
    auto axes = op.getAxes();
    if (!axes.empty() && (int64_t)axes.size() != t.getRank())
      return failure();
    int64_t n = t.getNumElements();
    Location loc = op.getLoc();
    Value dot = b.create<MatMulOp>(loc, reshapeTo(b, loc, mul.getLhs(), {1, n}), reshapeTo(b, loc, mul.getRhs(), {n, 1}),
                                   Value(), b.getStrArrayAttr({}));
    b.replaceOp(op, reshapeTo(b, loc, dot, op.getType().cast<RankedTensorType>().getShape()));
    return success();
  }
};

/// An nn.expand read by a broadcasting elementwise op: the op reads the
/// expand's operand instead, when its result keeps its type (the expanded
/// tensor need not be stored; autodiff's gradient of a sum is one).
struct BroadcastInsteadOfExpand : OpRewritePattern<ExpandOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ExpandOp expand, PatternRewriter &b) const override {
    bool changed = false;
    for (OpOperand &use : llvm::make_early_inc_range(expand.getResult().getUses())) {
      Operation *user = use.getOwner();
      auto iface = dyn_cast<InferTypeOpInterface>(user);
      // PRelu broadcasts its slope to x only (its verifier says so).
      if (!nn::isElementwise(user) || user->getNumOperands() < 2 || user->getNumResults() != 1 || !iface ||
          isa<PReluOp>(user))
        continue;
      SmallVector<Value> operands(user->getOperands());
      operands[use.getOperandNumber()] = expand.getX();
      SmallVector<Type> types;
      if (failed(iface.inferReturnTypes(user->getContext(), user->getLoc(), operands, user->getAttrDictionary(),
                                        user->getRegions(), types)) ||
          types.size() != 1 || types[0] != user->getResult(0).getType())
        continue;
      b.updateRootInPlace(user, [&] { use.set(expand.getX()); });
      changed = true;
    }
    return success(changed);
  }
};

struct FusePass : FuseBase<FusePass> {
  void runOnOperation() override {
    int64_t before = 0;
    getOperation().walk([&](Operation *op) { before += !isa<ConvOp, MatMulOp, GemmOp>(op); });
    RewritePatternSet patterns(&getContext());
    patterns.add<Activation<ReluOp>, Activation<SigmoidOp>, Activation<TanhOp>, Activation<LeakyReluOp>,
                 Activation<EluOp>, ClipMin, ReluMax, Residual, MatMulBias, LayerNormParts, FoldBatchNorm,
                 SumOfProducts, BroadcastInsteadOfExpand>(
        &getContext());
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true;
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    int64_t after = 0;
    getOperation().walk([&](Operation *op) { after += !isa<ConvOp, MatMulOp, GemmOp>(op); });
    numFused = before - after;
  }
};
} // namespace

std::unique_ptr<Pass> createFusePass() { return std::make_unique<FusePass>(); }

} // namespace nncc
