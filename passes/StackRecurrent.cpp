//===- StackRecurrent.cpp - chains of LSTMs into one wavefront op ---------===//
//
// A multi-layer LSTM (or GRU, RNN) arrives as one nn.lstm (nn.gru, nn.rnn) per layer,
// each layer's y reshaped into the next layer's x. Run one after the other, each layer
// waits for the whole sequence of the layer below; fused into one
// nn.lstm_stack, the kernel can run cell (l + 1, t) while cell (l, t + 1)
// runs (runtime/kernels/RecurrentStack.cpp). GRUs (with
// linear_before_reset or without) are stacked into nn.gru_stack the same
// way, simple RNNs (tanh or Relu) into nn.rnn_stack; the layers of one
// stack share the variant and their sequence lengths, if any.
//
// In a training graph (after autodiff) every layer also has its nn.lstm_grad
// (nn.gru_grad, nn.rnn_grad),
// each layer's dX reshaped into the dy of the layer below. The chain of
// gradients becomes one nn.lstm_stack_grad, which runs the cells' backward
// along reverse diagonals; the forward stack then also keeps what the
// backward reads (the lower layers' outputs, a cell state per chunk and,
// under store-all, the gate pre-activations of every step: the layers come
// as nn.lstm_with_gates, whose saved gates the stack replaces with its own).
// Under the other memory policies the layers save no gates, or a budget's
// layers those of their last steps, and the stack saves none: its backward
// recomputes each chunk's gates (an LSTM under checkpoint keeps its own
// kernels: gradientOf; so does a clipped RNN: clipStacks).
// A GRU chain's gradients become one nn.gru_stack_grad likewise (a GRU's
// state is h, which the saved outputs hold: no cell states).
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
/// Steps per cell of a stack over T steps of batch B: kChunkRows rows.
int64_t chunkStepsFor(int64_t T, int64_t B) {
  return std::max<int64_t>(1, std::min<int64_t>(T, kChunkRows / std::max<int64_t>(B, 1)));
}

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

/// Calls f with `op` as the first of Ops that it is; anything else (or
/// null): returns `otherwise`.
template <typename... Ops, typename R, typename F> R withOneOf(Operation *op, R otherwise, F f) {
  Optional<R> result;
  (void)((isa_and_nonnull<Ops>(op) ? (result = f(cast<Ops>(op)), true) : false) || ...);
  return result ? *result : otherwise;
}

/// nn.lstm, nn.lstm_with_gates (an nn.lstm trained under store-all, whose
/// gates its backward reads: the stack saves its own), nn.lstm_checkpointed
/// (whose states before each segment its backward reads: the stack saves
/// its own chunks') or nn.lstm_saving (a budget's: those states and the
/// gates of its last steps, which the stack, recomputing, does without).
template <typename R, typename F> R withForward(Operation *op, R otherwise, F f) {
  return withOneOf<LSTMOp, LSTMWithGatesOp, LSTMCheckpointedOp, LSTMSavingOp>(op, otherwise, f);
}
/// nn.gru, nn.rnn or their *_with_gates forms.
template <typename R, typename F> R withGRUOrRNN(Operation *op, R otherwise, F f) {
  return withOneOf<GRUOp, GRUWithGatesOp, RNNOp, RNNWithGatesOp>(op, otherwise, f);
}
/// Any layer the pass stacks.
template <typename R, typename F> R withLayer(Operation *op, R otherwise, F f) {
  return withOneOf<LSTMOp, LSTMWithGatesOp, LSTMCheckpointedOp, LSTMSavingOp, GRUOp, GRUWithGatesOp, RNNOp,
                   RNNWithGatesOp>(op, otherwise, f);
}
/// A layer's backward.
template <typename R, typename F> R withGrad(Operation *op, R otherwise, F f) {
  return withOneOf<LSTMGradOp, GRUGradOp, RNNGradOp>(op, otherwise, f);
}

