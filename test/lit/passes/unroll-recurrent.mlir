// RUN: nncc-opt %s --nn-unroll-recurrent --split-input-file | FileCheck %s
// RUN: nncc-opt %s --nn-unroll-recurrent=max-steps=2 --split-input-file | FileCheck %s --check-prefix=LIMIT
// RUN: nncc-opt %s --nn-unroll-recurrent --canonicalize --split-input-file | FileCheck %s --check-prefix=DEAD

// A forward LSTM of 3 steps: one hoisted input projection, then one
// recurrent product per step, and y rebuilt from the steps' h in time
// order. The products read W and R as they are (transB: no transposed copy
// of the weights). With max-steps=2 the layer stays whole.
// CHECK-LABEL: func.func @lstm
// CHECK-NOT: nn.lstm
// CHECK-NOT: nn.transpose
// CHECK: %[[W:.*]] = nn.reshape {{.*}} -> tensor<16x2xf32>
// CHECK: %[[X:.*]] = nn.reshape %arg0 {{.*}} -> tensor<6x2xf32>
// CHECK: nn.gemm %[[X]], %[[W]], %{{.*}}transB = true} : (tensor<6x2xf32>, tensor<16x2xf32>, tensor<16xf32>) -> tensor<6x16xf32>
// CHECK-COUNT-3: nn.gemm {{.*}}transB = true} : (tensor<2x4xf32>, tensor<16x4xf32>) -> tensor<2x16xf32>
// CHECK-NOT: nn.gemm
// CHECK-NOT: nn.matmul
// CHECK-NOT: nn.transpose
// CHECK: nn.concat {{.*}} -> tensor<3x1x2x4xf32>
// LIMIT-LABEL: func.func @lstm
// LIMIT: nn.lstm
func.func @lstm(%x: tensor<3x2x2xf32>, %w: tensor<1x16x2xf32>, %r: tensor<1x16x4xf32>, %b: tensor<1x32xf32>) -> (tensor<3x1x2x4xf32>, tensor<1x2x4xf32>) {
  %y, %h, %c = nn.lstm %x, %w, %r, %b {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<3x2x2xf32>, tensor<1x16x2xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>) -> (tensor<3x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  return %y, %c : tensor<3x1x2x4xf32>, tensor<1x2x4xf32>
}

// -----

// Sequence lengths and clip unroll too. Each step clamps the activation's
// input (nn.max, nn.min) and selects, per batch row, the new state where
// the row runs (step < its length) and the old one past it, where the
// output is zero. A reverse direction runs from the last step down (here
// step 2, rows 4 and 5 of the projection, first), selecting by the step's
// own index: a row starts from the initial state at its own last step. No
// reversed copy of x, none of y.
// CHECK-LABEL: func.func @lengths_clip
// CHECK-NOT: nn.rnn
// CHECK-NOT: nn.reverse_sequence
// CHECK: %[[T2:.*]] = nn.constant dense<2> : tensor<i32>
// CHECK: %[[L2:.*]] = nn.less %[[T2]], %arg3
// CHECK: %[[R2:.*]] = nn.reshape %[[L2]] {{.*}} -> tensor<2x1xi1>
// CHECK: %[[Z:.*]] = nn.constant dense<0.0{{.*}}> : tensor<2x4xf32>
// CHECK: %[[P:.*]] = nn.gemm
// CHECK: %[[X2:.*]] = nn.slice %[[P]] {sizes = [2, 4], starts = [4, 0], steps = [1, 1]}
// CHECK: nn.add %[[X2]]
// CHECK: %[[LO:.*]] = nn.max
// CHECK: %[[HI:.*]] = nn.min %[[LO]]
// CHECK-NEXT: %[[H:.*]] = nn.tanh %[[HI]]
// CHECK-NEXT: nn.select %[[R2]], %[[H]], %[[Z]] : tensor<2x1xi1>, tensor<2x4xf32>, tensor<2x4xf32>
// CHECK-NEXT: nn.select %[[R2]], %[[H]], %{{.*}} : tensor<2x1xi1>, tensor<2x4xf32>, tensor<2x4xf32>
// CHECK: nn.slice %[[P]] {sizes = [2, 4], starts = [2, 0], steps = [1, 1]}
// CHECK-COUNT-4: nn.select
// CHECK: %[[Y:.*]] = nn.concat {{.*}} -> tensor<3x1x2x4xf32>
// CHECK-NOT: nn.reverse_sequence
// CHECK-NOT: nn.rnn
// CHECK: return %[[Y]]
func.func @lengths_clip(%x: tensor<3x2x2xf32>, %w: tensor<1x4x2xf32>, %r: tensor<1x4x4xf32>, %l: tensor<2xi32>) -> (tensor<3x1x2x4xf32>, tensor<1x2x4xf32>) {
  %y, %h = nn.rnn %x, %w, %r, %l {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, direction = "reverse", hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 1, 0]> : vector<6xi32>} : (tensor<3x2x2xf32>, tensor<1x4x2xf32>, tensor<1x4x4xf32>, tensor<2xi32>) -> (tensor<3x1x2x4xf32>, tensor<1x2x4xf32>)
  return %y, %h : tensor<3x1x2x4xf32>, tensor<1x2x4xf32>
}

