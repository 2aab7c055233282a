// RUN: nncc-opt %s --nn-autodiff --nn-stack-recurrent --split-input-file | FileCheck %s
// RUN: nncc-opt %s --nn-autodiff --nn-stack-recurrent=schedule=sequential --split-input-file | FileCheck %s --check-prefix=SEQ
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=checkpoint --nn-stack-recurrent --split-input-file | FileCheck %s --check-prefix=CKPT
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=recompute-gates --nn-stack-recurrent --split-input-file | FileCheck %s --check-prefix=RECOMP
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=recompute-gates --nn-stack-recurrent --split-input-file | nncc-opt --split-input-file | FileCheck %s --check-prefix=RECOMP
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=budget=19000 --nn-stack-recurrent --split-input-file | FileCheck %s --check-prefix=BUDGET
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=budget=10000 --nn-stack-recurrent --split-input-file | FileCheck %s --check-prefix=SMALL
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=budget=120000 --nn-stack-recurrent --split-input-file | FileCheck %s --check-prefix=PSTACK
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=budget=120000 --split-input-file | FileCheck %s --check-prefix=PSAVE
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=budget=64000 --nn-stack-recurrent --split-input-file | FileCheck %s --check-prefix=RCLIP
// RUN: nncc-opt %s --nn-autodiff=rnn-memory=budget=100000 --nn-stack-recurrent --split-input-file | FileCheck %s --check-prefix=RCLIPALL
// The printed stacks parse back (their operand lists are unambiguous):
// RUN: nncc-opt %s --nn-autodiff --nn-stack-recurrent --split-input-file | nncc-opt --split-input-file | FileCheck %s

// Training: after autodiff each layer also has its nn.lstm_grad, each
// layer's dX (reshaped) the dy of the layer below, and (store-all) each
// forward is an nn.lstm_with_gates whose gate pre-activations its backward
// reads. The forward chain becomes one nn.lstm_stack that also returns the
// lower layers' outputs, the cell state before each chunk (chunks of
// 64 / batch = 32 steps: 2 here) and the gate pre-activations of every layer
// and step, and the gradients one nn.lstm_stack_grad that reads them and
// whose results are dX and each layer's dW, dR and dB.
// CHECK-LABEL: func.func @train
// CHECK-NOT: nn.lstm_grad
// CHECK: %[[Y:.*]], %[[S:.*]], %[[C:.*]], %[[G:.*]], %{{.*}}, %{{.*}} = nn.lstm_stack %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 {chunk_steps = 32 : i64, hidden_size = 4 : i64, max_parallel = 0 : i64}
// CHECK-SAME: -> (tensor<40x1x2x4xf32>, tensor<1x40x2x4xf32>, tensor<2x2x2x4xf32>, tensor<2x40x2x16xf32>, tensor<2x2x4xf32>, tensor<2x2x4xf32>)
// CHECK-NOT: nn.lstm_with_gates
// CHECK-NOT: nn.lstm_grad
// CHECK: %[[DX:.*]], %[[DW:.*]]:6, %{{.*}}, %{{.*}} = nn.lstm_stack_grad %arg0, [%arg1, %arg2, %arg3, %arg4, %arg5, %arg6], %[[S]], %[[C]], gates %[[G]], %[[Y]] dy %{{.*}} {chunk_steps = 32 : i64
// CHECK-NOT: nn.lstm_grad
// CHECK: return %{{.*}}, %[[DX]], %[[DW]]#0, %[[DW]]#1, %[[DW]]#2, %[[DW]]#3, %[[DW]]#4, %[[DW]]#5
// Under recompute-gates the layers are plain nn.lstm ops; they stack, and
// the stacked backward has no saved gates: it recomputes each chunk's from
// x, the saved outputs and the chunk's cell state, and the forward stack's
// gates are read by nothing (not stored). The printed form parses back.
// Under checkpoint the layers are nn.lstm_checkpointed, whose backward
// reads checkpoints instead of y (about 2 sqrt(T) saved states, y not
// kept): they keep their own kernels.
// CKPT-LABEL: func.func @train
// CKPT-NOT: nn.lstm_stack
// CKPT-COUNT-2: nn.lstm_checkpointed
// CKPT-COUNT-2: nn.lstm_grad
// CKPT-NOT: nn.lstm_stack
// A budget that holds the saved gates beside a segment's working set
// (5120 + 13600 bytes for the upper layer, counted generously) stacks them
// as store-all; one that holds neither them nor what the stack would
// keep per layer (10560 bytes: a chunk's rows and 2 cell states) keeps the
// layers' own kernels, which shorten their segments to fit.
// BUDGET-LABEL: func.func @train
// BUDGET: %[[Y:.*]], %[[S:.*]], %[[C:.*]], %[[G:.*]], %{{.*}}, %{{.*}} = nn.lstm_stack %arg0,
// BUDGET: nn.lstm_stack_grad %arg0, [%arg1, %arg2, %arg3, %arg4, %arg5, %arg6], %[[S]], %[[C]], gates %[[G]], %[[Y]] dy
// SMALL-LABEL: func.func @train
// SMALL-NOT: nn.lstm_stack
// SMALL-COUNT-2: nn.lstm_grad
// SMALL-NOT: nn.lstm_stack
// SMALL: return
// RECOMP-LABEL: func.func @train
// RECOMP-NOT: nn.lstm_grad
// RECOMP: %[[Y:.*]], %[[S:.*]], %[[C:.*]], %{{.*}}, %{{.*}}, %{{.*}} = nn.lstm_stack %arg0,
// RECOMP: nn.lstm_stack_grad %arg0, [%arg1, %arg2, %arg3, %arg4, %arg5, %arg6], %[[S]], %[[C]], %[[Y]] dy %{{.*}} {chunk_steps = 32 : i64
// RECOMP-NOT: nn.lstm_grad
// RECOMP: return
// SEQ-LABEL: func.func @train
// SEQ-NOT: nn.lstm_stack
// SEQ-COUNT-2: nn.lstm_with_gates
// SEQ-COUNT-2: nn.lstm_grad
// SEQ-NOT: nn.lstm_stack
func.func @train(%x: tensor<40x2x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>, %b0: tensor<1x32xf32>,
                 %w1: tensor<1x16x4xf32>, %r1: tensor<1x16x4xf32>, %b1: tensor<1x32xf32>) -> tensor<f32> {
  %y0, %h0, %c0 = nn.lstm %x, %w0, %r0, %b0 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 2, 4]} : tensor<40x1x2x4xf32> -> tensor<40x2x4xf32>
  %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1, %b1 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x2x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %sq = nn.mul %y1, %y1 : tensor<40x1x2x4xf32>, tensor<40x1x2x4xf32>
  %loss = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x2x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// A batch of 16 over 40 steps: under recompute-gates each layer's forward
