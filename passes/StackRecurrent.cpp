//===- StackRecurrent.cpp - chains of LSTMs into one wavefront op ---------===//
//
// A multi-layer LSTM (or GRU) arrives as one nn.lstm (nn.gru) per layer,
// each layer's y reshaped into the next layer's x. Run one after the other, each layer
// waits for the whole sequence of the layer below; fused into one
// nn.lstm_stack, the kernel can run cell (l + 1, t) while cell (l, t + 1)
// runs (runtime/kernels/RecurrentStack.cpp). GRUs are stacked into
// nn.gru_stack in inference graphs.
//
// In a training graph (after autodiff) every layer also has its nn.lstm_grad,
// each layer's dX reshaped into the dy of the layer below. The chain of
// gradients becomes one nn.lstm_stack_grad, which runs the cells' backward
// along reverse diagonals; the forward stack then also keeps what the
// backward reads (the lower layers' outputs, a cell state per chunk and the
// gate pre-activations of every step: under store-all the layers come as
// nn.lstm_with_gates, whose saved gates the stack replaces with its own).
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
/// Rows (steps x batch) of a cell: its input projection is one GEMM of this
/// many rows.
constexpr int64_t kChunkRows = 64;

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

/// Calls f with `op` as what it is: nn.lstm or nn.lstm_with_gates (an
/// nn.lstm trained under store-all, whose gates its backward reads: the
/// stack saves its own). Anything else: returns `otherwise`.
template <typename R, typename F> R withForward(Operation *op, R otherwise, F f) {
  if (auto l = dyn_cast_or_null<LSTMOp>(op))
    return f(l);
  if (auto l = dyn_cast_or_null<LSTMWithGatesOp>(op))
    return f(l);
  return otherwise;
}

/// Calls f with `op` as what it is: a layer nn.lstm_with_gates, nn.lstm or
/// nn.gru; anything else: returns `otherwise`.
template <typename R, typename F> R withLayer(Operation *op, R otherwise, F f) {
  if (auto g = dyn_cast_or_null<GRUOp>(op))
    return f(g);
  return withForward(op, otherwise, f);
}

/// A GRU layer the stack kernel runs: forward, linear_before_reset (as
/// PyTorch's), the default activations, no clip or lengths, zero initial
/// state, float32, its final state unread, and no backward (only
/// inference graphs stack GRUs).
bool stackableGRU(GRUOp op) {
  auto names = toStrings(op.getActivations());
  bool defaults = names.empty() || (names.size() == 2 && StringRef(names[0]).equals_insensitive("sigmoid") &&
                                    StringRef(names[1]).equals_insensitive("tanh"));
  auto trained = [](Value v) { return llvm::any_of(v.getUsers(), [](Operation *u) { return isa<GRUGradOp>(u); }); };
  return op.getDirection() == "forward" && defaults && op.getLinearBeforeReset() && !op.getSeqLens() &&
         !op.getClip() && isZeroState(op.getInitialH()) && op.getYH().use_empty() && !trained(op.getX()) &&
         !trained(op.getY()) && op.getX().getType().cast<RankedTensorType>().getElementType().isF32();
}

/// A layer the stack kernel runs: forward, one direction, the default
/// activations, no peepholes, clip, lengths or input_forget, zero initial
/// state, float32, and nobody reads its final states.
bool stackable(Operation *layer) {
  if (auto gru = dyn_cast_or_null<GRUOp>(layer))
    return stackableGRU(gru);
  return withForward(layer, false, [](auto op) {
    auto names = toStrings(op.getActivations());
    bool defaults = names.empty() || (names.size() == 3 && StringRef(names[0]).equals_insensitive("sigmoid") &&
                                      StringRef(names[1]).equals_insensitive("tanh") &&
                                      StringRef(names[2]).equals_insensitive("tanh"));
    return op.getDirection() == "forward" && defaults && !op.getP() && !op.getSeqLens() && !op.getClip() &&
           !op.getInputForget() && isZeroState(op.getInitialH()) && isZeroState(op.getInitialC()) &&
           op.getYH().use_empty() && op.getYC().use_empty() &&
           op.getX().getType().template cast<RankedTensorType>().getElementType().isF32();
  });
}

/// The saved gates of nn.lstm_with_gates (null for nn.lstm).
Value savedGates(Operation *layer) {
  auto g = dyn_cast<LSTMWithGatesOp>(layer);
  return g ? g.getGates() : Value();
}

Value outputOf(Operation *layer) { return layer->getResult(0); }
Value inputOf(Operation *layer) { return layer->getOperand(0); }

