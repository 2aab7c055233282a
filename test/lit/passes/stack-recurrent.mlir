// RUN: nncc-opt %s --nn-stack-recurrent --split-input-file | FileCheck %s
// RUN: nncc-opt %s --nn-stack-recurrent=schedule=sequential --split-input-file | FileCheck %s --check-prefix=SEQ
// RUN: nncc-opt %s --nn-stack-recurrent=max-parallel=1 --split-input-file | FileCheck %s --check-prefix=K1
// RUN: nncc-opt %s --nn-stack-recurrent --canonicalize --split-input-file | FileCheck %s --check-prefix=FOLD

// Three forward LSTMs, each layer's y (reshaped) the next one's input:
// one nn.lstm_stack with the weights of every layer (a zero bias for the
// layer that had none). With schedule=sequential they stay as they are.
// CHECK-LABEL: func.func @three_layers
// CHECK-NOT: nn.lstm %
// CHECK: %[[Z:.*]] = nn.constant dense<0.000000e+00> : tensor<1x32xf32>
// CHECK: nn.lstm_stack %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6, %arg7, %arg8, %[[Z]] {chunk_steps = 5 : i64, hidden_size = 4 : i64, max_parallel = 0 : i64}
// CHECK-SAME: -> (tensor<5x1x2x4xf32>, tensor<2x5x2x4xf32>, tensor<3x1x2x4xf32>, tensor<3x5x2x16xf32>, tensor<3x2x4xf32>, tensor<3x2x4xf32>)
// CHECK-NOT: nn.lstm %
// SEQ-LABEL: func.func @three_layers
// SEQ-COUNT-3: nn.lstm %
// SEQ-NOT: nn.lstm_stack
func.func @three_layers(%x: tensor<5x2x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>, %b0: tensor<1x32xf32>,
                        %w1: tensor<1x16x4xf32>, %r1: tensor<1x16x4xf32>, %b1: tensor<1x32xf32>,
                        %w2: tensor<1x16x4xf32>, %r2: tensor<1x16x4xf32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0, %c0 = nn.lstm %x, %w0, %r0, %b0 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1, %b1 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %x2 = nn.reshape %y1 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y2, %h2, %c2 = nn.lstm %x2, %w2, %r2 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  return %y2 : tensor<5x1x2x4xf32>
}

// -----

// Initial and final states: the layers' initial states become the rows of
// the stack's [L, B, H] ones (a zero row for a layer without), and each
// final state read after the stack is its row of the stack's.
// CHECK-LABEL: func.func @states
// CHECK: %[[H0:.*]] = nn.concat %{{.*}}, %{{.*}} {axis = 0 : i64}
// CHECK: %[[ZC:.*]] = nn.constant dense<0.000000e+00> : tensor<1x2x4xf32>
// CHECK: %[[C0:.*]] = nn.concat %arg6, %[[ZC]] {axis = 0 : i64}
// CHECK: %[[Y:.*]], %{{.*}}, %{{.*}}, %{{.*}}, %[[HN:.*]], %[[CN:.*]] = nn.lstm_stack %arg0, %arg1, %arg2, %{{.*}}, %arg3, %arg4, %{{.*}} initial_h %[[H0]] initial_c %[[C0]] {
// CHECK-SAME: -> (tensor<5x1x2x4xf32>, tensor<1x5x2x4xf32>, tensor<2x1x2x4xf32>, tensor<2x5x2x16xf32>, tensor<2x2x4xf32>, tensor<2x2x4xf32>)
// CHECK: %[[H0:.*]] = nn.slice %[[HN]] {sizes = [1, 2, 4], starts = [0, 0, 0], steps = [1, 1, 1]}
// CHECK: %[[H1:.*]] = nn.slice %[[HN]] {sizes = [1, 2, 4], starts = [1, 0, 0], steps = [1, 1, 1]}
// CHECK: %[[C1:.*]] = nn.slice %[[CN]] {sizes = [1, 2, 4], starts = [1, 0, 0], steps = [1, 1, 1]}
// CHECK-NOT: nn.lstm %
// CHECK: return %[[Y]], %[[H0]], %[[H1]], %[[C1]]
func.func @states(%x: tensor<5x2x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>,
                  %w1: tensor<1x16x4xf32>, %r1: tensor<1x16x4xf32>, %h: tensor<2x2x4xf32>, %c: tensor<1x2x4xf32>)
    -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) {
  %h00 = nn.slice %h {sizes = [1, 2, 4], starts = [0, 0, 0], steps = [1, 1, 1]} : tensor<2x2x4xf32> -> tensor<1x2x4xf32>
  %y0, %h0, %c0 = nn.lstm %x, %w0, %r0, %h00, %c {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 1, 1, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %h10 = nn.slice %h {sizes = [1, 2, 4], starts = [1, 0, 0], steps = [1, 1, 1]} : tensor<2x2x4xf32> -> tensor<1x2x4xf32>
  %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1, %h10 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 1, 0, 0]> : vector<8xi32>} : (tensor<5x2x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x2x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1, %h0, %h1, %c1 : tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
}

