//===- Layout.cpp - channels-last activations for convolution chains ------===//
//
// oneDNN's fastest convolutions on this CPU family (brgconv) read and write
// NHWC. Convolutions and pooling are switched to channels-last operands, and
// the transposes to and from NCHW that this introduces are sunk through the
// ops between them (elementwise ops, channel concats, spatial reductions)
// until they meet and cancel, leaving transposes only at the edges of a
// convolution chain. Convolutions where oneDNN's Winograd kernels win run
// blocked (nchw16c) between nn.reorder ops, which cancel in the same way.
// Runs after nn-fuse, so the epilogues already travel with the convolutions.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/Rewrite.h"

#include "ir/ShapeUtils.h"
#include "runtime/kernels/ConvChoice.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;
using namespace nncc::nn;

namespace nncc {
namespace {
#define GEN_PASS_CLASSES
#include "passes/Passes.h.inc"

RankedTensorType typeOf(Value v) { return v.getType().cast<RankedTensorType>(); }

/// [0, 2, 3, ..., 1]: NCHW -> NHWC; and its inverse.
SmallVector<int64_t> toLast(int64_t rank) {
  SmallVector<int64_t> p = {0};
  for (int64_t d = 2; d < rank; ++d)
    p.push_back(d);
  p.push_back(1);
  return p;
}
SmallVector<int64_t> toFirst(int64_t rank) {
  SmallVector<int64_t> p = {0, rank - 1};
  for (int64_t d = 1; d < rank - 1; ++d)
    p.push_back(d);
  return p;
}

Value transpose(PatternRewriter &b, Value v, ArrayRef<int64_t> perm) {
  return b.createOrFold<TransposeOp>(v.getLoc(), v, b.getI64ArrayAttr(perm));
}

struct ConvChannelsLast : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op, PatternRewriter &b) const override {
    auto x = typeOf(op.getX());
    if (op.getLayout() != "nchw" || !x.getElementType().isF32() || x.getRank() < 3 || x.getRank() > 5)
      return failure();
    int64_t rank = x.getRank();
    Value input = transpose(b, op.getX(), toLast(rank));
    Value residual = op.getResidual() ? transpose(b, op.getResidual(), toLast(rank)) : Value();
    auto conv = b.create<ConvOp>(op.getLoc(), input, op.getW(), op.getB(), residual, op.getStrides(), op.getPads(),
                                 op.getDilations(), op.getGroupAttr(), b.getStringAttr("nhwc"), op.getPostOpsAttr());
    b.replaceOp(op, transpose(b, conv.getY(), toFirst(rank)));
    return success();
  }
};

/// Channels-last 3x3 stride-1 convolutions where oneDNN's Winograd kernels
/// win (winogradPreferred, runtime/kernels/ConvChoice.h: measured, it
/// depends on the channels and the image size) run blocked (nchw16c). The
/// reorders around them cancel between consecutive blocked convolutions.
bool winogradEligible(ConvOp op) {
  auto x = typeOf(op.getX()), w = typeOf(op.getW());
  if (op.getLayout() != "nhwc" || x.getRank() != 4 || !x.getElementType().isF32())
    return false;
  bool unit = true, padsOne = true;
  for (auto v : {toI64(op.getStrides()), toI64(op.getDilations())})
    for (int64_t s : v)
      unit &= s == 1;
  for (int64_t p : toI64(op.getPads()))
    padsOne &= p == 1;
  return winogradPreferred(x.getShape().back(), w.getDimSize(0), w.getDimSize(2), w.getDimSize(3), unit, padsOne,
                           op.getGroup(), x.getDimSize(1) * x.getDimSize(2));
}

/// A channels-last 2-D f32 convolution that can run blocked (nchw16c):
/// ungrouped, input and output channels multiples of 16.
bool blockable(ConvOp op) {
  auto x = typeOf(op.getX()), w = typeOf(op.getW());
  return op.getLayout() == "nhwc" && x.getRank() == 4 && x.getElementType().isF32() && op.getGroup() == 1 &&
         x.getShape().back() % 16 == 0 && w.getDimSize(0) % 16 == 0;
}

