// RUN: nncc-opt %s --nn-expand-gradients --split-input-file --verify-diagnostics | FileCheck %s --implicit-check-not=nn.gradient
// ONNX's Gradient operator: nn.gradient becomes the backward graph of its y
// with respect to its xs, emitted where it stood.

// d = (a + b) * a: dd/da = 2a + b, dd/db = a.
// CHECK-LABEL: func.func @add_and_mul
// CHECK: %[[C:.*]] = nn.add %arg0, %arg1
// CHECK: %[[D:.*]] = nn.mul %[[C]], %arg0
// The mul's shares: dd/dc = a (which is also dd/db), dd/da (direct) = c.
// CHECK-DAG: %[[DC:.*]] = nn.mul {{.*}}%arg0
// CHECK-DAG: %[[DDIRECT:.*]] = nn.mul {{.*}}%[[C]]
// CHECK: %[[DA:.*]] = nn.add {{.*}}%[[DDIRECT]]
// CHECK: return %[[D]], %[[DA]], %[[DC]] : tensor<f32>, tensor<f32>, tensor<f32>
func.func @add_and_mul(%a: tensor<f32>, %b: tensor<f32>) -> (tensor<f32>, tensor<f32>, tensor<f32>) {
  %c = nn.add %a, %b : tensor<f32>, tensor<f32>
  %d = nn.mul %c, %a : tensor<f32>, tensor<f32>
  %g:2 = nn.gradient %d wrt %a, %b : (tensor<f32>, tensor<f32>, tensor<f32>) -> (tensor<f32>, tensor<f32>)
  return %d, %g#0, %g#1 : tensor<f32>, tensor<f32>, tensor<f32>
}

// -----

// A y that is not a scalar is summed first: d sum(exp(x)) / dx = exp(x).
// CHECK-LABEL: func.func @not_a_scalar
// CHECK: %[[E:.*]] = nn.exp %arg0
// CHECK: nn.reduce_sum %[[E]] {axes = [], keepdims = false}
// CHECK: nn.mul {{.*}}%[[E]]
func.func @not_a_scalar(%x: tensor<3xf32>) -> tensor<3xf32> {
  %e = nn.exp %x : tensor<3xf32>
  %g = nn.gradient %e wrt %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %g : tensor<3xf32>
}

// -----

// An op without a gradient rule is named.
func.func @no_rule(%x: tensor<1x1x4x4xf32>, %r: tensor<1x5xf32>) -> tensor<1x1x4x4xf32> {
  %y = nn.max_roi_pool %x, %r {pooled_shape = [2, 2], spatial_scale = 1.0 : f32} : (tensor<1x1x4x4xf32>, tensor<1x5xf32>) -> tensor<1x1x2x2xf32>
  // expected-error @+1 {{nn-expand-gradients: no gradient for 'nn.max_roi_pool'}}
  %g = nn.gradient %y wrt %x : (tensor<1x1x2x2xf32>, tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %g : tensor<1x1x4x4xf32>
}