// -----

// The canonicalizer folds the rows back: the slices of h that were the
// layers' initial states are h itself, and the concatenated final states
// the stack's.
// FOLD-LABEL: func.func @states_folded
// FOLD: %[[Y:.*]], %{{.*}}, %{{.*}}, %{{.*}}, %[[HN:.*]], %[[CN:.*]] = nn.lstm_stack %arg0, %arg1, %arg2, %{{.*}}, %arg3, %arg4, %{{.*}} initial_h %arg5 initial_c %arg6 {
// FOLD-NOT: nn.concat
// FOLD: return %[[Y]], %[[HN]], %[[CN]]
func.func @states_folded(%x: tensor<5x2x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>,
                         %w1: tensor<1x16x4xf32>, %r1: tensor<1x16x4xf32>, %h: tensor<2x2x4xf32>, %c: tensor<2x2x4xf32>)
    -> (tensor<5x1x2x4xf32>, tensor<2x2x4xf32>, tensor<2x2x4xf32>) {
  %h00 = nn.slice %h {sizes = [1, 2, 4], starts = [0, 0, 0], steps = [1, 1, 1]} : tensor<2x2x4xf32> -> tensor<1x2x4xf32>
  %c00 = nn.slice %c {sizes = [1, 2, 4], starts = [0, 0, 0], steps = [1, 1, 1]} : tensor<2x2x4xf32> -> tensor<1x2x4xf32>
  %y0, %h0, %c0 = nn.lstm %x, %w0, %r0, %h00, %c00 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 1, 1, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %h10 = nn.slice %h {sizes = [1, 2, 4], starts = [1, 0, 0], steps = [1, 1, 1]} : tensor<2x2x4xf32> -> tensor<1x2x4xf32>
  %c10 = nn.slice %c {sizes = [1, 2, 4], starts = [1, 0, 0], steps = [1, 1, 1]} : tensor<2x2x4xf32> -> tensor<1x2x4xf32>
  %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1, %h10, %c10 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 1, 1, 0]> : vector<8xi32>} : (tensor<5x2x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %hn = nn.concat %h0, %h1 {axis = 0 : i64} : (tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> tensor<2x2x4xf32>
  %cn = nn.concat %c0, %c1 {axis = 0 : i64} : (tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> tensor<2x2x4xf32>
  return %y1, %hn, %cn : tensor<5x1x2x4xf32>, tensor<2x2x4xf32>, tensor<2x2x4xf32>
}

// -----

// A reader of a lower layer's final state placed between the layers (that
// feeds no layer) moves below the stack, after the row it now reads.
// CHECK-LABEL: func.func @state_read_between
// CHECK: %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[HN:.*]], %{{.*}} = nn.lstm_stack
// CHECK-NEXT: %[[H0:.*]] = nn.slice %[[HN]] {sizes = [1, 2, 4], starts = [0, 0, 0], steps = [1, 1, 1]}
// CHECK-NEXT: %[[N:.*]] = nn.neg %[[H0]]
// CHECK-NEXT: %[[E:.*]] = nn.exp %[[N]]
// CHECK-NEXT: return %{{.*}}, %[[E]]
func.func @state_read_between(%x: tensor<5x2x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>,
                              %w1: tensor<1x16x4xf32>, %r1: tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>) {
  %y0, %h0, %c0 = nn.lstm %x, %w0, %r0 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %n = nn.neg %h0 : tensor<1x2x4xf32>
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %e = nn.exp %n : tensor<1x2x4xf32>
  %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1, %e : tensor<5x1x2x4xf32>, tensor<1x2x4xf32>
}

// -----

// Layer 2 starts from layer 0's final state: a chain of three would read
// its own result, so it ends after layer 1, and layer 2 reads its initial
// state from the stack's row.
// CHECK-LABEL: func.func @chain_trimmed
// CHECK: %[[Y:.*]], %{{.*}}, %{{.*}}, %{{.*}}, %[[HN:.*]], %{{.*}} = nn.lstm_stack %arg0, %arg1, %arg2, %{{.*}}, %arg3, %arg4, %{{.*}} {
// CHECK-SAME: -> (tensor<5x1x2x4xf32>, tensor<1x5x2x4xf32>, tensor<2x1x2x4xf32>, tensor<2x5x2x16xf32>, tensor<2x2x4xf32>, tensor<2x2x4xf32>)
// CHECK: %[[H0:.*]] = nn.slice %[[HN]] {sizes = [1, 2, 4], starts = [0, 0, 0], steps = [1, 1, 1]}
// CHECK: %[[X2:.*]] = nn.reshape %[[Y]]
// CHECK: nn.lstm %[[X2]], %arg5, %arg6, %[[H0]] {
func.func @chain_trimmed(%x: tensor<5x2x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>,
                         %w1: tensor<1x16x4xf32>, %r1: tensor<1x16x4xf32>, %w2: tensor<1x16x4xf32>, %r2: tensor<1x16x4xf32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0, %c0 = nn.lstm %x, %w0, %r0 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %x2 = nn.reshape %y1 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y2, %h2, %c2 = nn.lstm %x2, %w2, %r2, %h0 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 1, 0, 0]> : vector<8xi32>} : (tensor<5x2x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x2x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  return %y2 : tensor<5x1x2x4xf32>
}

// -----

// A final state read before the next layer would be read before the stack
// defines it (here by that layer's initial state): the chain ends there
// (nothing is stacked: each would be a chain of one).
// CHECK-LABEL: func.func @state_read_early
// CHECK-COUNT-2: nn.lstm %
// CHECK-NOT: nn.lstm_stack
func.func @state_read_early(%x: tensor<5x2x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>,
                            %w1: tensor<1x16x4xf32>, %r1: tensor<1x16x4xf32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0, %c0 = nn.lstm %x, %w0, %r0 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1, %h0 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 1, 0, 0]> : vector<8xi32>} : (tensor<5x2x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x2x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1 : tensor<5x1x2x4xf32>
}