Value reorder(PatternRewriter &b, Value v, StringRef from, StringRef to) {
  return b.createOrFold<ReorderOp>(v.getLoc(), v, b.getStringAttr(from), b.getStringAttr(to));
}

/// transpose(reorder(x, a -> nhwc), NHWC -> NCHW) -> reorder(x, a -> nchw),
/// and the same from nchw to nhwc.
struct TransposeOfReorder : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op, PatternRewriter &b) const override {
    auto r = op.getX().getDefiningOp<ReorderOp>();
    if (!r)
      return failure();
    auto perm = toI64(op.getPerm());
    int64_t rank = typeOf(op.getX()).getRank();
    if (r.getTo() == "nhwc" && perm == toFirst(rank))
      b.replaceOp(op, reorder(b, r.getX(), r.getFrom(), "nchw"));
    else if (r.getTo() == "nchw" && perm == toLast(rank))
      b.replaceOp(op, reorder(b, r.getX(), r.getFrom(), "nhwc"));
    else
      return failure();
    return success();
  }
};

/// The blocked twin of channels-last convolution `op`; returns its blocked
/// result.
Value blockedConv(PatternRewriter &b, ConvOp op) {
  Value input = reorder(b, op.getX(), "nhwc", "nchw16c");
  Value residual = op.getResidual() ? reorder(b, op.getResidual(), "nhwc", "nchw16c") : Value();
  auto conv = b.create<ConvOp>(op.getLoc(), input, op.getW(), op.getB(), residual, op.getStrides(), op.getPads(),
                               op.getDilations(), op.getGroupAttr(), b.getStringAttr("nchw16c"), op.getPostOpsAttr());
  return conv.getY();
}

bool isReorder(Value v, StringRef from, StringRef to) {
  auto r = v.getDefiningOp<ReorderOp>();
  return r && r.getFrom() == from && r.getTo() == to;
}

struct ConvBlocked : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op, PatternRewriter &b) const override {
    if (!winogradEligible(op))
      return failure();
    b.replaceOp(op, reorder(b, blockedConv(b, op), "nchw16c", "nhwc"));
    return success();
  }
};

/// A blockable convolution of a blocked concat's result stays blocked (the
/// fire modules of SqueezeNet: squeeze, then expand 1x1 and 3x3, concat).
struct ConvAfterBlocked : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op, PatternRewriter &b) const override {
    if (!blockable(op) || !isReorder(op.getX(), "nchw16c", "nhwc"))
      return failure();
    // (Its own users, the expand convolutions, turn blocked with theirs.)
    // The blocked producer: a concat, or a pool of one (through a reshape).
    Value src = op.getX().getDefiningOp<ReorderOp>().getX();
    if (auto r = src.getDefiningOp<ReshapeOp>())
      if (Operation *pool = r.getX().getDefiningOp(); pool && isa<MaxPoolOp, AvgPoolOp>(pool))
        src = Value();
    if (src && !src.getDefiningOp<ConcatOp>())
      return failure();
    b.replaceOp(op, reorder(b, blockedConv(b, op), "nchw16c", "nhwc"));
    return success();
  }
};