// also saves its states before every segment of 256 / 16 = 16 steps
// (nn.lstm_checkpointed, y kept), which only its backward reads. They stack
// all the same: the stack saves its own chunks' cell states, and the
// layers' checkpoints go with them. Under checkpoint (no y) they keep their
// own kernels.
// RECOMP-LABEL: func.func @train_segments
// RECOMP-NOT: nn.lstm_checkpointed
// RECOMP-NOT: nn.lstm_grad
// RECOMP: %[[Y:.*]], %[[S:.*]], %[[C:.*]], %{{.*}}, %{{.*}}, %{{.*}} = nn.lstm_stack %arg0,
// RECOMP-NOT: nn.lstm_checkpointed
// RECOMP: nn.lstm_stack_grad %arg0, [%arg1, %arg2, %arg3, %arg4, %arg5, %arg6], %[[S]], %[[C]], %[[Y]] dy %{{.*}} {chunk_steps = 4 : i64
// RECOMP-NOT: nn.lstm_grad
// RECOMP: return
// CKPT-LABEL: func.func @train_segments
// CKPT-NOT: nn.lstm_stack
// CKPT-COUNT-2: nn.lstm_checkpointed
// CKPT-COUNT-2: nn.lstm_grad
// CKPT-NOT: nn.lstm_stack
func.func @train_segments(%x: tensor<40x16x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>, %b0: tensor<1x32xf32>,
                          %w1: tensor<1x16x4xf32>, %r1: tensor<1x16x4xf32>, %b1: tensor<1x32xf32>) -> tensor<f32> {
  %y0, %h0, %c0 = nn.lstm %x, %w0, %r0, %b0 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x16x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>) -> (tensor<40x1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 16, 4]} : tensor<40x1x16x4xf32> -> tensor<40x16x4xf32>
  %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1, %b1 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x16x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>) -> (tensor<40x1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>)
  %sq = nn.mul %y1, %y1 : tensor<40x1x16x4xf32>, tensor<40x1x16x4xf32>
  %loss = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x16x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Hidden 512: under store-all the LSTMs stack; under recompute-gates their
// layers train faster (each stacked backward cell would recompute its
// chunk's gates on one thread: stackRecomputes), and they keep their own
// kernels.
// CHECK-LABEL: func.func @train_wide
// CHECK: nn.lstm_stack %arg0
// CHECK: nn.lstm_stack_grad %arg0
// CHECK-NOT: nn.lstm_grad
// RECOMP-LABEL: func.func @train_wide
// RECOMP-NOT: nn.lstm_stack
// RECOMP-COUNT-2: nn.lstm_grad
// RECOMP-NOT: nn.lstm_stack
// RECOMP: return
func.func @train_wide(%x: tensor<40x2x3xf32>, %w0: tensor<1x2048x3xf32>, %r0: tensor<1x2048x512xf32>,
                      %w1: tensor<1x2048x512xf32>, %r1: tensor<1x2048x512xf32>) -> tensor<f32> {
  %y0, %h0, %c0 = nn.lstm %x, %w0, %r0 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 512 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x2x3xf32>, tensor<1x2048x3xf32>, tensor<1x2048x512xf32>) -> (tensor<40x1x2x512xf32>, tensor<1x2x512xf32>, tensor<1x2x512xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 2, 512]} : tensor<40x1x2x512xf32> -> tensor<40x2x512xf32>
  %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 512 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x2x512xf32>, tensor<1x2048x512xf32>, tensor<1x2048x512xf32>) -> (tensor<40x1x2x512xf32>, tensor<1x2x512xf32>, tensor<1x2x512xf32>)
  %sq = nn.mul %y1, %y1 : tensor<40x1x2x512xf32>, tensor<40x1x2x512xf32>
  %loss = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x2x512xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Batch 32: a budget of 120000 bytes holds the gates of 24 of each layer's
