// RUN: nncc-opt %s | nncc-opt | FileCheck %s
// The textual form of nn ops parses and prints back unchanged.

// CHECK-LABEL: func.func @elementwise
// CHECK: nn.relu %{{.*}} : tensor<2x3xf32>
// CHECK: nn.add %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3xf32>
// CHECK: nn.leaky_relu %{{.*}} {alpha = 2.000000e-01 : f32} : tensor<2x3xf32>
// CHECK: nn.less %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>
// CHECK: nn.select %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3xi1>, tensor<2x3xf32>, tensor<f32>
// CHECK: nn.cast %{{.*}} : tensor<2x3xf32> to f16
func.func @elementwise(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %z: tensor<f32>) -> tensor<2x3xf16> {
  %0 = nn.relu %a : tensor<2x3xf32>
  %1 = nn.add %0, %b : tensor<2x3xf32>, tensor<3xf32>
  %2 = nn.leaky_relu %1 {alpha = 0.2 : f32} : tensor<2x3xf32>
  %3 = nn.less %2, %a : tensor<2x3xf32>, tensor<2x3xf32>
  %4 = nn.select %3, %2, %z : tensor<2x3xi1>, tensor<2x3xf32>, tensor<f32>
  %5 = nn.cast %4 : tensor<2x3xf32> to f16
  return %5 : tensor<2x3xf16>
}

// CHECK-LABEL: func.func @layers
// CHECK: nn.param "conv.weight" : tensor<8x3x3x3xf32>
// CHECK: nn.conv %{{.*}}, %{{.*}} {dilations = [1, 1], group = 1 : i64, pads = [1, 1, 1, 1], strides = [1, 1]} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x8x8xf32>
// CHECK: nn.max_pool %{{.*}} {{.*}}kernel_shape = [2, 2]{{.*}} : tensor<1x8x8x8xf32> -> tensor<1x8x4x4xf32>
// CHECK: nn.reshape %{{.*}} {shape = [1, -1]} : tensor<1x8x4x4xf32> -> tensor<1x128xf32>
// CHECK: nn.gemm %{{.*}}, %{{.*}} {transB = true} : (tensor<1x128xf32>, tensor<10x128xf32>) -> tensor<1x10xf32>
func.func @layers(%x: tensor<1x3x8x8xf32>) -> tensor<1x10xf32> {
  %w = nn.param "conv.weight" : tensor<8x3x3x3xf32>
  %0 = nn.conv %x, %w {dilations = [1, 1], group = 1 : i64, pads = [1, 1, 1, 1], strides = [1, 1]} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x8x8xf32>
  %1 = nn.max_pool %0 {kernel_shape = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [1, 1]} : tensor<1x8x8x8xf32> -> tensor<1x8x4x4xf32>
  %2 = nn.reshape %1 {shape = [1, -1]} : tensor<1x8x4x4xf32> -> tensor<1x128xf32>
  %fc = nn.param "fc.weight" : tensor<10x128xf32>
  %3 = nn.gemm %2, %fc {transB = true} : (tensor<1x128xf32>, tensor<10x128xf32>) -> tensor<1x10xf32>
  return %3 : tensor<1x10xf32>
}

// CHECK-LABEL: func.func @recurrent
// CHECK: nn.lstm %{{.*}}, %{{.*}}, %{{.*}} {{.*}}hidden_size = 4 : i64
func.func @recurrent(%x: tensor<5x2x3xf32>, %w: tensor<1x16x3xf32>, %r: tensor<1x16x4xf32>) -> tensor<5x1x2x4xf32> {
  %y, %h, %c = nn.lstm %x, %w, %r {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  return %y : tensor<5x1x2x4xf32>
}

// The store-all forwards: the layer's results, then every step's saved
// pre-activations [directions, T, batch, width].
// CHECK-LABEL: func.func @saving_forwards
// CHECK: nn.lstm_with_gates {{.*}} -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x5x2x16xf32>)
// CHECK: nn.gru_with_gates {{.*}}linear_before_reset = true{{.*}} -> (tensor<5x2x2x4xf32>, tensor<2x2x4xf32>, tensor<2x5x2x16xf32>)
// CHECK: nn.rnn_with_gates {{.*}} -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x5x2x4xf32>)
func.func @saving_forwards(%x: tensor<5x2x3xf32>, %w: tensor<1x16x3xf32>, %r: tensor<1x16x4xf32>, %gw: tensor<2x12x3xf32>, %gr: tensor<2x12x4xf32>, %rw: tensor<1x4x3xf32>, %rr: tensor<1x4x4xf32>) -> (tensor<1x5x2x16xf32>, tensor<2x5x2x16xf32>, tensor<1x5x2x4xf32>) {
  %y, %h, %c, %g = nn.lstm_with_gates %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x5x2x16xf32>)
  %gy, %gh, %gg = nn.gru_with_gates %x, %gw, %gr {activations = [], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 4 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<2x12x3xf32>, tensor<2x12x4xf32>) -> (tensor<5x2x2x4xf32>, tensor<2x2x4xf32>, tensor<2x5x2x16xf32>)
  %ry, %rh, %rg = nn.rnn_with_gates %x, %rw, %rr {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x5x2x4xf32>)
  return %g, %gg, %rg : tensor<1x5x2x16xf32>, tensor<2x5x2x16xf32>, tensor<1x5x2x4xf32>
}
