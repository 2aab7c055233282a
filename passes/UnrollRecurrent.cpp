//===- UnrollRecurrent.cpp - recurrent layers into per-timestep cells -----===//
//
// nn.lstm / nn.gru / nn.rnn become their cells in the IR, one per direction
// and timestep: the input projection is hoisted out of the steps, one product
// per chunk of about 128 rows (nn.gemm: x W^T + biases; forward memory does
// not grow with T), then each step is one recurrent product (h R^T, gates *
// H wide; both read the weights as they are, transB) and the cell's
// pointwise math (peepholes and initial states included), which
// nn-fuse-elementwise then fuses into one nn.fused op per step. A direction
// or a GRU's part of a parameter's rows is a frozen parameter of its own, so
// the products' kernels see constant weights (the pass runs after autodiff,
// whose trained parameters are arguments by then: frozen copies made before
// it would get no gradient). The outputs are the steps' h
// concatenated in time order. ONNX's attributes all unroll: every
// activation function with its alpha and beta, clip (the activations'
// inputs clamped), input_forget (f = 1 - i), and sequence lengths (each step
// selects, per batch row, the new states where the row runs and keeps the
// old ones past its length, where its output is zero; a reverse direction
// runs from the last step down, so each row starts at its own last step). Layers of
// more steps than `max-steps`, or of shapes known only at run time, keep
// their whole-layer kernel. A forward that saves its
// gate pre-activations for its backward (nn.*_with_gates: store-all, or a
// budget's, of all steps or of the last ones) is unrolled as the plain op:
// its backward then recomputes them.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/Rewrite.h"

#include "ir/NNOps.h"
#include "ir/RecurrentActivations.h"
#include "ir/ShapeUtils.h"

using namespace mlir;
using namespace nncc::nn;

