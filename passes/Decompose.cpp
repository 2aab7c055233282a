//===- Decompose.cpp - composite nn ops into primitive ones ---------------===//
#include "passes/Passes.h"

#include "ir/ConstFold.h"
#include "ir/ShapeUtils.h"
#include "passes/Rewrite.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

using namespace mlir;
using namespace nncc::nn;

namespace nncc {
namespace {
#define GEN_PASS_CLASSES
#include "passes/Passes.h.inc"

/// Small building helpers bound to a rewriter and a location.
struct Emit {
  PatternRewriter &b;
  Location loc;

  Value scalar(double v, Type et) {
    return b.create<ConstantOp>(loc, makeConst(RankedTensorType::get({}, et), ArrayRef<double>{v}));
  }
  Value reshape(Value v, ArrayRef<int64_t> shape) { return reshapeTo(b, loc, v, shape); }
  /// [C] -> [C, 1, ..., 1] to broadcast along dimension 1 of a rank-r tensor.
  Value perChannel(Value v, int64_t rank) {
    Shape s(rank - 1, 1);
    s[0] = v.getType().cast<RankedTensorType>().getNumElements();
    return reshape(v, s);
  }
  template <typename OpT> Value reduce(Value x, ArrayRef<int64_t> axes) {
    return b.create<OpT>(loc, x, b.getI64ArrayAttr(axes), b.getBoolAttr(true));
  }
  /// Returns (x - mean, 1 / sqrt(var + eps), mean) over `axes`.
  std::tuple<Value, Value, Value> normalize(Value x, ArrayRef<int64_t> axes, double eps) {
    Type et = x.getType().cast<RankedTensorType>().getElementType();
    Value mean = reduce<ReduceMeanOp>(x, axes);
    Value d = b.create<SubOp>(loc, x, mean);
    Value var = reduce<ReduceMeanOp>(b.create<MulOp>(loc, d, d), axes);
    Value inv = b.create<ReciprocalOp>(loc, b.create<SqrtOp>(loc, b.create<AddOp>(loc, var, scalar(eps, et))));
    return {d, inv, mean};
  }
};

struct SoftmaxPattern : OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxOp op, PatternRewriter &b) const override {
    if (hasSoftmaxKernel(op))
      return failure();
    Emit e{b, op.getLoc()};
    int64_t axis = op.getAxis();
    Value m = e.reduce<ReduceMaxOp>(op.getX(), {axis});
    Value ex = b.create<ExpOp>(op.getLoc(), b.create<SubOp>(op.getLoc(), op.getX(), m));
    Value s = e.reduce<ReduceSumOp>(ex, {axis});
    b.replaceOpWithNewOp<DivOp>(op, ex, s);
    return success();
  }
};

struct LogSoftmaxPattern : OpRewritePattern<LogSoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LogSoftmaxOp op, PatternRewriter &b) const override {
    if (hasSoftmaxKernel(op))
      return failure();
    Emit e{b, op.getLoc()};
    int64_t axis = op.getAxis();
    Value m = e.reduce<ReduceMaxOp>(op.getX(), {axis});
    Value shifted = b.create<SubOp>(op.getLoc(), op.getX(), m);
    Value s = e.reduce<ReduceSumOp>(b.create<ExpOp>(op.getLoc(), shifted), {axis});
    b.replaceOpWithNewOp<SubOp>(op, shifted, b.create<LogOp>(op.getLoc(), s));
    return success();
  }
};

struct BatchNormPattern : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BatchNormOp op, PatternRewriter &b) const override {
    Emit e{b, op.getLoc()};
    Location loc = op.getLoc();
    Type et = op.getX().getType().cast<RankedTensorType>().getElementType();
    int64_t rank = op.getX().getType().cast<RankedTensorType>().getRank();
    double eps = op.getEpsilon().convertToDouble();
    Value s = b.create<DivOp>(loc, op.getScale(),
                              b.create<SqrtOp>(loc, b.create<AddOp>(loc, op.getVar(), e.scalar(eps, et))));
    Value t = b.create<SubOp>(loc, op.getBias(), b.create<MulOp>(loc, op.getMean(), s));
    Value y = b.create<MulOp>(loc, op.getX(), e.perChannel(s, rank));
    b.replaceOpWithNewOp<AddOp>(op, y, e.perChannel(t, rank));
    return success();
  }
};

struct LayerNormPattern : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormOp op, PatternRewriter &b) const override {
    if (hasLayerNormKernel(op))
      return failure();
    Emit e{b, op.getLoc()};
    Location loc = op.getLoc();
    int64_t rank = op.getX().getType().cast<RankedTensorType>().getRank();
    SmallVector<int64_t> axes;
    for (int64_t d = op.getAxis(); d < rank; ++d)
      axes.push_back(d);
    auto [d, inv, mean] = e.normalize(op.getX(), axes, op.getEpsilon().convertToDouble());
    Value y = b.create<MulOp>(loc, b.create<MulOp>(loc, d, inv), op.getScale());
    if (op.getBias())
      y = b.create<AddOp>(loc, y, op.getBias());
    b.replaceOp(op, {y, mean, inv});
    return success();
  }
};

