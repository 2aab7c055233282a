// RUN: nncc-opt %s --canonicalize | FileCheck %s
// The shape arithmetic of exported models folds to constants.

// CHECK-LABEL: func.func @shape_chain
// CHECK-NEXT: %[[C:.*]] = nn.constant dense<[2, 12]> : tensor<2xi64>
// CHECK-NEXT: return %[[C]]
func.func @shape_chain() -> tensor<2xi64> {
  %s = nn.constant dense<[2, 3, 4]> : tensor<3xi64>
  %i0 = nn.constant dense<0> : tensor<1xi64>
  %i12 = nn.constant dense<[1, 2]> : tensor<2xi64>
  %d0 = nn.gather %s, %i0 {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %d12 = nn.gather %s, %i12 {axis = 0 : i64} : (tensor<3xi64>, tensor<2xi64>) -> tensor<2xi64>
  %p = nn.reduce_prod %d12 {axes = [], keepdims = true} : tensor<2xi64> -> tensor<1xi64>
  %r = nn.concat %d0, %p {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  return %r : tensor<2xi64>
}

// CHECK-LABEL: func.func @identity_reshape
// CHECK-NEXT: return %arg0
func.func @identity_reshape(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = nn.reshape %x {shape = [2, 3]} : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// Consecutive unit-step slices of one tensor along the concatenation axis,
// each whole along the other dimensions and covering it, are that tensor
// (a stacked RNN's per-layer states, put back together).
// CHECK-LABEL: func.func @concat_of_slices
// CHECK-NEXT: return %arg0
func.func @concat_of_slices(%x: tensor<3x2x4xf32>) -> tensor<3x2x4xf32> {
  %a = nn.slice %x {sizes = [1, 2, 4], starts = [0, 0, 0], steps = [1, 1, 1]} : tensor<3x2x4xf32> -> tensor<1x2x4xf32>
  %b = nn.slice %x {sizes = [2, 2, 4], starts = [1, 0, 0], steps = [1, 1, 1]} : tensor<3x2x4xf32> -> tensor<2x2x4xf32>
  %c = nn.concat %a, %b {axis = 0 : i64} : (tensor<1x2x4xf32>, tensor<2x2x4xf32>) -> tensor<3x2x4xf32>
  return %c : tensor<3x2x4xf32>
}

// Not when they are out of order, leave a gap, take a step other than 1,
// cover only part of another dimension, come from two tensors, or take
// only part of the axis.
// CHECK-LABEL: func.func @concat_of_slices_kept
// CHECK-COUNT-6: nn.concat
func.func @concat_of_slices_kept(%x: tensor<2x2x4xf32>, %y: tensor<2x2x4xf32>, %z: tensor<4x2x4xf32>)
    -> (tensor<2x2x4xf32>, tensor<2x2x4xf32>, tensor<2x2x4xf32>, tensor<2x1x4xf32>, tensor<2x2x4xf32>, tensor<3x2x4xf32>) {
  %x0 = nn.slice %x {sizes = [1, 2, 4], starts = [0, 0, 0], steps = [1, 1, 1]} : tensor<2x2x4xf32> -> tensor<1x2x4xf32>
  %x1 = nn.slice %x {sizes = [1, 2, 4], starts = [1, 0, 0], steps = [1, 1, 1]} : tensor<2x2x4xf32> -> tensor<1x2x4xf32>
  %swapped = nn.concat %x1, %x0 {axis = 0 : i64} : (tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> tensor<2x2x4xf32>
  %z0 = nn.slice %z {sizes = [1, 2, 4], starts = [0, 0, 0], steps = [1, 1, 1]} : tensor<4x2x4xf32> -> tensor<1x2x4xf32>
  %z2 = nn.slice %z {sizes = [1, 2, 4], starts = [2, 0, 0], steps = [1, 1, 1]} : tensor<4x2x4xf32> -> tensor<1x2x4xf32>
  %gap = nn.concat %z0, %z2 {axis = 0 : i64} : (tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> tensor<2x2x4xf32>
  %s0 = nn.slice %x {sizes = [1, 2, 4], starts = [0, 0, 0], steps = [2, 1, 1]} : tensor<2x2x4xf32> -> tensor<1x2x4xf32>
  %stepped = nn.concat %s0, %x1 {axis = 0 : i64} : (tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> tensor<2x2x4xf32>
  %p0 = nn.slice %x {sizes = [1, 1, 4], starts = [0, 0, 0], steps = [1, 1, 1]} : tensor<2x2x4xf32> -> tensor<1x1x4xf32>
  %p1 = nn.slice %x {sizes = [1, 1, 4], starts = [1, 0, 0], steps = [1, 1, 1]} : tensor<2x2x4xf32> -> tensor<1x1x4xf32>
  %part = nn.concat %p0, %p1 {axis = 0 : i64} : (tensor<1x1x4xf32>, tensor<1x1x4xf32>) -> tensor<2x1x4xf32>
  %y1 = nn.slice %y {sizes = [1, 2, 4], starts = [1, 0, 0], steps = [1, 1, 1]} : tensor<2x2x4xf32> -> tensor<1x2x4xf32>
  %two = nn.concat %x0, %y1 {axis = 0 : i64} : (tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> tensor<2x2x4xf32>
  %z1 = nn.slice %z {sizes = [1, 2, 4], starts = [1, 0, 0], steps = [1, 1, 1]} : tensor<4x2x4xf32> -> tensor<1x2x4xf32>
  %z3 = nn.slice %z {sizes = [1, 2, 4], starts = [2, 0, 0], steps = [1, 1, 1]} : tensor<4x2x4xf32> -> tensor<1x2x4xf32>
  %short = nn.concat %z0, %z1, %z3 {axis = 0 : i64} : (tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> tensor<3x2x4xf32>
  return %swapped, %gap, %stepped, %part, %two, %short : tensor<2x2x4xf32>, tensor<2x2x4xf32>, tensor<2x2x4xf32>, tensor<2x1x4xf32>, tensor<2x2x4xf32>, tensor<3x2x4xf32>
}