/// The cell of a layer or of a layer's backward.
enum class Kind { None, LSTM, GRU, RNN };
Kind kindOf(Operation *op) {
  if (isa_and_nonnull<LSTMOp, LSTMWithGatesOp, LSTMCheckpointedOp, LSTMSavingOp, LSTMGradOp>(op))
    return Kind::LSTM;
  if (isa_and_nonnull<GRUOp, GRUWithGatesOp, GRUGradOp>(op))
    return Kind::GRU;
  if (isa_and_nonnull<RNNOp, RNNWithGatesOp, RNNGradOp>(op))
    return Kind::RNN;
  return Kind::None;
}
bool isGrad(Operation *op) { return isa_and_nonnull<LSTMGradOp, GRUGradOp, RNNGradOp>(op); }
/// Gates per cell: each is one H-wide block of W, R and (twice) B.
int64_t gatesOf(Kind kind) { return kind == Kind::LSTM ? 4 : kind == Kind::GRU ? 3 : 1; }

/// Activations as ONNX names them: none given (the defaults) or exactly
/// `names`, in any case.
bool defaultActivations(ArrayAttr given, ArrayRef<StringRef> names) {
  auto got = toStrings(given);
  if (got.empty())
    return true;
  if (got.size() != names.size())
    return false;
  for (size_t i = 0; i < names.size(); ++i)
    if (!StringRef(got[i]).equals_insensitive(names[i]))
      return false;
  return true;
}

/// A layer's clip (ONNX's attribute; null: none).
FloatAttr clipOf(Operation *layer) {
  return withLayer(layer, FloatAttr(), [](auto op) { return op.getClipAttr(); });
}
/// Whether no backward reads the layer (inference).
bool noBackward(Operation *layer) {
  return llvm::none_of(layer->getUsers(), [](Operation *user) { return isGrad(user); }) &&
         withOneOf<LSTMOp, GRUOp, RNNOp>(layer, false, [](auto) { return true; });
}
Value savedGates(Operation *layer);

/// No clip, or one the stack runs: an LSTM's or a GRU's, or that of an RNN
/// no backward reads or whose forward saves its pre-activations (store-all,
/// or a budget that holds them: the stack saves its own, from which its
/// backward takes the clipped activation's derivative; without them it
/// takes it from the outputs, which do not say where the clip bound).
bool clipStacks(Operation *layer) {
  return !clipOf(layer) || kindOf(layer) != Kind::RNN || noBackward(layer) || savedGates(layer);
}

/// A GRU or RNN layer the stack kernel runs: forward, the default
/// activations (a GRU: sigmoid and tanh, with linear_before_reset or
/// without; an RNN: tanh or Relu, PyTorch's two), a clip it runs
/// (clipStacks), and float32.
bool stackableGRUOrRNN(Operation *layer) {
  return withGRUOrRNN(layer, false, [](auto op) {
    bool cell;
    if constexpr (std::is_same_v<decltype(op), GRUOp> || std::is_same_v<decltype(op), GRUWithGatesOp>)
      cell = defaultActivations(op.getActivations(), {"sigmoid", "tanh"});
    else
      cell = defaultActivations(op.getActivations(), {"tanh"}) || defaultActivations(op.getActivations(), {"relu"});
    return op.getDirection() == "forward" && cell && clipStacks(op) &&
           op.getX().getType().template cast<RankedTensorType>().getElementType().isF32();
  });
}

/// What the layers of one stack must share besides their kind: a GRU's
/// linear_before_reset, an RNN's activation (1: Relu).
int64_t variantOf(Operation *layer) {
  return withGRUOrRNN(layer, int64_t(0), [](auto op) -> int64_t {
    if constexpr (std::is_same_v<decltype(op), GRUOp> || std::is_same_v<decltype(op), GRUWithGatesOp>)
      return op.getLinearBeforeReset();
    else
      return !defaultActivations(op.getActivations(), {"tanh"});
  });
}

Operation *gradientOf(Operation *layer);

/// A layer the stack kernel runs: forward, one direction, the default
/// activations, no peepholes or input_forget, a clip it runs (clipStacks),
/// and float32. (Its
/// initial states and final states become rows of the stack's; its
/// sequence lengths, the same for every layer of a chain, the stack's.)
bool stackable(Operation *layer) {
  if (kindOf(layer) != Kind::LSTM)
    return stackableGRUOrRNN(layer);
  // An nn.lstm_checkpointed whose backward reads no y (the checkpoint
  // policy) keeps its kernels (gradientOf), and so does an nn.lstm_saving
  // whose backward the stack does not take over.
  if (isa<LSTMCheckpointedOp, LSTMSavingOp>(layer) && !gradientOf(layer))
    return false;
  return withForward(layer, false, [](auto op) {
    return op.getDirection() == "forward" &&
           defaultActivations(op.getActivations(), {"sigmoid", "tanh", "tanh"}) && !op.getP() &&
           clipStacks(op) && !op.getInputForget() &&
           op.getX().getType().template cast<RankedTensorType>().getElementType().isF32();
  });
}

