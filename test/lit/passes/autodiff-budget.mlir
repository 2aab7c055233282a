// RUN: nncc-opt %s --nn-autodiff=rnn-memory=budget=6000 | FileCheck %s --check-prefix=SAVE
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=budget=2000 | FileCheck %s --check-prefix=RECOMPUTE
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=budget=1000 | FileCheck %s --check-prefix=RECOMPUTE
// Under a byte budget the forward saves its gate pre-activations, as under
// store-all, when they (here 5 x 2 x 16 floats, 640 bytes) fit beside the
// backward's working set for segments of 256 / batch steps (all 5 steps
// here: 4408 bytes, counted generously; from 5048 bytes on). The backward
// works in them in segments that fit the rest. 2000 bytes would hold the
// gates, but not beside that working set; 1000 bytes hold neither. Then the
// gates are recomputed.

// SAVE-LABEL: func.func @lstm
// SAVE: %[[Y:.*]], %{{.*}}, %{{.*}}, %[[G:.*]] = nn.lstm_with_gates %arg0, %arg1, %arg2 {{.*}} -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x5x2x16xf32>)
// SAVE: nn.lstm_grad %arg0, %arg1, %arg2, %[[Y]], {{.*}}%[[G]] {{{.*}}memory_budget = 6000 : i64, memory_policy = "budget"
// RECOMPUTE-LABEL: func.func @lstm
// RECOMPUTE-NOT: _with_gates
// RECOMPUTE: nn.lstm %arg0
// RECOMPUTE-NOT: _with_gates
// RECOMPUTE: nn.lstm_grad {{.*}}memory_policy = "budget"
func.func @lstm(%x: tensor<5x2x3xf32>, %w: tensor<1x16x3xf32>, %r: tensor<1x16x4xf32>) -> tensor<f32> {
  %y, %h, %c = nn.lstm %x, %w, %r {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %sq = nn.mul %y, %y : tensor<5x1x2x4xf32>, tensor<5x1x2x4xf32>
  %s = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<5x1x2x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// A GRU's saved rows are 4H wide (z, r, h, then r * h_{t-1}): 5 x 2 x 16
// floats again.
// SAVE-LABEL: func.func @gru
// SAVE: nn.gru_with_gates
// SAVE: nn.gru_grad
// RECOMPUTE-LABEL: func.func @gru
// RECOMPUTE-NOT: _with_gates
// RECOMPUTE: nn.gru_grad
func.func @gru(%x: tensor<5x2x3xf32>, %w: tensor<1x12x3xf32>, %r: tensor<1x12x4xf32>) -> tensor<f32> {
  %y, %h = nn.gru %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %sq = nn.mul %y, %y : tensor<5x1x2x4xf32>, tensor<5x1x2x4xf32>
  %s = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<5x1x2x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}