// 40 steps beside its recomputed segments (nn.lstm_saving), and what the
// stack keeps: the layers stack, and the stack's backward recomputes every
// chunk's gates (the layers' saved states and gates go with them).
// PSTACK-LABEL: func.func @train_partial
// PSTACK-NOT: nn.lstm_saving
// PSTACK-NOT: nn.lstm_grad
// PSTACK: %[[Y:.*]], %[[S:.*]], %[[C:.*]], %{{.*}}, %{{.*}}, %{{.*}} = nn.lstm_stack %arg0,
// PSTACK-NOT: nn.lstm_saving
// PSTACK: nn.lstm_stack_grad %arg0, [%arg1, %arg2, %arg3, %arg4, %arg5, %arg6], %[[S]], %[[C]], %[[Y]] dy
// PSTACK-NOT: nn.lstm_grad
// PSTACK: return
func.func @train_partial(%x: tensor<40x32x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>, %b0: tensor<1x32xf32>,
                          %w1: tensor<1x16x4xf32>, %r1: tensor<1x16x4xf32>, %b1: tensor<1x32xf32>) -> tensor<f32> {
  %y0, %h0, %c0 = nn.lstm %x, %w0, %r0, %b0 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x32x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>) -> (tensor<40x1x32x4xf32>, tensor<1x32x4xf32>, tensor<1x32x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 32, 4]} : tensor<40x1x32x4xf32> -> tensor<40x32x4xf32>
  %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1, %b1 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x32x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>) -> (tensor<40x1x32x4xf32>, tensor<1x32x4xf32>, tensor<1x32x4xf32>)
  %sq = nn.mul %y1, %y1 : tensor<40x1x32x4xf32>, tensor<40x1x32x4xf32>
  %loss = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x32x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// The same budget holds the rows of 24 of each GRU layer's 40 steps
// (nn.gru_with_gates with saved_steps); the layers stack, and the stack's
// backward recomputes every chunk's rows (the layers' saved rows go with
// them).
// PSAVE-LABEL: func.func @train_gru_partial
// PSAVE-COUNT-2: nn.gru_with_gates {{.*}}saved_steps = 24 : i64
// PSTACK-LABEL: func.func @train_gru_partial
// PSTACK-NOT: nn.gru_with_gates
// PSTACK-NOT: nn.gru_grad
// PSTACK: %[[Y:.*]], %[[S:.*]], %{{.*}}, %{{.*}} = nn.gru_stack %arg0,
// PSTACK-NOT: nn.gru_with_gates
// PSTACK: nn.gru_stack_grad %arg0, [%arg1, %arg2, %arg3, %arg4, %arg5, %arg6], %[[S]], %[[Y]] dy
// PSTACK-NOT: nn.gru_grad
// PSTACK: return
func.func @train_gru_partial(%x: tensor<40x32x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>, %b0: tensor<1x24xf32>,
                              %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>, %b1: tensor<1x24xf32>) -> tensor<f32> {
  %y0, %h0 = nn.gru %x, %w0, %r0, %b0 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<40x32x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>) -> (tensor<40x1x32x4xf32>, tensor<1x32x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 32, 4]} : tensor<40x1x32x4xf32> -> tensor<40x32x4xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1, %b1 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<40x32x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>) -> (tensor<40x1x32x4xf32>, tensor<1x32x4xf32>)
  %sq = nn.mul %y1, %y1 : tensor<40x1x32x4xf32>, tensor<40x1x32x4xf32>
  %loss = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x32x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// The loss also reads the lower layer's output: its backward takes a second