/// The layer's backward (autodiff's nn.lstm_grad of it), if it has one the
/// stack's backward can take over: the same operands, gradients flowing in
/// through y only, only dX, dW, dR and dB read, and the store-all memory
/// policy (the stack keeps every step's gate gradients; under the other
/// policies the layers keep their own kernels, which honour them). Saved
/// gates are read by that backward alone.
LSTMGradOp gradientOf(Operation *layer) {
  if (isa<GRUOp>(layer))
    return nullptr;
  LSTMGradOp found;
  for (Operation *user : outputOf(layer).getUsers()) {
    auto g = dyn_cast<LSTMGradOp>(user);
    if (!g || g.getY() != outputOf(layer))
      continue;
    if (found)
      return nullptr;
    found = g;
  }
  if (!found)
    return nullptr;
  Value gates = savedGates(layer);
  if (found.getGates() != gates || (gates && !gates.hasOneUse()))
    return nullptr;
  bool same = withForward(layer, false, [&](auto op) {
    return found.getX() == op.getX() && found.getW() == op.getW() && found.getR() == op.getR() &&
           found.getB() == op.getB() && found.getInitialH() == op.getInitialH() &&
           found.getInitialC() == op.getInitialC();
  });
  if (!same || found.getSeqLens() || found.getP() || !found.getDy() || found.getDyH() || found.getDyC() ||
      found.getCheckpoints() || !found.getDInitialH().use_empty() || !found.getDInitialC().use_empty() ||
      !found.getDp().use_empty() || found.getMemoryPolicy() != "store-all")
    return nullptr;
  return found;
}

/// A layer and, in a training graph, its backward.
struct Layer {
  Operation *op;
  LSTMGradOp grad;
};

int64_t hiddenOf(Operation *layer) {
  return withLayer(layer, int64_t(0), [](auto op) { return (int64_t)op.getHiddenSize(); });
}

int64_t dimOf(Value v, unsigned i) { return v.getType().cast<RankedTensorType>().getDimSize(i); }