// -----

// Two forward GRUs with linear_before_reset (PyTorch's): one nn.gru_stack
// (a zero bias of 6H for the layer that had none; its states and gates,
// for a backward, are unread here and not stored). Sequential: unchanged.
// CHECK-LABEL: func.func @two_grus
// CHECK: %[[Z:.*]] = nn.constant dense<0.000000e+00> : tensor<1x24xf32>
// CHECK: nn.gru_stack %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %[[Z]] {chunk_steps = 5 : i64, hidden_size = 4 : i64, linear_before_reset = true, max_parallel = 0 : i64}
// CHECK-SAME: -> (tensor<5x1x2x4xf32>, tensor<1x5x2x4xf32>, tensor<2x5x2x16xf32>, tensor<2x2x4xf32>)
// CHECK-NOT: nn.gru %
// SEQ-LABEL: func.func @two_grus
// SEQ-COUNT-2: nn.gru %
// SEQ-NOT: nn.gru_stack
func.func @two_grus(%x: tensor<5x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>, %b0: tensor<1x24xf32>,
                    %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0 = nn.gru %x, %w0, %r0, %b0 {activations = ["Sigmoid", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1 {activations = ["Sigmoid", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1 : tensor<5x1x2x4xf32>
}

// -----

// GRUs without linear_before_reset (a second product per step, after the
// reset gate) stack too, the stack saying so; one of each kind does not.
// CHECK-LABEL: func.func @grus_reset_first
// CHECK: nn.gru_stack %arg0, %arg1, %arg2, %{{.*}}, %arg3, %arg4, %{{.*}} {chunk_steps = 5 : i64, hidden_size = 4 : i64, linear_before_reset = false, max_parallel = 0 : i64}
// CHECK-NOT: nn.gru %
// CHECK-LABEL: func.func @reset_first_below_linear
// CHECK-NOT: nn.gru_stack
// CHECK-COUNT-2: nn.gru %
func.func @grus_reset_first(%x: tensor<5x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>,
                            %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0 = nn.gru %x, %w0, %r0 {activations = ["Sigmoid", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1 {activations = ["Sigmoid", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1 : tensor<5x1x2x4xf32>
}
func.func @reset_first_below_linear(%x: tensor<5x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>,
                            %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0 = nn.gru %x, %w0, %r0 {activations = ["Sigmoid", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1 {activations = ["Sigmoid", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1 : tensor<5x1x2x4xf32>
}

// -----

// Two PyTorch GRUs, then two reset-first ones: two stacks, one per cell.
// CHECK-LABEL: func.func @two_cells_two_stacks
// CHECK: %[[Y:.*]], %{{.*}}, %{{.*}}, %{{.*}} = nn.gru_stack %arg0, %arg1, %arg2, %{{.*}}, %arg3, %arg4, %{{.*}} {chunk_steps = 5 : i64, hidden_size = 4 : i64, linear_before_reset = true
// CHECK: %[[X:.*]] = nn.reshape %[[Y]]
// CHECK: nn.gru_stack %[[X]], %arg5, %arg6, %{{.*}}, %arg7, %arg8, %{{.*}} {chunk_steps = 5 : i64, hidden_size = 4 : i64, linear_before_reset = false
// CHECK-NOT: nn.gru %
func.func @two_cells_two_stacks(%x: tensor<5x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>,
                                %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>,
                                %w2: tensor<1x12x4xf32>, %r2: tensor<1x12x4xf32>,
                                %w3: tensor<1x12x4xf32>, %r3: tensor<1x12x4xf32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0 = nn.gru %x, %w0, %r0 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %x2 = nn.reshape %y1 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y2, %h2 = nn.gru %x2, %w2, %r2 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %x3 = nn.reshape %y2 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y3, %h3 = nn.gru %x3, %w3, %r3 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  return %y3 : tensor<5x1x2x4xf32>
}

// -----

// A reshape that splits the rows differently ([5, 2] steps x batch into
// [10, 1]) makes the next layer another recurrence: not stacked.
// CHECK-LABEL: func.func @other_recurrence
// CHECK-COUNT-2: nn.gru %
// CHECK-NOT: nn.gru_stack
func.func @other_recurrence(%x: tensor<5x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>,
                            %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>) -> tensor<10x1x1x4xf32> {
  %y0, %h0 = nn.gru %x, %w0, %r0 {activations = ["Sigmoid", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [10, 1, 4]} : tensor<5x1x2x4xf32> -> tensor<10x1x4xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1 {activations = ["Sigmoid", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<10x1x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>) -> (tensor<10x1x1x4xf32>, tensor<1x1x4xf32>)
  return %y1 : tensor<10x1x1x4xf32>
}

// -----

// Simple RNNs stack when their activation is tanh (the default) or Relu
// (PyTorch's two), the same in every layer; not with another one, nor tanh
// below Relu.
// CHECK-LABEL: func.func @two_rnns
// CHECK: nn.rnn_stack %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %{{.*}} {activation = "Tanh", chunk_steps = 5 : i64, hidden_size = 4 : i64, max_parallel = 0 : i64}
// CHECK-NOT: nn.rnn %
// CHECK-LABEL: func.func @relu_rnns
// CHECK: nn.rnn_stack %arg0, %arg1, %arg2, %{{.*}}, %arg3, %arg4, %{{.*}} {activation = "Relu", chunk_steps = 5 : i64, hidden_size = 4 : i64, max_parallel = 0 : i64}
// CHECK-NOT: nn.rnn %
// CHECK-LABEL: func.func @sigmoid_rnns
// CHECK-NOT: nn.rnn_stack
// CHECK-COUNT-2: nn.rnn %
// CHECK-LABEL: func.func @tanh_below_relu
// CHECK-NOT: nn.rnn_stack
// CHECK-COUNT-2: nn.rnn %
func.func @two_rnns(%x: tensor<5x2x3xf32>, %w0: tensor<1x4x3xf32>, %r0: tensor<1x4x4xf32>, %b0: tensor<1x8xf32>,
                    %w1: tensor<1x4x4xf32>, %r1: tensor<1x4x4xf32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0 = nn.rnn %x, %w0, %r0, %b0 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1 = nn.rnn %x1, %w1, %r1 {activations = ["Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x4xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1 : tensor<5x1x2x4xf32>
}
func.func @relu_rnns(%x: tensor<5x2x3xf32>, %w0: tensor<1x4x3xf32>, %r0: tensor<1x4x4xf32>,
                     %w1: tensor<1x4x4xf32>, %r1: tensor<1x4x4xf32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0 = nn.rnn %x, %w0, %r0 {activations = ["Relu"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1 = nn.rnn %x1, %w1, %r1 {activations = ["Relu"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x4xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1 : tensor<5x1x2x4xf32>
}
func.func @sigmoid_rnns(%x: tensor<5x2x3xf32>, %w0: tensor<1x4x3xf32>, %r0: tensor<1x4x4xf32>,
                     %w1: tensor<1x4x4xf32>, %r1: tensor<1x4x4xf32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0 = nn.rnn %x, %w0, %r0 {activations = ["Sigmoid"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1 = nn.rnn %x1, %w1, %r1 {activations = ["Sigmoid"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x4xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1 : tensor<5x1x2x4xf32>
}
func.func @tanh_below_relu(%x: tensor<5x2x3xf32>, %w0: tensor<1x4x3xf32>, %r0: tensor<1x4x4xf32>,
                     %w1: tensor<1x4x4xf32>, %r1: tensor<1x4x4xf32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0 = nn.rnn %x, %w0, %r0 {activations = ["Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1 = nn.rnn %x1, %w1, %r1 {activations = ["Relu"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x4xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1 : tensor<5x1x2x4xf32>
}

// -----

// A bidirectional layer does not stack (the next layer reads both
// directions), but is marked to run its two directions at once, whatever
// its kind; forward and reverse layers are not marked. (Under
// schedule=sequential, or with at most one cell at a time, nothing is.)
// CHECK-LABEL: func.func @bidirectional
// CHECK: nn.gru %arg0, %arg1, %arg2 {{{.*}}direction = "bidirectional", hidden_size = 4 : i64, nncc.directions_at_once,
// CHECK: nn.gru %{{.*}}, %arg3, %arg4 {activation_alpha = [], activation_beta = [], activations = [], hidden_size = 4 : i64, operand_segment_sizes
// CHECK: nn.lstm %arg0, %arg5, %arg6 {{{.*}}direction = "bidirectional", hidden_size = 4 : i64, nncc.directions_at_once,
// CHECK: nn.rnn %arg0, %arg7, %arg8 {{{.*}}direction = "bidirectional", hidden_size = 4 : i64, nncc.directions_at_once,
// CHECK: nn.rnn %arg0, %arg9, %arg10 {{{.*}}direction = "reverse", hidden_size = 4 : i64, operand_segment_sizes
// SEQ-LABEL: func.func @bidirectional
// SEQ-NOT: nncc.directions_at_once
// SEQ: return
// K1-LABEL: func.func @bidirectional
// K1-NOT: nncc.directions_at_once
// K1: return
func.func @bidirectional(%x: tensor<5x2x3xf32>, %w0: tensor<2x12x3xf32>, %r0: tensor<2x12x4xf32>,
                         %w1: tensor<1x12x8xf32>, %r1: tensor<1x12x4xf32>,
                         %w2: tensor<2x16x3xf32>, %r2: tensor<2x16x4xf32>,
                         %w3: tensor<2x4x3xf32>, %r3: tensor<2x4x4xf32>,
                         %w4: tensor<1x4x3xf32>, %r4: tensor<1x4x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<5x2x2x4xf32>, tensor<5x2x2x4xf32>, tensor<5x1x2x4xf32>) {
  %y0, %h0 = nn.gru %x, %w0, %r0 {activations = [], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<2x12x3xf32>, tensor<2x12x4xf32>) -> (tensor<5x2x2x4xf32>, tensor<2x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 8]} : tensor<5x2x2x4xf32> -> tensor<5x2x8xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x8xf32>, tensor<1x12x8xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %y2, %h2, %c2 = nn.lstm %x, %w2, %r2 {activations = [], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<2x16x3xf32>, tensor<2x16x4xf32>) -> (tensor<5x2x2x4xf32>, tensor<2x2x4xf32>, tensor<2x2x4xf32>)
  %y3, %h3 = nn.rnn %x, %w3, %r3 {activations = [], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<2x4x3xf32>, tensor<2x4x4xf32>) -> (tensor<5x2x2x4xf32>, tensor<2x2x4xf32>)
  %y4, %h4 = nn.rnn %x, %w4, %r4 {activations = [], activation_alpha = [], activation_beta = [], direction = "reverse", hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1, %y2, %y3, %y4 : tensor<5x1x2x4xf32>, tensor<5x2x2x4xf32>, tensor<5x2x2x4xf32>, tensor<5x1x2x4xf32>
}

// -----

// Sequence lengths (PyTorch's packed sequences): layers that share theirs
// stack, and the stack runs each batch row its own number of steps.
// Layers with different lengths are different recurrences: not stacked.
// CHECK-LABEL: func.func @lengths
// CHECK: nn.lstm_stack %arg0, %arg1, %arg2, %{{.*}}, %arg3, %arg4, %{{.*}} seq_lens %arg5 {chunk_steps = 5 : i64
// CHECK-NOT: nn.lstm %
// CHECK-LABEL: func.func @other_lengths
// CHECK-NOT: nn.lstm_stack
// CHECK-COUNT-2: nn.lstm %
func.func @lengths(%x: tensor<5x2x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>,
                   %w1: tensor<1x16x4xf32>, %r1: tensor<1x16x4xf32>, %l: tensor<2xi32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0, %c0 = nn.lstm %x, %w0, %r0, %l {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 1, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<2xi32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1, %l {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 1, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>, tensor<2xi32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1 : tensor<5x1x2x4xf32>
}
func.func @other_lengths(%x: tensor<5x2x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>,
                         %w1: tensor<1x16x4xf32>, %r1: tensor<1x16x4xf32>, %l: tensor<2xi32>, %m: tensor<2xi32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0, %c0 = nn.lstm %x, %w0, %r0, %l {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 1, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<2xi32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1, %m {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 1, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>, tensor<2xi32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1 : tensor<5x1x2x4xf32>
}

// -----

// ONNX's clip: layers that share theirs stack, the stack clipping as they
// did (in inference: the stacked backward does not clip); layers with
// different clips, or one with and one without, do not.
// CHECK-LABEL: func.func @clip
// CHECK: nn.gru_stack %arg0, %arg1, %arg2, %{{.*}}, %arg3, %arg4, %{{.*}} {chunk_steps = 5 : i64, clip = 5.000000e-01 : f32, hidden_size = 4 : i64, linear_before_reset = true, max_parallel = 0 : i64}
// CHECK-NOT: nn.gru %
// CHECK-LABEL: func.func @other_clip
// CHECK-NOT: nn.gru_stack
// CHECK-COUNT-2: nn.gru %
// CHECK-LABEL: func.func @clip_and_none
// CHECK-NOT: nn.gru_stack
// CHECK-COUNT-2: nn.gru %
func.func @clip(%x: tensor<5x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>,
                %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0 = nn.gru %x, %w0, %r0 {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1 {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1 : tensor<5x1x2x4xf32>
}
func.func @other_clip(%x: tensor<5x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>,
                      %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0 = nn.gru %x, %w0, %r0 {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1 {activations = [], activation_alpha = [], activation_beta = [], clip = 2.500000e-01 : f32, hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1 : tensor<5x1x2x4xf32>
}
func.func @clip_and_none(%x: tensor<5x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>,
                         %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>) -> tensor<5x1x2x4xf32> {
  %y0, %h0 = nn.gru %x, %w0, %r0 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [5, 2, 4]} : tensor<5x1x2x4xf32> -> tensor<5x2x4xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1 {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  return %y1 : tensor<5x1x2x4xf32>
}
