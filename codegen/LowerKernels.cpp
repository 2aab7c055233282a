//===- LowerKernels.cpp - ops lowered to runtime kernel calls -------------===//
//
// Convolution, matmul, pooling, recurrent layers and the irregular ops
// (resize, topk, scatter, ...) call kernels of the runtime library through
// nnk.call. The meta layout written here is read in runtime/kernels/*.cpp
// in the same order.
//
//===----------------------------------------------------------------------===//
#include "codegen/KernelCall.h"
#include "codegen/Lowering.h"

#include "ir/NNOps.h"
#include "ir/RecurrentActivations.h"
#include "ir/ShapeUtils.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace nncc::nn;

namespace nncc {
namespace codegen {
namespace {

int64_t reductionCode(StringRef r) {
  return llvm::StringSwitch<int64_t>(r).Case("add", 1).Case("mul", 2).Case("max", 3).Case("min", 4).Default(0);
}

/// Activation codes of runtime/kernels/Recurrent.cpp with their alpha/beta:
/// alpha and beta lists are consumed in order by the activations using them.
/// ONNX's clip, as the recurrent kernels read it: whether there is one,
/// then its threshold.
void addClip(KernelCall &k, Optional<APFloat> clip) {
  k.i(clip.has_value()).f(clip.has_value() ? clip->convertToDouble() : 0.0);
}

/// A recurrent layer's activations as its kernel reads them: their count,
/// then (code, alpha, beta) each (RecurrentActivations.h).
void addActivations(KernelCall &k, ArrayRef<RecurrentActivation> acts) {
  k.i((int64_t)acts.size());
  for (const RecurrentActivation &a : acts)
    k.i(a.code).f(a.alpha).f(a.beta);
}

/// Post-ops as (code, alpha, beta) triples; codes of runtime/kernels/PostOps.h.
void addPostOps(KernelCall &k, ArrayAttr postOps) {
  k.i((int64_t)postOps.size());
  for (Attribute a : postOps) {
    SmallVector<StringRef> parts;
    a.cast<StringAttr>().getValue().split(parts, ':');
    int64_t code = llvm::StringSwitch<int64_t>(parts[0])
                       .Case("relu", 1).Case("clip", 2).Case("leaky_relu", 3).Case("elu", 4)
                       .Case("sigmoid", 5).Case("tanh", 6).Case("sum", 7).Default(0);
    double alpha = 0, beta = 0;
    if (parts.size() > 1)
      parts[1].getAsDouble(alpha);
    if (parts.size() > 2)
      parts[2].getAsDouble(beta);
    k.i(code).f(alpha).f(beta);
  }
}

/// Mode, padding and align_corners of nn.grid_sample and its gradient, as
/// runtime/kernels/Resample.cpp reads them.
template <typename OpT> KernelCall &gridSampleAttrs(KernelCall &k, OpT g) {
  int64_t mode = llvm::StringSwitch<int64_t>(g.getMode()).Case("bilinear", 0).Case("nearest", 1).Default(2);
  int64_t pad = llvm::StringSwitch<int64_t>(g.getPaddingMode()).Case("zeros", 0).Case("border", 1).Default(2);
  return k.i(mode).i(pad).i(g.getAlignCorners());
}

template <typename OpT> constexpr bool isLSTM() {
  return std::is_same<OpT, LSTMOp>::value || std::is_same<OpT, LSTMGradOp>::value ||
         std::is_same<OpT, LSTMCheckpointedOp>::value || std::is_same<OpT, LSTMWithGatesOp>::value ||
         std::is_same<OpT, LSTMSavingOp>::value;
}
template <typename OpT> constexpr bool isGRU() {
  return std::is_same<OpT, GRUOp>::value || std::is_same<OpT, GRUGradOp>::value ||
         std::is_same<OpT, GRUWithGatesOp>::value;
}
/// Forwards that also return their pre-activations (store-all; a budget:
/// nn.lstm_saving and nn.gru_with_gates / nn.rnn_with_gates with
/// saved_steps, those of the last steps).
template <typename OpT> constexpr bool savesGates() {
  return std::is_same<OpT, LSTMWithGatesOp>::value || std::is_same<OpT, GRUWithGatesOp>::value ||
         std::is_same<OpT, RNNWithGatesOp>::value || std::is_same<OpT, LSTMSavingOp>::value;
}
/// Forwards that also save their states before every segment.
template <typename OpT> constexpr bool savesCheckpoints() {
  return std::is_same<OpT, LSTMCheckpointedOp>::value || std::is_same<OpT, LSTMSavingOp>::value;
}
template <typename OpT> constexpr bool isRecurrentGrad() {
  return std::is_same<OpT, LSTMGradOp>::value || std::is_same<OpT, GRUGradOp>::value ||
         std::is_same<OpT, RNNGradOp>::value;
}
/// nn.lstm_checkpointed and nn.lstm_with_gates are nn.lstm whose kernel
/// also saves its states or its gate pre-activations.
template <typename OpT> constexpr bool isLSTMForward() {
  return std::is_same<OpT, LSTMOp>::value || std::is_same<OpT, LSTMCheckpointedOp>::value ||
         std::is_same<OpT, LSTMWithGatesOp>::value || std::is_same<OpT, LSTMSavingOp>::value;
}

/// What a stack kernel reads after its sizes to pick its cell: a GRU
/// stack's linear_before_reset, 1 for an RNN stack with Relu (0: tanh); an
/// LSTM stack has one cell.
int64_t stackCellVariant(Operation *op) {
  if (auto g = dyn_cast<GRUStackOp>(op))
    return g.getLinearBeforeReset();
  if (auto g = dyn_cast<GRUStackGradOp>(op))
    return g.getLinearBeforeReset();
  if (auto r = dyn_cast<RNNStackOp>(op))
    return r.getActivation().equals_insensitive("relu");
  if (auto r = dyn_cast<RNNStackGradOp>(op))
    return r.getActivation().equals_insensitive("relu");
  return 0;
}

/// Forward: the operands, the outputs (y and the final states), the
/// attributes. Backward (nn.*_grad): the forward operands, y, dY and the
/// final states' gradients (none when absent), the results (dX, dW, dR, dB,
/// the initial states' gradients, dP), the attributes.
template <typename OpT> bool recurrent(LoweringInput &in, OpT op, StringRef name, int numStates) {
  KernelCall k(name);
  auto ft = elementOf(op.getX());
  k.tensor(in.ins[0], ft).tensor(in.ins[1], ft).tensor(in.ins[2], ft);
  unsigned idx = 3;
  auto opt = [&](Value v, Type t) {
    if (v)
      k.tensor(in.ins[idx++], t);
    else
      k.none();
  };
  opt(op.getB(), ft);
  opt(op.getSeqLens(), op.getSeqLens() ? elementOf(op.getSeqLens()) : ft);
  opt(op.getInitialH(), ft);
  if constexpr (isLSTM<OpT>()) {
    opt(op.getInitialC(), ft);
    opt(op.getP(), ft);
  }
  if constexpr (isRecurrentGrad<OpT>()) {
    // y: absent only for an LSTM whose backward recomputes h (checkpoint).
    if (!op.getY() && !isLSTM<OpT>()) {
      op.emitOpError("needs the forward output y");
      return false;
    }
    if constexpr (std::is_same<OpT, LSTMGradOp>::value)
      if (op.getCheckpoints() &&
          !isa_and_nonnull<LSTMCheckpointedOp, LSTMSavingOp>(op.getCheckpoints().getDefiningOp())) {
        op.emitOpError("reads checkpoints that do not come from nn.lstm_checkpointed or nn.lstm_saving (their "
                       "segment length is unknown)");
        return false;
      }
    // Saved pre-activations: from this layer's own forward (the kind that
    // saves rows this kernel reads), with y. The kernel turns them into
    // their gradients in place, so when another op reads them too (CSE
    // merged two identical forwards) it recomputes them instead.
    Value gates = op.getGates();
    if (gates) {
      Operation *saver = gates.getDefiningOp();
      bool ownKind = std::is_same<OpT, LSTMGradOp>::value   ? isa_and_nonnull<LSTMWithGatesOp, LSTMSavingOp>(saver)
                     : std::is_same<OpT, GRUGradOp>::value ? isa_and_nonnull<GRUWithGatesOp>(saver)
                                                           : isa_and_nonnull<RNNWithGatesOp>(saver);
      if (!op.getY() || !ownKind || saver->getOperand(0) != op.getX() || saver->getOperand(1) != op.getW() ||
          saver->getOperand(2) != op.getR()) {
        op.emitOpError("reads gates that its own forward's nn.*_with_gates did not save (nor, for an LSTM, "
                       "nn.lstm_saving), or reads no y");
        return false;
      }
      if (!gates.hasOneUse())
        gates = Value();
    }
    opt(op.getY(), ft);
    opt(op.getDy(), ft);
    opt(op.getDyH(), ft);
    if constexpr (isLSTM<OpT>()) {
      opt(op.getDyC(), ft);
      opt(op.getCheckpoints(), ft);
    }
    opt(gates, ft);
  }
  // Results nobody reads (MemoryPlan::Kind::Unused) are absent.
  unsigned results = isRecurrentGrad<OpT>() ? op->getNumResults() : 1 + numStates;
  for (unsigned s = 0; s < results; ++s)
    if (in.outs[s])
      k.tensor(in.outs[s], ft);
    else
      k.none();
  StringRef dir = op.getDirection();
  k.i(op.getHiddenSize()).i(dir == "forward" ? 0 : dir == "reverse" ? 1 : 2);
  // No activations given: ONNX's defaults (LSTM sigmoid, tanh, tanh; GRU
  // sigmoid, tanh; RNN tanh), per direction.
  SmallVector<StringRef> defaults = isLSTM<OpT>() ? SmallVector<StringRef>{"Sigmoid", "Tanh", "Tanh"}
                                    : isGRU<OpT>() ? SmallVector<StringRef>{"Sigmoid", "Tanh"}
                                                   : SmallVector<StringRef>{"Tanh"};
  addActivations(k, recurrentActivations(op.getActivations(), op.getActivationAlpha(), op.getActivationBeta(),
                                         defaults, dir == "bidirectional" ? 2 : 1));
  addClip(k, op.getClip());
  if constexpr (isLSTM<OpT>())
    k.i(op.getInputForget());
  if constexpr (isLSTMForward<OpT>()) { // R a graph parameter: prepared once
    k.i(isa_and_nonnull<ParamOp, ConstantOp>(op.getR().getDefiningOp()));
    // The states before every segment_steps steps (nn.lstm_checkpointed).
    if constexpr (savesCheckpoints<OpT>()) {
      if (in.outs[3]) // unread checkpoints are not stored
        k.tensor(in.outs[3], ft);
      else
        k.none();
      k.i(op.getSegmentSteps());
    } else {
      k.none().i(0);
    }
  }
  if constexpr (isGRU<OpT>())
    k.i(op.getLinearBeforeReset());
  // A forward's last: the pre-activations of every step (nn.*_with_gates),
  // or of the last saved_steps (the kernel reads how many from their shape).
  if constexpr (!isRecurrentGrad<OpT>()) {
    unsigned gates = savesCheckpoints<OpT>() ? 2 + numStates : 1 + numStates; // (after the checkpoints)
    if (savesGates<OpT>() && in.outs[gates])
      k.tensor(in.outs[gates], ft);
    else
      k.none();
  }
  if constexpr (isRecurrentGrad<OpT>()) {
    StringRef policy = op.getMemoryPolicy();
    k.i(policy == "recompute-gates" ? 1 : policy == "checkpoint" ? 2 : policy == "budget" ? 3 : 0)
        .i(op.getMemoryBudget());
    if constexpr (isLSTM<OpT>()) {
      // Segments as long as those of the checkpoints read (0: the policy's).
      Operation *ck = op.getCheckpoints() ? op.getCheckpoints().getDefiningOp() : nullptr;
      k.i(!ck ? 0
              : llvm::TypeSwitch<Operation *, int64_t>(ck)
                    .Case<LSTMCheckpointedOp, LSTMSavingOp>([](auto c) { return (int64_t)c.getSegmentSteps(); })
                    .Default([](Operation *) { return int64_t(0); }));
    }
  }
  // Last, forward or backward: whether a bidirectional layer may run its
  // two directions at once (marked by nn-stack-recurrent).
  k.i(op->hasAttr(kDirectionsAtOnceAttr));
  k.emit(in.b, in.loc, in.scratch);
  return true;
}

/// A graph parameter, or a reshape of one (the same bytes): a product's or
/// convolution's weights that do not change between runs.
bool isParameterView(Value v) {
  while (auto r = v.getDefiningOp<ReshapeOp>())
    v = r.getX();
  return isa_and_nonnull<ParamOp>(v.getDefiningOp());
}

} // namespace

FailureOr<bool> lowerKernel(LoweringInput &in) {
  Operation *op = in.op;
  OpBuilder &b = in.b;
  Location loc = in.loc;
  auto elt = [&](unsigned i) { return elementOf(op->getOperand(i)); };
  auto relt = [&](unsigned i) { return elementOf(op->getResult(i)); };
  return llvm::TypeSwitch<Operation *, FailureOr<bool>>(op)
      .Case<MatMulOp>([&](MatMulOp m) -> FailureOr<bool> {
        KernelCall k("nncc_matmul");
        k.tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1)).tensor(in.outs[0], relt(0));
        if (m.getBias())
          k.tensor(in.ins[2], elt(2));
        else
          k.none();
        k.i(isParameterView(m.getB()));
        addPostOps(k, m.getPostOps());
        k.emit(b, loc, in.scratch);
        return true;
      })
      .Case<GemmOp>([&](GemmOp g) -> FailureOr<bool> {
        KernelCall k("nncc_gemm");
        k.tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1));
        if (g.getC())
          k.tensor(in.ins[2], elt(2));
        else
          k.none();
        k.tensor(in.outs[0], relt(0)).i(g.getTransA()).i(g.getTransB())
            .f(g.getAlpha().convertToDouble()).f(g.getBeta().convertToDouble());
        k.i(isParameterView(g.getB()));
        addPostOps(k, g.getPostOps());
        k.emit(b, loc, in.scratch);
        return true;
      })
      .Case<ConvOp>([&](ConvOp c) -> FailureOr<bool> {
        KernelCall k("nncc_conv");
        k.tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1));
        if (c.getB()) k.tensor(in.ins[2], elt(2)); else k.none();
        k.tensor(in.outs[0], relt(0)).i(c.getGroup()).ints(toI64(c.getStrides())).ints(toI64(c.getPads()))
            .ints(toI64(c.getDilations()));
        // Weights that are parameters do not change between runs: a kernel
        // may keep them reordered.
        k.i(isParameterView(c.getW()));
        ActivationLayout layout = ActivationLayout::NCHW;
        parseActivationLayout(c.getLayout(), layout);
        k.i((int64_t)layout); // 0 nchw, 1 nhwc, 2 nchw16c

        addPostOps(k, c.getPostOps());
        if (c.getResidual())
          k.tensor(in.ins[c.getB() ? 3 : 2], elt(0));
        else
          k.none();
        k.emit(b, loc, in.scratch);
        return true;
      })
      .Case<SoftmaxOp, LogSoftmaxOp>([&](auto s) -> FailureOr<bool> {
        if (!hasSoftmaxKernel(s))
          return failure();
        KernelCall("nncc_softmax")
            .tensor(in.ins[0], elt(0)).tensor(in.outs[0], relt(0)).i(s.getAxis())
            .i(isa<LogSoftmaxOp>(s.getOperation()))
            .emit(b, loc, in.scratch);
        return true;
      })
      .Case<LayerNormOp>([&](LayerNormOp l) -> FailureOr<bool> {
        if (!hasLayerNormKernel(l))
          return failure();
        KernelCall k("nncc_layer_norm");
        k.tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1));
        if (l.getBias()) k.tensor(in.ins[2], elt(2)); else k.none();
        for (unsigned r = 0; r < 3; ++r)
          k.tensor(in.outs[r], relt(r));
        k.i(l.getAxis()).f(l.getEpsilon().convertToDouble()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<ReorderOp>([&](ReorderOp r) -> FailureOr<bool> {
        ActivationLayout from = ActivationLayout::NCHW, to = ActivationLayout::NCHW;
        parseActivationLayout(r.getFrom(), from);
        parseActivationLayout(r.getTo(), to);
        KernelCall("nncc_reorder")
            .tensor(in.ins[0], elt(0)).tensor(in.outs[0], relt(0)).i((int64_t)from).i((int64_t)to)
            .emit(b, loc, in.scratch);
        return true;
      })
      .Case<ConvTransposeOp>([&](ConvTransposeOp c) -> FailureOr<bool> {
        KernelCall k("nncc_conv_transpose");
        k.tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1));
        if (c.getB()) k.tensor(in.ins[2], elt(2)); else k.none();
        k.tensor(in.outs[0], relt(0)).i(c.getGroup()).ints(toI64(c.getStrides())).ints(toI64(c.getPads()))
            .ints(toI64(c.getDilations()));
        k.emit(b, loc, in.scratch);
        return true;
      })
      .Case<MaxPoolOp, AvgPoolOp, LpPoolOp>([&](auto p) -> FailureOr<bool> {
        int64_t kind = isa<MaxPoolOp>(op) ? 0 : isa<AvgPoolOp>(op) ? 1 : 2;
        int64_t countPad = 0, pnorm = 2;
        if (auto a = dyn_cast<AvgPoolOp>(op)) countPad = a.getCountIncludePad();
        if (auto l = dyn_cast<LpPoolOp>(op)) pnorm = l.getP();
        KernelCall("nncc_pool").tensor(in.ins[0], elt(0)).tensor(in.outs[0], relt(0)).i(kind)
            .ints(toI64(p.getKernelShape())).ints(toI64(p.getStrides())).ints(toI64(p.getPads()))
            .ints(toI64(p.getDilations())).i(countPad).i(pnorm).i(p.getChannelsLast()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<MaxPoolWithIndicesOp>([&](MaxPoolWithIndicesOp p) -> FailureOr<bool> {
        KernelCall("nncc_maxpool_indices").tensor(in.ins[0], elt(0)).tensor(in.outs[0], relt(0))
            .tensor(in.outs[1], relt(1)).ints(toI64(p.getKernelShape())).ints(toI64(p.getStrides()))
            .ints(toI64(p.getPads())).ints(toI64(p.getDilations())).i(p.getStorageOrder()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<TopKOp>([&](TopKOp t) -> FailureOr<bool> {
        KernelCall("nncc_topk").tensor(in.ins[0], elt(0)).tensor(in.outs[0], relt(0)).tensor(in.outs[1], relt(1))
            .i(t.getAxis()).i(t.getLargest()).i(t.getSorted()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<CumSumOp>([&](CumSumOp c) -> FailureOr<bool> {
        KernelCall("nncc_cumsum").tensor(in.ins[0], elt(0)).tensor(in.outs[0], relt(0)).i(c.getAxis())
            .i(c.getExclusive()).i(c.getReverse()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<GatherNDOp>([&](GatherNDOp g) -> FailureOr<bool> {
        KernelCall("nncc_gather_nd").tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1)).tensor(in.outs[0], relt(0))
            .i(g.getBatchDims()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<ScatterElementsOp>([&](ScatterElementsOp s) -> FailureOr<bool> {
        KernelCall("nncc_scatter_elements").tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1))
            .tensor(in.ins[2], elt(2)).tensor(in.outs[0], relt(0)).i(s.getAxis())
            .i(reductionCode(s.getReduction())).emit(b, loc, in.scratch);
        return true;
      })
      .Case<ScatterNDOp>([&](ScatterNDOp s) -> FailureOr<bool> {
        KernelCall("nncc_scatter_nd").tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1))
            .tensor(in.ins[2], elt(2)).tensor(in.outs[0], relt(0)).i(reductionCode(s.getReduction())).emit(b, loc, in.scratch);
        return true;
      })
      .Case<ReverseSequenceOp>([&](ReverseSequenceOp r) -> FailureOr<bool> {
        KernelCall("nncc_reverse_sequence").tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1))
            .tensor(in.outs[0], relt(0)).i(r.getBatchAxis()).i(r.getTimeAxis()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<ResizeOp>([&](ResizeOp r) -> FailureOr<bool> {
        int64_t mode = llvm::StringSwitch<int64_t>(r.getMode()).Case("nearest", 0).Case("linear", 1).Default(2);
        int64_t ctm = llvm::StringSwitch<int64_t>(r.getCoordinateTransformationMode())
                          .Case("half_pixel", 0).Case("asymmetric", 1).Case("pytorch_half_pixel", 2)
                          .Case("tf_half_pixel_for_nn", 3).Case("align_corners", 4).Case("tf_crop_and_resize", 5)
                          .Case("half_pixel_symmetric", 6).Default(-1);
        int64_t nearest = llvm::StringSwitch<int64_t>(r.getNearestMode())
                              .Case("round_prefer_floor", 0).Case("round_prefer_ceil", 1).Case("floor", 2)
                              .Case("ceil", 3).Default(-1);
        if (ctm < 0 || nearest < 0)
          return (op->emitOpError("unsupported coordinate transformation or nearest mode"), false);
        KernelCall k("nncc_resize");
        k.tensor(in.ins[0], elt(0)).tensor(in.outs[0], relt(0)).i(mode).i(ctm).i(nearest)
            .f(r.getCubicCoeffA().convertToDouble()).i(r.getExcludeOutside())
            .f(r.getExtrapolationValue().convertToDouble());
        auto scales = toF64(r.getScales()), roi = toF64(r.getRoi());
        k.i((int64_t)scales.size());
        for (double s : scales) k.f(s);
        k.i((int64_t)roi.size());
        for (double v : roi) k.f(v);
        k.emit(b, loc, in.scratch);
        return true;
      })
      .Case<GridSampleOp>([&](GridSampleOp g) -> FailureOr<bool> {
        KernelCall k("nncc_grid_sample");
        k.tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1)).tensor(in.outs[0], relt(0));
        gridSampleAttrs(k, g).emit(b, loc, in.scratch);
        return true;
      })
      .Case<GridSampleGradOp>([&](GridSampleGradOp g) -> FailureOr<bool> {
        KernelCall k("nncc_grid_sample_grad");
        k.tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1)).tensor(in.ins[2], elt(2)).tensor(in.outs[0], relt(0))
            .tensor(in.outs[1], relt(1));
        gridSampleAttrs(k, g).emit(b, loc, in.scratch);
        return true;
      })
      .Case<RoiAlignGradOp>([&](RoiAlignGradOp r) -> FailureOr<bool> {
        KernelCall("nncc_roi_align_grad").tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1))
            .tensor(in.ins[2], elt(2)).tensor(in.ins[3], elt(3)).tensor(in.outs[0], relt(0))
            .i(r.getMode() == "max").i(r.getSamplingRatio()).f(r.getSpatialScale().convertToDouble())
            .i(r.getHalfPixel()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<RoiAlignOp>([&](RoiAlignOp r) -> FailureOr<bool> {
        KernelCall("nncc_roi_align").tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1)).tensor(in.ins[2], elt(2))
            .tensor(in.outs[0], relt(0)).i(r.getMode() == "max").i(r.getSamplingRatio())
            .f(r.getSpatialScale().convertToDouble()).i(r.getHalfPixel()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<MaxUnpoolOp>([&](MaxUnpoolOp u) -> FailureOr<bool> {
        KernelCall("nncc_max_unpool").tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1)).tensor(in.outs[0], relt(0))
            .ints(toI64(u.getIndexShape())).emit(b, loc, in.scratch);
        return true;
      })
      .Case<EinsumOp>([&](EinsumOp e) -> FailureOr<bool> {
        KernelCall k("nncc_einsum");
        k.i((int64_t)in.ins.size());
        for (unsigned i = 0; i < in.ins.size(); ++i)
          k.tensor(in.ins[i], elt(i));
        k.tensor(in.outs[0], relt(0)).str(e.getEquation()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<NonMaxSuppressionOp>([&](NonMaxSuppressionOp s) -> FailureOr<bool> {
        KernelCall k("nncc_non_max_suppression");
        for (int i = 0; i < 5; ++i)
          k.tensor(in.ins[i], elt(i));
        k.tensor(in.outs[0], relt(0)).tensor(in.outs[1], relt(1)).i(s.getCenterPointBox())
            .i(s.getHasScoreThreshold()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<NonZeroOp>([&](NonZeroOp) -> FailureOr<bool> {
        KernelCall("nncc_non_zero").tensor(in.ins[0], elt(0)).tensor(in.outs[0], relt(0))
            .tensor(in.outs[1], relt(1)).emit(b, loc, in.scratch);
        return true;
      })
      .Case<UniqueOp>([&](UniqueOp u) -> FailureOr<bool> {
        KernelCall k("nncc_unique");
        k.tensor(in.ins[0], elt(0));
        for (int r = 0; r < 5; ++r)
          k.tensor(in.outs[r], relt(r));
        k.i(u.getSorted()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<PackPrefixOp>([&](PackPrefixOp p) -> FailureOr<bool> {
        KernelCall("nncc_pack_prefix").tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1))
            .tensor(in.outs[0], relt(0)).i(p.getDim()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<TfIdfVectorizerOp>([&](TfIdfVectorizerOp t) -> FailureOr<bool> {
        int64_t mode = llvm::StringSwitch<int64_t>(t.getMode()).Case("TF", 0).Case("IDF", 1).Default(2);
        KernelCall("nncc_tfidf_vectorizer").tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1))
            .tensor(in.ins[2], elt(2)).tensor(in.ins[3], elt(3)).tensor(in.outs[0], relt(0))
            .i(t.getMinGramLength()).i(t.getMaxGramLength()).i(t.getMaxSkipCount()).i(mode)
            .ints(toI64(t.getNgramCounts())).emit(b, loc, in.scratch);
        return true;
      })
      .Case<MaxRoiPoolOp>([&](MaxRoiPoolOp p) -> FailureOr<bool> {
        KernelCall("nncc_max_roi_pool").tensor(in.ins[0], elt(0)).tensor(in.ins[1], elt(1))
            .tensor(in.outs[0], relt(0)).f(p.getSpatialScale().convertToDouble()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<RandomUniformOp>([&](RandomUniformOp r) -> FailureOr<bool> {
        // The op's draw counter: a mutable one-element global of the module
        // (its own, whatever else shares the stream), which each run advances.
        auto counterType = MemRefType::get({1}, b.getI64Type());
        std::string name = "nncc_random_draws_" + std::to_string(r.getStream());
        for (int k = 1; in.module.lookupSymbol(name); ++k)
          name = "nncc_random_draws_" + std::to_string(r.getStream()) + "_" + std::to_string(k);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(in.module.getBody());
          b.create<memref::GlobalOp>(loc, name, b.getStringAttr("private"), counterType,
                                     DenseElementsAttr::get(RankedTensorType::get({1}, b.getI64Type()),
                                                            b.getI64IntegerAttr(0).getValue()),
                                     /*constant=*/false, IntegerAttr());
        }
        Value counter = b.create<memref::GetGlobalOp>(loc, counterType, name);
        KernelCall("nncc_random_uniform").tensor(in.outs[0], relt(0)).tensor(counter, b.getI64Type())
            .i(r.getSeed()).i(r.getStream()).f(r.getLow().convertToDouble()).f(r.getHigh().convertToDouble())
            .emit(b, loc, in.scratch);
        return true;
      })
      .Case<DFTOp>([&](DFTOp d) -> FailureOr<bool> {
        KernelCall("nncc_dft").tensor(in.ins[0], elt(0)).tensor(in.outs[0], relt(0)).i(d.getAxis())
            .i(d.getInverse()).i(d.getLength()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<STFTOp>([&](STFTOp s) -> FailureOr<bool> {
        KernelCall k("nncc_stft");
        k.tensor(in.ins[0], elt(0));
        if (s.getWindow()) k.tensor(in.ins[1], elt(1)); else k.none();
        k.tensor(in.outs[0], relt(0)).i(s.getFrameStep()).i(s.getFrameLength()).emit(b, loc, in.scratch);
        return true;
      })
      .Case<DetOp>([&](auto) -> FailureOr<bool> {
        KernelCall("nncc_det").tensor(in.ins[0], elt(0)).tensor(in.outs[0], relt(0)).emit(b, loc, in.scratch);
        return true;
      })
      .Case<LSTMOp>([&](LSTMOp o) -> FailureOr<bool> {
        return recurrent(in, o, "nncc_lstm", 2);
      })
      .Case<LSTMCheckpointedOp>([&](LSTMCheckpointedOp o) -> FailureOr<bool> {
        return recurrent(in, o, "nncc_lstm", 2);
      })
      .Case<LSTMWithGatesOp>([&](LSTMWithGatesOp o) -> FailureOr<bool> {
        return recurrent(in, o, "nncc_lstm", 2);
      })
      .Case<LSTMSavingOp>([&](LSTMSavingOp o) -> FailureOr<bool> {
        return recurrent(in, o, "nncc_lstm", 2);
      })
      .Case<GRUOp>([&](GRUOp o) -> FailureOr<bool> {
        return recurrent(in, o, "nncc_gru", 1);
      })
      .Case<RNNOp>([&](RNNOp o) -> FailureOr<bool> {
        return recurrent(in, o, "nncc_rnn", 1);
      })
      .Case<GRUWithGatesOp>([&](GRUWithGatesOp o) -> FailureOr<bool> {
        return recurrent(in, o, "nncc_gru", 1);
      })
      .Case<RNNWithGatesOp>([&](RNNWithGatesOp o) -> FailureOr<bool> {
        return recurrent(in, o, "nncc_rnn", 1);
      })
      .Case<LSTMStackOp, GRUStackOp, RNNStackOp>([&](auto o) -> FailureOr<bool> {
        bool lstm = isa<LSTMStackOp>(o.getOperation());
        KernelCall k(lstm ? "nncc_lstm_stack" : isa<GRUStackOp>(o.getOperation()) ? "nncc_gru_stack" : "nncc_rnn_stack");
        auto ft = elementOf(o.getX());
        unsigned weights = o.getWeights().size();
        k.tensor(in.ins[0], ft).i((int64_t)weights / 3);
        for (unsigned i = 1; i <= weights; ++i)
          k.tensor(in.ins[i], ft);
        // Graph parameters never change: the kernel keeps their prepared form.
        bool constant = llvm::all_of(o.getWeights(), [](Value w) {
          return isa_and_nonnull<ParamOp, ConstantOp>(w.getDefiningOp());
        });
        // y, then states, (an LSTM stack's) cells and gates only when the
        // backward reads them.
        const int lstmResults[] = {0, 1, 2, 3}, otherResults[] = {0, 1, -1, 2};
        auto results = [&](ArrayRef<int> which) {
          for (int r : which)
            if (r >= 0 && r < (int)in.outs.size() && in.outs[r])
              k.tensor(in.outs[r], ft);
            else
              k.none();
        };
        results(lstm ? lstmResults : otherResults);
        // The initial states (none: zeros), then the final ones where read.
        unsigned next = 1 + weights;
        for (Value v : {o.getInitialH(), stackInitialC(o)})
          if (v)
            k.tensor(in.ins[next++], ft);
          else
            k.none();
        const int lstmFinal[] = {4, 5}, otherFinal[] = {3, -1};
        results(lstm ? lstmFinal : otherFinal);
        if (Value lens = o.getSeqLens()) // (the batch rows' lengths; none: every row runs every step)
          k.tensor(in.ins[next], elementOf(lens));
        else
          k.none();
        k.i(o.getHiddenSize()).i(o.getMaxParallel()).i(o.getChunkSteps()).i(constant).i(stackCellVariant(o));
        addClip(k, o.getClip());
        k.emit(in.b, in.loc, in.scratch);
        return true;
      })
      .Case<LSTMStackGradOp, GRUStackGradOp, RNNStackGradOp>([&](auto o) -> FailureOr<bool> {
        bool lstm = isa<LSTMStackGradOp>(o.getOperation());
        KernelCall k(lstm                                 ? "nncc_lstm_stack_grad"
                     : isa<GRUStackGradOp>(o.getOperation()) ? "nncc_gru_stack_grad"
                                                             : "nncc_rnn_stack_grad");
        auto ft = elementOf(o.getX());
        unsigned weights = o.getWeights().size();
        k.i((int64_t)weights / 3);
        // x, the weights, states, (an LSTM stack's) cells, gates (none:
        // recomputed) and y; dy, the initial states and the final states'
        // gradients (none: zeros).
        unsigned next = 0;
        for (unsigned i = 0; i < 1 + weights + 1; ++i)
          k.tensor(in.ins[next++], ft);
        if (lstm)
          k.tensor(in.ins[next++], ft);
        else
          k.none();
        for (Value v : {o.getGates(), o.getY(), o.getDy(), o.getInitialH(), o.getDyH(), stackFinalCGrad(o)})
          if (v)
            k.tensor(in.ins[next++], ft);
          else
            k.none();
        if (Value lens = o.getSeqLens())
          k.tensor(in.ins[next++], elementOf(lens));
        else
          k.none();
        // dX, dW, dR and dB per layer, the initial states' gradients (none
        // where unread; a GRU or RNN stack has no cell state).
        for (unsigned r = 0; r < in.outs.size(); ++r)
          if (in.outs[r])
            k.tensor(in.outs[r], ft);
          else
            k.none();
        if (!lstm)
          k.none();
        k.i(o.getHiddenSize()).i(o.getMaxParallel()).i(o.getChunkSteps()).i(stackCellVariant(o));
        addClip(k, o.getClip());
        k.emit(in.b, in.loc, in.scratch);
        return true;
      })
      .Case<LSTMGradOp>([&](LSTMGradOp o) -> FailureOr<bool> {
        return recurrent(in, o, "nncc_lstm_grad", 2);
      })

      .Case<GRUGradOp>([&](GRUGradOp o) -> FailureOr<bool> {
        return recurrent(in, o, "nncc_gru_grad", 1);
      })
      .Case<RNNGradOp>([&](RNNGradOp o) -> FailureOr<bool> {
        return recurrent(in, o, "nncc_rnn_grad", 1);
      })
      .Default([](Operation *) -> FailureOr<bool> { return failure(); });
}

} // namespace codegen
} // namespace nncc