// gradient, so neither the layers nor their gradients are stacked.
// CHECK-LABEL: func.func @lower_output_read
// CHECK-NOT: nn.lstm_stack
// CHECK-COUNT-2: nn.lstm_grad
// CHECK-NOT: nn.lstm_stack
func.func @lower_output_read(%x: tensor<40x2x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>,
                             %w1: tensor<1x16x4xf32>, %r1: tensor<1x16x4xf32>) -> tensor<f32> {
  %y0, %h0, %c0 = nn.lstm %x, %w0, %r0 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 2, 4]} : tensor<40x1x2x4xf32> -> tensor<40x2x4xf32>
  %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x2x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %both = nn.add %y1, %y0 : tensor<40x1x2x4xf32>, tensor<40x1x2x4xf32>
  %loss = nn.reduce_sum %both {axes = [], keepdims = false} : tensor<40x1x2x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Two GRUs with linear_before_reset (PyTorch's): under store-all each is an
// nn.gru_with_gates whose backward reads its saved rows. The chain becomes
// one nn.gru_stack that returns the lower layer's outputs and every layer's
// and step's rows of 4H (z, r, the h gate's input part, h_{t-1} R_h^T), and
// the gradients one nn.gru_stack_grad that reads them (no cell states).
// CHECK-LABEL: func.func @train_gru
// CHECK-NOT: nn.gru_grad
// CHECK: %[[Y:.*]], %[[S:.*]], %[[G:.*]], %{{.*}} = nn.gru_stack %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 {chunk_steps = 32 : i64, hidden_size = 4 : i64, linear_before_reset = true, max_parallel = 0 : i64}
// CHECK-SAME: -> (tensor<40x1x2x4xf32>, tensor<1x40x2x4xf32>, tensor<2x40x2x16xf32>, tensor<2x2x4xf32>)
// CHECK-NOT: nn.gru_with_gates
// CHECK-NOT: nn.gru_grad
// CHECK: %[[DX:.*]], %[[DW:.*]]:6, %{{.*}} = nn.gru_stack_grad %arg0, [%arg1, %arg2, %arg3, %arg4, %arg5, %arg6], %[[S]], gates %[[G]], %[[Y]] dy %{{.*}} {chunk_steps = 32 : i64, hidden_size = 4 : i64, linear_before_reset = true
// CHECK-NOT: nn.gru_grad
// CHECK: return %{{.*}}, %[[DX]], %[[DW]]#0, %[[DW]]#1, %[[DW]]#2, %[[DW]]#3, %[[DW]]#4, %[[DW]]#5
// Under another memory policy the layers save no rows: neither does the
// stack, whose backward recomputes them.
// CKPT-LABEL: func.func @train_gru
// CKPT-NOT: nn.gru_grad
// CKPT: %[[Y:.*]], %[[S:.*]], %{{.*}}, %{{.*}} = nn.gru_stack %arg0,
// CKPT: nn.gru_stack_grad %arg0, [%arg1, %arg2, %arg3, %arg4, %arg5, %arg6], %[[S]], %[[Y]] dy %{{.*}} {chunk_steps = 32 : i64, hidden_size = 4 : i64, linear_before_reset = true
// CKPT-NOT: nn.gru_grad
// SEQ-LABEL: func.func @train_gru
// SEQ-NOT: nn.gru_stack
// SEQ-COUNT-2: nn.gru_with_gates
// SEQ-COUNT-2: nn.gru_grad
// SEQ-NOT: nn.gru_stack
func.func @train_gru(%x: tensor<40x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>, %b0: tensor<1x24xf32>,
                     %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>, %b1: tensor<1x24xf32>) -> tensor<f32> {
  %y0, %h0 = nn.gru %x, %w0, %r0, %b0 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<40x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 2, 4]} : tensor<40x1x2x4xf32> -> tensor<40x2x4xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1, %b1 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<40x2x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %sq = nn.mul %y1, %y1 : tensor<40x1x2x4xf32>, tensor<40x1x2x4xf32>
  %loss = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x2x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Without linear_before_reset (ONNX's default) GRUs stack too: the forward
// saves rows of 4H (z and r, the h gate's pre-activation, r * h_{t-1}) and
// the stack and its backward say which GRU they run.
// CHECK-LABEL: func.func @gru_reset_first
// CHECK-NOT: nn.gru_grad
// CHECK: %[[Y:.*]], %[[S:.*]], %[[G:.*]], %{{.*}} = nn.gru_stack %arg0, %arg1, %arg2, %{{.*}}, %arg3, %arg4, %{{.*}} {chunk_steps = 32 : i64, hidden_size = 4 : i64, linear_before_reset = false, max_parallel = 0 : i64}
// CHECK-SAME: -> (tensor<40x1x2x4xf32>, tensor<1x40x2x4xf32>, tensor<2x40x2x16xf32>, tensor<2x2x4xf32>)
// CHECK: nn.gru_stack_grad %arg0, [%arg1, %arg2, %{{.*}}, %arg3, %arg4, %{{.*}}], %[[S]], gates %[[G]], %[[Y]] dy %{{.*}} {chunk_steps = 32 : i64, hidden_size = 4 : i64, linear_before_reset = false
// CHECK-NOT: nn.gru_grad
// CKPT-LABEL: func.func @gru_reset_first
// CKPT-NOT: nn.gru_grad
// CKPT: %[[Y:.*]], %[[S:.*]], %{{.*}}, %{{.*}} = nn.gru_stack %arg0,
// CKPT: nn.gru_stack_grad %arg0, [%arg1, %arg2, %{{.*}}, %arg3, %arg4, %{{.*}}], %[[S]], %[[Y]] dy %{{.*}} {chunk_steps = 32 : i64, hidden_size = 4 : i64, linear_before_reset = false
func.func @gru_reset_first(%x: tensor<40x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>,
                           %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>) -> tensor<f32> {
  %y0, %h0 = nn.gru %x, %w0, %r0 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<40x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 2, 4]} : tensor<40x1x2x4xf32> -> tensor<40x2x4xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<40x2x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %sq = nn.mul %y1, %y1 : tensor<40x1x2x4xf32>, tensor<40x1x2x4xf32>
  %loss = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x2x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// The loss reads the lower GRU's final state: its backward takes dy_h,
