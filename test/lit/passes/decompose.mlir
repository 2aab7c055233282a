// RUN: nncc-opt %s --nn-decompose | FileCheck %s
// Composite ops become primitive ones, except those a runtime kernel runs
// whole (float32/float64 softmax and layer norm).

// CHECK-LABEL: func.func @softmax
// CHECK: %[[M:.*]] = nn.reduce_max %arg0 {axes = [1]{{.*}}} : tensor<2x5xf16> -> tensor<2x1xf16>
// CHECK: %[[D:.*]] = nn.sub %arg0, %[[M]]
// CHECK: %[[E:.*]] = nn.exp %[[D]]
// CHECK: %[[S:.*]] = nn.reduce_sum %[[E]] {axes = [1]{{.*}}}
// CHECK: %[[Y:.*]] = nn.div %[[E]], %[[S]]
// CHECK-NOT: nn.softmax
// CHECK: return %[[Y]]
func.func @softmax(%x: tensor<2x5xf16>) -> tensor<2x5xf16> {
  %0 = nn.softmax %x {axis = 1 : i64} : tensor<2x5xf16>
  return %0 : tensor<2x5xf16>
}

// CHECK-LABEL: func.func @softmax_kernel
// CHECK: nn.softmax
// CHECK: nn.log_softmax
func.func @softmax_kernel(%x: tensor<2x5xf32>, %y: tensor<2x5xf64>) -> (tensor<2x5xf32>, tensor<2x5xf64>) {
  %0 = nn.softmax %x {axis = 1 : i64} : tensor<2x5xf32>
  %1 = nn.log_softmax %y {axis = 1 : i64} : tensor<2x5xf64>
  return %0, %1 : tensor<2x5xf32>, tensor<2x5xf64>
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

// A scale broadcast along a normalized axis ([3, 1] over [3, 8]) has no kernel.
// CHECK-LABEL: func.func @layer_norm
// CHECK: %[[MEAN:.*]] = nn.reduce_mean %arg0 {axes = [1, 2]{{.*}}}
// CHECK: %[[INV:.*]] = nn.reciprocal
// CHECK: return %{{.*}}, %[[MEAN]], %[[INV]]
func.func @layer_norm(%x: tensor<2x3x8xf32>, %s: tensor<3x1xf32>, %b: tensor<8xf32>) -> (tensor<2x3x8xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>) {
  %y, %mean, %inv = nn.layer_norm %x, %s, %b {axis = 1 : i64} : (tensor<2x3x8xf32>, tensor<3x1xf32>, tensor<8xf32>) -> (tensor<2x3x8xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>)
  return %y, %mean, %inv : tensor<2x3x8xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>
}

// CHECK-LABEL: func.func @layer_norm_kernel
// CHECK: nn.layer_norm
// CHECK-NOT: nn.reduce_mean
func.func @layer_norm_kernel(%x: tensor<2x3x8xf32>, %s: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<2x3x8xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>) {
  %y, %mean, %inv = nn.layer_norm %x, %s, %b {axis = 2 : i64} : (tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x3x8xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>)
  return %y, %mean, %inv : tensor<2x3x8xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>
}

// pow by a constant 2 is a multiplication.
// CHECK-LABEL: func.func @square
// CHECK: nn.mul %arg0, %arg0
// CHECK-NOT: nn.pow
func.func @square(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = nn.constant dense<2.0> : tensor<f32>
  %0 = nn.pow %x, %c : tensor<4xf32>, tensor<f32>
  return %0 : tensor<4xf32>
}

// A division by a constant power of two (attention's 1 / sqrt(64)) is a
// multiplication by its reciprocal, which is exact; by any other constant,
// or of integers, it stays a division.
// CHECK-LABEL: func.func @div_by_eight
// CHECK-DAG: %[[R:.*]] = nn.constant dense<1.250000e-01> : tensor<f32>
// CHECK-DAG: %[[N:.*]] = nn.constant dense<-2.500000e-01> : tensor<f32>
// CHECK: nn.mul %arg0, %[[R]]
// CHECK: nn.mul %arg0, %[[N]]
// CHECK: nn.div %arg0, %{{.*}} : tensor<4xf32>, tensor<f32>
// CHECK: nn.div %arg1, %{{.*}} : tensor<4xi32>, tensor<i32>
func.func @div_by_eight(%x: tensor<4xf32>, %i: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi32>) {
  %c8 = nn.constant dense<8.0> : tensor<f32>
  %0 = nn.div %x, %c8 : tensor<4xf32>, tensor<f32>
  %cm4 = nn.constant dense<-4.0> : tensor<f32>
  %1 = nn.div %x, %cm4 : tensor<4xf32>, tensor<f32>
  %c3 = nn.constant dense<3.0> : tensor<f32>
  %2 = nn.div %x, %c3 : tensor<4xf32>, tensor<f32>
  %i8 = nn.constant dense<8> : tensor<i32>
  %3 = nn.div %i, %i8 : tensor<4xi32>, tensor<i32>
  return %0, %1, %2, %3 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi32>
}