/// The gates a layer's forward saves for its backward: those of every step
/// (`partial` false: nn.*_with_gates) or of its last steps (`partial` true:
/// a budget's nn.lstm_saving, or nn.gru_with_gates / nn.rnn_with_gates with
/// saved_steps); null for the others.
Value gatesSaved(Operation *layer, bool partial) {
  return withOneOf<LSTMWithGatesOp, LSTMSavingOp, GRUWithGatesOp, RNNWithGatesOp>(layer, Value(), [&](auto op) {
    bool some;
    if constexpr (std::is_same_v<decltype(op), LSTMWithGatesOp> || std::is_same_v<decltype(op), LSTMSavingOp>)
      some = std::is_same_v<decltype(op), LSTMSavingOp>;
    else
      some = op.getSavedSteps().has_value();
    return some == partial ? op.getGates() : Value();
  });
}
/// The saved gates of every step (nn.*_with_gates without saved_steps).
Value savedGates(Operation *layer) { return gatesSaved(layer, false); }
/// The saved states of nn.lstm_checkpointed and nn.lstm_saving (null for
/// the others).
Value savedCheckpoints(Operation *layer) {
  return withOneOf<LSTMCheckpointedOp, LSTMSavingOp>(layer, Value(), [](auto op) { return op.getCheckpoints(); });
}
/// The gates of the last steps a budget's layer saves.
Value partialGates(Operation *layer) { return gatesSaved(layer, true); }
/// The gates a layer's backward reads (null: none).
Value gatesRead(Operation *grad) {
  return withGrad(grad, Value(), [](auto g) { return g.getGates(); });
}
/// The checkpoints an LSTM's backward reads (null: none, and the others').
Value checkpointsRead(Operation *grad) {
  return withOneOf<LSTMGradOp>(grad, Value(), [](auto g) { return g.getCheckpoints(); });
}
/// A layer's sequence lengths (null: none).
Value seqLensOf(Operation *layer) { return withLayer(layer, Value(), [](auto op) { return op.getSeqLens(); }); }
/// A layer backward's dX, dy and the gradients of W, R and B.
Value dxOf(Operation *grad) { return grad->getResult(0); }
Value dyOf(Operation *grad) { return withGrad(grad, Value(), [](auto g) { return g.getDy(); }); }
Value dWeightOf(Operation *grad, unsigned i) { return grad->getResult(1 + i); }

/// A layer's initial and final states (c: an LSTM's; null for the others
/// and where absent).
Value initialHOf(Operation *layer) { return withLayer(layer, Value(), [](auto op) { return op.getInitialH(); }); }
Value initialCOf(Operation *layer) { return withForward(layer, Value(), [](auto op) { return op.getInitialC(); }); }
Value finalHOf(Operation *layer) { return withLayer(layer, Value(), [](auto op) { return op.getYH(); }); }
Value finalCOf(Operation *layer) { return withForward(layer, Value(), [](auto op) { return op.getYC(); }); }
/// A layer backward's final states' gradients and initial states' gradients.
Value dFinalHOf(Operation *grad) { return withGrad(grad, Value(), [](auto g) { return g.getDyH(); }); }
Value dFinalCOf(Operation *grad) {
  return withOneOf<LSTMGradOp>(grad, Value(), [](auto g) { return g.getDyC(); });
}
Value dInitialHOf(Operation *grad) { return withGrad(grad, Value(), [](auto g) { return g.getDInitialH(); }); }
Value dInitialCOf(Operation *grad) {
  return withOneOf<LSTMGradOp>(grad, Value(), [](auto g) { return g.getDInitialC(); });
}