// which becomes that layer's row of the stack backward's dy_h (a zero row
// for the upper layer).
// CHECK-LABEL: func.func @gru_final_state_read
// CHECK: %[[Y:.*]], %[[S:.*]], %[[G:.*]], %[[HN:.*]] = nn.gru_stack
// CHECK: nn.slice %[[HN]] {sizes = [1, 2, 4], starts = [0, 0, 0], steps = [1, 1, 1]}
// CHECK: %[[Z:.*]] = nn.constant dense<0.000000e+00> : tensor<1x2x4xf32>
// CHECK: %[[DHN:.*]] = nn.concat %{{.*}}, %[[Z]] {axis = 0 : i64}
// CHECK: nn.gru_stack_grad %arg0, [%arg1, %arg2, %{{.*}}, %arg3, %arg4, %{{.*}}], %[[S]], gates %[[G]], %[[Y]] dy %{{.*}} dy_h %[[DHN]] {
// CHECK-NOT: nn.gru_grad
func.func @gru_final_state_read(%x: tensor<40x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>,
                                %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>) -> tensor<f32> {
  %y0, %h0 = nn.gru %x, %w0, %r0 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<40x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 2, 4]} : tensor<40x1x2x4xf32> -> tensor<40x2x4xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<40x2x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %s1 = nn.reduce_sum %y1 {axes = [], keepdims = false} : tensor<40x1x2x4xf32> -> tensor<f32>
  %s0 = nn.reduce_sum %h0 {axes = [], keepdims = false} : tensor<1x2x4xf32> -> tensor<f32>
  %loss = nn.add %s1, %s0 : tensor<f32>, tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Initial states that are trained (the function's arguments, whose
// gradients autodiff returns) and a final state in the loss: the stack
// backward reads the initial states (h_{-1} of step 0) and the final
// states' gradients, and its initial states' gradients are the layers'
// rows.
// CHECK-LABEL: func.func @train_states
// CHECK: %[[H0:.*]] = nn.concat %arg7, %arg8 {axis = 0 : i64}
// CHECK: %[[C0:.*]] = nn.concat %arg9, %arg10 {axis = 0 : i64}
// CHECK: %[[Y:.*]], %[[S:.*]], %[[C:.*]], %[[G:.*]], %[[HN:.*]], %[[CN:.*]] = nn.lstm_stack %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 initial_h %[[H0]] initial_c %[[C0]] {
// CHECK: nn.slice %[[CN]] {sizes = [1, 2, 4], starts = [1, 0, 0], steps = [1, 1, 1]}
// CHECK: %[[DCN:.*]] = nn.concat %[[Z:.*]], %{{.*}} {axis = 0 : i64}
// CHECK: %[[DX:.*]], %[[DW:.*]]:6, %[[DH0:.*]], %[[DC0:.*]] = nn.lstm_stack_grad %arg0, [%arg1, %arg2, %arg3, %arg4, %arg5, %arg6], %[[S]], %[[C]], gates %[[G]], %[[Y]] dy %{{.*}} initial_h %[[H0]] dy_c %[[DCN]] {
// CHECK-DAG: %[[DH00:.*]] = nn.slice %[[DH0]] {sizes = [1, 2, 4], starts = [0, 0, 0], steps = [1, 1, 1]}
// CHECK-DAG: %[[DH01:.*]] = nn.slice %[[DH0]] {sizes = [1, 2, 4], starts = [1, 0, 0], steps = [1, 1, 1]}
// CHECK-DAG: %[[DC00:.*]] = nn.slice %[[DC0]] {sizes = [1, 2, 4], starts = [0, 0, 0], steps = [1, 1, 1]}
// CHECK-DAG: %[[DC01:.*]] = nn.slice %[[DC0]] {sizes = [1, 2, 4], starts = [1, 0, 0], steps = [1, 1, 1]}
// CHECK-NOT: nn.lstm_grad
// CHECK: return %{{.*}}, %[[DX]], %[[DW]]#0, %[[DW]]#1, %[[DW]]#2, %[[DW]]#3, %[[DW]]#4, %[[DW]]#5, %[[DH00]], %[[DH01]], %[[DC00]], %[[DC01]]
func.func @train_states(%x: tensor<40x2x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>, %b0: tensor<1x32xf32>,
                        %w1: tensor<1x16x4xf32>, %r1: tensor<1x16x4xf32>, %b1: tensor<1x32xf32>,
                        %h0: tensor<1x2x4xf32>, %h1: tensor<1x2x4xf32>, %c0: tensor<1x2x4xf32>, %c1: tensor<1x2x4xf32>) -> tensor<f32> {
  %y0, %hn0, %cn0 = nn.lstm %x, %w0, %r0, %b0, %h0, %c0 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 1, 1, 0]> : vector<8xi32>} : (tensor<40x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 2, 4]} : tensor<40x1x2x4xf32> -> tensor<40x2x4xf32>
  %y1, %hn1, %cn1 = nn.lstm %x1, %w1, %r1, %b1, %h1, %c1 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 1, 1, 0]> : vector<8xi32>} : (tensor<40x2x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %sq = nn.mul %y1, %y1 : tensor<40x1x2x4xf32>, tensor<40x1x2x4xf32>
  %s1 = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x2x4xf32> -> tensor<f32>
  %sc = nn.reduce_sum %cn1 {axes = [], keepdims = false} : tensor<1x2x4xf32> -> tensor<f32>
  %loss = nn.add %s1, %sc : tensor<f32>, tensor<f32>
  return %loss : tensor<f32>
}

