//===- UnrollRecurrent.cpp - recurrent layers into per-timestep cells -----===//
//
// nn.lstm / nn.gru / nn.rnn become their cells in the IR, one per direction
// and timestep: the input projection of every step is one hoisted matmul
// (x W^T + biases), then each step is one recurrent matmul (gates * H wide)
// and the cell's pointwise math (peepholes and initial states included),
// which nn-fuse-elementwise then fuses. The outputs are the steps' h
// concatenated in time order. Layers with sequence lengths, clip,
// input_forget, activations other than sigmoid, tanh and relu, or more steps
// than `max-steps` keep their whole-layer kernel. A forward that saves its
// gate pre-activations for its backward (nn.*_with_gates: store-all, or a
// budget's, of all steps or of the last ones) is unrolled as the plain op:
// its backward then recomputes them.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/Rewrite.h"

#include "ir/NNOps.h"
#include "ir/ShapeUtils.h"

using namespace mlir;
using namespace nncc::nn;

namespace nncc {
namespace {

#define GEN_PASS_CLASSES
#include "passes/Passes.h.inc"

/// Value-building helpers at one insertion point.
struct Emit {
  Emit(OpBuilder &b, Location loc) : b(b), loc(loc) {}
  OpBuilder &b;
  Location loc;
  /// Per-direction values made once (at their first use, which dominates
  /// the later ones: every op goes in before the layer).
  llvm::DenseMap<std::pair<Value, int64_t>, Value> once;
  Value cached(Value key, int64_t d, function_ref<Value()> make) {
    if (Value v = once.lookup({key, d}))
      return v;
    Value v = make(); // may itself cache values: insert only after it
    once[{key, d}] = v;
    return v;
  }

  static ArrayRef<int64_t> shapeOf(Value v) { return v.getType().cast<RankedTensorType>().getShape(); }
  Value slice(Value v, int64_t axis, int64_t start, int64_t end) {
    auto shape = shapeOf(v);
    SmallVector<int64_t> starts(shape.size(), 0), steps(shape.size(), 1), sizes(shape.begin(), shape.end());
    starts[axis] = start;
    sizes[axis] = end - start;
    return b.create<SliceOp>(loc, v, b.getI64ArrayAttr(starts), b.getI64ArrayAttr(steps), b.getI64ArrayAttr(sizes));
  }
  Value reshape(Value v, ArrayRef<int64_t> shape) { return reshapeTo(b, loc, v, shape); }
  Value matmul(Value x, Value y, Value bias = {}) { return b.create<MatMulOp>(loc, x, y, bias, b.getStrArrayAttr({})); }
  Value add(Value x, Value y) { return b.create<AddOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<SubOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.create<MulOp>(loc, x, y); }
  Value zeros(ArrayRef<int64_t> shape, Type et) {
    auto t = RankedTensorType::get(shape, et);
    return b.create<ConstantOp>(loc, t, DenseElementsAttr::get(t, b.getFloatAttr(et, 0.0)));
  }
  Value concat(ArrayRef<Value> parts, int64_t axis) {
    SmallVector<int64_t> shape(shapeOf(parts[0]).begin(), shapeOf(parts[0]).end());
    shape[axis] = 0;
    for (Value p : parts)
      shape[axis] += shapeOf(p)[axis];
    auto t = RankedTensorType::get(shape, parts[0].getType().cast<RankedTensorType>().getElementType());
    return b.create<ConcatOp>(loc, t, parts, b.getI64IntegerAttr(axis));
  }
  /// Direction d's [rows, cols] block of a [D, rows, cols] tensor, transposed.
  Value transposedBlock(Value w, int64_t d) {
    auto s = shapeOf(w);
    return b.create<TransposeOp>(loc, reshape(slice(w, 0, d, d + 1), {s[1], s[2]}), b.getI64ArrayAttr({1, 0}));
  }
  /// Direction d's row of a [D, n] tensor, as [n].
  Value row(Value v, int64_t d) { return reshape(slice(v, 0, d, d + 1), {shapeOf(v)[1]}); }
  Value act(StringRef name, Value v) {
    std::string n = name.lower();
    if (n == "sigmoid")
      return b.create<SigmoidOp>(loc, v);
    if (n == "tanh")
      return b.create<TanhOp>(loc, v);
    return b.create<ReluOp>(loc, v);
  }
};

bool supportedActivations(ArrayAttr acts) {
  for (std::string &a : toStrings(acts)) {
    std::string n = StringRef(a).lower();
    if (n != "sigmoid" && n != "tanh" && n != "relu")
      return false;
  }
  return true;
}

/// The activation names of direction d (ONNX's defaults when none given).
SmallVector<std::string> activationsOf(ArrayAttr acts, int64_t d, ArrayRef<StringRef> defaults) {
  auto names = toStrings(acts);
  SmallVector<std::string> out;
  for (size_t k = 0; k < defaults.size(); ++k) {
    size_t at = d * defaults.size() + k;
    out.push_back(at < names.size() ? names[at] : defaults[k].str());
  }
  return out;
}

struct UnrollRecurrentPass : UnrollRecurrentBase<UnrollRecurrentPass> {
  UnrollRecurrentPass() = default;
  explicit UnrollRecurrentPass(int64_t steps) { maxSteps = steps; }

