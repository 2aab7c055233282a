//===- LayerOps.td - reductions, linear algebra, conv, norm, RNN -*- tablegen -*-===//
#ifndef NNCC_IR_LAYEROPS_TD
#define NNCC_IR_LAYEROPS_TD

include "ir/NNBase.td"

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class NN_ReduceOp<string mnemonic, string desc>
    : NN_Op<mnemonic, [NoSideEffect, NN_InferType]> {
  let summary = desc;
  let description = [{
    `axes` are non-negative and sorted; an empty list reduces every dimension.
  }];
  let arguments = (ins NN_AnyTensor:$x, I64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($y)";
  let hasVerifier = 1;
}
def NN_ReduceSumOp : NN_ReduceOp<"reduce_sum", "sum over axes">;
def NN_ReduceMeanOp : NN_ReduceOp<"reduce_mean", "mean over axes">;
def NN_ReduceMaxOp : NN_ReduceOp<"reduce_max", "maximum over axes">;
def NN_ReduceMinOp : NN_ReduceOp<"reduce_min", "minimum over axes">;
def NN_ReduceProdOp : NN_ReduceOp<"reduce_prod", "product over axes"> { let hasFolder = 1; }

class NN_ArgReduceOp<string mnemonic, string desc>
    : NN_Op<mnemonic, [NoSideEffect, NN_InferType]> {
  let summary = desc;
  let arguments = (ins NN_AnyTensor:$x, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                       DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs RankedTensorOf<[I64]>:$y);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($y)";
}
def NN_ArgMaxOp : NN_ArgReduceOp<"argmax", "index of the maximum along axis">;
def NN_ArgMinOp : NN_ArgReduceOp<"argmin", "index of the minimum along axis">;

def NN_CumSumOp : NN_Op<"cumsum", [NoSideEffect, NN_InferType]> {
  let summary = "Cumulative sum along axis (optionally exclusive and/or reversed).";
  let arguments = (ins NN_AnyTensor:$x, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$exclusive,
                       DefaultValuedAttr<BoolAttr, "false">:$reverse);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

class NN_SoftmaxLikeOp<string mnemonic, string desc>
    : NN_Op<mnemonic, [NoSideEffect, SameOperandsAndResultType, NN_InferType]> {
  let summary = desc;
  let arguments = (ins NN_FloatTensor:$x, I64Attr:$axis);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}
def NN_SoftmaxOp : NN_SoftmaxLikeOp<"softmax", "exp(x - max) / sum(exp(x - max)) along axis">;
def NN_LogSoftmaxOp : NN_SoftmaxLikeOp<"log_softmax", "x - max - log(sum(exp(x - max))) along axis">;

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def NN_MatMulOp : NN_Op<"matmul", [NoSideEffect, NN_InferType]> {
  let summary = "numpy.matmul: batched, broadcasting, 1-D operands promoted; plus a bias row.";
  let description = [{
    The optional `bias` [N] is added to every row, then `post_ops` (as for
    nn.conv, without "sum") are applied; nn-fuse puts both there.
  }];
  let arguments = (ins NN_AnyTensor:$a, NN_AnyTensor:$b, Optional<NN_AnyTensor>:$bias,
                       DefaultValuedAttr<StrArrayAttr, "{}">:$post_ops);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$a `,` $b (`,` `bias` $bias^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_GemmOp : NN_Op<"gemm", [NoSideEffect, NN_InferType]> {
  let summary = "alpha * op(A) * op(B) + beta * C, as ONNX Gemm (C broadcasts).";
  let arguments = (ins NN_AnyTensor:$a, NN_AnyTensor:$b, Optional<NN_AnyTensor>:$c,
                       DefaultValuedAttr<F32Attr, "1.0">:$alpha,
                       DefaultValuedAttr<F32Attr, "1.0">:$beta,
                       DefaultValuedAttr<BoolAttr, "false">:$transA,
                       DefaultValuedAttr<BoolAttr, "false">:$transB,
                       DefaultValuedAttr<StrArrayAttr, "{}">:$post_ops);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$a `,` $b (`,` $c^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_EinsumOp : NN_Op<"einsum", [NoSideEffect, NN_InferType]> {
  let summary = "Einstein summation with an explicit output (`->` always present).";
  let arguments = (ins Variadic<NN_AnyTensor>:$inputs, StrAttr:$equation);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, $y)";
  let hasVerifier = 1;
}

def NN_DetOp : NN_Op<"det", [NoSideEffect, NN_InferType]> {
  let summary = "Determinant of the square matrices in the last two dimensions.";
  let arguments = (ins NN_FloatTensor:$x);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($y)";
}

//===----------------------------------------------------------------------===//
// Convolution and pooling (NCHW..., any number of spatial dimensions)
//===----------------------------------------------------------------------===//

def NN_ConvOp : NN_Op<"conv", [NoSideEffect, AttrSizedOperandSegments, NN_InferType]> {
  let summary = "Grouped, strided, dilated convolution; pads = begins then ends.";
  let description = [{
    x is [N, C, D...] and the result [N, M, D_out...] in the default
    `layout` "nchw"; with "nhwc" they are [N, D..., C] and [N, D_out..., M];
    with "nchw16c" (channels in blocks of 16, oneDNN's nChw16c) they are
    [N, C/16, D..., 16] and [N, M/16, D_out..., 16]. w is [M, C/group, K...].
    `post_ops` is the fused epilogue applied in order to each output
    element: "relu", "clip:LO:HI", "leaky_relu:A", "elu:A", "sigmoid",
    "tanh", or "sum" (adds `residual`, of the result's shape).
  }];
  let arguments = (ins NN_AnyTensor:$x, NN_AnyTensor:$w, Optional<NN_AnyTensor>:$b,
                       Optional<NN_AnyTensor>:$residual,
                       I64ArrayAttr:$strides, I64ArrayAttr:$pads, I64ArrayAttr:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$group,
                       DefaultValuedAttr<StrAttr, "\"nchw\"">:$layout,
                       DefaultValuedAttr<StrArrayAttr, "{}">:$post_ops);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x `,` $w (`bias` $b^)? (`residual` $residual^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_ConvTransposeOp : NN_Op<"conv_transpose", [NoSideEffect, NN_InferType]> {
  let summary = "Transposed convolution; pads already resolved (output_shape folded in).";
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$w, Optional<NN_FloatTensor>:$b,
                       I64ArrayAttr:$strides, I64ArrayAttr:$pads, I64ArrayAttr:$dilations,
                       I64ArrayAttr:$output_padding,
                       DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x `,` $w (`,` $b^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

class NN_PoolOp<string mnemonic, string desc, dag extra = (ins)>
    : NN_Op<mnemonic, [NoSideEffect, NN_InferType]> {
  let summary = desc;
  let description = [{ x is [N, C, D...], or [N, D..., C] with `channels_last`. }];
  let arguments = !con((ins NN_AnyTensor:$x, I64ArrayAttr:$kernel_shape,
                            I64ArrayAttr:$strides, I64ArrayAttr:$pads,
                            I64ArrayAttr:$dilations,
                            DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                            DefaultValuedAttr<BoolAttr, "false">:$channels_last), extra);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($y)";
  let hasVerifier = 1;
}
def NN_MaxPoolOp : NN_PoolOp<"max_pool", "maximum over each window">;
def NN_AvgPoolOp : NN_PoolOp<"avg_pool", "mean over each window",
    (ins DefaultValuedAttr<BoolAttr, "false">:$count_include_pad)>;
def NN_LpPoolOp : NN_PoolOp<"lp_pool", "p-norm over each window",
    (ins DefaultValuedAttr<I64Attr, "2">:$p)>;

def NN_MaxPoolWithIndicesOp : NN_Op<"max_pool_with_indices", [NoSideEffect, NN_InferType]> {
  let summary = "max_pool that also returns the flat index of each maximum.";
  let arguments = (ins NN_AnyTensor:$x, I64ArrayAttr:$kernel_shape,
                       I64ArrayAttr:$strides, I64ArrayAttr:$pads, I64ArrayAttr:$dilations,
                       DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                       DefaultValuedAttr<I64Attr, "0">:$storage_order);
  let results = (outs NN_AnyTensor:$y, RankedTensorOf<[I64]>:$indices);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type(results)";
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

def NN_BatchNormOp : NN_Op<"batch_norm", [NoSideEffect, NN_InferType]> {
  let summary = "Inference batch normalization over dimension 1.";
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$scale, NN_FloatTensor:$bias,
                       NN_FloatTensor:$mean, NN_FloatTensor:$var,
                       DefaultValuedAttr<F32Attr, "1e-5">:$epsilon);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x `,` $scale `,` $bias `,` $mean `,` $var attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_LayerNormOp : NN_Op<"layer_norm", [NoSideEffect, NN_InferType]> {
  let summary = "Normalize over dimensions [axis, rank); also returns mean and 1/stddev.";
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$scale, Optional<NN_FloatTensor>:$bias,
                       I64Attr:$axis, DefaultValuedAttr<F32Attr, "1e-5">:$epsilon);
  let results = (outs NN_FloatTensor:$y, NN_FloatTensor:$mean, NN_FloatTensor:$inv_std_dev);
  let assemblyFormat = "$x `,` $scale (`,` $bias^)? attr-dict `:` functional-type(operands, results)";
}

def NN_InstanceNormOp : NN_Op<"instance_norm", [NoSideEffect, NN_InferType]> {
  let summary = "Normalize each (n, c) over the spatial dimensions, then scale and shift per c.";
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$scale, NN_FloatTensor:$bias,
                       DefaultValuedAttr<F32Attr, "1e-5">:$epsilon);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x `,` $scale `,` $bias attr-dict `:` functional-type(operands, results)";
}

def NN_LRNOp : NN_Op<"lrn", [NoSideEffect, SameOperandsAndResultType, NN_InferType]> {
  let summary = "Local response normalization across channels.";
  let arguments = (ins NN_FloatTensor:$x, I64Attr:$size,
                       DefaultValuedAttr<F32Attr, "0.0001">:$alpha,
                       DefaultValuedAttr<F32Attr, "0.75">:$beta,
                       DefaultValuedAttr<F32Attr, "1.0">:$bias);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

//===----------------------------------------------------------------------===//
// Recurrent layers (ONNX LSTM, GRU, RNN with layout 0: X is [T, B, I])
//===----------------------------------------------------------------------===//

// `activations` lists each direction's functions in ONNX order; empty means
// ONNX's defaults (LSTM sigmoid, tanh, tanh; GRU sigmoid, tanh; RNN tanh).

class NN_RecurrentOp<string mnemonic, string desc, dag extraOperands, dag extraAttrs, dag res>
    : NN_Op<mnemonic, [NoSideEffect, AttrSizedOperandSegments, NN_InferType]> {
  let summary = desc;
  let arguments = !con((ins NN_FloatTensor:$x, NN_FloatTensor:$w, NN_FloatTensor:$r,
                            Optional<NN_FloatTensor>:$b, Optional<NN_IndexTensor>:$seq_lens,
                            Optional<NN_FloatTensor>:$initial_h), extraOperands,
                       (ins I64Attr:$hidden_size,
                            DefaultValuedAttr<StrAttr, "\"forward\"">:$direction,
                            StrArrayAttr:$activations,
                            NN_F32ArrayAttr:$activation_alpha,
                            NN_F32ArrayAttr:$activation_beta,
                            OptionalAttr<F32Attr>:$clip), extraAttrs);
  let results = res;
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_LSTMOp : NN_RecurrentOp<"lstm", "ONNX LSTM (gates i, o, f, c)",
    (ins Optional<NN_FloatTensor>:$initial_c, Optional<NN_FloatTensor>:$p),
    (ins DefaultValuedAttr<BoolAttr, "false">:$input_forget),
    (outs NN_FloatTensor:$y, NN_FloatTensor:$y_h, NN_FloatTensor:$y_c)>;
// The forward of an nn.lstm trained under the checkpoint, recompute-gates
// or budget memory policy (autodiff's setRecurrentMemoryPolicy puts it in
// the nn.lstm's place): it also returns `checkpoints`, [directions,
// ceil(T / segment_steps), states, batch, hidden], the cell state (0) and,
// with `states` = 2, the hidden state (1) before the first step of each
// segment of `segment_steps` steps (in each direction's step order), which
// its nn.lstm_grad starts from. (A backward that reads y, which holds h,
// needs only c: `states` = 1.)
def NN_LSTMCheckpointedOp : NN_RecurrentOp<"lstm_checkpointed", "nn.lstm that also saves its states every segment",
    (ins Optional<NN_FloatTensor>:$initial_c, Optional<NN_FloatTensor>:$p),
    (ins DefaultValuedAttr<BoolAttr, "false">:$input_forget, I64Attr:$segment_steps,
         DefaultValuedAttr<I64Attr, "2">:$states),
    (outs NN_FloatTensor:$y, NN_FloatTensor:$y_h, NN_FloatTensor:$y_c, NN_FloatTensor:$checkpoints)>;
// The forward of an nn.lstm trained under a budget that holds the gate
// pre-activations of some steps but not of all: it returns `checkpoints`
// as nn.lstm_checkpointed does (with `states` = 1: its backward reads y)
// and `gates`, [directions, saved_steps, batch, 4 * hidden], the
// pre-activations of the last `saved_steps` steps (in each direction's step
// order), as nn.lstm_with_gates does for all. Its nn.lstm_grad works in
// the saved ones and recomputes the others segment by segment from the
// checkpoints.
def NN_LSTMSavingOp : NN_RecurrentOp<"lstm_saving", "nn.lstm that saves its states every segment and the gates of its last steps",
    (ins Optional<NN_FloatTensor>:$initial_c, Optional<NN_FloatTensor>:$p),
    (ins DefaultValuedAttr<BoolAttr, "false">:$input_forget, I64Attr:$segment_steps,
         DefaultValuedAttr<I64Attr, "2">:$states, I64Attr:$saved_steps),
    (outs NN_FloatTensor:$y, NN_FloatTensor:$y_h, NN_FloatTensor:$y_c, NN_FloatTensor:$checkpoints,
          NN_FloatTensor:$gates)>;
// The forward of an nn.lstm trained under the store-all memory policy
// (setRecurrentMemoryPolicy puts it in the nn.lstm's place): it also returns
// `gates`, [directions, T, batch, 4 * hidden], the gate pre-activations
// x W^T + h R^T + biases of every step (in each direction's step order;
// peepholes not added), so that its nn.lstm_grad reads them instead of
// recomputing them with two GEMMs over the whole sequence.
def NN_LSTMWithGatesOp : NN_RecurrentOp<"lstm_with_gates", "nn.lstm that also returns its gate pre-activations",
    (ins Optional<NN_FloatTensor>:$initial_c, Optional<NN_FloatTensor>:$p),
    (ins DefaultValuedAttr<BoolAttr, "false">:$input_forget),
    (outs NN_FloatTensor:$y, NN_FloatTensor:$y_h, NN_FloatTensor:$y_c, NN_FloatTensor:$gates)>;
def NN_GRUOp : NN_RecurrentOp<"gru", "ONNX GRU (gates z, r, h)", (ins),
    (ins DefaultValuedAttr<BoolAttr, "false">:$linear_before_reset),
    (outs NN_FloatTensor:$y, NN_FloatTensor:$y_h)>;
def NN_RNNOp : NN_RecurrentOp<"rnn", "ONNX simple RNN", (ins), (ins),
    (outs NN_FloatTensor:$y, NN_FloatTensor:$y_h)>;
// The GRU and RNN forwards trained under store-all, like nn.lstm_with_gates:
// `gates` keeps every step's pre-activations for the backward, which works
// in them. GRU: [directions, T, batch, 4 * hidden], each row the z, r and h
// pre-activations (the h gate's as the variant defines it: with
// linear_before_reset its input part only) and then r * h_{t-1} (with
// linear_before_reset: h_{t-1} R_h^T). RNN: [directions, T, batch, hidden].
// With `saved_steps` (a budget that holds the rows of some steps but not of
// all) only those of the last saved_steps steps (in each direction's step
// order): [directions, saved_steps, batch, width]. The backward works in
// them there and recomputes the others segment by segment from x and y
// (which holds every h_{t-1}: no states need saving).
def NN_GRUWithGatesOp : NN_RecurrentOp<"gru_with_gates", "nn.gru that also returns its gate pre-activations", (ins),
    (ins DefaultValuedAttr<BoolAttr, "false">:$linear_before_reset, OptionalAttr<I64Attr>:$saved_steps),
    (outs NN_FloatTensor:$y, NN_FloatTensor:$y_h, NN_FloatTensor:$gates)>;
def NN_RNNWithGatesOp : NN_RecurrentOp<"rnn_with_gates", "nn.rnn that also returns its pre-activations", (ins),
    (ins OptionalAttr<I64Attr>:$saved_steps),
    (outs NN_FloatTensor:$y, NN_FloatTensor:$y_h, NN_FloatTensor:$gates)>;

// Stacked forward LSTMs, made by nn-stack-recurrent from a chain of nn.lstm
// ops each feeding the next (forward direction, default activations, no
// peepholes, clip or lengths). `weights` holds W [1, 4H, I], R [1, 4H, H]
// and B [1, 8H] of each layer in order; y is the last layer's [T, 1, batch,
// H]. The initial states `initial_h` and `initial_c` are [L, batch, H], a
// [batch, H] slice per layer (absent: zeros); y_h and y_c are the final
// ones, [L, batch, H] (not stored when nothing reads them). With
// `seq_lens` ([batch], the layers' own) each batch row runs its first
// seq_lens[b] steps: past them its y rows are zeros and its states stay
// those of its last step (ONNX's sequence_lens). The kernel runs cells of (layer, chunk of `chunk_steps`
// steps) along diagonals: cell (l+1, c) overlaps (l, c+1), at most
// `max_parallel` cells at once (0 = one per thread). For training, `states`
// gets the outputs of the layers below the last ([L-1, T, batch, H]) and
// `cells` the cell state before each chunk ([L, chunks, batch, H]) and
// `gates` the gate pre-activations of every layer and step ([L, T, batch,
// 4H], what nn.lstm_with_gates saves: the backward does not recompute
// them; stored only when nn.lstm_stack_grad reads them, under store-all); in
// inference nothing reads them and they are not stored. `clip` is its
// layers' (ONNX's attribute), as its backward's.
def NN_LSTMStackOp : NN_Op<"lstm_stack", [NoSideEffect, AttrSizedOperandSegments]> {
  let summary = "Stacked forward LSTMs, run as a wavefront of cells.";
  let arguments = (ins NN_FloatTensor:$x, Variadic<NN_FloatTensor>:$weights,
                       Optional<NN_FloatTensor>:$initial_h, Optional<NN_FloatTensor>:$initial_c,
                       Optional<NN_IndexTensor>:$seq_lens,
                       I64Attr:$hidden_size, DefaultValuedAttr<I64Attr, "0">:$max_parallel, I64Attr:$chunk_steps,
                       OptionalAttr<F32Attr>:$clip);
  let results = (outs NN_FloatTensor:$y, NN_FloatTensor:$states, NN_FloatTensor:$cells, NN_FloatTensor:$gates,
                      NN_FloatTensor:$y_h, NN_FloatTensor:$y_c);
  let assemblyFormat = "$x `,` $weights (`initial_h` $initial_h^)? (`initial_c` $initial_c^)? (`seq_lens` $seq_lens^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

// Stacked forward GRUs or simple RNNs, made by nn-stack-recurrent like
// nn.lstm_stack from a chain of nn.gru (sigmoid and tanh) or nn.rnn (tanh
// or Relu, as PyTorch's two) layers each reading the one below: `weights`
// holds W, R and B ([1, 6H] for a GRU, [1, 2H] for an RNN) per layer, y is
// the last layer's [T, 1, batch, H]; `initial_h` and y_h are the layers'
// initial and final states, [L, batch, H], and `seq_lens`, as
// nn.lstm_stack's. A GRU
// stack's linear_before_reset is its layers' (PyTorch's GRUs: true; ONNX's
// default: false); an RNN stack's activation, Tanh or Relu, its layers'. The kernel runs the same
// wavefront of (layer, chunk of `chunk_steps` steps) cells as
// nn.lstm_stack. For training, `states` gets the outputs of the layers
// below the last ([L-1, T, batch, H]) and `gates` rows for the backward: a
// GRU's [L, T, batch, 4H], the z and r pre-activations (both biases in),
// then with linear_before_reset the h gate's input part (x W_h^T + Wb_h)
// and h_{t-1} R_h^T (without Rb_h), without it the h gate's pre-activation
// (x W_h^T + (r * h_{t-1}) R_h^T + both biases) and r * h_{t-1}; an RNN's
// [L, T, batch, H], which only its backward writes (the activation's
// derivative comes from the outputs); stored only when the backward reads
// them (store-all). In inference nothing reads them and they are not
// stored. `clip`, as nn.lstm_stack's (an RNN stack's only in inference:
// its backward takes the activation's derivative from the outputs).
class NN_RecurrentStackOp<string mnemonic, string desc, dag cellAttrs>
    : NN_Op<mnemonic, [NoSideEffect, AttrSizedOperandSegments]> {
  let summary = desc;
  let arguments = !con((ins NN_FloatTensor:$x, Variadic<NN_FloatTensor>:$weights,
                            Optional<NN_FloatTensor>:$initial_h, Optional<NN_IndexTensor>:$seq_lens,
                            I64Attr:$hidden_size,
                            DefaultValuedAttr<I64Attr, "0">:$max_parallel, I64Attr:$chunk_steps), cellAttrs,
                       (ins OptionalAttr<F32Attr>:$clip));
  let results = (outs NN_FloatTensor:$y, NN_FloatTensor:$states, NN_FloatTensor:$gates, NN_FloatTensor:$y_h);
  let assemblyFormat = "$x `,` $weights (`initial_h` $initial_h^)? (`seq_lens` $seq_lens^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}
def NN_GRUStackOp : NN_RecurrentStackOp<"gru_stack", "Stacked forward GRUs, run as a wavefront of cells.",
    (ins DefaultValuedAttr<BoolAttr, "false">:$linear_before_reset)>;
def NN_RNNStackOp : NN_RecurrentStackOp<"rnn_stack", "Stacked forward simple RNNs, run as a wavefront of cells.",
    (ins DefaultValuedAttr<StrAttr, "\"Tanh\"">:$activation)>;

// The backward of an nn.lstm_stack, made by nn-stack-recurrent from the
// chain of nn.lstm_grad ops of its layers: the stack's operands, its
// results and dy (the gradient of y; absent: zeros, as for an encoder
// whose final states alone are read), with the initial hidden states
// (absent: zeros) and the final states' gradients dy_h and dy_c ([L, batch,
// H]; absent: zeros), and the forward's `seq_lens` (steps past a row's
// length pass its state gradients through unchanged and take no dy).
// Without `gates` (the memory policies other than
// store-all) the kernel recomputes each chunk's pre-activations from x and
// the saved outputs, and the forward stack stores no gates. Results: dX, per layer dW, dR and dB (the types of
// `weights`), and the initial states' gradients ([L, batch, H]). The kernel runs the cells' backward along
// reverse diagonals: cell (l, c) needs (l+1, c) (its dy) and (l, c+1) (the
// state gradients), so (l-1, c) overlaps (l, c-1).
def NN_LSTMStackGradOp : NN_Op<"lstm_stack_grad", [NoSideEffect, AttrSizedOperandSegments]> {
  let summary = "Backward of stacked forward LSTMs, run as a reverse wavefront.";
  let arguments = (ins NN_FloatTensor:$x, Variadic<NN_FloatTensor>:$weights, NN_FloatTensor:$states,
                       NN_FloatTensor:$cells, Optional<NN_FloatTensor>:$gates, NN_FloatTensor:$y, Optional<NN_FloatTensor>:$dy,
                       Optional<NN_FloatTensor>:$initial_h, Optional<NN_FloatTensor>:$dy_h,
                       Optional<NN_FloatTensor>:$dy_c, Optional<NN_IndexTensor>:$seq_lens, I64Attr:$hidden_size,
                       DefaultValuedAttr<I64Attr, "0">:$max_parallel, I64Attr:$chunk_steps,
                       OptionalAttr<F32Attr>:$clip);
  let results = (outs NN_FloatTensor:$dx, Variadic<NN_FloatTensor>:$dweights, NN_FloatTensor:$d_initial_h,
                      NN_FloatTensor:$d_initial_c);
  let assemblyFormat = "$x `,` `[` $weights `]` `,` $states `,` $cells `,` (`gates` $gates^ `,`)? $y (`dy` $dy^)? (`initial_h` $initial_h^)? (`dy_h` $dy_h^)? (`dy_c` $dy_c^)? (`seq_lens` $seq_lens^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

// The backward of an nn.gru_stack (nn.rnn_stack), made by
// nn-stack-recurrent from the chain of nn.gru_grad (nn.rnn_grad) ops of its
// layers, run along reverse diagonals as nn.lstm_stack_grad: the stack's
// operands, its states, gates (absent: recomputed, as nn.lstm_stack_grad's)
// and y, dy, and as nn.lstm_stack_grad the
// initial states and the final states' gradient dy_h. Results: dX, per
// layer dW, dR and dB, and the initial states' gradient.
class NN_RecurrentStackGradOp<string mnemonic, string desc, dag cellAttrs>
    : NN_Op<mnemonic, [NoSideEffect, AttrSizedOperandSegments]> {
  let summary = desc;
  let arguments = !con((ins NN_FloatTensor:$x, Variadic<NN_FloatTensor>:$weights, NN_FloatTensor:$states,
                            Optional<NN_FloatTensor>:$gates, NN_FloatTensor:$y, Optional<NN_FloatTensor>:$dy,
                            Optional<NN_FloatTensor>:$initial_h, Optional<NN_FloatTensor>:$dy_h,
                            Optional<NN_IndexTensor>:$seq_lens, I64Attr:$hidden_size,
                            DefaultValuedAttr<I64Attr, "0">:$max_parallel, I64Attr:$chunk_steps), cellAttrs,
                       (ins OptionalAttr<F32Attr>:$clip));
  let results = (outs NN_FloatTensor:$dx, Variadic<NN_FloatTensor>:$dweights, NN_FloatTensor:$d_initial_h);
  let assemblyFormat = "$x `,` `[` $weights `]` `,` $states `,` (`gates` $gates^ `,`)? $y (`dy` $dy^)? (`initial_h` $initial_h^)? (`dy_h` $dy_h^)? (`seq_lens` $seq_lens^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}
def NN_GRUStackGradOp : NN_RecurrentStackGradOp<"gru_stack_grad", "Backward of stacked forward GRUs, run as a reverse wavefront.",
    (ins DefaultValuedAttr<BoolAttr, "false">:$linear_before_reset)>;
def NN_RNNStackGradOp : NN_RecurrentStackGradOp<"rnn_stack_grad", "Backward of stacked forward RNNs, run as a reverse wavefront.",
    (ins DefaultValuedAttr<StrAttr, "\"Tanh\"">:$activation)>;

// Backward of a recurrent layer: the forward op's operands, its output y
// (the hidden state of every step, from which the gate pre-activations are
// recomputed with two GEMMs over all steps, unless the forward saved them:
// the optional `gates` of nn.*_with_gates, which the kernel overwrites) and
// the gradients of its results (absent ones are zero). Results: dX, dW, dR, dB ([dirs, 2 * gates * H]),
// dInitialH ([dirs, batch, H]) and, for the LSTM, dInitialC and dP ([dirs, 3H]).
// memory_policy: store-all, recompute-gates, checkpoint or budget
// (memory_budget bytes of working set); see runtime/kernels/RecurrentGrad.cpp.
class NN_RecurrentGradOp<string mnemonic, string desc, dag extraOperands, dag gradOperands, dag extraAttrs, dag res>
    : NN_Op<mnemonic, [NoSideEffect, AttrSizedOperandSegments, NN_InferType]> {
  let summary = desc;
  let arguments = !con((ins NN_FloatTensor:$x, NN_FloatTensor:$w, NN_FloatTensor:$r,
                            Optional<NN_FloatTensor>:$b, Optional<NN_IndexTensor>:$seq_lens,
                            Optional<NN_FloatTensor>:$initial_h), extraOperands,
                       (ins Optional<NN_FloatTensor>:$y, Optional<NN_FloatTensor>:$dy, Optional<NN_FloatTensor>:$dy_h),
                       gradOperands,
                       (ins I64Attr:$hidden_size,
                            DefaultValuedAttr<StrAttr, "\"forward\"">:$direction,
                            StrArrayAttr:$activations,
                            NN_F32ArrayAttr:$activation_alpha,
                            NN_F32ArrayAttr:$activation_beta,
                            OptionalAttr<F32Attr>:$clip,
                            DefaultValuedAttr<StrAttr, "\"store-all\"">:$memory_policy,
                            DefaultValuedAttr<I64Attr, "0">:$memory_budget), extraAttrs);
  let results = res;
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

// Under the checkpoint memory policy an nn.lstm_grad reads no y: it gets
// the states before each segment from nn.lstm_checkpointed and recomputes h
// inside each segment itself. Under store-all it reads the gate
// pre-activations that nn.lstm_with_gates saved (`gates`) instead of
// recomputing them.
def NN_LSTMGradOp : NN_RecurrentGradOp<"lstm_grad", "Gradients of an nn.lstm",
    (ins Optional<NN_FloatTensor>:$initial_c, Optional<NN_FloatTensor>:$p),
    (ins Optional<NN_FloatTensor>:$dy_c, Optional<NN_FloatTensor>:$checkpoints, Optional<NN_FloatTensor>:$gates),
    (ins DefaultValuedAttr<BoolAttr, "false">:$input_forget),
    (outs NN_FloatTensor:$dx, NN_FloatTensor:$dw, NN_FloatTensor:$dr, NN_FloatTensor:$db,
          NN_FloatTensor:$d_initial_h, NN_FloatTensor:$d_initial_c, NN_FloatTensor:$dp)>;
def NN_GRUGradOp : NN_RecurrentGradOp<"gru_grad", "Gradients of an nn.gru", (ins), (ins Optional<NN_FloatTensor>:$gates),
    (ins DefaultValuedAttr<BoolAttr, "false">:$linear_before_reset),
    (outs NN_FloatTensor:$dx, NN_FloatTensor:$dw, NN_FloatTensor:$dr, NN_FloatTensor:$db,
          NN_FloatTensor:$d_initial_h)>;
def NN_RNNGradOp : NN_RecurrentGradOp<"rnn_grad", "Gradients of an nn.rnn", (ins), (ins Optional<NN_FloatTensor>:$gates), (ins),
    (outs NN_FloatTensor:$dx, NN_FloatTensor:$dw, NN_FloatTensor:$dr, NN_FloatTensor:$db,
          NN_FloatTensor:$d_initial_h)>;

//===----------------------------------------------------------------------===//
// Signal processing (complex values as a trailing dimension of 2)
//===----------------------------------------------------------------------===//

def NN_DFTOp : NN_Op<"dft", [NoSideEffect, NN_InferType]> {
  let summary = "Discrete Fourier transform along `axis` (ONNX DFT).";
  let description = [{
    x is [..., 1] (real) or [..., 2] (complex); the result is complex. The
    signal is zero-padded or truncated to `length`; `onesided` keeps the
    length / 2 + 1 non-redundant bins; `inverse` divides by the length.
  }];
  let arguments = (ins NN_FloatTensor:$x, I64Attr:$axis, I64Attr:$length,
                       DefaultValuedAttr<BoolAttr, "false">:$inverse,
                       DefaultValuedAttr<BoolAttr, "false">:$onesided);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($y)";
}

def NN_STFTOp : NN_Op<"stft", [NoSideEffect, NN_InferType]> {
  let summary = "Short-time Fourier transform of [batch, length, 1 or 2] signals (ONNX STFT).";
  let arguments = (ins NN_FloatTensor:$signal, Optional<NN_FloatTensor>:$window, I64Attr:$frame_step,
                       I64Attr:$frame_length, DefaultValuedAttr<BoolAttr, "true">:$onesided);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$signal (`,` $window^)? attr-dict `:` functional-type(operands, results)";
}

#endif // NNCC_IR_LAYEROPS_TD
