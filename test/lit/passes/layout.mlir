// RUN: nncc-opt %s --nn-layout | FileCheck %s
// Convolutions and pools run channels-last (NHWC, oneDNN's fastest form);
// the transposes this introduces sink through elementwise ops, channel
// concats and spatial reductions and cancel, so a conv chain transposes only
// where it starts and ends.

// CHECK-LABEL: func.func @chain
// CHECK: %[[IN:.*]] = nn.transpose %arg0 {perm = [0, 2, 3, 1]} : tensor<1x3x8x8xf32> -> tensor<1x8x8x3xf32>
// CHECK: %[[C1:.*]] = nn.conv %[[IN]], %{{.*}} {channels_last = true{{.*}}-> tensor<1x8x8x8xf32>
// CHECK: %[[R:.*]] = nn.relu %[[C1]] : tensor<1x8x8x8xf32>
// CHECK: %[[P:.*]] = nn.max_pool %[[R]] {channels_last = true{{.*}} -> tensor<1x4x4x8xf32>
// CHECK: %[[C2:.*]] = nn.conv %[[P]], %{{.*}} {channels_last = true{{.*}} -> tensor<1x4x4x8xf32>
// CHECK: %[[A:.*]] = nn.add %[[C2]], %[[P]] : tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>
// The channel axis of the concat is the last one now.
// CHECK: %[[CAT:.*]] = nn.concat %[[A]], %[[P]] {axis = 3 : i64} {{.*}} -> tensor<1x4x4x16xf32>
// CHECK: nn.transpose %[[CAT]] {perm = [0, 3, 1, 2]} : tensor<1x4x4x16xf32> -> tensor<1x16x4x4xf32>
// CHECK: %[[M:.*]] = nn.reduce_mean %[[A]] {axes = [1, 2], keepdims = true} : tensor<1x4x4x8xf32> -> tensor<1x1x1x8xf32>
// CHECK: nn.transpose %[[M]] {perm = [0, 3, 1, 2]} : tensor<1x1x1x8xf32> -> tensor<1x8x1x1xf32>
// CHECK-NOT: nn.transpose
// CHECK: return
func.func @chain(%x: tensor<1x3x8x8xf32>) -> (tensor<1x8x1x1xf32>, tensor<1x16x4x4xf32>) {
  %w = nn.param "w" : tensor<8x3x3x3xf32>
  %w2 = nn.param "w2" : tensor<8x8x1x1xf32>
  %0 = nn.conv %x, %w {dilations = [1, 1], group = 1 : i64, pads = [1, 1, 1, 1], strides = [1, 1]} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x8x8xf32>
  %1 = nn.relu %0 : tensor<1x8x8x8xf32>
  %2 = nn.max_pool %1 {kernel_shape = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [1, 1]} : tensor<1x8x8x8xf32> -> tensor<1x8x4x4xf32>
  %3 = nn.conv %2, %w2 {dilations = [1, 1], group = 1 : i64, pads = [0, 0, 0, 0], strides = [1, 1]} : (tensor<1x8x4x4xf32>, tensor<8x8x1x1xf32>) -> tensor<1x8x4x4xf32>
  %4 = nn.add %3, %2 : tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>
  %5 = nn.concat %4, %2 {axis = 1 : i64} : (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) -> tensor<1x16x4x4xf32>
  %6 = nn.reduce_mean %4 {axes = [2, 3], keepdims = true} : tensor<1x8x4x4xf32> -> tensor<1x8x1x1xf32>
  return %6, %5 : tensor<1x8x1x1xf32>, tensor<1x16x4x4xf32>
}

// A pool on a channels-first input stays channels-first (no transposes to add).
// CHECK-LABEL: func.func @lone_pool
// CHECK-NOT: nn.transpose
// CHECK: nn.max_pool %arg0 {dilations
// CHECK-NOT: nn.transpose
func.func @lone_pool(%x: tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32> {
  %0 = nn.max_pool %x {kernel_shape = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [1, 1]} : tensor<1x8x8x8xf32> -> tensor<1x8x4x4xf32>
  return %0 : tensor<1x8x4x4xf32>
}