/// The ops before `at` in its block that read `values` (null ones are
/// skipped), directly or through one another, in block order: the stack
/// replaces the values by slices of its results, defined just before `at`,
/// so these ops move below them (autodiff puts a layer's initial states'
/// gradient readers right after that layer's backward). None when one of
/// them is one of `fixed` (the chain's ops: it would have to move below
/// itself) or lies outside the block.
Optional<SmallVector<Operation *>> readersBefore(ArrayRef<Value> values, Operation *at,
                                                const llvm::DenseSet<Operation *> &fixed) {
  Block *block = at->getBlock();
  llvm::SetVector<Operation *> found;
  SmallVector<Value> work(values.begin(), values.end());
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!v)
      continue;
    for (Operation *user : v.getUsers()) {
      Operation *u = block->findAncestorOpInBlock(*user);
      if (!u || fixed.count(u))
        return llvm::None;
      if (at->isBeforeInBlock(u) || !found.insert(u))
        continue;
      work.append(u->result_begin(), u->result_end());
    }
  }
  SmallVector<Operation *> ops(found.begin(), found.end());
  llvm::sort(ops, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return ops;
}

/// What only an LSTM's backward has: no peepholes.
bool noLSTMExtras(LSTMGradOp g) { return !g.getP() && g.getDp().use_empty(); }
bool noLSTMExtras(GRUGradOp) { return true; }
bool noLSTMExtras(RNNGradOp) { return true; }

/// What a cell's forward and backward must also agree on: an LSTM's initial
/// cell state, a GRU's linear_before_reset. (Other pairs are other cells.)
template <typename Grad, typename Op> bool sameCellAttributes(Grad, Op) { return false; }
template <typename Op> bool sameLSTM(LSTMGradOp g, Op op) { return g.getInitialC() == op.getInitialC(); }
bool sameCellAttributes(LSTMGradOp g, LSTMOp op) { return sameLSTM(g, op); }
bool sameCellAttributes(LSTMGradOp g, LSTMWithGatesOp op) { return sameLSTM(g, op); }
bool sameCellAttributes(LSTMGradOp g, LSTMCheckpointedOp op) { return sameLSTM(g, op); }
bool sameCellAttributes(LSTMGradOp g, LSTMSavingOp op) { return sameLSTM(g, op); }
template <typename Op> bool sameGRU(GRUGradOp g, Op op) {
  return g.getLinearBeforeReset() == op.getLinearBeforeReset();
}
bool sameCellAttributes(GRUGradOp g, GRUOp op) { return sameGRU(g, op); }
bool sameCellAttributes(GRUGradOp g, GRUWithGatesOp op) { return sameGRU(g, op); }
bool sameCellAttributes(RNNGradOp, RNNOp) { return true; }
bool sameCellAttributes(RNNGradOp, RNNWithGatesOp) { return true; }

Value outputOf(Operation *layer) { return layer->getResult(0); }
Value inputOf(Operation *layer) { return layer->getOperand(0); }

/// Whether what the stack keeps for a layer's backward beyond its output
/// fits the layer's budget=BYTES, as the layer's own kernel would make it
/// (which shortens its segments down to one step): recomputing the gates,
/// the backward's rows of a chunk (the gates, their h_{t-1} products, cell
/// states and dy, about 64 rows each) and, for an LSTM, the cell state the
/// forward saves before each chunk. Saved gates are within the budget by
/// autodiff's choice.
template <typename Grad> bool withinBudget(Grad g, bool savedGates) {
  if (g.getMemoryPolicy() != "budget" || savedGates)
    return true;
  auto x = g.getX().getType().template cast<RankedTensorType>();
  int64_t B = std::max<int64_t>(1, x.getDimSize(1)), T = std::max<int64_t>(1, x.getDimSize(0));
  int64_t S = chunkStepsFor(T, B), H = g.getHiddenSize();
  int64_t bytes = 4 * (S * B * (4 * H + 3 * H + 3 * H) + 8 * B * H);
  if (kindOf(g) == Kind::LSTM)
    bytes += 4 * ((T + S - 1) / S) * B * H;
  return bytes <= (int64_t)g.getMemoryBudget();
}

