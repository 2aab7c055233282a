// RUN: nncc-opt %s --nn-autodiff=rnn-memory=checkpoint --split-input-file | FileCheck %s
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=recompute-gates --split-input-file | FileCheck %s --check-prefixes=RECOMP,SEGMENTS
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=budget=40000 --split-input-file | FileCheck %s --check-prefix=SEGMENTS
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=budget=120000 --split-input-file | FileCheck %s --check-prefix=PARTIAL
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=budget=64000 --split-input-file | FileCheck %s --check-prefix=RPARTIAL
// Under the checkpoint memory policy the forward LSTM also saves its states
// before every segment of ceil(sqrt(T)) steps (T = 5: segments of 3, so 2),
// and its backward starts from them: it reads no y, which can then die with
// the loss (y is T-sized, the checkpoints about sqrt(T)).

// CHECK-LABEL: func.func @lstm
// CHECK-NOT: nn.lstm %
// CHECK: %[[Y:.*]], %{{.*}}, %{{.*}}, %[[CK:.*]] = nn.lstm_checkpointed %arg0, %arg1, %arg2 {{{.*}}segment_steps = 3 : i64} : {{.*}} -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x2x2x4xf32>)
// The loss: sum(y * y), then dY = 2 y.
// CHECK: nn.mul %[[Y]], %[[Y]]
// y (operand 8) absent, dY present, the checkpoints present, no gates.
// CHECK: nn.lstm_grad %arg0, %arg1, %arg2, %{{[0-9]+}}, %[[CK]] {{{.*}}memory_policy = "checkpoint"{{.*}}operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0]>
func.func @lstm(%x: tensor<5x2x3xf32>, %w: tensor<1x16x3xf32>, %r: tensor<1x16x4xf32>) -> tensor<f32> {
  %y, %h, %c = nn.lstm %x, %w, %r {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %sq = nn.mul %y, %y : tensor<5x1x2x4xf32>, tensor<5x1x2x4xf32>
  %s = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<5x1x2x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// Under recompute-gates (and a budget that does not hold the gates) the
// forward saves the cell state (states = 1: y holds h) before every segment
// of 256 / batch = 16 steps (40 steps: 3 segments) and keeps y, which the backward reads with the
// checkpoints: it recomputes the gates from y, and starts each segment from
// its saved cell state instead of running a first pass to compute them.
// With one segment (batch 2: 128 steps) it saves none: the backward starts
// from the initial states.
// RECOMP-LABEL: func.func @lstm
// RECOMP: nn.lstm %
// RECOMP-NOT: nn.lstm_checkpointed
// SEGMENTS-LABEL: func.func @segments
// SEGMENTS: %[[Y:.*]], %{{.*}}, %{{.*}}, %[[CK:.*]] = nn.lstm_checkpointed %arg0, %arg1, %arg2 {{{.*}}segment_steps = 16 : i64, states = 1 : i64} : {{.*}} -> (tensor<40x1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x3x1x16x4xf32>)
// y (operand 8), dY and the checkpoints present, no gates.
// SEGMENTS: nn.lstm_grad %arg0, %arg1, %arg2, %[[Y]], %{{[0-9]+}}, %[[CK]] {{{.*}}operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0]>
// CHECK-LABEL: func.func @segments
// CHECK: nn.lstm_checkpointed %arg0, %arg1, %arg2 {{{.*}}segment_steps = 7 : i64}
func.func @segments(%x: tensor<40x16x3xf32>, %w: tensor<1x16x3xf32>, %r: tensor<1x16x4xf32>) -> tensor<f32> {
  %y, %h, %c = nn.lstm %x, %w, %r {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x16x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<40x1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>)
  %sq = nn.mul %y, %y : tensor<40x1x16x4xf32>, tensor<40x1x16x4xf32>
  %s = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x16x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// A budget that holds the gates of at least half the steps but not of all
// (here those of 24 of the 40, beside the working set of recomputed
// segments of 256 / 32 = 8 steps and the checkpoints) saves those of the
// steps after the first 2 segments, and the cell state before every
// segment (nn.lstm_saving): its backward works in the saved gates there and
// recomputes the others.
// PARTIAL-LABEL: func.func @partial
// PARTIAL: %[[Y:.*]], %{{.*}}, %{{.*}}, %[[CK:.*]], %[[G:.*]] = nn.lstm_saving %arg0, %arg1, %arg2 {{{.*}}saved_steps = 24 : i64, segment_steps = 8 : i64, states = 1 : i64} : {{.*}} -> (tensor<40x1x32x4xf32>, tensor<1x32x4xf32>, tensor<1x32x4xf32>, tensor<1x5x1x32x4xf32>, tensor<1x24x32x16xf32>)
// PARTIAL: nn.lstm_grad %arg0, %arg1, %arg2, %[[Y]], %{{[0-9]+}}, %[[CK]], %[[G]] {{{.*}}operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]>
func.func @partial(%x: tensor<40x32x3xf32>, %w: tensor<1x16x3xf32>, %r: tensor<1x16x4xf32>) -> tensor<f32> {
  %y, %h, %c = nn.lstm %x, %w, %r {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x32x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<40x1x32x4xf32>, tensor<1x32x4xf32>, tensor<1x32x4xf32>)
  %sq = nn.mul %y, %y : tensor<40x1x32x4xf32>, tensor<40x1x32x4xf32>
  %s = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x32x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// The same budget for a GRU (rows of 4H: the gates and r * h_{t-1}) saves
// the rows of the steps after the first 2 segments too, but no states: its
// state is h, which y holds, so its backward recomputes the other steps'
// rows from x and y (nn.gru_with_gates with saved_steps).
// PARTIAL-LABEL: func.func @gru_partial
// PARTIAL: %[[Y:.*]], %{{.*}}, %[[G:.*]] = nn.gru_with_gates %arg0, %arg1, %arg2 {{{.*}}saved_steps = 24 : i64} : {{.*}} -> (tensor<40x1x32x4xf32>, tensor<1x32x4xf32>, tensor<1x24x32x16xf32>)
// PARTIAL: nn.gru_grad %arg0, %arg1, %arg2, %[[Y]], %{{[0-9]+}}, %[[G]] {{{.*}}memory_policy = "budget"
func.func @gru_partial(%x: tensor<40x32x3xf32>, %w: tensor<1x12x3xf32>, %r: tensor<1x12x4xf32>) -> tensor<f32> {
  %y, %h = nn.gru %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<40x32x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>) -> (tensor<40x1x32x4xf32>, tensor<1x32x4xf32>)
  %sq = nn.mul %y, %y : tensor<40x1x32x4xf32>, tensor<40x1x32x4xf32>
  %s = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x32x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// And an RNN (rows of H), under a budget of its size; 120000 bytes hold
// all its rows.
// RPARTIAL-LABEL: func.func @rnn_partial
// RPARTIAL: %[[Y:.*]], %{{.*}}, %[[G:.*]] = nn.rnn_with_gates %arg0, %arg1, %arg2 {{{.*}}saved_steps = 24 : i64} : {{.*}} -> (tensor<40x1x32x4xf32>, tensor<1x32x4xf32>, tensor<1x24x32x4xf32>)
// RPARTIAL: nn.rnn_grad %arg0, %arg1, %arg2, %[[Y]], %{{[0-9]+}}, %[[G]] {{{.*}}memory_policy = "budget"
// PARTIAL-LABEL: func.func @rnn_partial
// PARTIAL: nn.rnn_with_gates {{.*}} -> (tensor<40x1x32x4xf32>, tensor<1x32x4xf32>, tensor<1x40x32x4xf32>)
func.func @rnn_partial(%x: tensor<40x32x3xf32>, %w: tensor<1x4x3xf32>, %r: tensor<1x4x4xf32>) -> tensor<f32> {
  %y, %h = nn.rnn %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<40x32x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>) -> (tensor<40x1x32x4xf32>, tensor<1x32x4xf32>)
  %sq = nn.mul %y, %y : tensor<40x1x32x4xf32>, tensor<40x1x32x4xf32>
  %s = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x32x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}