/// concat(channels-last parts, channel axis), batch 1, where every part is
/// a blockable convolution or already blocked -> the same concat blocked.
/// Blocked with batch 1, each part is a contiguous range of the result, so
/// the memory plan computes the parts in place and the concat copies
/// nothing.
struct BlockedChannelConcat : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  /// The blockable channels-last convolution behind a part, seen from a
  /// channels-last concat (the conv itself) or a channels-first one (a
  /// transpose of it).
  static ConvOp convOf(Value v, bool nchw) {
    if (nchw) {
      auto t = v.getDefiningOp<TransposeOp>();
      if (!t || toI64(t.getPerm()) != toFirst(4) || !t->hasOneUse())
        return ConvOp();
      v = t.getX();
    }
    auto conv = v.getDefiningOp<ConvOp>();
    return conv && blockable(conv) && conv->hasOneUse() ? conv : ConvOp();
  }
  LogicalResult matchAndRewrite(ConcatOp op, PatternRewriter &b) const override {
    // The channel axis: 3 when the concat is channels-last already, 1 while
    // it is still channels-first (some parts blocked, some transposed).
    auto t = typeOf(op.getY());
    if (t.getRank() != 4 || (op.getAxis() != 3 && op.getAxis() != 1) || t.getDimSize(0) != 1 ||
        !t.getElementType().isF32())
      return failure();
    bool nchw = op.getAxis() == 1;
    StringRef plain = nchw ? "nchw" : "nhwc";
    for (Value v : op.getInputs())
      if (!isReorder(v, "nchw16c", plain) && !convOf(v, nchw))
        return failure();
    SmallVector<Value> parts;
    for (Value v : op.getInputs())
      parts.push_back(isReorder(v, "nchw16c", plain) ? v.getDefiningOp<ReorderOp>().getX()
                                                     : blockedConv(b, convOf(v, nchw)));
    auto concat = b.create<ConcatOp>(op.getLoc(), parts, b.getI64IntegerAttr(1));
    b.replaceOp(op, reorder(b, concat.getY(), "nchw16c", plain));
    return success();
  }
};

template <typename PoolOp> struct PoolChannelsLast : OpRewritePattern<PoolOp> {
  using OpRewritePattern<PoolOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(PoolOp op, PatternRewriter &b) const override {
    auto x = typeOf(op.getX());
    if (op.getChannelsLast() || !x.getElementType().isF32())
      return failure();
    // Only worth it when the input already comes channels-last, or from a
    // blocked convolution or concat.
    Value input;
    if (auto t = op.getX().template getDefiningOp<TransposeOp>(); t && toI64(t.getPerm()) == toFirst(x.getRank()))
      input = t.getX();
    else if (auto r = op.getX().template getDefiningOp<ReorderOp>(); r && r.getTo() == "nchw")
      input = reorder(b, r.getX(), r.getFrom(), "nhwc");
    else
      return failure();
    Operation *pool = cloneWithOperands(b, op, {input});
    if (!pool)
      return failure();
    pool->setAttr("channels_last", b.getBoolAttr(true));
    // The channels_last flag changes the result type: infer it again.
    Operation *fixed = cloneWithOperands(b, pool, {input});
    b.eraseOp(pool);
    if (!fixed)
      return failure();
    b.replaceOp(op, transpose(b, fixed->getResult(0), toFirst(x.getRank())));
    return success();
  }
};

/// pool(reorder(v, nchw16c -> nhwc)), channels-last -> the pool on v seen
/// as [N * C/16, H, W, 16] channels-last (each 16-channel block an image of
/// its own): blocked pooling, without a reorder.
template <typename PoolOp> struct PoolBlocked : OpRewritePattern<PoolOp> {
  using OpRewritePattern<PoolOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(PoolOp op, PatternRewriter &b) const override {
    if (!op.getChannelsLast() || !isReorder(op.getX(), "nchw16c", "nhwc"))
      return failure();
    Value v = op.getX().template getDefiningOp<ReorderOp>().getX();
    auto t = typeOf(v);
    if (t.getRank() != 5)
      return failure();
    auto s = t.getShape();
    Value flat = reshapeTo(b, op.getLoc(), v, {s[0] * s[1], s[2], s[3], s[4]});
    Operation *pool = cloneWithOperands(b, op, {flat});
    if (!pool)
      return failure();
    auto ps = typeOf(pool->getResult(0)).getShape();
    Value back = reshapeTo(b, op.getLoc(), pool->getResult(0), {s[0], s[1], ps[1], ps[2], s[4]});
    b.replaceOp(op, reorder(b, back, "nchw16c", "nhwc"));
    return success();
  }
};