/// Hidden sizes up to which stacked LSTMs that recompute their gates in the
/// backward (recompute-gates, or a budget that does not hold them) train
/// faster than their layers, measured here (4 layers, batch 8, 100 steps, 2
/// threads, training step under recompute-gates; stack against layers):
/// hidden 128, 13.7 against 24.1 ms; 256, 54.5 against 59.1 ms; 512, 222
/// against 197 ms. Each stacked backward cell recomputes its chunk's gates
/// and adds its weight gradients with GEMMs of its 64 rows on one thread,
/// next to cells of other layers, one of which (the bottom layer's) computes
/// no dX; the layers' backward runs the same FLOPs in GEMMs over 256 rows
/// on both threads. With the saved gates there is no such work and the
/// stack is no slower at any size.
constexpr int64_t kMaxRecomputingLSTMStackHidden = 256;
template <typename Grad> bool stackRecomputes(Grad g, bool savedGates) {
  return savedGates || kindOf(g) != Kind::LSTM || (int64_t)g.getHiddenSize() <= kMaxRecomputingLSTMStackHidden;
}

/// The layer's backward (autodiff's nn.lstm_grad of it), if it has one the
/// stack's backward can take over: the same operands, gradients flowing in
/// through y or the final states (an encoder's: its y unread). Under
/// store-all (or a budget they fit) the layer saved its gates, which that
/// backward alone reads: the stack saves its own. Under recompute-gates
/// (and a budget that holds the stack's working set: withinBudget; LSTMs up
/// to a hidden size: stackRecomputes) the stack's backward recomputes them
/// chunk by chunk, as GRUs' and RNNs'
/// under checkpoint (whose layers keep y and recompute their gates too);
/// the cell states an LSTM saved for its backward's segments
/// (nn.lstm_checkpointed with y) give way to the stack's chunks'. An
/// LSTM under checkpoint (nn.lstm_checkpointed, whose backward reads
/// checkpoints instead of y) keeps its own kernels: that policy keeps about
/// 2 sqrt(T) states and lets y die, where the stack would keep y and a cell
/// state per chunk.
Operation *gradientOf(Operation *layer) {
  Operation *found = nullptr;
  for (Operation *user : outputOf(layer).getUsers()) {
    bool ofY = withGrad(user, false, [&](auto g) { return g.getY() == outputOf(layer); });
    if (!ofY)
      continue;
    if (found)
      return nullptr;
    found = user;
  }
  if (!found || kindOf(found) != kindOf(layer))
    return nullptr;
  Value gates = savedGates(layer);
  bool same = withLayer(layer, false, [&](auto op) {
    return withGrad(found, false, [&](auto g) {
      bool inputs = g.getX() == op.getX() && g.getW() == op.getW() && g.getR() == op.getR() &&
                    g.getB() == op.getB() && g.getInitialH() == op.getInitialH() &&
                    g.getDirection() == op.getDirection() && g.getActivations() == op.getActivations() &&
                    g.getClip() == op.getClip() && sameCellAttributes(g, op);
      return inputs && g.getSeqLens() == op.getSeqLens() && noLSTMExtras(g) && withinBudget(g, (bool)gates) &&
             stackRecomputes(g, (bool)gates);
    });
  });
  // (The layer's checkpoints and the gates of its last steps, if it saves
  // some, are read by this backward alone: the stack saves its own, or
  // recomputes them.)
  Value checkpoints = savedCheckpoints(layer), partial = partialGates(layer);
  auto readByItAlone = [](Value v) { return !v || v.hasOneUse(); };
  if (!same || gatesRead(found) != (gates ? gates : partial) || checkpointsRead(found) != checkpoints ||
      !readByItAlone(gates) || !readByItAlone(checkpoints) || !readByItAlone(partial))
    return nullptr;
  return found;
}