// -----

// A computed weight (an export that rearranges the weights): autodiff reads
// the upper layer's dR right after that layer's backward, before the bottom
// layer's. Those readers move below the stacked backward, which defines dR
// now.
// CHECK-LABEL: func.func @computed_weight
// CHECK: %[[DX:.*]], %[[DW:.*]]:6, %{{.*}}, %{{.*}} = nn.lstm_stack_grad
// CHECK: %[[DR1:.*]] = nn.neg %[[DW]]#4
// CHECK: return %{{.*}}, %[[DX]], %[[DW]]#0, %[[DW]]#1, %[[DW]]#2, %[[DW]]#3, %[[DR1]], %[[DW]]#5
func.func @computed_weight(%x: tensor<40x2x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>, %b0: tensor<1x32xf32>,
                           %w1: tensor<1x16x4xf32>, %p1: tensor<1x16x4xf32>, %b1: tensor<1x32xf32>) -> tensor<f32> {
  %y0, %h0, %c0 = nn.lstm %x, %w0, %r0, %b0 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 2, 4]} : tensor<40x1x2x4xf32> -> tensor<40x2x4xf32>
  %r1 = nn.neg %p1 : tensor<1x16x4xf32>
  %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1, %b1 {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x2x4xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %sq = nn.mul %y1, %y1 : tensor<40x1x2x4xf32>, tensor<40x1x2x4xf32>
  %loss = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x2x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// An LSTM feeding a GRU: two different cells, no chain.
// CHECK-LABEL: func.func @lstm_into_gru
// CHECK-NOT: _stack
// CHECK: nn.gru_grad
// CHECK: nn.lstm_grad
// CHECK-NOT: _stack
func.func @lstm_into_gru(%x: tensor<40x2x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>,
                         %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>) -> tensor<f32> {
  %y0, %h0, %c0 = nn.lstm %x, %w0, %r0 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 2, 4]} : tensor<40x1x2x4xf32> -> tensor<40x2x4xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<40x2x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %loss = nn.reduce_sum %y1 {axes = [], keepdims = false} : tensor<40x1x2x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Two simple RNNs (tanh): one nn.rnn_stack, whose rows for the backward are
