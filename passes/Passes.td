//===- Passes.td - graph-level passes on the nn dialect ----*- tablegen -*-===//
#ifndef NNCC_PASSES_PASSES_TD
#define NNCC_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def InferShapes : Pass<"nn-infer-shapes", "::mlir::func::FuncOp"> {
  let summary = "Recompute every result type from the function's argument types.";
  let description = [{
    Re-runs each op's shape inference in order, so a graph whose inputs were
    given new shapes (option `input-shapes`, or by editing the signature)
    gets static shapes everywhere. Fails naming the first op whose inference
    fails.
  }];
  let constructor = "::nncc::createInferShapesPass()";
  let options = [
    ListOption<"inputShapes", "input-shapes", "std::string",
               "New shapes of the arguments, in order, as DxDxD (empty: keep)">,
  ];
}

def Decompose : Pass<"nn-decompose", "::mlir::func::FuncOp"> {
  let summary = "Expand composite ops (normalizations, softmax, LRN, ...) into primitive nn ops.";
  let description = [{
    After this pass the function holds only ops that code generation lowers
    directly. Fusion and autodiff run before it, so they see the composite
    ops whole.
  }];
  let constructor = "::nncc::createDecomposePass()";
  let dependentDialects = ["::nncc::nn::NNDialect"];
  let statistics = [Statistic<"numDecomposed", "num-decomposed", "Composite ops expanded">];
}

def Autodiff : Pass<"nn-autodiff", "::mlir::func::FuncOp"> {
  let summary = "Append the gradients of the first result (a scalar loss) w.r.t. the float arguments.";
  let description = [{
    Reverse-mode differentiation in the nn dialect: the function returning
    (loss, ...) becomes one returning (loss, d loss/d arg_i ...) for every
    floating-point argument (with `params`, nn.param weights become trailing
    arguments first and are differentiated too). Gradients of values with
    several uses are summed; ops off the argument-to-loss path get no
    backward. Fails naming an op without a gradient rule.
  }];
  let constructor = "::nncc::createAutodiffPass()";
  let dependentDialects = ["::nncc::nn::NNDialect"];
  let options = [
    Option<"params", "params", "bool", /*default=*/"false",
           "Turn trainable nn.param weights into arguments and differentiate them">,
    Option<"rnnMemory", "rnn-memory", "std::string", /*default=*/"\"store-all\"",
           "Memory policy of the recurrent backward: store-all, recompute-gates, checkpoint or budget=BYTES">,
    Option<"loopRows", "loop-rows", "int64_t", /*default=*/"-1",
           "Iterations saved for a loop whose iterations are not known at compile time (-1: as many as fit "
           "64 MiB, 0: refuse); its count becomes a result marked nn.rows_within and nn.grows_loop">,
  ];
  let statistics = [Statistic<"numBackward", "num-backward", "Ops that needed a backward">];
}

def ExpandGradients : Pass<"nn-expand-gradients", "::mlir::func::FuncOp"> {
  let summary = "Replace each nn.gradient by the backward graph of its y w.r.t. its xs.";
  let description = [{
    ONNX's Gradient operator inside a graph: reverse-mode differentiation
    (as nn-autodiff) from the op's y (summed when not a scalar) to each of
    its xs, emitted where the op stands. Fails naming an op without a
    gradient rule.
  }];
  let constructor = "::nncc::createExpandGradientsPass()";
  let dependentDialects = ["::nncc::nn::NNDialect"];
}

def PlanMemory : Pass<"nn-plan-memory", "::mlir::func::FuncOp"> {
  let summary = "Place intermediate tensors in one arena, reusing memory of dead values.";
  let description = [{
    Liveness over the op order: a buffer is freed after the last use of its
    value or of any reshape aliasing it, and the next buffer takes the lowest
    free offset that fits (64-byte aligned). Graph outputs are written
    straight into the caller's output buffers. The plan is recorded as
    `nn.arena_offset` on each op and `nn.arena_bytes` on the function.
  }];
  let constructor = "::nncc::createPlanMemoryPass()";
  let options = [
    Option<"reuse", "reuse", "bool", /*default=*/"true",
           "Reuse the memory of dead values (off: every value gets its own buffer)">,
  ];
  let statistics = [
    Statistic<"arenaBytes", "arena-bytes", "Planned peak of intermediate buffers">,
    Statistic<"totalBytes", "total-bytes", "Sum of all intermediate buffers">,
  ];
}