/// A layer and, in a training graph, its backward (nn.lstm_grad or
/// nn.gru_grad or nn.rnn_grad).
struct Layer {
  Operation *op;
  Operation *grad;
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
    if (user == layer.grad)
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
    bool forward = !isGrad(user) && kindOf(user) == kindOf(layer.op) && kindOf(user) != Kind::None &&
                   variantOf(user) == variantOf(layer.op) && clipOf(user) == clipOf(layer.op);
    if (forward && inputOf(user) == reshape.getResult() && !next) {
      next = user;
      continue;
    }
    if (!isGrad(user))
      return llvm::None;
  }
  // (One stack saves the gates of all its layers or of none, and has one
  // set of sequence lengths.)
  if (!next || !stackable(next) || hiddenOf(next) != hiddenOf(layer.op) ||
      (bool)savedGates(next) != (bool)savedGates(layer.op) || seqLensOf(next) != seqLensOf(layer.op))
    return llvm::None;
  Layer n{next, gradientOf(next)};
  if ((bool)n.grad != (bool)layer.grad)
    return llvm::None;
  // The reshape's other readers are the next layer's backward only.
  for (Operation *user : reshape.getResult().getUsers())
    if (user != next && user != n.grad)
      return llvm::None;
  if (n.grad) {
    // This layer's dy is the next one's dX, reshaped, and nothing else reads
    // that dX.
    Value d = dyOf(layer.grad);
    auto dy = d ? d.getDefiningOp<ReshapeOp>() : ReshapeOp();
    if (!dy || dy.getX() != dxOf(n.grad) || !dy.getResult().hasOneUse() || !dxOf(n.grad).hasOneUse())
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
    // Bidirectional layers and their backward ops: their two directions at
    // once (the kernels' forEachDirection), unless at most one cell may run
    // at a time.
    if (maxParallel != 1)
      getOperation().walk([&](Operation *op) {
        bool both = withOneOf<LSTMOp, LSTMWithGatesOp, LSTMCheckpointedOp, LSTMSavingOp, GRUOp, GRUWithGatesOp, RNNOp,
                              RNNWithGatesOp, LSTMGradOp, GRUGradOp, RNNGradOp>(
            op, false, [](auto layer) { return layer.getDirection() == "bidirectional"; });
        if (both) {
          op->setAttr(kDirectionsAtOnceAttr, UnitAttr::get(op->getContext()));
          ++numDirectionsAtOnce;
        }
      });
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
      while (chain.size() >= 2 && !statesReaders(chain))
        chain.pop_back();
      for (Layer &l : chain)
        taken.insert(l.op);
      if (chain.size() >= 2)
        chains.push_back(chain);
    });
    for (auto &chain : chains)
      stack(chain);
  }

  /// The chain's ops: its layers, their backward ops and the reshapes
  /// between them.
  static llvm::DenseSet<Operation *> chainOps(ArrayRef<Layer> chain) {
    llvm::DenseSet<Operation *> ops;
    for (Layer l : chain) {
      ops.insert(l.op);
      if (l.op != chain.front().op)
        ops.insert(inputOf(l.op).getDefiningOp());
      if (l.grad) {
        ops.insert(l.grad);
        if (l.op != chain.back().op)
          ops.insert(dyOf(l.grad).getDefiningOp());
      }
    }
    return ops;
  }

  /// The readers of the layers' final states that the forward stack's
  /// results must come before (at the last layer), and those of their
  /// backward ops' weight and initial states' gradients (at the bottom
  /// layer's backward: an export that rearranges the weights rearranges
  /// their gradients right after each layer's backward); None if one of
  /// them cannot move there.
  static Optional<std::pair<SmallVector<Operation *>, SmallVector<Operation *>>> statesReaders(ArrayRef<Layer> chain) {
    SmallVector<Value> finals, gradients;
    for (Layer l : chain) {
      finals.append({finalHOf(l.op), finalCOf(l.op)});
      if (l.grad)
        gradients.append({dWeightOf(l.grad, 0), dWeightOf(l.grad, 1), dWeightOf(l.grad, 2), dInitialHOf(l.grad),
                          dInitialCOf(l.grad)});
    }
    auto fixed = chainOps(chain);
    auto forward = readersBefore(finals, chain.back().op, fixed);
    if (!forward)
      return llvm::None;
    SmallVector<Operation *> backward;
    if (chain.front().grad) {
      auto b = readersBefore(gradients, chain.front().grad, fixed);
      if (!b)
        return llvm::None;
      backward = *b;
    }
    return std::make_pair(*forward, backward);
  }

  /// The layers' [1, B, H] states as one [L, B, H] (zeros for layers
  /// without), or null when every one is absent or zeros.
  static Value layerRows(OpBuilder &b, Location loc, ArrayRef<Value> rows, RankedTensorType type) {
    if (llvm::all_of(rows, isZeroState))
      return Value();
    auto rowType = RankedTensorType::get({1, type.getDimSize(1), type.getDimSize(2)}, type.getElementType());
    Value zeros;
    SmallVector<Value> parts;
    for (Value v : rows) {
      if (!v && !zeros)
        zeros = b.create<ConstantOp>(loc, rowType, DenseElementsAttr::get(rowType, b.getF32FloatAttr(0.0f)));
      parts.push_back(v ? v : zeros);
    }
    return b.create<ConcatOp>(loc, type, parts, b.getI64IntegerAttr(0));
  }

  /// Replaces each layer's [1, B, H] state (where read) by its row of `all`
  /// ([L, B, H]).
  static void replaceByRows(OpBuilder &b, Location loc, Value all, ArrayRef<Value> rows) {
    auto type = all.getType().cast<RankedTensorType>();
    for (auto it : llvm::enumerate(rows)) {
      Value v = it.value();
      if (!v || v.use_empty())
        continue;
      int64_t l = it.index();
      auto row = b.create<SliceOp>(loc, v.getType(), all, b.getI64ArrayAttr({l, 0, 0}), b.getI64ArrayAttr({1, 1, 1}),
                                   b.getI64ArrayAttr({1, type.getDimSize(1), type.getDimSize(2)}));
      v.replaceAllUsesWith(row.getResult());
    }
  }

  void stack(ArrayRef<Layer> chain) {
    Operation *first = chain.front().op, *last = chain.back().op;
    auto readers = statesReaders(chain); // (another chain's stack may have moved ops)
    if (!readers)
      return;
    OpBuilder b(last);
    SmallVector<Value> weights;
    Kind kind = kindOf(first);
    for (Layer l : chain) {
      auto [w, r, bias] = withLayer(l.op, std::make_tuple(Value(), Value(), Value()), [](auto op) {
        return std::make_tuple(op.getW(), op.getR(), op.getB());
      });
      if (!bias) {
        auto t = RankedTensorType::get({1, 2 * gatesOf(kind) * hiddenOf(l.op)}, b.getF32Type());
        bias = b.create<ConstantOp>(l.op->getLoc(), t, DenseElementsAttr::get(t, b.getF32FloatAttr(0.0f)));
      }
      weights.append({w, r, bias});
    }
    int64_t L = chain.size(), T = dimOf(inputOf(first), 0), B = dimOf(inputOf(first), 1);
    int64_t H = hiddenOf(last);
    int64_t S = chunkStepsFor(T, B);
    int64_t chunks = (T + S - 1) / S;
    Type f32 = b.getF32Type();
    auto states = RankedTensorType::get({L - 1, T, B, H}, f32);
    auto cells = RankedTensorType::get({L, chunks, B, H}, f32);
    // (rows for the backward: an RNN's are H wide, the others' 4H)
    auto gates = RankedTensorType::get({L, T, B, (kind == Kind::RNN ? 1 : 4) * H}, f32);
    auto layerStates = RankedTensorType::get({L, B, H}, f32);
    auto hidden = b.getI64IntegerAttr(H);
    auto chunkSteps = b.getI64IntegerAttr(S);
    auto parallel = b.getI64IntegerAttr(maxParallel);
    // One value per layer (a layer's or its backward's state).
    auto ofLayers = [&](auto get) {
      SmallVector<Value> values;
      for (Layer l : chain)
        values.push_back(get(l));
      return values;
    };
    Location loc = last->getLoc();
    // The layers' initial states, each its [1, B, H] row.
    Value h0 = layerRows(b, loc, ofLayers([](Layer l) { return initialHOf(l.op); }), layerStates);
    Value c0 = layerRows(b, loc, ofLayers([](Layer l) { return initialCOf(l.op); }), layerStates);
    Value lens = seqLensOf(first); // (every layer's)
    // The forward stack: y, states, (an LSTM stack's) cells, gates, the
    // final states (an LSTM's h and c).
    SmallVector<Type, 6> types{outputOf(last).getType(), states, gates, layerStates};
    if (kind == Kind::LSTM) {
      types.insert(types.begin() + 2, cells);
      types.push_back(layerStates);
    }
    // The cell's variant: a GRU's linear_before_reset, an RNN's activation.
    auto variant = [&](auto stackOp) {
      if constexpr (std::is_same_v<decltype(stackOp), GRUStackOp> || std::is_same_v<decltype(stackOp), GRUStackGradOp>)
        return b.getBoolAttr(variantOf(first));
      else
        return b.getStringAttr(variantOf(first) ? "Relu" : "Tanh");
    };
    auto create = [&](auto stackOp) -> Operation * {
      using Op = decltype(stackOp);
      if constexpr (std::is_same_v<Op, LSTMStackOp>)
        return b.create<Op>(loc, types, inputOf(first), weights, h0, c0, lens, hidden, parallel, chunkSteps,
                            clipOf(first));
      else
        return b.create<Op>(loc, types, inputOf(first), weights, h0, lens, hidden, parallel, chunkSteps,
                            variant(stackOp), clipOf(first));
    };
    Operation *fwd = kind == Kind::GRU   ? create(GRUStackOp())
                     : kind == Kind::RNN ? create(RNNStackOp())
                                         : create(LSTMStackOp());
    Value y = fwd->getResult(0);
    unsigned finalAt = kind == Kind::LSTM ? 4 : 3;
    replaceByRows(b, loc, fwd->getResult(finalAt), ofLayers([](Layer l) { return finalHOf(l.op); }));
    if (kind == Kind::LSTM)
      replaceByRows(b, loc, fwd->getResult(5), ofLayers([](Layer l) { return finalCOf(l.op); }));
    for (Operation *op : readers->first)
      op->moveBefore(last);
    if (chain.front().grad) {
      // The layers' backward ops run top layer first: the bottom one is last.
      Operation *top = chain.back().grad, *bottom = chain.front().grad;
      OpBuilder gb(bottom);
      Location gloc = bottom->getLoc();
      // dX, dW, dR and dB per layer, the initial states' gradients.
      SmallVector<Type> gradTypes{dxOf(bottom).getType()};
      for (Value w : weights)
        gradTypes.push_back(w.getType());
      gradTypes.append(kind == Kind::LSTM ? 2 : 1, layerStates);
      // The final states' gradients, each layer's [1, B, H] row.
      Value dhn = layerRows(gb, gloc, ofLayers([](Layer l) { return dFinalHOf(l.grad); }), layerStates);
      Value dcn = layerRows(gb, gloc, ofLayers([](Layer l) { return dFinalCOf(l.grad); }), layerStates);
      auto createGrad = [&](auto gradOp) -> Operation * { // (GRU, RNN: no cells)
        return gb.create<decltype(gradOp)>(gloc, gradTypes, inputOf(first), weights, fwd->getResult(1),
                                           savedGates(first) ? fwd->getResult(2) : Value(), y, dyOf(top), h0, dhn,
                                           lens, hidden, parallel, chunkSteps,
                                           variant(gradOp), clipOf(first));
      };
      Operation *bwd;
      if (kind == Kind::GRU)
        bwd = createGrad(GRUStackGradOp());
      else if (kind == Kind::RNN)
        bwd = createGrad(RNNStackGradOp());
      else
        bwd = gb.create<LSTMStackGradOp>(gloc, gradTypes, inputOf(first), weights, fwd->getResult(1),
                                         fwd->getResult(2), savedGates(first) ? fwd->getResult(3) : Value(), y,
                                         dyOf(top), h0, dhn, dcn, lens, hidden,
                                         parallel, chunkSteps, clipOf(first));
      for (auto it : llvm::enumerate(chain))
        for (unsigned i = 0; i < 3; ++i)
          dWeightOf(it.value().grad, i).replaceAllUsesWith(bwd->getResult(1 + 3 * it.index() + i));
      dxOf(bottom).replaceAllUsesWith(bwd->getResult(0));
      replaceByRows(gb, gloc, bwd->getResult(1 + 3 * L), ofLayers([](Layer l) { return dInitialHOf(l.grad); }));
      if (kind == Kind::LSTM)
        replaceByRows(gb, gloc, bwd->getResult(2 + 3 * L), ofLayers([](Layer l) { return dInitialCOf(l.grad); }));
      for (Operation *op : readers->second)
        op->moveBefore(bottom);
      for (Layer l : chain) {
        Operation *dy = l.op == last ? nullptr : dyOf(l.grad).getDefiningOp();
        l.grad->erase();
        if (dy)
          dy->erase();
      }
      ++(kind == Kind::GRU ? numStackedGRUGradients : kind == Kind::RNN ? numStackedRNNGradients : numStackedGradients);
    }
    outputOf(last).replaceAllUsesWith(y);
    eraseLayers(chain);
    ++(kind == Kind::GRU ? numStackedGRU : kind == Kind::RNN ? numStackedRNN : numStacked);
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