// H wide, and one nn.rnn_stack_grad.
// CHECK-LABEL: func.func @train_rnn
// CHECK-NOT: nn.rnn_grad
// CHECK: %[[Y:.*]], %[[S:.*]], %[[G:.*]], %{{.*}} = nn.rnn_stack %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 {activation = "Tanh", chunk_steps = 32 : i64, hidden_size = 4 : i64, max_parallel = 0 : i64}
// CHECK-SAME: -> (tensor<40x1x2x4xf32>, tensor<1x40x2x4xf32>, tensor<2x40x2x4xf32>, tensor<2x2x4xf32>)
// CHECK-NOT: nn.rnn_grad
// CHECK: %[[DX:.*]], %[[DW:.*]]:6, %{{.*}} = nn.rnn_stack_grad %arg0, [%arg1, %arg2, %arg3, %arg4, %arg5, %arg6], %[[S]], gates %[[G]], %[[Y]] dy %{{.*}} {activation = "Tanh", chunk_steps = 32 : i64
// CHECK-NOT: nn.rnn_grad
// CHECK: return %{{.*}}, %[[DX]], %[[DW]]#0, %[[DW]]#1, %[[DW]]#2, %[[DW]]#3, %[[DW]]#4, %[[DW]]#5
// CKPT-LABEL: func.func @train_rnn
// CKPT-NOT: nn.rnn_grad
// CKPT: %[[Y:.*]], %[[S:.*]], %{{.*}}, %{{.*}} = nn.rnn_stack %arg0,
// CKPT: nn.rnn_stack_grad %arg0, [%arg1, %arg2, %arg3, %arg4, %arg5, %arg6], %[[S]], %[[Y]] dy %{{.*}} {activation = "Tanh"
// CKPT-NOT: nn.rnn_grad
// SEQ-LABEL: func.func @train_rnn
// SEQ-NOT: nn.rnn_stack
// SEQ-COUNT-2: nn.rnn_grad
func.func @train_rnn(%x: tensor<40x2x3xf32>, %w0: tensor<1x4x3xf32>, %r0: tensor<1x4x4xf32>, %b0: tensor<1x8xf32>,
                     %w1: tensor<1x4x4xf32>, %r1: tensor<1x4x4xf32>, %b1: tensor<1x8xf32>) -> tensor<f32> {
  %y0, %h0 = nn.rnn %x, %w0, %r0, %b0 {activations = ["Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<40x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 2, 4]} : tensor<40x1x2x4xf32> -> tensor<40x2x4xf32>
  %y1, %h1 = nn.rnn %x1, %w1, %r1, %b1 {activations = ["Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<40x2x4xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %sq = nn.mul %y1, %y1 : tensor<40x1x2x4xf32>, tensor<40x1x2x4xf32>
  %loss = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x2x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// The same with Relu (PyTorch's nonlinearity='relu'): the backward stack
// takes Relu's derivative from the outputs.
// CHECK-LABEL: func.func @train_relu_rnn
// CHECK-NOT: nn.rnn_grad
// CHECK: %[[Y:.*]], %[[S:.*]], %[[G:.*]], %{{.*}} = nn.rnn_stack %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 {activation = "Relu"
// CHECK: nn.rnn_stack_grad %arg0, [%arg1, %arg2, %arg3, %arg4, %arg5, %arg6], %[[S]], gates %[[G]], %[[Y]] dy %{{.*}} {activation = "Relu"
// CHECK-NOT: nn.rnn_grad
// CKPT-LABEL: func.func @train_relu_rnn
// CKPT-NOT: nn.rnn_grad
// CKPT: nn.rnn_stack_grad %arg0, [%arg1, %arg2, %arg3, %arg4, %arg5, %arg6], %{{.*}}, %{{.*}} dy %{{.*}} {activation = "Relu"
func.func @train_relu_rnn(%x: tensor<40x2x3xf32>, %w0: tensor<1x4x3xf32>, %r0: tensor<1x4x4xf32>, %b0: tensor<1x8xf32>,
                     %w1: tensor<1x4x4xf32>, %r1: tensor<1x4x4xf32>, %b1: tensor<1x8xf32>) -> tensor<f32> {
  %y0, %h0 = nn.rnn %x, %w0, %r0, %b0 {activations = ["Relu"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<40x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 2, 4]} : tensor<40x1x2x4xf32> -> tensor<40x2x4xf32>
  %y1, %h1 = nn.rnn %x1, %w1, %r1, %b1 {activations = ["Relu"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<40x2x4xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %sq = nn.mul %y1, %y1 : tensor<40x1x2x4xf32>, tensor<40x1x2x4xf32>
  %loss = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x2x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// A bidirectional layer and its backward are both marked to run their
// directions at once (the backward does under store-all only, see
// runtime/kernels/RecurrentGrad.cpp).
// CHECK-LABEL: func.func @train_bidirectional
// CHECK: nn.rnn_with_gates {{.*}}direction = "bidirectional", {{.*}}nncc.directions_at_once
// CHECK: nn.rnn_grad {{.*}}direction = "bidirectional", {{.*}}nncc.directions_at_once
// SEQ-LABEL: func.func @train_bidirectional
// SEQ-NOT: nncc.directions_at_once
// SEQ: return
func.func @train_bidirectional(%x: tensor<40x2x3xf32>, %w: tensor<2x4x3xf32>, %r: tensor<2x4x4xf32>) -> tensor<f32> {
  %y, %h = nn.rnn %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<40x2x3xf32>, tensor<2x4x3xf32>, tensor<2x4x4xf32>) -> (tensor<40x2x2x4xf32>, tensor<2x2x4xf32>)
  %sq = nn.mul %y, %y : tensor<40x2x2x4xf32>, tensor<40x2x2x4xf32>
  %loss = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x2x2x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Two GRUs over a padded batch (shared sequence lengths): the stack and its
// backward both take them.
// CHECK-LABEL: func.func @train_gru_lengths
// CHECK: %[[Y:.*]], %[[S:.*]], %[[G:.*]], %{{.*}} = nn.gru_stack %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 seq_lens %arg7 {
// CHECK: nn.gru_stack_grad %arg0, [%arg1, %arg2, %arg3, %arg4, %arg5, %arg6], %[[S]], gates %[[G]], %[[Y]] dy %{{.*}} seq_lens %arg7 {
// CHECK-NOT: nn.gru_grad
// RECOMP-LABEL: func.func @train_gru_lengths
// RECOMP: nn.gru_stack_grad %arg0, [%arg1, %arg2, %arg3, %arg4, %arg5, %arg6], %{{[a-z_0-9]*}}, %{{[a-z_0-9]*}} dy %{{.*}} seq_lens %arg7 {
func.func @train_gru_lengths(%x: tensor<40x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>, %b0: tensor<1x24xf32>,
                             %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>, %b1: tensor<1x24xf32>, %l: tensor<2xi32>) -> tensor<f32> {
  %y0, %h0 = nn.gru %x, %w0, %r0, %b0, %l {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 0]> : vector<6xi32>} : (tensor<40x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>, tensor<2xi32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 2, 4]} : tensor<40x1x2x4xf32> -> tensor<40x2x4xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1, %b1, %l {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 0]> : vector<6xi32>} : (tensor<40x2x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>, tensor<2xi32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %sq = nn.mul %y1, %y1 : tensor<40x1x2x4xf32>, tensor<40x1x2x4xf32>
  %loss = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x2x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Clipped RNNs in training: the outputs do not say where the clip bound,
// so the RNN stack's backward takes the activation's derivative from the
// pre-activations its forward saves. The layers stack where their forward
// saves theirs (store-all); where it does not (recompute-gates), they keep
// their own kernels (forward and backward).
// CHECK-LABEL: func.func @train_clip
// CHECK-NOT: nn.rnn_grad
// CHECK: %[[Y:.*]], %[[S:.*]], %[[G:.*]], %{{.*}} = nn.rnn_stack %arg0, {{.*}}clip = 5.000000e-01 : f32
// CHECK: nn.rnn_stack_grad %arg0, [{{.*}}], %[[S]], gates %[[G]], %[[Y]] dy {{.*}}clip = 5.000000e-01 : f32
// CHECK-NOT: nn.rnn_grad
// RECOMP-LABEL: func.func @train_clip
// RECOMP-NOT: nn.rnn_stack
// RECOMP-COUNT-2: nn.rnn_grad
// RECOMP-NOT: nn.rnn_stack
func.func @train_clip(%x: tensor<40x2x3xf32>, %w0: tensor<1x4x3xf32>, %r0: tensor<1x4x4xf32>,
                      %w1: tensor<1x4x4xf32>, %r1: tensor<1x4x4xf32>) -> tensor<f32> {
  %y0, %h0 = nn.rnn %x, %w0, %r0 {activations = ["Tanh"], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<40x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 2, 4]} : tensor<40x1x2x4xf32> -> tensor<40x2x4xf32>
  %y1, %h1 = nn.rnn %x1, %w1, %r1 {activations = ["Tanh"], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<40x2x4xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %sq = nn.mul %y1, %y1 : tensor<40x1x2x4xf32>, tensor<40x1x2x4xf32>
  %loss = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x2x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Clipped RNNs under a budget that holds the pre-activations of 24 of their
// 40 steps (nn.rnn_with_gates with saved_steps) keep their own kernels: the
// stack's backward needs every step's. A budget that holds them all stacks
// them.
// RCLIP-LABEL: func.func @train_clip_partial
// RCLIP-NOT: nn.rnn_stack
// RCLIP-COUNT-2: nn.rnn_with_gates {{.*}}saved_steps = 24 : i64
// RCLIP-COUNT-2: nn.rnn_grad
// RCLIP-NOT: nn.rnn_stack
// RCLIPALL-LABEL: func.func @train_clip_partial
// RCLIPALL: nn.rnn_stack %arg0
// RCLIPALL: nn.rnn_stack_grad %arg0, {{.*}} gates
// RCLIPALL-NOT: nn.rnn_grad
func.func @train_clip_partial(%x: tensor<40x32x3xf32>, %w0: tensor<1x4x3xf32>, %r0: tensor<1x4x4xf32>,
                              %w1: tensor<1x4x4xf32>, %r1: tensor<1x4x4xf32>) -> tensor<f32> {
  %y0, %h0 = nn.rnn %x, %w0, %r0 {activations = ["Tanh"], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<40x32x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>) -> (tensor<40x1x32x4xf32>, tensor<1x32x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 32, 4]} : tensor<40x1x32x4xf32> -> tensor<40x32x4xf32>
  %y1, %h1 = nn.rnn %x1, %w1, %r1 {activations = ["Tanh"], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<40x32x4xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> (tensor<40x1x32x4xf32>, tensor<1x32x4xf32>)
  %sq = nn.mul %y1, %y1 : tensor<40x1x32x4xf32>, tensor<40x1x32x4xf32>
  %loss = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x32x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Clipped GRUs (LSTMs alike) train as a stack: forward and backward clip.
// CHECK-LABEL: func.func @train_clip_gru
// CHECK: nn.gru_stack %arg0, {{.*}}clip = 5.000000e-01 : f32
// CHECK: nn.gru_stack_grad %arg0, {{.*}}clip = 5.000000e-01 : f32
// CHECK-NOT: nn.gru_grad
// RECOMP-LABEL: func.func @train_clip_gru
// RECOMP: nn.gru_stack %arg0, {{.*}}clip = 5.000000e-01 : f32
// RECOMP: nn.gru_stack_grad %arg0, {{.*}}clip = 5.000000e-01 : f32
func.func @train_clip_gru(%x: tensor<40x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>,
                          %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>) -> tensor<f32> {
  %y0, %h0 = nn.gru %x, %w0, %r0 {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<40x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %x1 = nn.reshape %y0 {shape = [40, 2, 4]} : tensor<40x1x2x4xf32> -> tensor<40x2x4xf32>
  %y1, %h1 = nn.gru %x1, %w1, %r1 {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<40x2x4xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>) -> (tensor<40x1x2x4xf32>, tensor<1x2x4xf32>)
  %sq = nn.mul %y1, %y1 : tensor<40x1x2x4xf32>, tensor<40x1x2x4xf32>
  %loss = nn.reduce_sum %sq {axes = [], keepdims = false} : tensor<40x1x2x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}
