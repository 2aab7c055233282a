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