namespace nncc {
namespace {

#define GEN_PASS_CLASSES
#include "passes/Passes.h.inc"

/// Rows (steps x batch) of the input projection made at once, as the
/// kernels' (runtime/kernels/Recurrent.cpp): a GEMM large enough to run
/// well, and forward memory that does not grow with the sequence.
constexpr int64_t kProjectionRows = 128;

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
  /// x w^T (+ c, broadcast): w's rows are the outputs (no transposed copy
  /// of the weights; a parameter's stay constant for the kernel's caching).
  Value matmulT(Value x, Value w, Value c = {}) {
    return b.create<GemmOp>(loc, x, w, c, b.getF32FloatAttr(1.0), b.getF32FloatAttr(1.0), b.getBoolAttr(false),
                            b.getBoolAttr(true), b.getStrArrayAttr({}));
  }
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
  /// Rows [from, to) of direction d's [rows, cols] block of a [D, rows,
  /// cols] tensor. Of a parameter (inference), a part is a new frozen
  /// parameter holding those rows, as nn-fuse's folded batch norms: the
  /// products then read constant weights, which their kernels keep in the
  /// layout they prefer, and no run copies them (the whole parameter, when
  /// nothing else reads it, leaves the weights).
  Value weightRows(Value w, int64_t d, int64_t from, int64_t to) {
    auto s = shapeOf(w);
    bool whole = s[0] == 1 && from == 0 && to == s[1];
    auto type = RankedTensorType::get({to - from, s[2]}, w.getType().cast<RankedTensorType>().getElementType());
    if (auto p = w.getDefiningOp<ParamOp>(); p && !whole) {
      int64_t row = s[2] * elementByteSize(type.getElementType());
      const auto *bytes = b.getContext()->getLoadedDialect<NNDialect>()->getWeightStore().lookup(p.getName());
      if (bytes && (int64_t)bytes->size() == s[0] * s[1] * row) {
        auto first = bytes->begin() + (d * s[1] + from) * row;
        return newFrozenParam(b, loc, (p.getName() + ".d" + Twine(d) + ".rows" + Twine(from) + "_" + Twine(to)).str(),
                              type, std::vector<uint8_t>(first, first + (to - from) * row));
      }
    }
    Value block = reshape(slice(w, 0, d, d + 1), {s[1], s[2]});
    return from == 0 && to == s[1] ? block : slice(block, 0, from, to);
  }
  /// Direction d's [rows, cols] block of a [D, rows, cols] tensor.
  Value block(Value w, int64_t d) { return weightRows(w, d, 0, shapeOf(w)[1]); }
  /// Direction d's row of a [D, n] tensor, as [n].
  Value row(Value v, int64_t d) { return reshape(slice(v, 0, d, d + 1), {shapeOf(v)[1]}); }
  /// A rank-0 constant of v's element type.
  Value scalar(Value v, double x) {
    Type et = v.getType().cast<RankedTensorType>().getElementType();
    auto t = RankedTensorType::get({}, et);
    return b.create<ConstantOp>(loc, t, DenseElementsAttr::get(t, b.getFloatAttr(et, x)));
  }
  /// ONNX's clip of an activation's input (none: v).
  Value clip(Value v, Optional<APFloat> threshold) {
    if (!threshold)
      return v;
    double c = threshold->convertToDouble();
    return b.create<MinOp>(loc, b.create<MaxOp>(loc, v, scalar(v, -c)), scalar(v, c));
  }
  /// An activation function (RecurrentActivations.h) of v, clipped first.
  Value act(const RecurrentActivation &a, Value v, Optional<APFloat> threshold) {
    v = clip(v, threshold);
    auto f32 = [&](double x) { return b.getF32FloatAttr((float)x); };
    switch (a.code) {
    case 0: return b.create<ReluOp>(loc, v);
    case 1: return b.create<TanhOp>(loc, v);
    case 2: return b.create<SigmoidOp>(loc, v);
    case 3: return add(mul(v, scalar(v, a.alpha)), scalar(v, a.beta));
    case 4: return b.create<LeakyReluOp>(loc, v, f32(a.alpha));
    case 5: return b.create<ThresholdedReluOp>(loc, v, f32(a.alpha));
    case 6: return mul(b.create<TanhOp>(loc, mul(v, scalar(v, a.beta))), scalar(v, a.alpha));
    case 7: return b.create<HardSigmoidOp>(loc, v, f32(a.alpha), f32(a.beta));
    case 8: return b.create<EluOp>(loc, v, f32(a.alpha));
    case 9: return b.create<SoftsignOp>(loc, v);
    case 10: return b.create<SoftplusOp>(loc, v);
    default: return v; // (the verifier admits none other)
    }
  }
};

/// The activations of each direction (ONNX's defaults when none given;
/// the verifier asks for all or none), with their alphas and betas.
template <typename OpT>
SmallVector<SmallVector<RecurrentActivation>, 2> activationsOf(OpT op, ArrayRef<StringRef> defaults) {
  int64_t D = op.getDirection() == "bidirectional" ? 2 : 1;
  auto all = recurrentActivations(op.getActivations(), op.getActivationAlpha(), op.getActivationBeta(), defaults, D);
  SmallVector<SmallVector<RecurrentActivation>, 2> out(D);
  for (int64_t d = 0; d < D; ++d)
    out[d].assign(all.begin() + d * defaults.size(), all.begin() + (d + 1) * defaults.size());
  return out;
}

struct UnrollRecurrentPass : UnrollRecurrentBase<UnrollRecurrentPass> {
  UnrollRecurrentPass() = default;
  explicit UnrollRecurrentPass(int64_t steps) { maxSteps = steps; }