  template <typename OpT> bool unrollable(OpT op) {
    auto x = op.getX().getType().template cast<RankedTensorType>();
    if (op.getSeqLens() || op.getClip() || !supportedActivations(op.getActivations()) || x.getDimSize(0) > maxSteps)
      return false;
    if constexpr (std::is_same<OpT, LSTMOp>::value || std::is_same<OpT, LSTMWithGatesOp>::value ||
                  std::is_same<OpT, LSTMCheckpointedOp>::value || std::is_same<OpT, LSTMSavingOp>::value)
      return !op.getInputForget();
    return true;
  }

  /// A forward that saves its pre-activations for its backward
  /// (nn.*_with_gates: store-all, or a budget's, with saved_steps those of
  /// its last steps) and can be unrolled becomes the plain op
  /// again (`plain`): its cells keep no pre-activations, so its backward
  /// recomputes them (from y, with GEMMs over all steps). So does an
  /// nn.lstm_checkpointed whose backward also reads y (recompute-gates, a
  /// budget; and nn.lstm_saving, which saves both, `count` = 2): that
  /// backward computes the cell states in a first pass. (One whose backward
  /// reads no y, under checkpoint, stays whole.)
  template <typename GradOp> static bool readsAsSaved(Operation *user, Value saved) {
    auto g = dyn_cast<GradOp>(user);
    if constexpr (std::is_same<GradOp, LSTMGradOp>::value)
      if (g && g.getCheckpoints() == saved)
        return (bool)g.getY();
    return g && g.getGates() == saved;
  }
  template <typename GradOp> static void forgetSaved(Operation *op, StringRef plain, unsigned count = 1) {
    SmallVector<Value> saved(op->getResults().take_back(count));
    for (Value v : saved)
      if (!llvm::all_of(v.getUsers(), [&](Operation *u) { return readsAsSaved<GradOp>(u, v); }))
        return; // read otherwise: keep the layer whole
    for (Value v : saved)
      for (Operation *user : llvm::make_early_inc_range(v.getUsers())) {
        auto g = cast<GradOp>(user);
        if constexpr (std::is_same<GradOp, LSTMGradOp>::value)
          if (g.getCheckpoints() == v)
            g.getCheckpointsMutable().clear();
        if (g.getGates() == v)
          g.getGatesMutable().clear();
      }
    Operation *layer = replaceWithKind(op, plain, op->getResults().drop_back(count).getTypes());
    for (StringRef saving : {"segment_steps", "states", "saved_steps"}) // (what the saving kinds alone have)
      layer->removeAttr(saving);
  }

  /// The layers of kinds L, G and R (LSTM, GRU and RNN: the plain ops or
  /// their saving forms) that can be unrolled, in program order.
  template <typename L, typename G, typename R> SmallVector<Operation *> unrollableLayers() {
    SmallVector<Operation *> out;
    getOperation().walk([&](Operation *op) {
      bool can = false;
      if (auto l = dyn_cast<L>(op))
        can = unrollable(l);
      else if (auto g = dyn_cast<G>(op))
        can = unrollable(g);
      else if (auto r = dyn_cast<R>(op))
        can = unrollable(r);
      if (can)
        out.push_back(op);
    });
    return out;
  }