/// op(transpose(a, P), transpose(b, P), scalar...) -> transpose(op(a, b, scalar...), P)
struct SinkThroughElementwise : RewritePattern {
  SinkThroughElementwise(MLIRContext *ctx) : RewritePattern(MatchAnyOpTypeTag(), 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &b) const override {
    if (!isElementwise(op) || op->getNumResults() != 1)
      return failure();
    auto result = typeOf(op->getResult(0));
    SmallVector<Value> operands;
    SmallVector<int64_t> perm;
    for (Value v : op->getOperands()) {
      auto t = typeOf(v);
      if (auto tr = v.getDefiningOp<TransposeOp>()) {
        auto p = toI64(tr.getPerm());
        if (t.getShape() != result.getShape() || (!perm.empty() && p != perm))
          return failure();
        perm = p;
        operands.push_back(tr.getX());
      } else if (t.getRank() == 0) {
        operands.push_back(v);
      } else {
        return failure();
      }
    }
    if (perm.empty())
      return failure();
    Operation *moved = cloneWithOperands(b, op, operands);
    if (!moved)
      return failure();
    b.replaceOp(op, transpose(b, moved->getResult(0), perm));
    return success();
  }
};

/// concat(transpose(v_i, P), axis a) -> transpose(concat(v_i, axis P[a]), P)
struct SinkThroughConcat : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op, PatternRewriter &b) const override {
    SmallVector<Value> parts;
    SmallVector<int64_t> perm;
    for (Value v : op.getInputs()) {
      auto tr = v.getDefiningOp<TransposeOp>();
      if (!tr || (!perm.empty() && toI64(tr.getPerm()) != perm))
        return failure();
      perm = toI64(tr.getPerm());
      parts.push_back(tr.getX());
    }
    auto concat = b.create<ConcatOp>(op.getLoc(), parts, b.getI64IntegerAttr(perm[op.getAxis()]));
    b.replaceOp(op, transpose(b, concat.getY(), perm));
    return success();
  }
};

/// reduce(transpose(v, P), axes A, keepdims) -> transpose(reduce(v, P[A]), P)
template <typename ReduceOp> struct SinkThroughReduce : OpRewritePattern<ReduceOp> {
  using OpRewritePattern<ReduceOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceOp op, PatternRewriter &b) const override {
    auto tr = op.getX().template getDefiningOp<TransposeOp>();
    if (!tr || !op.getKeepdims() || toI64(op.getAxes()).empty())
      return failure();
    auto perm = toI64(tr.getPerm());
    SmallVector<int64_t> axes;
    for (int64_t a : toI64(op.getAxes()))
      axes.push_back(perm[a]);
    llvm::sort(axes);
    auto r = b.create<ReduceOp>(op.getLoc(), tr.getX(), b.getI64ArrayAttr(axes), op.getKeepdimsAttr());
    b.replaceOp(op, transpose(b, r.getY(), perm));
    return success();
  }
};

struct LayoutPass : LayoutBase<LayoutPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ConvChannelsLast, ConvBlocked, ConvAfterBlocked, BlockedChannelConcat, TransposeOfReorder, PoolChannelsLast<MaxPoolOp>, PoolChannelsLast<AvgPoolOp>, PoolBlocked<MaxPoolOp>, PoolBlocked<AvgPoolOp>, SinkThroughElementwise,
                 SinkThroughConcat, SinkThroughReduce<ReduceMeanOp>, SinkThroughReduce<ReduceMaxOp>>(&getContext());
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true;
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    getOperation().walk([&](ConvOp c) {
      numChannelsLast += c.getLayout() == "nhwc";
      numBlocked += c.getLayout() == "nchw16c";
    });
  }
};
} // namespace

std::unique_ptr<Pass> createLayoutPass() { return std::make_unique<LayoutPass>(); }

} // namespace nncc