// -----

// The input projection is made in chunks of about 128 rows (steps x
// batch), each just before its first step: batch 64, 2 steps a chunk.
// CHECK-LABEL: func.func @chunks
// CHECK: %[[X:.*]] = nn.reshape %arg0 {{.*}} -> tensor<192x2xf32>
// CHECK: %[[X0:.*]] = nn.slice %[[X]] {sizes = [128, 2], starts = [0, 0], steps = [1, 1]}
// CHECK: %[[P0:.*]] = nn.gemm %[[X0]], {{.*}} -> tensor<128x16xf32>
// CHECK: nn.slice %[[P0]] {sizes = [64, 16], starts = [0, 0], steps = [1, 1]}
// CHECK: nn.slice %[[P0]] {sizes = [64, 16], starts = [64, 0], steps = [1, 1]}
// CHECK: %[[X1:.*]] = nn.slice %[[X]] {sizes = [64, 2], starts = [128, 0], steps = [1, 1]}
// CHECK: nn.gemm %[[X1]], {{.*}} -> tensor<64x16xf32>
func.func @chunks(%x: tensor<3x64x2xf32>, %w: tensor<1x16x2xf32>, %r: tensor<1x16x4xf32>) -> tensor<1x64x4xf32> {
  %y, %h, %c = nn.lstm %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<3x64x2xf32>, tensor<1x16x2xf32>, tensor<1x16x4xf32>) -> (tensor<3x1x64x4xf32>, tensor<1x64x4xf32>, tensor<1x64x4xf32>)
  return %h : tensor<1x64x4xf32>
}

// -----

// A layer whose x is the steps of a layer unrolled before it (through a
// reshape) makes each chunk of its input projection from those steps'
// outputs: chunk c waits only for the lower layer's chunk c, and the lower
// layer's whole y is not kept for it (here 3 chunks of 4 steps).
// CHECK-LABEL: func.func @stacked
// CHECK-COUNT-3: nn.slice %{{.*}} {sizes = [128, 8], starts = [{{[0-9]+}}, 0], steps = [1, 1]} : tensor<384x8xf32> -> tensor<128x8xf32>
// CHECK: nn.concat %{{.*}} {axis = 0 : i64} : ({{.*}}) -> tensor<12x1x32x8xf32>
// CHECK-COUNT-3: nn.concat {{.*}} -> tensor<4x1x32x8xf32>
// CHECK-NOT: nn.slice %{{.*}} : tensor<384x8xf32>
// CHECK: return
// (nothing reads the lower layer's y then: canonicalize drops it)
// DEAD-LABEL: func.func @stacked
// DEAD-COUNT-1: -> tensor<12x1x32x8xf32>
// DEAD-NOT: -> tensor<12x1x32x8xf32>
// DEAD: return
func.func @stacked(%x: tensor<12x32x8xf32>, %w: tensor<1x32x8xf32>, %r: tensor<1x32x8xf32>, %w2: tensor<1x32x8xf32>, %r2: tensor<1x32x8xf32>) -> (tensor<12x1x32x8xf32>, tensor<1x32x8xf32>) {
  %y, %h, %c = nn.lstm %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 8 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<12x32x8xf32>, tensor<1x32x8xf32>, tensor<1x32x8xf32>) -> (tensor<12x1x32x8xf32>, tensor<1x32x8xf32>, tensor<1x32x8xf32>)
  %x2 = nn.reshape %y {shape = [12, 32, 8]} : tensor<12x1x32x8xf32> -> tensor<12x32x8xf32>
  %y2, %h2, %c2 = nn.lstm %x2, %w2, %r2 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 8 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<12x32x8xf32>, tensor<1x32x8xf32>, tensor<1x32x8xf32>) -> (tensor<12x1x32x8xf32>, tensor<1x32x8xf32>, tensor<1x32x8xf32>)
  return %y2, %h : tensor<12x1x32x8xf32>, tensor<1x32x8xf32>
}
