//===- Fuse.cpp - epilogues into convolutions and matmuls -----------------===//
#include "passes/Passes.h"
#include "passes/Rewrite.h"

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
      Value bias = c;
      if (ct.getRank() != 1)
        bias = b.create<ReshapeOp>(op.getLoc(), c, b.getI64ArrayAttr({n}), b.getBoolAttr(true));
      auto fused = b.create<MatMulOp>(op.getLoc(), mm.getA(), mm.getB(), bias, b.getStrArrayAttr({}));
      b.replaceOp(op, fused.getY());
      b.eraseOp(mm);
      return success();
    }
    return failure();
  }
};

struct FusePass : FuseBase<FusePass> {
  void runOnOperation() override {
    int64_t before = 0;
    getOperation().walk([&](Operation *op) { before += !isa<ConvOp, MatMulOp, GemmOp>(op); });
    RewritePatternSet patterns(&getContext());
    patterns.add<Activation<ReluOp>, Activation<SigmoidOp>, Activation<TanhOp>, Activation<LeakyReluOp>,
                 Activation<EluOp>, ClipMin, ReluMax, Residual, MatMulBias>(&getContext());
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
