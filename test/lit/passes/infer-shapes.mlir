// RUN: nncc-opt %s --nn-infer-shapes="input-shapes=8x4" | FileCheck %s
// Giving the argument a static shape makes every value static.

// CHECK-LABEL: func.func @mlp(%arg0: tensor<8x4xf32>) -> tensor<8x2xf32>
// CHECK: nn.gemm %arg0, %{{.*}} : (tensor<8x4xf32>, tensor<4x3xf32>) -> tensor<8x3xf32>
// CHECK: nn.relu %{{.*}} : tensor<8x3xf32>
// CHECK: nn.reduce_sum %{{.*}} {axes = [0]{{.*}}} : tensor<8x3xf32> -> tensor<1x3xf32>
// CHECK: nn.reshape %{{.*}} {shape = [-1, 2]} : tensor<8x3xf32> -> tensor<12x2xf32>
// CHECK: nn.slice %{{.*}} : tensor<12x2xf32> -> tensor<8x2xf32>
func.func @mlp(%x: tensor<?x4xf32>) -> tensor<8x2xf32> {
  %w = nn.param "w" : tensor<4x3xf32>
  %0 = nn.gemm %x, %w : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %1 = nn.relu %0 : tensor<?x3xf32>
  %2 = nn.reduce_sum %1 {axes = [0]} : tensor<?x3xf32> -> tensor<1x3xf32>
  %3 = nn.reshape %1 {shape = [-1, 2]} : tensor<?x3xf32> -> tensor<?x2xf32>
  %4 = nn.slice %3 {starts = [0, 0], steps = [1, 1], sizes = [8, 2]} : tensor<?x2xf32> -> tensor<8x2xf32>
  %5 = nn.cast %4 : tensor<8x2xf32> to f32
  return %4 : tensor<8x2xf32>
}
