// RUN: nncc-opt %s --nn-autodiff=params | FileCheck %s
// With `params`, the nn.param weights become trailing arguments and get
// gradients; batch_norm's running mean and var stay constants (statistics,
// not trained by gradient).
// CHECK-LABEL: func.func @bn
// CHECK-SAME: (%arg0: tensor<2x3x4x4xf32>, %arg1: tensor<3xf32> {nn.name = "scale"}, %arg2: tensor<3xf32> {nn.name = "bias"})
// CHECK-SAME: -> (tensor<f32>, tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>)
// CHECK-DAG: nn.param "mean"
// CHECK-DAG: nn.param "var"
// CHECK: nn.batch_norm %arg0, %arg1, %arg2
func.func @bn(%x: tensor<2x3x4x4xf32>) -> tensor<f32> {
  %s = nn.param "scale" : tensor<3xf32>
  %b = nn.param "bias" : tensor<3xf32>
  %m = nn.param "mean" : tensor<3xf32>
  %v = nn.param "var" : tensor<3xf32>
  %y = nn.batch_norm %x, %s, %b, %m, %v : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
  %l = nn.reduce_sum %y {axes = [], keepdims = false} : tensor<2x3x4x4xf32> -> tensor<f32>
  return %l : tensor<f32>
}