  void runOnOperation() override {
    for (Operation *op : unrollableLayers<LSTMWithGatesOp, GRUWithGatesOp, RNNWithGatesOp>()) {
      if (isa<LSTMWithGatesOp>(op))
        forgetSaved<LSTMGradOp>(op, LSTMOp::getOperationName());
      else if (isa<GRUWithGatesOp>(op))
        forgetSaved<GRUGradOp>(op, GRUOp::getOperationName());
      else
        forgetSaved<RNNGradOp>(op, RNNOp::getOperationName());
    }
    getOperation().walk([&](Operation *op) {
      if (auto ck = dyn_cast<LSTMCheckpointedOp>(op); ck && unrollable(ck))
        forgetSaved<LSTMGradOp>(op, LSTMOp::getOperationName());
      else if (auto saving = dyn_cast<LSTMSavingOp>(op); saving && unrollable(saving))
        forgetSaved<LSTMGradOp>(op, LSTMOp::getOperationName(), 2);
    });
    for (Operation *op : unrollableLayers<LSTMOp, GRUOp, RNNOp>()) {
      OpBuilder b(op);
      Emit e(b, op->getLoc());
      if (auto l = dyn_cast<LSTMOp>(op))
        unroll(e, l);
      else if (auto g = dyn_cast<GRUOp>(op))
        unroll(e, g);
      else
        unroll(e, cast<RNNOp>(op));
      op->erase();
      ++numUnrolled;
    }
  }

  /// The shared skeleton: per direction, the hoisted projection xw
  /// [T*B, G*H] (with `inputBias`), the initial states, then
  /// step(xw_t, states) for each step in the direction's order. Replaces
  /// the results: y, then the final value of each state.
  template <typename OpT, typename Step>
  void unroll(Emit &e, OpT op, int64_t numStates, ArrayRef<Value> initial,
              function_ref<Value(int64_t d)> inputBias, Step step) {
    auto xs = Emit::shapeOf(op.getX());
    int64_t T = xs[0], B = xs[1], I = xs[2], H = op.getHiddenSize();
    int64_t D = op.getDirection() == "bidirectional" ? 2 : 1;
    bool reverse = op.getDirection() == "reverse";
    Type et = op.getX().getType().template cast<RankedTensorType>().getElementType();
    Value x2 = e.reshape(op.getX(), {T * B, I});
    SmallVector<Value> ys, finals[2];
    for (int64_t d = 0; d < D; ++d) {
      Value xw = e.matmul(x2, e.transposedBlock(op.getW(), d), inputBias(d));
      SmallVector<Value> states;
      for (int64_t s = 0; s < numStates; ++s)
        states.push_back(initial[s] ? e.reshape(e.slice(initial[s], 0, d, d + 1), {B, H}) : e.zeros({B, H}, et));
      SmallVector<Value> hs(T);
      for (int64_t st = 0; st < T; ++st) {
        int64_t t = (reverse || d == 1) ? T - 1 - st : st;
        step(d, e.slice(xw, 0, t * B, (t + 1) * B), states);
        hs[t] = e.reshape(states[0], {1, 1, B, H});
      }
      ys.push_back(e.concat(hs, 0));
      for (int64_t s = 0; s < numStates; ++s)
        finals[s].push_back(e.reshape(states[s], {1, B, H}));
    }
    op->getResult(0).replaceAllUsesWith(D == 1 ? ys[0] : e.concat(ys, 1));
    for (int64_t s = 0; s < numStates; ++s)
      op->getResult(1 + s).replaceAllUsesWith(D == 1 ? finals[s][0] : e.concat(finals[s], 0));
  }

  /// Both biases of all gates summed, direction d ([G*H]; null without).
  static Value biasSum(Emit &e, Value b, int64_t d, int64_t GH) {
    if (!b)
      return {};
    Value row = e.row(b, d);
    return e.add(e.slice(row, 0, 0, GH), e.slice(row, 0, GH, 2 * GH));
  }