/// The next layer: y's only reader (besides this layer's backward) is a
/// reshape to [T, B, H], read only by the x of a stackable nn.lstm (and by
/// that layer's backward). Either every layer of a chain has a backward or
/// none has.
Optional<Layer> nextLayer(Layer layer) {
  Value y = outputOf(layer.op);
  ReshapeOp reshape;
  for (Operation *user : y.getUsers()) {
    if (user == layer.grad.getOperation())
      continue;
    auto r = dyn_cast<ReshapeOp>(user);
    if (!r || reshape)
      return llvm::None;
    reshape = r;
  }
  // ... to [T, B, H]: the same steps and batch (another split of the rows
  // would be another recurrence).
  Value x = inputOf(layer.op);
  if (!reshape || reshape.getType().cast<RankedTensorType>().getRank() != 3 ||
      dimOf(reshape.getResult(), 0) != dimOf(x, 0) || dimOf(reshape.getResult(), 1) != dimOf(x, 1))
    return llvm::None;
  Operation *next = nullptr;
  for (Operation *user : reshape.getResult().getUsers()) {
    bool forward = isa<GRUOp>(user) == isa<GRUOp>(layer.op) && withLayer(user, false, [](auto) { return true; });
    if (forward && inputOf(user) == reshape.getResult() && !next) {
      next = user;
      continue;
    }
    if (!isa<LSTMGradOp>(user))
      return llvm::None;
  }
  if (!next || !stackable(next) || hiddenOf(next) != hiddenOf(layer.op))
    return llvm::None;
  Layer n{next, gradientOf(next)};
  if ((bool)n.grad != (bool)layer.grad)
    return llvm::None;
  // The reshape's other readers are the next layer's backward only.
  for (Operation *user : reshape.getResult().getUsers())
    if (user != next && user != n.grad.getOperation())
      return llvm::None;
  if (n.grad) {
    // This layer's dy is the next one's dX, reshaped, and nothing else reads
    // that dX.
    auto dy = layer.grad.getDy().getDefiningOp<ReshapeOp>();
    if (!dy || dy.getX() != n.grad.getDx() || !dy.getResult().hasOneUse() || !n.grad.getDx().hasOneUse())
      return llvm::None;
  }
  return n;
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
    SmallVector<SmallVector<Layer>> chains;
    llvm::DenseSet<Operation *> taken;
    getOperation().walk([&](Operation *op) {
      if (taken.count(op) || !stackable(op))
        return;
      SmallVector<Layer> chain{{op, gradientOf(op)}};
      while (chain.size() < kMaxStackLayers)
        if (Optional<Layer> next = nextLayer(chain.back()))
          chain.push_back(*next);
        else
          break;
      for (Layer &l : chain)
        taken.insert(l.op);
      if (chain.size() >= 2)
        chains.push_back(chain);
    });
    for (auto &chain : chains)
      stack(chain);
  }

  void stack(ArrayRef<Layer> chain) {
    Operation *first = chain.front().op, *last = chain.back().op;
    OpBuilder b(last);
    SmallVector<Value> weights;
    bool gru = isa<GRUOp>(first);
    for (Layer l : chain) {
      auto [w, r, bias] = withLayer(l.op, std::make_tuple(Value(), Value(), Value()), [](auto op) {
        return std::make_tuple(op.getW(), op.getR(), op.getB());
      });
      if (!bias) {
        auto t = RankedTensorType::get({1, (gru ? 6 : 8) * hiddenOf(l.op)}, b.getF32Type());
        bias = b.create<ConstantOp>(l.op->getLoc(), t, DenseElementsAttr::get(t, b.getF32FloatAttr(0.0f)));
      }
      weights.append({w, r, bias});
    }
    int64_t L = chain.size(), T = dimOf(inputOf(first), 0), B = dimOf(inputOf(first), 1);
    int64_t H = hiddenOf(last);
    int64_t S = std::max<int64_t>(1, std::min<int64_t>(T, kChunkRows / std::max<int64_t>(B, 1)));
    int64_t chunks = (T + S - 1) / S;
    Type f32 = b.getF32Type();
    auto states = RankedTensorType::get({L - 1, T, B, H}, f32);
    auto cells = RankedTensorType::get({L, chunks, B, H}, f32);
    auto gates = RankedTensorType::get({L, T, B, 4 * H}, f32);
    auto hidden = b.getI64IntegerAttr(H);
    auto chunkSteps = b.getI64IntegerAttr(S);
    auto parallel = b.getI64IntegerAttr(maxParallel);
    if (gru) { // (inference only)
      auto stack = b.create<GRUStackOp>(last->getLoc(), outputOf(last).getType(), inputOf(first), weights, hidden,
                                        parallel, chunkSteps);
      outputOf(last).replaceAllUsesWith(stack.getY());
      eraseLayers(chain);
      ++numStackedGRU;
      return;
    }
    auto fwd = b.create<LSTMStackOp>(last->getLoc(), TypeRange{outputOf(last).getType(), states, cells, gates},
                                     inputOf(first), weights, hidden, parallel, chunkSteps);
    if (chain.front().grad) {
      // The layers' backward ops run top layer first: the bottom one is last.
      LSTMGradOp top = Layer(chain.back()).grad, bottom = Layer(chain.front()).grad;
      OpBuilder gb(bottom);
      SmallVector<Type> dweights;
      for (Value w : weights)
        dweights.push_back(w.getType());
      auto bwd = gb.create<LSTMStackGradOp>(bottom.getLoc(), bottom.getDx().getType(), dweights, inputOf(first),
                                            weights, fwd.getStates(), fwd.getCells(), fwd.getGates(), fwd.getY(),
                                            top.getDy(), hidden, parallel, chunkSteps);
      for (auto it : llvm::enumerate(chain)) {
        LSTMGradOp g = Layer(it.value()).grad;
        g.getDw().replaceAllUsesWith(bwd.getDweights()[3 * it.index()]);
        g.getDr().replaceAllUsesWith(bwd.getDweights()[3 * it.index() + 1]);
        g.getDb().replaceAllUsesWith(bwd.getDweights()[3 * it.index() + 2]);
      }
      bottom.getDx().replaceAllUsesWith(bwd.getDx());
      for (Layer l : chain) {
        Operation *dy = l.op == last ? nullptr : l.grad.getDy().getDefiningOp();
        l.grad.erase();
        if (dy)
          dy->erase();
      }
      ++numStackedGradients;
    }
    outputOf(last).replaceAllUsesWith(fwd.getY());
    eraseLayers(chain);
    ++numStacked;
  }

  /// Erases the stacked layers and the reshapes between them.
  void eraseLayers(ArrayRef<Layer> chain) {
    for (Layer l : llvm::reverse(chain)) {
      Operation *reshape = l.op == chain.front().op ? nullptr : inputOf(l.op).getDefiningOp();
      l.op->erase();
      if (reshape)
        reshape->erase();
    }
  }
};

} // namespace

std::unique_ptr<Pass> createStackRecurrentPass() { return std::make_unique<StackRecurrentPass>(); }
std::unique_ptr<Pass> createStackRecurrentPass(const std::string &schedule, int64_t maxParallel) {
  return std::make_unique<StackRecurrentPass>(schedule, maxParallel);
}

} // namespace nncc
