// RUN: nncc-opt %s --nn-autodiff --nn-unroll-recurrent --split-input-file | FileCheck %s
// RUN: nncc-opt %s --nn-autodiff --nn-unroll-recurrent=max-steps=2 --split-input-file | FileCheck %s --check-prefix=LIMIT
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=recompute-gates --nn-unroll-recurrent --split-input-file | FileCheck %s --check-prefix=RECOMP
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=checkpoint --nn-unroll-recurrent --split-input-file | FileCheck %s --check-prefix=CKPT
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=budget=135000 --nn-unroll-recurrent --split-input-file | FileCheck %s --check-prefix=PARTIAL
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=budget=135000 --split-input-file | FileCheck %s --check-prefix=BUDGET

// Training under store-all: autodiff makes the forward an
// nn.lstm_with_gates whose backward reads its gate pre-activations. Unrolled,
// the cells keep no pre-activations: the layer is unrolled as an nn.lstm and
// its backward reads y (and recomputes the gates) but no gates. Too long to
// unroll (LIMIT), the layer stays whole and keeps saving its gates.
// CHECK-LABEL: func.func @lstm
// CHECK-NOT: nn.lstm_with_gates
// CHECK-NOT: nn.lstm %
// CHECK-COUNT-3: nn.gemm {{.*}}transB = true} : (tensor<2x4xf32>, tensor<16x4xf32>) -> tensor<2x16xf32>
// CHECK: %[[Y:.*]] = nn.concat {{.*}} -> tensor<3x1x2x4xf32>
// CHECK: nn.lstm_grad %arg0, %arg1, %arg2, %[[Y]], %{{[0-9]+}} {{{.*}}operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0]>
// LIMIT-LABEL: func.func @lstm
// LIMIT: %[[Y:.*]], %{{.*}}, %{{.*}}, %[[G:.*]] = nn.lstm_with_gates
// LIMIT: nn.lstm_grad %arg0, %arg1, %arg2, %[[Y]], %{{[0-9]+}}, %[[G]] {{{.*}}operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1]>
func.func @lstm(%x: tensor<3x2x2xf32>, %w: tensor<1x16x2xf32>, %r: tensor<1x16x4xf32>) -> tensor<f32> {
  %y, %h, %c = nn.lstm %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<3x2x2xf32>, tensor<1x16x2xf32>, tensor<1x16x4xf32>) -> (tensor<3x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %sq = nn.mul %y, %y : tensor<3x1x2x4xf32>, tensor<3x1x2x4xf32>
  %s = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<3x1x2x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// The same for a GRU: nn.gru_with_gates saves [D, T, B, 4H] (the three
// gates' pre-activations and r * h_{t-1} of every step) for its nn.gru_grad.
// CHECK-LABEL: func.func @gru
// CHECK-NOT: nn.gru_with_gates
// CHECK-NOT: nn.gru %
// CHECK: %[[Y:.*]] = nn.concat {{.*}} -> tensor<3x1x2x4xf32>
// CHECK: nn.gru_grad %arg0, %arg1, %arg2, %[[Y]], %{{[0-9]+}} {{{.*}}operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 1, 1, 0, 0]>
// LIMIT-LABEL: func.func @gru
// LIMIT: %[[Y:.*]], %{{.*}}, %[[G:.*]] = nn.gru_with_gates {{.*}} -> (tensor<3x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x3x2x16xf32>)
// LIMIT: nn.gru_grad %arg0, %arg1, %arg2, %[[Y]], %{{[0-9]+}}, %[[G]] {{{.*}}operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 1, 1, 0, 1]>
func.func @gru(%x: tensor<3x2x2xf32>, %w: tensor<1x12x2xf32>, %r: tensor<1x12x4xf32>) -> tensor<f32> {
  %y, %h = nn.gru %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<3x2x2xf32>, tensor<1x12x2xf32>, tensor<1x12x4xf32>) -> (tensor<3x1x2x4xf32>, tensor<1x2x4xf32>)
  %sq = nn.mul %y, %y : tensor<3x1x2x4xf32>, tensor<3x1x2x4xf32>
  %s = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<3x1x2x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// Batch 128: under recompute-gates the forward saves its cell state every
// 256 / 128 = 2 steps (nn.lstm_checkpointed, y kept) for its backward.
// Unrolled, the cells save none: the layer is unrolled as an nn.lstm and
// its backward reads y but no checkpoints (it computes the cell states in a
// first pass). Under checkpoint the backward reads no y, only the saved
// states: the layer stays whole.
// RECOMP-LABEL: func.func @lstm_segments
// RECOMP-NOT: nn.lstm_checkpointed
// RECOMP-COUNT-3: nn.gemm {{.*}}transB = true} : (tensor<128x4xf32>, tensor<16x4xf32>) -> tensor<128x16xf32>
// RECOMP: %[[Y:.*]] = nn.concat {{.*}} -> tensor<3x1x128x4xf32>
// RECOMP: nn.lstm_grad %arg0, %arg1, %arg2, %[[Y]], %{{[0-9]+}} {{{.*}}operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0]>
// CKPT-LABEL: func.func @lstm_segments
// CKPT: %{{.*}}, %{{.*}}, %{{.*}}, %[[CK:.*]] = nn.lstm_checkpointed {{.*}} -> (tensor<3x1x128x4xf32>, tensor<1x128x4xf32>, tensor<1x128x4xf32>, tensor<1x2x2x128x4xf32>)
// CKPT: nn.lstm_grad {{.*}}%[[CK]]
func.func @lstm_segments(%x: tensor<3x128x2xf32>, %w: tensor<1x16x2xf32>, %r: tensor<1x16x4xf32>) -> tensor<f32> {
  %y, %h, %c = nn.lstm %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<3x128x2xf32>, tensor<1x16x2xf32>, tensor<1x16x4xf32>) -> (tensor<3x1x128x4xf32>, tensor<1x128x4xf32>, tensor<1x128x4xf32>)
  %sq = nn.mul %y, %y : tensor<3x1x128x4xf32>, tensor<3x1x128x4xf32>
  %s = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<3x1x128x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// 8 steps of batch 128 under a budget that holds the gates of 4 steps beside
// the rest: the forward saves the cell state every 2 steps and the gates of
// the last 4 steps (nn.lstm_saving). Unrolled, the cells save neither: the
// layer is unrolled as an nn.lstm and its backward reads y, neither gates
// nor checkpoints.
// PARTIAL-LABEL: func.func @lstm_partial
// PARTIAL-NOT: nn.lstm_saving
// PARTIAL-COUNT-8: nn.gemm {{.*}}transB = true} : (tensor<128x4xf32>, tensor<16x4xf32>) -> tensor<128x16xf32>
// PARTIAL: %[[Y:.*]] = nn.concat {{.*}} -> tensor<8x1x128x4xf32>
// PARTIAL: nn.lstm_grad %arg0, %arg1, %arg2, %[[Y]], %{{[0-9]+}} {{{.*}}operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0]>
// BUDGET-LABEL: func.func @lstm_partial
// BUDGET: nn.lstm_saving {{.*}}saved_steps = 4 : i64
func.func @lstm_partial(%x: tensor<8x128x2xf32>, %w: tensor<1x16x2xf32>, %r: tensor<1x16x4xf32>) -> tensor<f32> {
  %y, %h, %c = nn.lstm %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<8x128x2xf32>, tensor<1x16x2xf32>, tensor<1x16x4xf32>) -> (tensor<8x1x128x4xf32>, tensor<1x128x4xf32>, tensor<1x128x4xf32>)
  %sq = nn.mul %y, %y : tensor<8x1x128x4xf32>, tensor<8x1x128x4xf32>
  %s = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<8x1x128x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// The same for a GRU: the budget holds the rows of its last 4 steps
// (nn.gru_with_gates with saved_steps). Unrolled, the cells save none: its
// backward reads y and recomputes them all.
// PARTIAL-LABEL: func.func @gru_partial
// PARTIAL-NOT: nn.gru_with_gates
// PARTIAL: %[[Y:.*]] = nn.concat {{.*}} -> tensor<8x1x128x4xf32>
// PARTIAL: nn.gru_grad %arg0, %arg1, %arg2, %[[Y]], %{{[0-9]+}} {{{.*}}operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 1, 1, 0, 0]>
// BUDGET-LABEL: func.func @gru_partial
// BUDGET: nn.gru_with_gates {{.*}}saved_steps = 4 : i64
func.func @gru_partial(%x: tensor<8x128x2xf32>, %w: tensor<1x12x2xf32>, %r: tensor<1x12x4xf32>) -> tensor<f32> {
  %y, %h = nn.gru %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<8x128x2xf32>, tensor<1x12x2xf32>, tensor<1x12x4xf32>) -> (tensor<8x1x128x4xf32>, tensor<1x128x4xf32>)
  %sq = nn.mul %y, %y : tensor<8x1x128x4xf32>, tensor<8x1x128x4xf32>
  %s = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<8x1x128x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// A GRU with sequence lengths and clip unrolls in training too: its cells
// select each row's states past its length and clamp the gates' inputs,
// and its backward kernel reads the cells' y (zeros past the lengths) and
// the same lengths.
// CHECK-LABEL: func.func @gru_lengths_clip
// CHECK-NOT: nn.gru_with_gates
// CHECK-COUNT-4: nn.select
// CHECK: %[[Y:.*]] = nn.concat {{.*}} -> tensor<2x1x3x4xf32>
// CHECK: nn.gru_grad %arg0, %arg1, %arg2, %arg3, %[[Y]], %{{[0-9]+}} {{{.*}}clip = 5.000000e-01 : f32
func.func @gru_lengths_clip(%x: tensor<2x3x2xf32>, %w: tensor<1x12x2xf32>, %r: tensor<1x12x4xf32>, %l: tensor<3xi32>) -> tensor<f32> {
  %y, %h = nn.gru %x, %w, %r, %l {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 1, 0]> : vector<6xi32>} : (tensor<2x3x2xf32>, tensor<1x12x2xf32>, tensor<1x12x4xf32>, tensor<3xi32>) -> (tensor<2x1x3x4xf32>, tensor<1x3x4xf32>)
  %sq = nn.mul %y, %y : tensor<2x1x3x4xf32>, tensor<2x1x3x4xf32>
  %s = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<2x1x3x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}