def Layout : Pass<"nn-layout", "::mlir::func::FuncOp"> {
  let summary = "Run convolutions and pooling on channels-last (NHWC) activations.";
  let description = [{
    Convolutions take and produce [N, D..., C] operands (the layout oneDNN's
    fastest kernels use), and the transposes this adds are sunk through
    elementwise ops, channel concats and spatial reductions until they
    cancel, so they remain only at the edges of convolution chains. Only for
    runtimes whose kernels support channels-last (the host with oneDNN).
  }];
  let constructor = "::nncc::createLayoutPass()";
  let statistics = [Statistic<"numChannelsLast", "num-channels-last", "Convolutions made channels-last">,
                    Statistic<"numBlocked", "num-blocked", "Convolutions made blocked (nchw16c, Winograd)">];
}

def Fuse : Pass<"nn-fuse", "::mlir::func::FuncOp"> {
  let summary = "Fuse activations and residual additions into convolution and matmul epilogues.";
  let description = [{
    relu / clip / leaky_relu / elu / sigmoid / tanh of a convolution, matmul
    or gemm with no other use become post-ops of it, an addition of a
    convolution and another tensor of the same type becomes a "sum" post-op
    with that tensor as residual, and a row added to a matmul its bias.
    Kernels apply the post-ops while the output is still in registers
    (oneDNN post-ops on the host).
  }];
  let constructor = "::nncc::createFusePass()";
  let statistics = [Statistic<"numFused", "num-fused", "Ops fused into an epilogue">];
}

def FuseElementwise : Pass<"nn-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Group elementwise ops into nn.fused ops (one loop nest each).";
  let description = [{
    Slices first move up through the elementwise ops they read (an op read
    only by slices is computed on its operands' slices; slices of a value
    no group computes are read as views). Then, walking back from each
    elementwise op, a producer joins its consumers' group when all its users
    are in that group and its result has the group's shape (broadcast
    operands stay inputs); a cheap op of values computed elsewhere, used by
    a few groups, is recomputed in each; otherwise a producer joins the
    first of its users' groups as one more result when all its other users
    come later. Last, a group merges with a group it feeds when their
    shapes agree and every other user of their results comes after both.
    Each group of two or more ops becomes one nn.fused op, with a result
    per value read outside it: codegen computes it in one pass, with no
    intermediate buffers. An unrolled LSTM step (gate pre-activations to
    h and c) is one nn.fused op.
  }];
  let constructor = "::nncc::createFuseElementwisePass()";
  let statistics = [Statistic<"numGroups", "num-groups", "nn.fused ops made">,
                    Statistic<"numOps", "num-ops", "Elementwise ops moved into them">,
                    Statistic<"numResults", "num-results", "Results of the nn.fused ops">,
                    Statistic<"numSlicesSunk", "num-slices-sunk",
                              "Elementwise ops computed on their operands' slices instead">];
}