  /// An input of static shape, of at most maxSteps steps.
  template <typename OpT> bool unrollable(OpT op) {
    auto x = op.getX().getType().template cast<RankedTensorType>();
    return x.hasStaticShape() && x.getDimSize(0) <= maxSteps;
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
  /// [T*B, G*H] (with `inputBias`; in chunks of steps), the initial states, then
  /// step(xw_t, states) for each step in the direction's order. Replaces
  /// the results: y, then the final value of each state. With sequence
  /// lengths each step keeps a row's states past its length (and its output
  /// is zero there); a reverse direction's rows then start at their own last
  /// steps.
  template <typename OpT, typename Step>
  void unroll(Emit &e, OpT op, int64_t numStates, ArrayRef<Value> initial,
              function_ref<Value(int64_t d)> inputBias, Step step) {
    auto xs = Emit::shapeOf(op.getX());
    int64_t T = xs[0], B = xs[1], I = xs[2], H = op.getHiddenSize();
    int64_t D = op.getDirection() == "bidirectional" ? 2 : 1;
    bool reverse = op.getDirection() == "reverse";
    Type et = op.getX().getType().template cast<RankedTensorType>().getElementType();
    Value lens = op.getSeqLens();
    // Whether step t runs, per batch row ([B, 1], for selecting rows).
    SmallVector<Value> runs;
    if (lens) {
      auto lensType = lens.getType().template cast<RankedTensorType>();
      auto stepType = RankedTensorType::get({}, lensType.getElementType());
      for (int64_t st = 0; st < T; ++st) {
        auto value = DenseElementsAttr::get(stepType, e.b.getIntegerAttr(lensType.getElementType(), st));
        Value at = e.b.create<ConstantOp>(e.loc, stepType, value);
        runs.push_back(e.reshape(e.b.create<LessOp>(e.loc, at, lens), {B, 1}));
      }
    }
    SmallVector<Value> ys, finals[2];
    for (int64_t d = 0; d < D; ++d) {
      bool backwards = reverse || d == 1;
      Value x = op.getX();
      // The projection of chunks of about kProjectionRows rows, each made
      // at its first step's use (a reverse direction's last chunk first) and
      // free after its last step's: memory does not grow with T. (The two
      // directions copy their chunks of x differently, rows of x as [T*B,
      // I] and steps of x: as one op, CSE would share each chunk's copy,
      // which would then live from the first direction's step to the
      // second's.)
      Value w = e.block(op.getW(), d), bias = inputBias(d), rowsOfX;
      // x made of per-step parts (the steps of a layer unrolled before
      // this one): a chunk concatenates its own steps' parts, computed in
      // place in it, so the lower layer's whole y is not kept for it.
      // (Direction 1 copies its chunks as below, for the reason given
      // there.)
      SmallVector<Value> parts = d == 0 ? stepParts(x, T) : SmallVector<Value>();
      int64_t chunk = std::max<int64_t>(1, kProjectionRows / B);
      llvm::SmallDenseMap<int64_t, Value> chunks;
      auto projected = [&](int64_t t) {
        int64_t c = t / chunk, from = c * chunk, to = std::min(T, from + chunk);
        Value &xw = chunks[c];
        if (!xw) {
          if (!rowsOfX && parts.empty())
            rowsOfX = e.reshape(x, {T * B, I});
          Value rows = !parts.empty()       ? e.reshape(e.concat(ArrayRef<Value>(parts).slice(from, to - from), 0),
                                                        {(to - from) * B, I})
                       : from == 0 && to == T ? rowsOfX
                       : d == 0             ? e.slice(rowsOfX, 0, from * B, to * B)
                                            : e.reshape(e.slice(x, 0, from, to), {(to - from) * B, I});
          xw = e.matmulT(rows, w, bias);
        }
        return e.slice(xw, 0, (t - from) * B, (t - from + 1) * B);
      };
      SmallVector<Value> states;
      for (int64_t s = 0; s < numStates; ++s)
        states.push_back(initial[s] ? e.reshape(e.slice(initial[s], 0, d, d + 1), {B, H}) : e.zeros({B, H}, et));
      Value zeros = lens ? e.zeros({B, H}, et) : Value();
      SmallVector<Value> hs(T);
      for (int64_t st = 0; st < T; ++st) {
        int64_t t = backwards ? T - 1 - st : st;
        SmallVector<Value> before = states;
        step(d, projected(t), states);
        Value h = states[0];
        // Steps at or past a row's length: its states stay, its output is
        // zero. Going backwards, those steps come first, so each row starts
        // from the initial states at its own last step, as ONNX reverses
        // only the first len steps.
        if (lens) {
          for (int64_t s = 0; s < numStates; ++s)
            states[s] = e.b.create<SelectOp>(e.loc, runs[t], states[s], before[s]);
          h = e.b.create<SelectOp>(e.loc, runs[t], h, zeros);
        }
        hs[t] = e.reshape(h, {1, 1, B, H});
      }
      ys.push_back(e.concat(hs, 0));
      for (int64_t s = 0; s < numStates; ++s)
        finals[s].push_back(e.reshape(states[s], {1, B, H}));
    }
    op->getResult(0).replaceAllUsesWith(D == 1 ? ys[0] : e.concat(ys, 1));
    for (int64_t s = 0; s < numStates; ++s)
      op->getResult(1 + s).replaceAllUsesWith(D == 1 ? finals[s][0] : e.concat(finals[s], 0));
  }

  /// The T steps `x` ([T, ...]) is a concatenation of, each of leading
  /// dimension 1, seen through reshapes that keep the leading T; empty when
  /// it is not one.
  static SmallVector<Value> stepParts(Value x, int64_t T) {
    auto leading = [&](Value v) {
      auto t = v.getType().dyn_cast<RankedTensorType>();
      return t && t.getRank() > 0 ? t.getDimSize(0) : -1;
    };
    while (auto r = x.getDefiningOp<ReshapeOp>()) {
      if (leading(r.getOperand()) != T)
        return {};
      x = r.getOperand();
    }
    auto concat = x.getDefiningOp<ConcatOp>();
    if (!concat || concat.getAxis() != 0 || (int64_t)concat.getInputs().size() != T)
      return {};
    SmallVector<Value> parts(concat.getInputs().begin(), concat.getInputs().end());
    for (Value p : parts)
      if (leading(p) != 1)
        return {};
    return parts;
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
    auto actsOf = activationsOf(op, {"Sigmoid", "Tanh", "Tanh"});
    unroll(e, op, 2, {op.getInitialH(), op.getInitialC()},
           [&](int64_t d) { return biasSum(e, op.getB(), d, 4 * H); },
           [&](int64_t d, Value xt, SmallVector<Value> &s) {
             auto &acts = actsOf[d];
             auto clip = op.getClip();
             Value r = e.cached(op.getR(), d, [&] { return e.block(op.getR(), d); });
             Value pre = e.add(xt, e.matmulT(s[0], r));
             Value p = op.getP() ? e.cached(op.getP(), d, [&] { return e.row(op.getP(), d); }) : Value();
             auto gate = [&](int64_t k) { return e.slice(pre, 1, k * H, (k + 1) * H); };
             auto peep = [&](Value g, int64_t k, Value c) { return p ? e.add(g, e.mul(e.slice(p, 0, k * H, (k + 1) * H), c)) : g; };
             Value c = s[1];
             // (the clip bounds the gates' inputs, not the cell state's)
             Value i = e.act(acts[0], peep(gate(0), 0, c), clip);
             Value f = op.getInputForget() ? e.sub(e.scalar(i, 1.0), i) : e.act(acts[0], peep(gate(2), 2, c), clip);
             Value cNew = e.add(e.mul(f, c), e.mul(i, e.act(acts[1], gate(3), clip)));
             Value o = e.act(acts[0], peep(gate(1), 1, cNew), clip);
             s[0] = e.mul(o, e.act(acts[2], cNew, llvm::None));
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
    auto actsOf = activationsOf(op, {"Sigmoid", "Tanh"});
    unroll(e, op, 1, {op.getInitialH()}, inputBias, [&](int64_t d, Value xt, SmallVector<Value> &s) {
      auto &acts = actsOf[d];
      auto clip = op.getClip();
      Value h = s[0];
      Value rbh = op.getB() ? e.cached(op.getB(), d, [&] { return e.slice(e.row(op.getB(), d), 0, 5 * H, 6 * H); })
                            : Value();
      // One 3H-wide product with linear_before_reset; otherwise z and r
      // first, then the h gate's product of r * h.
      Value rZR = lbr ? e.cached(op.getR(), d, [&] { return e.block(op.getR(), d); })
                      : e.cached(op.getR(), 2 + d, [&] { return e.weightRows(op.getR(), d, 0, 2 * H); });
      Value hr = e.matmulT(h, rZR);
      Value z = e.act(acts[0], e.add(e.slice(xt, 1, 0, H), e.slice(hr, 1, 0, H)), clip);
      Value r = e.act(acts[0], e.add(e.slice(xt, 1, H, 2 * H), e.slice(hr, 1, H, 2 * H)), clip);
      Value hh;
      if (lbr) {
        hh = e.slice(hr, 1, 2 * H, 3 * H);
        if (rbh)
          hh = e.add(hh, rbh);
        hh = e.mul(r, hh);
      } else {
        hh = e.matmulT(e.mul(r, h), e.cached(op.getR(), 4 + d, [&] { return e.weightRows(op.getR(), d, 2 * H, 3 * H); }));
        if (rbh)
          hh = e.add(hh, rbh);
      }
      Value n = e.act(acts[1], e.add(e.slice(xt, 1, 2 * H, 3 * H), hh), clip);
      s[0] = e.add(n, e.mul(z, e.sub(h, n))); // (1 - z) n + z h
    });
  }

  void unroll(Emit &e, RNNOp op) {
    int64_t H = op.getHiddenSize();
    auto actsOf = activationsOf(op, {"Tanh"});
    unroll(e, op, 1, {op.getInitialH()}, [&](int64_t d) { return biasSum(e, op.getB(), d, H); },
           [&](int64_t d, Value xt, SmallVector<Value> &s) {
             auto &acts = actsOf[d];
             Value r = e.cached(op.getR(), d, [&] { return e.block(op.getR(), d); });
             s[0] = e.act(acts[0], e.add(xt, e.matmulT(s[0], r)), op.getClip());
           });
  }
};

} // namespace

std::unique_ptr<Pass> createUnrollRecurrentPass() { return std::make_unique<UnrollRecurrentPass>(); }
std::unique_ptr<Pass> createUnrollRecurrentPass(int64_t maxSteps) {
  return std::make_unique<UnrollRecurrentPass>(maxSteps);
}

} // namespace nncc
