// RUN: nncc-opt %s --nn-decompose | FileCheck %s
// Composite ops become primitive ones.

// CHECK-LABEL: func.func @softmax
// CHECK: %[[M:.*]] = nn.reduce_max %arg0 {axes = [1]{{.*}}} : tensor<2x5xf32> -> tensor<2x1xf32>
// CHECK: %[[D:.*]] = nn.sub %arg0, %[[M]]
// CHECK: %[[E:.*]] = nn.exp %[[D]]
// CHECK: %[[S:.*]] = nn.reduce_sum %[[E]] {axes = [1]{{.*}}}
// CHECK: %[[Y:.*]] = nn.div %[[E]], %[[S]]
// CHECK-NOT: nn.softmax
// CHECK: return %[[Y]]
func.func @softmax(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = nn.softmax %x {axis = 1 : i64} : tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// CHECK-LABEL: func.func @batch_norm
// CHECK: nn.sqrt
// CHECK: nn.div
// CHECK: nn.reshape %{{.*}} {{.*}}shape = [3, 1, 1]{{.*}} : tensor<3xf32> -> tensor<3x1x1xf32>
// CHECK: nn.mul %arg0, %{{.*}} : tensor<1x3x4x4xf32>, tensor<3x1x1xf32>
// CHECK: nn.add
// CHECK-NOT: nn.batch_norm
func.func @batch_norm(%x: tensor<1x3x4x4xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<1x3x4x4xf32> {
  %0 = nn.batch_norm %x, %s, %b, %m, %v : (tensor<1x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// CHECK-LABEL: func.func @layer_norm
// CHECK: %[[MEAN:.*]] = nn.reduce_mean %arg0 {axes = [2]{{.*}}}
// CHECK: %[[INV:.*]] = nn.reciprocal
// CHECK: return %{{.*}}, %[[MEAN]], %[[INV]]
func.func @layer_norm(%x: tensor<2x3x8xf32>, %s: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<2x3x8xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>) {
  %y, %mean, %inv = nn.layer_norm %x, %s, %b {axis = 2 : i64} : (tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x3x8xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>)
  return %y, %mean, %inv : tensor<2x3x8xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>
}