def UnrollRecurrent : Pass<"nn-unroll-recurrent", "::mlir::func::FuncOp"> {
  let summary = "Unroll nn.lstm / nn.gru / nn.rnn into per-timestep cells.";
  let description = [{
    Each direction of a recurrent layer becomes hoisted input-projection
    products (nn.gemm with transB: x W^T + biases, one per chunk of about
    128 rows of steps x batch) and, per
    timestep, one recurrent product (h R^T, gates * H wide; the GRU without
    linear_before_reset adds the h gate's product of r * h; a parameter's
    direction or rows become a frozen parameter of their own, so run it
    after nn-autodiff) and the
    cell's pointwise ops, peepholes and
    initial states included; y, Y_h and Y_c are rebuilt from the steps'
    states. Every ONNX attribute unrolls: sequence lengths (per step a
    select keeps each row's states past its length and zeroes its output;
    a reverse direction runs from the last step down, so each row starts at
    its own last step), clip, input_forget and all of ONNX's activations with their
    alphas and betas. Layers of more than max-steps steps, or of shapes
    known only at run time, keep their whole-layer kernel.
  }];
  let constructor = "::nncc::createUnrollRecurrentPass()";
  let options = [
    Option<"maxSteps", "max-steps", "int64_t", /*default=*/"256",
           "layers with more timesteps than this are left whole">,
  ];
  let statistics = [Statistic<"numUnrolled", "unrolled", "Recurrent layers unrolled">];
}

def StackRecurrent : Pass<"nn-stack-recurrent", "::mlir::func::FuncOp"> {
  let summary = "Fuse chains of forward LSTMs (GRUs, RNNs) into one nn.lstm_stack (nn.gru_stack, nn.rnn_stack): wavefront scheduling.";
  let description = [{
    A chain of nn.lstm ops where each layer's y (through a reshape) is the
    next layer's only input and nothing else reads it, each forward, with
    the default activations and no peepholes, clip or sequence lengths,
    becomes one nn.lstm_stack; the layers' initial states become the rows
    of the stack's, and their final states (read after the chain) rows of
    the stack's final states. Its kernel can then overlap layer l+1's step t with layer
    l's step t+1. In a training graph, where each layer also has its
    nn.lstm_grad (each layer's dX the dy of the layer below), the gradients
    become one nn.lstm_stack_grad, run along reverse diagonals, and the
    stack also keeps the lower layers' outputs and a cell state per chunk
    for it (under the store-all memory policy only). A chain of forward
    nn.gru layers (default activations, with linear_before_reset or
    without, the same in every layer; no clip or lengths) becomes one nn.gru_stack the same way, and their
    nn.gru_grad ops one nn.gru_stack_grad; chains of nn.rnn layers (all
    tanh or all Relu) become nn.rnn_stack and nn.rnn_stack_grad. A
    bidirectional layer (whose next layer reads both directions: no
    diagonal to run along) gets the unit attribute
    `nncc.directions_at_once`: on 2 threads its kernel runs its two
    directions at once, one per thread. With schedule=sequential the pass
    leaves the layers as they are (each runs as its own kernel, layer by
    layer).
  }];
  let constructor = "::nncc::createStackRecurrentPass()";
  let options = [
    Option<"schedule", "schedule", "std::string", /*default=*/"\"wavefront\"",
           "wavefront (cells along diagonals) or sequential (layer by layer)">,
    Option<"maxParallel", "max-parallel", "int64_t", /*default=*/"0",
           "at most this many cells at once (0: one per thread)">,
  ];
  let statistics = [
    Statistic<"numStacked", "stacked", "Chains of LSTMs fused into nn.lstm_stack">,
    Statistic<"numStackedGRU", "stacked-gru", "Chains of GRUs fused into nn.gru_stack">,
    Statistic<"numStackedGradients", "stacked-gradients",
              "Chains of nn.lstm_grad fused into nn.lstm_stack_grad">,
    Statistic<"numStackedGRUGradients", "stacked-gru-gradients",
              "Chains of nn.gru_grad fused into nn.gru_stack_grad">,
    Statistic<"numStackedRNN", "stacked-rnn", "Chains of RNNs fused into nn.rnn_stack">,
    Statistic<"numStackedRNNGradients", "stacked-rnn-gradients",
              "Chains of nn.rnn_grad fused into nn.rnn_stack_grad">,
    Statistic<"numDirectionsAtOnce", "directions-at-once",
              "Bidirectional layers marked to run their directions at once">,
  ];
}

#endif // NNCC_PASSES_PASSES_TD