  void unroll(Emit &e, LSTMOp op) {
    int64_t H = op.getHiddenSize();
    unroll(e, op, 2, {op.getInitialH(), op.getInitialC()},
           [&](int64_t d) { return biasSum(e, op.getB(), d, 4 * H); },
           [&](int64_t d, Value xt, SmallVector<Value> &s) {
             auto acts = activationsOf(op.getActivations(), d, {"Sigmoid", "Tanh", "Tanh"});
             Value rT = e.cached(op.getR(), d, [&] { return e.transposedBlock(op.getR(), d); });
             Value pre = e.add(xt, e.matmul(s[0], rT));
             Value p = op.getP() ? e.cached(op.getP(), d, [&] { return e.row(op.getP(), d); }) : Value();
             auto gate = [&](int64_t k) { return e.slice(pre, 1, k * H, (k + 1) * H); };
             auto peep = [&](Value g, int64_t k, Value c) { return p ? e.add(g, e.mul(e.slice(p, 0, k * H, (k + 1) * H), c)) : g; };
             Value c = s[1];
             Value i = e.act(acts[0], peep(gate(0), 0, c)), f = e.act(acts[0], peep(gate(2), 2, c));
             Value cNew = e.add(e.mul(f, c), e.mul(i, e.act(acts[1], gate(3))));
             Value o = e.act(acts[0], peep(gate(1), 1, cNew));
             s[0] = e.mul(o, e.act(acts[2], cNew));
             s[1] = cNew;
           });
  }

  void unroll(Emit &e, GRUOp op) {
    int64_t H = op.getHiddenSize();
    bool lbr = op.getLinearBeforeReset();
    // The input projection carries Wb of every gate and Rb of z and r.
    auto inputBias = [&](int64_t d) -> Value {
      if (!op.getB())
        return {};
      Value row = e.row(op.getB(), d);
      Value zr = e.add(e.slice(row, 0, 0, 2 * H), e.slice(row, 0, 3 * H, 5 * H));
      return e.concat({zr, e.slice(row, 0, 2 * H, 3 * H)}, 0);
    };
    unroll(e, op, 1, {op.getInitialH()}, inputBias, [&](int64_t d, Value xt, SmallVector<Value> &s) {
      auto acts = activationsOf(op.getActivations(), d, {"Sigmoid", "Tanh"});
      Value h = s[0], rT = e.cached(op.getR(), d, [&] { return e.transposedBlock(op.getR(), d); });
      Value rbh = op.getB() ? e.cached(op.getB(), d, [&] { return e.slice(e.row(op.getB(), d), 0, 5 * H, 6 * H); })
                            : Value();
      // One 3H-wide product with linear_before_reset; otherwise z and r
      // first, then the h gate's product of r * h.
      Value rZR = lbr ? rT : e.cached(rT, 0, [&] { return e.slice(rT, 1, 0, 2 * H); });
      Value hr = e.matmul(h, rZR);
      Value z = e.act(acts[0], e.add(e.slice(xt, 1, 0, H), e.slice(hr, 1, 0, H)));
      Value r = e.act(acts[0], e.add(e.slice(xt, 1, H, 2 * H), e.slice(hr, 1, H, 2 * H)));
      Value hh;
      if (lbr) {
        hh = e.slice(hr, 1, 2 * H, 3 * H);
        if (rbh)
          hh = e.add(hh, rbh);
        hh = e.mul(r, hh);
      } else {
        hh = e.matmul(e.mul(r, h), e.cached(rT, 1, [&] { return e.slice(rT, 1, 2 * H, 3 * H); }));
        if (rbh)
          hh = e.add(hh, rbh);
      }
      Value n = e.act(acts[1], e.add(e.slice(xt, 1, 2 * H, 3 * H), hh));
      s[0] = e.add(n, e.mul(z, e.sub(h, n))); // (1 - z) n + z h
    });
  }

  void unroll(Emit &e, RNNOp op) {
    int64_t H = op.getHiddenSize();
    unroll(e, op, 1, {op.getInitialH()}, [&](int64_t d) { return biasSum(e, op.getB(), d, H); },
           [&](int64_t d, Value xt, SmallVector<Value> &s) {
             auto acts = activationsOf(op.getActivations(), d, {"Tanh"});
             Value rT = e.cached(op.getR(), d, [&] { return e.transposedBlock(op.getR(), d); });
             s[0] = e.act(acts[0], e.add(xt, e.matmul(s[0], rT)));
           });
  }
};

} // namespace

std::unique_ptr<Pass> createUnrollRecurrentPass() { return std::make_unique<UnrollRecurrentPass>(); }
std::unique_ptr<Pass> createUnrollRecurrentPass(int64_t maxSteps) {
  return std::make_unique<UnrollRecurrentPass>(maxSteps);
}

} // namespace nncc
