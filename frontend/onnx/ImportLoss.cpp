//===- ImportLoss.cpp - ONNX losses, decomposed into nn ops ---------------===//
#include "frontend/onnx/NodeImporter.h"

using namespace mlir;
using namespace nncc;
using namespace nncc::onnximport;

namespace {

/// Negative log-likelihood of log-probabilities `input` [N, C, d...] at
/// `target` [N, d...], with optional class weights and ignore_index.
static Value nllLoss(Node &n, Value input, Value target, Value weight) {
  auto is = input.getType().cast<RankedTensorType>();
  Type ft = is.getElementType();
  Value t = n.cast(target, n.b.getI64Type());
  auto ts = t.getType().cast<RankedTensorType>().getShape();
  Value mask;
  if (n.hasAttr("ignore_index")) {
    Value ig = n.constI64({n.i("ignore_index", 0)}, {});
    mask = n.create<nn::NotOp>(n.create<nn::EqualOp>(t, ig));
    t = n.create<nn::SelectOp>(mask, t, n.constI64({0}, {}));
  }
  Shape ushape(ts.begin(), ts.end());
  ushape.insert(ushape.begin() + 1, 1);
  Value picked = n.create<nn::GatherElementsOp>(input, n.reshape(t, ushape), n.b.getI64IntegerAttr(1));
  picked = n.reshape(picked, ts);
  Value w;
  if (weight)
    w = n.create<nn::GatherOp>(weight, t, n.b.getI64IntegerAttr(0));
  if (mask)
    w = w ? n.create<nn::SelectOp>(mask, w, n.scalar(0, ft)) : n.cast(mask, ft);
  Value loss = n.create<nn::NegOp>(picked);
  if (w)
    loss = n.create<nn::MulOp>(loss, w);
  std::string reduction = n.s("reduction", "mean");
  SmallVector<int64_t> all;
  if (reduction == "none")
    return loss;
  Value sum = n.create<nn::ReduceSumOp>(loss, n.i64s(all), n.b.getBoolAttr(false));
  if (reduction == "sum")
    return sum;
  if (reduction != "mean") {
    (void)n.fail("unknown reduction '" + reduction + "'");
    return {};
  }
  Value denom = w ? n.create<nn::ReduceSumOp>(w, n.i64s(all), n.b.getBoolAttr(false))
                  : n.scalar((double)nn::numElements(ts), ft);
  return n.create<nn::DivOp>(sum, denom);
}

LogicalResult importNLLLoss(Node &n) {
  Value loss = nllLoss(n, n.in(0), n.in(1), n.has(2) ? n.in(2) : Value());
  if (!loss)
    return failure();
  n.out(0, loss);
  return success();
}

LogicalResult importSoftmaxCrossEntropy(Node &n) {
  Value logp = n.create<nn::LogSoftmaxOp>(n.in(0), n.b.getI64IntegerAttr(1));
  Value loss = nllLoss(n, logp, n.in(1), n.has(2) ? n.in(2) : Value());
  if (!loss)
    return failure();
  n.out(0, loss);
  n.out(1, logp);
  return success();
}

} // namespace

void nncc::onnximport::registerLossHandlers(HandlerMap &m) {
  m["NegativeLogLikelihoodLoss"] = importNLLLoss;
  m["SoftmaxCrossEntropyLoss"] = importSoftmaxCrossEntropy;
}
