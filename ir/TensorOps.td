//===- TensorOps.td - constants, data movement and indexing -*- tablegen -*-===//
#ifndef NNCC_IR_TENSOROPS_TD
#define NNCC_IR_TENSOROPS_TD

include "ir/NNBase.td"

//===----------------------------------------------------------------------===//
// Sources
//===----------------------------------------------------------------------===//

def NN_ConstantOp : NN_Op<"constant", [ConstantLike, NoSideEffect, NN_InferType]> {
  let summary = "A small constant tensor held in the IR.";
  let description = [{
    Shape arithmetic and other small constants. Weights are `nn.param`.
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$value attr-dict";
  let hasFolder = 1;
}

def NN_ParamOp : NN_Op<"param", [NoSideEffect]> {
  let summary = "A named weight whose data lives in the dialect's weight store.";
  let description = [{
    Parameters stay out of the textual IR: `nn.param "fc1.weight" :
    tensor<64x784xf32>` names a buffer of the weight store. Code generation
    hands the buffer to the kernels; training updates it in place.
  }];
  let arguments = (ins StrAttr:$name, UnitAttr:$frozen);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$name attr-dict `:` type($y)";
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

def NN_ReshapeOp : NN_Op<"reshape", [NoSideEffect, NN_InferType]> {
  let summary = "Reshape with ONNX semantics: 0 copies a dimension (unless allowzero), -1 is inferred.";
  let arguments = (ins NN_AnyTensor:$x, I64ArrayAttr:$shape,
                       DefaultValuedAttr<BoolAttr, "false">:$allowzero);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($y)";
  let hasFolder = 1;
}

def NN_TransposeOp : NN_Op<"transpose", [NoSideEffect, NN_InferType]> {
  let summary = "Permute dimensions: y.shape[i] = x.shape[perm[i]].";
  let arguments = (ins NN_AnyTensor:$x, I64ArrayAttr:$perm);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($y)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def NN_ReorderOp : NN_Op<"reorder", [NoSideEffect, NN_InferType]> {
  let summary = "Converts an activation between the layouts of nn.conv.";
  let description = [{
    `from` and `to` are "nchw" ([N, C, D...]), "nhwc" ([N, D..., C]) or
    "nchw16c" ([N, C/16, D..., 16], C a multiple of 16). A reorder of a
    reorder folds into one (or none).
  }];
  let arguments = (ins NN_AnyTensor:$x, StrAttr:$from, StrAttr:$to);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($y)";
  let hasFolder = 1;
}

def NN_ExpandOp : NN_Op<"expand", [NoSideEffect, NN_InferType]> {
  let summary = "Broadcast x against `shape` (ONNX Expand: bidirectional).";
  let arguments = (ins NN_AnyTensor:$x, I64ArrayAttr:$shape);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($y)";
  let hasFolder = 1;
}

def NN_TileOp : NN_Op<"tile", [NoSideEffect, NN_InferType]> {
  let summary = "Repeat x `repeats[i]` times along dimension i.";
  let arguments = (ins NN_AnyTensor:$x, I64ArrayAttr:$repeats);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($y)";
}

def NN_ConcatOp : NN_Op<"concat", [NoSideEffect, NN_InferType]> {
  let summary = "Concatenate along `axis` (non-negative).";
  let arguments = (ins Variadic<NN_AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, $y)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def NN_SliceOp : NN_Op<"slice", [NoSideEffect, NN_InferType]> {
  let summary = "Strided slice, one (start, step) per dimension, already clamped.";
  let description = [{
    Element `i` of dimension `d` of the result is element
    `starts[d] + i * steps[d]` of x; `sizes` is the result shape. The
    frontend resolves ONNX's negative indices, clamping and axes.
  }];
  let arguments = (ins NN_AnyTensor:$x, I64ArrayAttr:$starts, I64ArrayAttr:$steps,
                       I64ArrayAttr:$sizes);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($y)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def NN_PadOp : NN_Op<"pad", [NoSideEffect, NN_InferType]> {
  let summary = "Pad (or crop, with negative pads) with mode constant, reflect, edge or wrap.";
  let arguments = (ins NN_AnyTensor:$x, I64ArrayAttr:$pads,
                       DefaultValuedAttr<StrAttr, "\"constant\"">:$mode,
                       DefaultValuedAttr<F64Attr, "0.0">:$value);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($y)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Indexing
//===----------------------------------------------------------------------===//

def NN_GatherOp : NN_Op<"gather", [NoSideEffect, NN_InferType]> {
  let summary = "ONNX Gather: take slices of x along `axis` at `indices` (negative wrap).";
  let arguments = (ins NN_AnyTensor:$x, NN_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def NN_GatherElementsOp : NN_Op<"gather_elements", [NoSideEffect, NN_InferType]> {
  let summary = "ONNX GatherElements.";
  let arguments = (ins NN_AnyTensor:$x, NN_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_GatherNDOp : NN_Op<"gather_nd", [NoSideEffect, NN_InferType]> {
  let summary = "ONNX GatherND.";
  let arguments = (ins NN_AnyTensor:$x, NN_IndexTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x `,` $indices attr-dict `:` functional-type(operands, results)";
}

def NN_ScatterElementsOp : NN_Op<"scatter_elements", [NoSideEffect, NN_InferType]> {
  let summary = "ONNX ScatterElements with reduction none, add, mul, max or min.";
  let arguments = (ins NN_AnyTensor:$x, NN_IndexTensor:$indices, NN_AnyTensor:$updates,
                       I64Attr:$axis, DefaultValuedAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_ScatterNDOp : NN_Op<"scatter_nd", [NoSideEffect, NN_InferType]> {
  let summary = "ONNX ScatterND with reduction none, add, mul, max or min.";
  let arguments = (ins NN_AnyTensor:$x, NN_IndexTensor:$indices, NN_AnyTensor:$updates,
                       DefaultValuedAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)";
}

def NN_TriluOp : NN_Op<"trilu", [NoSideEffect, NN_InferType]> {
  let summary = "Keep the upper (or lower) triangle of the last two dimensions, offset by k.";
  let arguments = (ins NN_AnyTensor:$x, DefaultValuedAttr<BoolAttr, "true">:$upper,
                       DefaultValuedAttr<I64Attr, "0">:$k);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_ReverseSequenceOp : NN_Op<"reverse_sequence", [NoSideEffect, NN_InferType]> {
  let summary = "Reverse the first lens[b] elements along time_axis for each batch b.";
  let arguments = (ins NN_AnyTensor:$x, NN_IndexTensor:$lens,
                       DefaultValuedAttr<I64Attr, "1">:$batch_axis,
                       DefaultValuedAttr<I64Attr, "0">:$time_axis);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x `,` $lens attr-dict `:` functional-type(operands, results)";
}

def NN_TopKOp : NN_Op<"topk", [NoSideEffect, NN_InferType]> {
  let summary = "The k largest (or smallest) elements along `axis` and their indices.";
  let arguments = (ins NN_AnyTensor:$x, I64Attr:$k, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$largest,
                       DefaultValuedAttr<BoolAttr, "true">:$sorted);
  let results = (outs NN_AnyTensor:$values, RankedTensorOf<[I64]>:$indices);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type(results)";
}

def NN_ResizeOp : NN_Op<"resize", [NoSideEffect, NN_InferType]> {
  let summary = "ONNX Resize (nearest, linear, cubic) to the shape `sizes`.";
  let description = [{
    `scales` are the per-dimension scale factors used by the coordinate
    transformation (computed from `sizes` when ONNX gave sizes).
    `roi` holds starts then ends for tf_crop_and_resize.
  }];
  let arguments = (ins NN_AnyTensor:$x, I64ArrayAttr:$sizes, NN_F32ArrayAttr:$scales,
                       NN_F32ArrayAttr:$roi,
                       DefaultValuedAttr<StrAttr, "\"nearest\"">:$mode,
                       DefaultValuedAttr<StrAttr, "\"half_pixel\"">:$coordinate_transformation_mode,
                       DefaultValuedAttr<StrAttr, "\"round_prefer_floor\"">:$nearest_mode,
                       DefaultValuedAttr<F32Attr, "-0.75">:$cubic_coeff_a,
                       DefaultValuedAttr<BoolAttr, "false">:$exclude_outside,
                       DefaultValuedAttr<F32Attr, "0.0">:$extrapolation_value);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($y)";
}

def NN_GridSampleOp : NN_Op<"grid_sample", [NoSideEffect, NN_InferType]> {
  let summary = "ONNX GridSample (bilinear, nearest, bicubic; zeros, border, reflection).";
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$grid,
                       DefaultValuedAttr<StrAttr, "\"bilinear\"">:$mode,
                       DefaultValuedAttr<StrAttr, "\"zeros\"">:$padding_mode,
                       DefaultValuedAttr<BoolAttr, "false">:$align_corners);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x `,` $grid attr-dict `:` functional-type(operands, results)";
}

def NN_GridSampleGradOp : NN_Op<"grid_sample_grad", [NoSideEffect, SameOperandsElementType]> {
  let summary = "Gradients of nn.grid_sample: dX (dY scattered with the sampling weights) and dGrid.";
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$grid, NN_FloatTensor:$dy,
                       DefaultValuedAttr<StrAttr, "\"bilinear\"">:$mode,
                       DefaultValuedAttr<StrAttr, "\"zeros\"">:$padding_mode,
                       DefaultValuedAttr<BoolAttr, "false">:$align_corners);
  let results = (outs NN_FloatTensor:$dx, NN_FloatTensor:$dgrid);
  let assemblyFormat = "$x `,` $grid `,` $dy attr-dict `:` functional-type(operands, results)";
}

def NN_RoiAlignGradOp : NN_Op<"roi_align_grad", [NoSideEffect]> {
  let summary = "Gradient of nn.roi_align for x (the boxes get none).";
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$rois, NN_IndexTensor:$batch_indices, NN_FloatTensor:$dy,
                       DefaultValuedAttr<StrAttr, "\"avg\"">:$mode,
                       DefaultValuedAttr<I64Attr, "0">:$sampling_ratio,
                       DefaultValuedAttr<F32Attr, "1.0">:$spatial_scale,
                       DefaultValuedAttr<BoolAttr, "true">:$half_pixel);
  let results = (outs NN_FloatTensor:$dx);
  let assemblyFormat = "$x `,` $rois `,` $batch_indices `,` $dy attr-dict `:` functional-type(operands, results)";
}

def NN_NonMaxSuppressionOp : NN_Op<"non_max_suppression", [NoSideEffect, NN_InferType]> {
  let summary = "ONNX NonMaxSuppression: the selected (batch, class, box) rows and their count.";
  let description = [{
    boxes [B, N, 4] (corners, or center and size with center_point_box),
    scores [B, C, N]; max_output, iou_threshold and score_threshold are
    scalars (score_threshold read only with has_score_threshold). Per batch
    and class, boxes in order of falling score (ties: lower index first),
    above the score threshold, each kept unless its IoU with one kept
    before exceeds the threshold, at most max_output. `selected` has
    `capacity` rows, of which the first `count` are written: its rows are
    known only at run time.
  }];
  let arguments = (ins F32Tensor:$boxes, F32Tensor:$scores, I64Tensor:$max_output, F32Tensor:$iou_threshold,
                       F32Tensor:$score_threshold, I64Attr:$center_point_box, BoolAttr:$has_score_threshold,
                       I64Attr:$capacity);
  let results = (outs I64Tensor:$selected, I64Tensor:$count);
  let assemblyFormat = [{
    $boxes `,` $scores `,` $max_output `,` $iou_threshold `,` $score_threshold attr-dict `:`
    functional-type(operands, results)
  }];
}

def NN_NonZeroOp : NN_Op<"non_zero", [NoSideEffect, NN_InferType]> {
  let summary = "ONNX NonZero: the indices of x's nonzero elements, and their count.";
  let description = [{
    `indices` is [rank(x), numel(x)]: column k holds the index of the k-th
    nonzero element in row-major order, for k < `count`, then zeros. Its
    second dimension is known only at run time.
  }];
  let arguments = (ins NN_AnyTensor:$x);
  let results = (outs I64Tensor:$indices, I64Tensor:$count);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
}

def NN_UniqueOp : NN_Op<"unique", [NoSideEffect, NN_InferType]> {
  let summary = "ONNX Unique over the slices x[:, j, :] of a 3-D x, and their count.";
  let description = [{
    x is [outer, n, inner] (the importer folds the dimensions around
    Unique's axis, or flattens x to [1, numel, 1]). The first `count` of
    the n entries of y (along dimension 1), indices and counts are the
    distinct slices, ascending (sorted) or in order of first occurrence,
    with the index of that occurrence and how often each occurs; zeros
    follow. inverse maps each of the n slices to its entry.
  }];
  let arguments = (ins NN_AnyTensor:$x, BoolAttr:$sorted);
  let results = (outs NN_AnyTensor:$y, I64Tensor:$indices, I64Tensor:$inverse, I64Tensor:$counts,
                      I64Tensor:$count);
  let assemblyFormat = "$x attr-dict `:` functional-type(operands, results)";
}

def NN_PackPrefixOp : NN_Op<"pack_prefix", [NoSideEffect, NN_InferType]> {
  let summary = "The first `count` entries of x along `dim`, packed at the start of a tensor of x's shape.";
  let description = [{
    For a graph output whose extent along `dim` > 0 is known only at run
    time: y begins with the elements of x[..., :count, ...] in row-major
    order, so the caller trims it to that extent by keeping a prefix; zeros
    follow.
  }];
  let arguments = (ins NN_AnyTensor:$x, I64Tensor:$count, I64Attr:$dim);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x `,` $count attr-dict `:` functional-type(operands, results)";
}

def NN_GradientOp : NN_Op<"gradient", [NoSideEffect, NN_InferType]> {
  let summary = "ONNX Gradient (ai.onnx.preview.training): d y / d x for each x in xs.";
  let description = [{
    The gradients of `y` (of sum(y) when y is not a scalar: each element's
    seed is 1) with respect to each of `xs`, computed by the graph before
    it. `nn-expand-gradients` replaces the op by the backward graph that
    autodiff emits in its place; nothing lowers it.
  }];
  let arguments = (ins NN_FloatTensor:$y, Variadic<NN_FloatTensor>:$xs);
  let results = (outs Variadic<NN_FloatTensor>:$grads);
  let assemblyFormat = "$y `wrt` $xs attr-dict `:` functional-type(operands, results)";
}

def NN_TfIdfVectorizerOp : NN_Op<"tfidf_vectorizer", [NoSideEffect, NN_InferType]> {
  let summary = "ONNX TfIdfVectorizer over integer tokens: n-gram counts (TF), weights (IDF) or both.";
  let description = [{
    x is [C] or [N, C] tokens. The pool holds the n-grams of each length
    back to back, those of length n + min_gram_length from token
    ngram_counts[n + min_gram_length - 1]; n-gram j counts into output
    column indexes[j]. An n-gram takes tokens skip + 1 apart, for every
    skip up to max_skip_count (unigrams once). The result is f32
    [output_size] or [N, output_size].
  }];
  let arguments = (ins NN_IndexTensor:$x, I64Tensor:$pool, I64Tensor:$indexes, F32Tensor:$weights,
                       I64ArrayAttr:$ngram_counts, I64Attr:$min_gram_length, I64Attr:$max_gram_length,
                       I64Attr:$max_skip_count, StrAttr:$mode, I64Attr:$output_size);
  let results = (outs F32Tensor:$y);
  let assemblyFormat = "$x `,` $pool `,` $indexes `,` $weights attr-dict `:` functional-type(operands, results)";
}

def NN_MaxRoiPoolOp : NN_Op<"max_roi_pool", [NoSideEffect, NN_InferType]> {
  let summary = "ONNX MaxRoiPool (Caffe's ROI pooling): the max of each of pooled_shape bins of each roi.";
  let description = [{
    rois is [num_rois, 5]: (batch index, x1, y1, x2, y2) in input
    coordinates, scaled by spatial_scale and rounded to pixels; an empty bin
    gives 0. The result is [num_rois, C, pooled_h, pooled_w].
  }];
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$rois, I64ArrayAttr:$pooled_shape,
                       DefaultValuedAttr<F32Attr, "1.0">:$spatial_scale);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x `,` $rois attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_RoiAlignOp : NN_Op<"roi_align", [NoSideEffect, NN_InferType]> {
  let summary = "ONNX RoiAlign.";
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$rois, NN_IndexTensor:$batch_indices,
                       DefaultValuedAttr<StrAttr, "\"avg\"">:$mode,
                       DefaultValuedAttr<I64Attr, "1">:$output_height,
                       DefaultValuedAttr<I64Attr, "1">:$output_width,
                       DefaultValuedAttr<I64Attr, "0">:$sampling_ratio,
                       DefaultValuedAttr<F32Attr, "1.0">:$spatial_scale,
                       DefaultValuedAttr<BoolAttr, "true">:$half_pixel);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x `,` $rois `,` $batch_indices attr-dict `:` functional-type(operands, results)";
}

def NN_MaxUnpoolOp : NN_Op<"max_unpool", [NoSideEffect, NN_InferType]> {
  let summary = "Scatter x into zeros of shape `output_shape` at `indices`.";
  let description = [{
    `indices` are flat positions in a tensor of shape `index_shape` (the
    unpooled shape MaxPool saw); each keeps its coordinates in the output.
  }];
  let arguments = (ins NN_AnyTensor:$x, NN_IndexTensor:$indices, I64ArrayAttr:$output_shape,
                       I64ArrayAttr:$index_shape);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x `,` $indices attr-dict `:` functional-type(operands, results)";
}

def NN_RangeOp : NN_Op<"range", [NoSideEffect, NN_InferType]> {
  let summary = "start + i * delta for i in [0, size) (ONNX Range, size precomputed).";
  let arguments = (ins F64Attr:$start, F64Attr:$delta, I64Attr:$size, TypeAttr:$element_type);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "attr-dict `:` type($y)";
  let hasFolder = 1;
}

def NN_RandomUniformOp : NN_Op<"random_uniform", [NN_InferType]> {
  let summary = "Uniform random numbers in [low, high), drawn anew by every run.";
  let description = [{
    Element i of run r is a hash of (seed, stream, r, i): the op's values
    are reproducible from its seed and stream (the importer gives each
    random op its own) and differ from run to run. f32 or f64. The op has
    no declared memory effects, so passes neither fold, merge, hoist nor
    recompute it.
  }];
  let arguments = (ins I64ArrayAttr:$shape, TypeAttr:$element_type, F64Attr:$low, F64Attr:$high, I64Attr:$seed,
                       I64Attr:$stream);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "attr-dict `:` type($y)";
}

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

def NN_LoopOp : NN_Op<"loop", [RecursiveSideEffects]> {
  let summary = "ONNX Loop run as a loop: its trip count or condition is known only at run time.";
  let description = [{
    Runs `body` while `cond` is true and fewer than `max_trip` iterations
    have run. The body's arguments are the iteration number (tensor<i64>),
    the condition (tensor<i1>) and the loop-carried values, which start as
    `carried`; it ends in nn.loop_yield of the next condition and the next
    carried values (of the same types). The results are the carried values
    after the last iteration. The body may read values defined outside.
    Loops whose iterations are known at compile time are unrolled by the
    importer instead.

    With `scan_outputs = S` (S > 0) the body also yields S scan values after
    the carried ones, and the op has S more results, each [N, ...the scan
    value's shape]: iteration i's value lands in row i, and the loop stops
    after N iterations (the fewest rows of them). N is the trip count when it is known at compile
    time, else a capacity. A last result, tensor<i64>, counts the
    iterations that ran, or N + 1 when the rows ran out before the loop
    ended (its condition still true, fewer than `max_trip` run: the runtime
    recompiles with more rows and runs again); rows past the count are not
    written. Only the first that many rows are the ONNX scan output, so
    such results may only be graph outputs, which the runtime trims.
  }];
  let arguments = (ins TensorOf<[I64]>:$max_trip, TensorOf<[I1]>:$cond, Variadic<NN_AnyTensor>:$carried,
                       DefaultValuedAttr<I64Attr, "0">:$scan_outputs);
  let results = (outs Variadic<NN_AnyTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "`(` operands `)` attr-dict `:` functional-type(operands, results) $body";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The fewest rows of its scan outputs (it runs at most that many
    /// iterations), or -1 without scan outputs.
    int64_t getScanRows();
    /// Rows of a loop's scan outputs (or saved iterations) taking `rowBytes`
    /// per iteration when its iterations are not known at compile time: the
    /// `place`-th entry of `grown` when set (a recompilation's), else `rows`
    /// when positive, else as many as fit kPlannedBytes (16 to 4096).
    static int64_t capacityRows(int64_t rowBytes, int64_t rows, ::llvm::ArrayRef<int64_t> grown, size_t place);
    /// Bytes of scan outputs planned for a loop that may stop early: beyond
    /// them it gets a capacity of rows instead of its trip count.
    static constexpr int64_t kPlannedBytes = int64_t(64) << 20;
  }];
}

def NN_LoopYieldOp : NN_Op<"loop_yield", [NoSideEffect, Terminator, HasParent<"LoopOp">]> {
  let summary = "The next condition and carried values of an nn.loop body.";
  let arguments = (ins Variadic<NN_AnyTensor>:$values);
  let assemblyFormat = "$values attr-dict `:` type($values)";
}

#endif // NNCC_IR_TENSOROPS_TD