struct InstanceNormPattern : OpRewritePattern<InstanceNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(InstanceNormOp op, PatternRewriter &b) const override {
    Emit e{b, op.getLoc()};
    Location loc = op.getLoc();
    int64_t rank = op.getX().getType().cast<RankedTensorType>().getRank();
    SmallVector<int64_t> axes;
    for (int64_t d = 2; d < rank; ++d)
      axes.push_back(d);
    auto [d, inv, mean] = e.normalize(op.getX(), axes, op.getEpsilon().convertToDouble());
    (void)mean;
    Value y = b.create<MulOp>(loc, b.create<MulOp>(loc, d, inv), e.perChannel(op.getScale(), rank));
    b.replaceOpWithNewOp<AddOp>(op, y, e.perChannel(op.getBias(), rank));
    return success();
  }
};

/// y = x / (bias + alpha / size * sum of squares over a window of channels)^beta
struct LRNPattern : OpRewritePattern<LRNOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LRNOp op, PatternRewriter &b) const override {
    Emit e{b, op.getLoc()};
    Location loc = op.getLoc();
    auto type = op.getX().getType().cast<RankedTensorType>();
    Type et = type.getElementType();
    int64_t rank = type.getRank(), size = op.getSize(), c = type.getDimSize(1);
    Value sq = b.create<MulOp>(loc, op.getX(), op.getX());
    SmallVector<int64_t> pads(2 * rank, 0);
    pads[1] = (size - 1) / 2;
    pads[1 + rank] = size - 1 - pads[1];
    Value padded = b.create<PadOp>(loc, sq, b.getI64ArrayAttr(pads), b.getStringAttr("constant"),
                                   b.getF64FloatAttr(0.0));
    Value sum;
    for (int64_t k = 0; k < size; ++k) {
      SmallVector<int64_t> starts(rank, 0), steps(rank, 1);
      SmallVector<int64_t> sizes(type.getShape().begin(), type.getShape().end());
      starts[1] = k;
      sizes[1] = c;
      Value s = b.create<SliceOp>(loc, padded, b.getI64ArrayAttr(starts), b.getI64ArrayAttr(steps),
                                  b.getI64ArrayAttr(sizes));
      sum = sum ? b.create<AddOp>(loc, sum, s) : s;
    }
    double alpha = op.getAlpha().convertToDouble(), beta = op.getBeta().convertToDouble(),
           bias = op.getBias().convertToDouble();
    Value denom = b.create<AddOp>(loc, e.scalar(bias, et), b.create<MulOp>(loc, sum, e.scalar(alpha / size, et)));
    b.replaceOpWithNewOp<DivOp>(op, op.getX(), b.create<PowOp>(loc, denom, e.scalar(beta, et)));
    return success();
  }
};

/// pow(x, c) for c in {1, 2, 3, 0.5, -1}: multiplications, sqrt or a
/// reciprocal instead of a call to pow per element (LayerNorm's variance).
struct PowByConstant : OpRewritePattern<PowOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PowOp op, PatternRewriter &b) const override {
    double c;
    if (!scalarConstant(op.getRhs(), c) || op.getType() != op.getLhs().getType() ||
        !op.getType().cast<RankedTensorType>().getElementType().isa<FloatType>())
      return failure();
    Location loc = op.getLoc();
    Value x = op.getLhs();
    if (c == 1)
      b.replaceOp(op, x);
    else if (c == 2)
      b.replaceOpWithNewOp<MulOp>(op, x, x);
    else if (c == 3)
      b.replaceOpWithNewOp<MulOp>(op, b.create<MulOp>(loc, x, x), x);
    else if (c == 0.5)
      b.replaceOpWithNewOp<SqrtOp>(op, x);
    else if (c == -1)
      b.replaceOpWithNewOp<ReciprocalOp>(op, x);
    else
      return failure();
    return success();
  }
};

/// x / c for a float constant c = +-2^k: x * (1 / c), which is exact (the
/// same result to the bit) and a multiplication instead of a division per
/// element (attention's 1 / sqrt(64)).
struct DivByPowerOfTwo : OpRewritePattern<DivOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DivOp op, PatternRewriter &b) const override {
    double c;
    auto et = op.getType().cast<RankedTensorType>().getElementType();
    if (!et.isa<FloatType>() || !scalarConstant(op.getRhs(), c) || op.getType() != op.getLhs().getType() || c == 0)
      return failure();
    int exponent; // (within float32's normal range, so 1 / c is one too)
    if (std::frexp(std::fabs(c), &exponent) != 0.5 || exponent < -100 || exponent > 100)
      return failure();
    b.replaceOpWithNewOp<MulOp>(op, op.getLhs(), Emit{b, op.getLoc()}.scalar(1.0 / c, et));
    return success();
  }
};

struct DecomposePass : DecomposeBase<DecomposePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SoftmaxPattern, LogSoftmaxPattern, BatchNormPattern, LayerNormPattern,
                 InstanceNormPattern, LRNPattern, PowByConstant, DivByPowerOfTwo>(&getContext());
    int64_t before = 0, after = 0;
    auto count = [&](int64_t &n) {
      getOperation().walk([&](Operation *op) {
        if (isa<SoftmaxOp, LogSoftmaxOp, BatchNormOp, LayerNormOp, InstanceNormOp, LRNOp>(op))
          ++n;
      });
    };
    count(before);
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true;
    config.enableRegionSimplification = false;
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    count(after);
    numDecomposed = before - after;
  }
};
} // namespace

std::unique_ptr<Pass> createDecomposePass() { return std::make_unique<DecomposePass>(); }

} // namespace nncc
