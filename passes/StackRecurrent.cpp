//===- StackRecurrent.cpp - chains of LSTMs into one wavefront op ---------===//
//
// A multi-layer LSTM arrives as one nn.lstm per layer, each layer's y
// reshaped into the next layer's x. Run one after the other, each layer
// waits for the whole sequence of the layer below; fused into one
// nn.lstm_stack, the kernel can run cell (l + 1, t) while cell (l, t + 1)
// runs (runtime/kernels/RecurrentStack.cpp).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "ir/NNOps.h"
#include "ir/ShapeUtils.h"

using namespace mlir;
using namespace nncc::nn;

namespace nncc {
namespace {

#define GEN_PASS_CLASSES
#include "passes/Passes.h.inc"

/// Layers per nn.lstm_stack (the kernel's fixed operand arrays).
constexpr size_t kMaxStackLayers = 32;

/// Absent, or a constant of zeros.
bool isZeroState(Value v) {
  if (!v)
    return true;
  auto c = v.getDefiningOp<ConstantOp>();
  if (!c)
    return false;
  auto attr = c.getValue().dyn_cast<DenseElementsAttr>();
  if (!attr || !attr.getElementType().isa<FloatType>())
    return false;
  return llvm::all_of(attr.getValues<APFloat>(), [](const APFloat &f) { return f.isZero(); });
}

/// A layer the stack kernel runs: forward, one direction, the default
/// activations, no peepholes, clip, lengths or input_forget, zero initial
/// state, float32, and nobody reads its final states.
bool stackable(LSTMOp op) {
  auto names = toStrings(op.getActivations());
  bool defaults = names.empty() || (names.size() == 3 && StringRef(names[0]).equals_insensitive("sigmoid") &&
                                    StringRef(names[1]).equals_insensitive("tanh") &&
                                    StringRef(names[2]).equals_insensitive("tanh"));
  return op.getDirection() == "forward" && defaults && !op.getP() && !op.getSeqLens() && !op.getClip() &&
         !op.getInputForget() && isZeroState(op.getInitialH()) && isZeroState(op.getInitialC()) &&
         op.getYH().use_empty() && op.getYC().use_empty() &&
         op.getX().getType().cast<RankedTensorType>().getElementType().isF32();
}

/// The next layer: y's only use is a reshape to [T, B, H] whose only use is
/// the x of a stackable nn.lstm.
LSTMOp nextLayer(LSTMOp op) {
  Value y = op.getY();
  if (!y.hasOneUse())
    return nullptr;
  auto reshape = dyn_cast<ReshapeOp>(*y.getUsers().begin());
  if (!reshape || !reshape.getResult().hasOneUse())
    return nullptr;
  auto next = dyn_cast<LSTMOp>(*reshape.getResult().getUsers().begin());
  if (!next || next.getX() != reshape.getResult() || !stackable(next) ||
      next.getHiddenSize() != op.getHiddenSize())
    return nullptr;
  return next;
}

struct StackRecurrentPass : StackRecurrentBase<StackRecurrentPass> {
  StackRecurrentPass() = default;
  StackRecurrentPass(const std::string &s, int64_t k) {
    schedule = s;
    maxParallel = k;
  }

  void runOnOperation() override {
    if (schedule != "wavefront" && schedule != "sequential") {
      getOperation().emitError("nn-stack-recurrent: schedule must be wavefront or sequential, got '")
          << schedule << "'";
      return signalPassFailure();
    }
    if (schedule == "sequential")
      return;
    SmallVector<SmallVector<LSTMOp>> chains;
    llvm::DenseSet<Operation *> taken;
    getOperation().walk([&](LSTMOp op) {
      if (taken.count(op) || !stackable(op))
        return;
      SmallVector<LSTMOp> chain{op};
      while (chain.size() < kMaxStackLayers)
        if (LSTMOp next = nextLayer(chain.back()))
          chain.push_back(next);
        else
          break;
      for (LSTMOp l : chain)
        taken.insert(l);
      if (chain.size() >= 2)
        chains.push_back(chain);
    });
    for (auto &chain : chains) {
      LSTMOp last = chain.back();
      OpBuilder b(last);
      SmallVector<Value> weights;
      for (LSTMOp l : chain) {
        Value bias = l.getB();
        if (!bias) {
          auto t = RankedTensorType::get({1, 8 * (int64_t)l.getHiddenSize()}, b.getF32Type());
          bias = b.create<ConstantOp>(l.getLoc(), t, DenseElementsAttr::get(t, b.getF32FloatAttr(0.0f)));
        }
        weights.append({l.getW(), l.getR(), bias});
      }
      auto stack = b.create<LSTMStackOp>(last.getLoc(), last.getY().getType(), chain.front().getX(), weights,
                                         last.getHiddenSizeAttr(), b.getI64IntegerAttr(maxParallel));
      last.getY().replaceAllUsesWith(stack.getY());
      for (LSTMOp l : llvm::reverse(chain)) {
        Operation *reshape = l == chain.front() ? nullptr : l.getX().getDefiningOp();
        l.erase();
        if (reshape)
          reshape->erase();
      }
      ++numStacked;
    }
  }
};

} // namespace

std::unique_ptr<Pass> createStackRecurrentPass() { return std::make_unique<StackRecurrentPass>(); }
std::unique_ptr<Pass> createStackRecurrentPass(const std::string &schedule, int64_t maxParallel) {
  return std::make_unique<StackRecurrentPass>(schedule, maxParallel);
}

} // namespace nncc
