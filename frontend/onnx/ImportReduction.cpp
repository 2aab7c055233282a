//===- ImportReduction.cpp - ONNX Reduce*, ArgMax/ArgMin ------------------===//
#include "frontend/onnx/NodeImporter.h"

using namespace mlir;
using namespace nncc;
using namespace nncc::onnximport;

namespace {

enum class Kind { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare };

} // namespace

FailureOr<SmallVector<int64_t>> nncc::onnximport::reduceAxes(Node &n, bool &noop) {
  int64_t inputSince = n.proto.op_type() == "ReduceSum" ? 13 : 18;
  SmallVector<int64_t> axes;
  if (n.opset >= inputSince) {
    if (n.has(1)) {
      auto c = n.requireConstant(1, "axes");
      if (failed(c))
        return failure();
      axes.assign(c->i.begin(), c->i.end());
    }
  } else {
    axes = SmallVector<int64_t>(n.ints("axes"));
  }
  noop = axes.empty() && n.i("noop_with_empty_axes", 0) != 0;
  SmallVector<int64_t> norm;
  if (!normalizeAxes(axes, n.rank(0), norm))
    return (n.fail("axes out of range"), failure());
  return norm;
}

namespace {

template <Kind K> LogicalResult importReduce(Node &n) {
  bool noop = false;
  auto axes = reduceAxes(n, noop);
  if (failed(axes))
    return failure();
  Value x = n.in(0);
  if (noop) {
    n.out(0, x);
    return success();
  }
  ArrayAttr ax = n.i64s(*axes);
  bool keep = n.i("keepdims", 1) != 0;
  BoolAttr kd = n.b.getBoolAttr(keep);
  Value y;
  switch (K) {
  case Kind::Sum: y = n.create<nn::ReduceSumOp>(x, ax, kd); break;
  case Kind::Mean: y = n.create<nn::ReduceMeanOp>(x, ax, kd); break;
  case Kind::Max: y = n.create<nn::ReduceMaxOp>(x, ax, kd); break;
  case Kind::Min: y = n.create<nn::ReduceMinOp>(x, ax, kd); break;
  case Kind::Prod: y = n.create<nn::ReduceProdOp>(x, ax, kd); break;
  case Kind::L1: y = n.create<nn::ReduceSumOp>(n.create<nn::AbsOp>(x), ax, kd); break;
  case Kind::L2:
    y = n.create<nn::ReduceSumOp>(n.create<nn::MulOp>(x, x), ax, kd);
    if (n.elt(0).isa<FloatType>())
      y = n.create<nn::SqrtOp>(y);
    else
      y = n.cast(n.create<nn::SqrtOp>(n.cast(y, n.b.getF64Type())), n.elt(0));
    break;
  case Kind::LogSum: y = n.create<nn::LogOp>(n.create<nn::ReduceSumOp>(x, ax, kd)); break;
  case Kind::SumSquare: y = n.create<nn::ReduceSumOp>(n.create<nn::MulOp>(x, x), ax, kd); break;
  case Kind::LogSumExp: {
    Value m = n.create<nn::ReduceMaxOp>(x, ax, n.b.getBoolAttr(true));
    // An all -inf slice would give NaN from -inf - -inf; shift by 0 there.
    Value finite = n.create<nn::SelectOp>(n.create<nn::IsInfOp>(m, n.b.getBoolAttr(true), n.b.getBoolAttr(true)),
                                          n.scalar(0, n.elt(0)), m);
    Value s = n.create<nn::ReduceSumOp>(n.create<nn::ExpOp>(n.create<nn::SubOp>(x, finite)), ax, kd);
    Value shift = keep ? finite : n.create<nn::ReshapeOp>(finite, n.i64s(s.getType().cast<RankedTensorType>().getShape()), n.b.getBoolAttr(true));
    y = n.create<nn::AddOp>(n.create<nn::LogOp>(s), shift);
    break;
  }
  }
  n.out(0, y);
  return success();
}

template <typename OpT> LogicalResult importArg(Node &n) {
  int64_t axis = nn::normalizeAxis(n.i("axis", 0), n.rank(0));
  if (axis < 0)
    return n.fail("axis out of range");
  n.out(0, n.create<OpT>(n.in(0), n.b.getI64IntegerAttr(axis), n.b.getBoolAttr(n.i("keepdims", 1) != 0),
                         n.b.getBoolAttr(n.i("select_last_index", 0) != 0)));
  return success();
}

} // namespace

void nncc::onnximport::registerReductionHandlers(HandlerMap &m) {
  m["ReduceSum"] = importReduce<Kind::Sum>;
  m["ReduceMean"] = importReduce<Kind::Mean>;
  m["ReduceMax"] = importReduce<Kind::Max>;
  m["ReduceMin"] = importReduce<Kind::Min>;
  m["ReduceProd"] = importReduce<Kind::Prod>;
  m["ReduceL1"] = importReduce<Kind::L1>;
  m["ReduceL2"] = importReduce<Kind::L2>;
  m["ReduceLogSum"] = importReduce<Kind::LogSum>;
  m["ReduceLogSumExp"] = importReduce<Kind::LogSumExp>;
  m["ReduceSumSquare"] = importReduce<Kind::SumSquare>;
  m["ArgMax"] = importArg<nn::ArgMaxOp>;
  m["ArgMin"] = importArg<nn::ArgMinOp>;
}
