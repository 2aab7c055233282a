// RUN: nncc-opt %s --nn-layout --cse | FileCheck %s
// Convolutions and pools run channels-last (NHWC, oneDNN's fastest form);
// the transposes this introduces sink through elementwise ops, channel
// concats and spatial reductions and cancel, so a conv chain transposes only
// where it starts and ends.

// CHECK-LABEL: func.func @chain
// CHECK: %[[IN:.*]] = nn.transpose %arg0 {perm = [0, 2, 3, 1]} : tensor<1x3x8x8xf32> -> tensor<1x8x8x3xf32>
// CHECK: %[[C1:.*]] = nn.conv %[[IN]], %{{.*}} {{{.*}}layout = "nhwc"{{.*}}-> tensor<1x8x8x8xf32>
// CHECK: %[[R:.*]] = nn.relu %[[C1]] : tensor<1x8x8x8xf32>
// CHECK: %[[P:.*]] = nn.max_pool %[[R]] {channels_last = true{{.*}} -> tensor<1x4x4x8xf32>
// CHECK: %[[C2:.*]] = nn.conv %[[P]], %{{.*}} {{{.*}}layout = "nhwc"{{.*}} -> tensor<1x4x4x8xf32>
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

// A ResNet basic block (epilogues already fused): both 3x3 convolutions run
// blocked for Winograd; the input is reordered once (shared by the first
// conv and the residual), the output once, nothing in between.
// CHECK-LABEL: func.func @resblock
// CHECK: %[[B:.*]] = nn.reorder %arg0 {from = "nchw", to = "nchw16c"} : tensor<1x64x28x28xf32> -> tensor<1x4x28x28x16xf32>
// CHECK: %[[C1:.*]] = nn.conv %[[B]], %{{.*}} {{{.*}}layout = "nchw16c"{{.*}} -> tensor<1x4x28x28x16xf32>
// CHECK-NOT: nn.reorder
// CHECK: %[[C2:.*]] = nn.conv %[[C1]], %{{.*}} residual %[[B]] {{{.*}}layout = "nchw16c"
// CHECK: %[[OUT:.*]] = nn.reorder %[[C2]] {from = "nchw16c", to = "nchw"}
// CHECK-NOT: nn.transpose
// CHECK: return %[[OUT]]
func.func @resblock(%x: tensor<1x64x28x28xf32>) -> tensor<1x64x28x28xf32> {
  %w = nn.param "w" : tensor<64x64x3x3xf32>
  %0 = nn.conv %x, %w {dilations = [1, 1], group = 1 : i64, pads = [1, 1, 1, 1], strides = [1, 1], post_ops = ["relu"]} : (tensor<1x64x28x28xf32>, tensor<64x64x3x3xf32>) -> tensor<1x64x28x28xf32>
  %1 = nn.conv %0, %w residual %x {dilations = [1, 1], group = 1 : i64, pads = [1, 1, 1, 1], strides = [1, 1], post_ops = ["sum", "relu"]} : (tensor<1x64x28x28xf32>, tensor<64x64x3x3xf32>, tensor<1x64x28x28xf32>) -> tensor<1x64x28x28xf32>
  return %1 : tensor<1x64x28x28xf32>
}

// Not blocked: a small image (8x8, where the direct kernel wins), a strided
// conv, and 512 channels (Winograd weights past the cache).
// CHECK-LABEL: func.func @direct
// CHECK-NOT: nn.reorder
// CHECK-NOT: nchw16c
// CHECK: return
func.func @direct(%x: tensor<1x64x8x8xf32>, %y: tensor<1x512x4x4xf32>) -> (tensor<1x256x8x8xf32>, tensor<1x64x4x4xf32>, tensor<1x512x4x4xf32>) {
  %w = nn.param "w" : tensor<256x64x3x3xf32>
  %v = nn.param "v" : tensor<64x64x3x3xf32>
  %u = nn.param "u" : tensor<512x512x3x3xf32>
  %0 = nn.conv %x, %w {dilations = [1, 1], group = 1 : i64, pads = [1, 1, 1, 1], strides = [1, 1]} : (tensor<1x64x8x8xf32>, tensor<256x64x3x3xf32>) -> tensor<1x256x8x8xf32>
  %1 = nn.conv %x, %v {dilations = [1, 1], group = 1 : i64, pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<1x64x8x8xf32>, tensor<64x64x3x3xf32>) -> tensor<1x64x4x4xf32>
  %2 = nn.conv %y, %u {dilations = [1, 1], group = 1 : i64, pads = [1, 1, 1, 1], strides = [1, 1]} : (tensor<1x512x4x4xf32>, tensor<512x512x3x3xf32>) -> tensor<1x512x4x4xf32>
  return %0, %1, %2 : tensor<1x256x8x8xf32>, tensor<1x64x4x4xf32>, tensor<1x512x4x4xf32>
}

// At 8x8 the direct kernel wins: channels-last, no reorders.
// CHECK-LABEL: func.func @small_image
// CHECK-NOT: nn.reorder
// CHECK: layout = "nhwc"
func.func @small_image(%x: tensor<1x64x8x8xf32>) -> tensor<1x64x8x8xf32> {
  %w = nn.param "w" : tensor<64x64x3x3xf32>
  %0 = nn.conv %x, %w {dilations = [1, 1], group = 1 : i64, pads = [1, 1, 1, 1], strides = [1, 1], post_ops = ["relu"]} : (tensor<1x64x8x8xf32>, tensor<64x64x3x3xf32>) -> tensor<1x64x8x8xf32>
  return %0 : tensor<1x64x8x8xf32>
}

// SqueezeNet fire modules: the expand convolutions and their channel concat
// run blocked (batch 1, channels multiples of 16), so each expand writes a
// contiguous range of the concat (planned in place); the pool and the next
// squeeze convolution stay blocked; one reorder leaves.
// CHECK-LABEL: func.func @fire
// CHECK: %[[S:.*]] = nn.conv %{{.*}} {{{.*}}layout = "nhwc"{{.*}} -> tensor<1x8x8x16xf32>
// CHECK: %[[SB:.*]] = nn.reorder %[[S]] {from = "nhwc", to = "nchw16c"} : tensor<1x8x8x16xf32> -> tensor<1x1x8x8x16xf32>
// CHECK: %[[E1:.*]] = nn.conv %[[SB]], %{{.*}} {{{.*}}layout = "nchw16c"{{.*}} -> tensor<1x2x8x8x16xf32>
// CHECK: %[[E3:.*]] = nn.conv %[[SB]], %{{.*}} {{{.*}}layout = "nchw16c"{{.*}} -> tensor<1x2x8x8x16xf32>
// CHECK: %[[CAT:.*]] = nn.concat %[[E1]], %[[E3]] {axis = 1 : i64} {{.*}} -> tensor<1x4x8x8x16xf32>
// CHECK: %[[F:.*]] = nn.reshape %[[CAT]] {{.*}} -> tensor<4x8x8x16xf32>
// CHECK: %[[P:.*]] = nn.max_pool %[[F]] {channels_last = true{{.*}} -> tensor<4x4x4x16xf32>
// CHECK: %[[PB:.*]] = nn.reshape %[[P]] {{.*}} -> tensor<1x4x4x4x16xf32>
// CHECK: %[[S2:.*]] = nn.conv %[[PB]], %{{.*}} {{{.*}}layout = "nchw16c"{{.*}} -> tensor<1x1x4x4x16xf32>
// CHECK: nn.reorder %[[S2]] {from = "nchw16c", to = "nchw"}
// CHECK-NOT: nn.reorder
// CHECK: return
func.func @fire(%x: tensor<1x32x8x8xf32>) -> tensor<1x16x4x4xf32> {
  %ws = nn.param "ws" : tensor<16x32x1x1xf32>
  %w1 = nn.param "w1" : tensor<32x16x1x1xf32>
  %w3 = nn.param "w3" : tensor<32x16x3x3xf32>
  %w4 = nn.param "w4" : tensor<16x64x1x1xf32>
  %s = nn.conv %x, %ws {dilations = [1, 1], group = 1 : i64, pads = [0, 0, 0, 0], strides = [1, 1], post_ops = ["relu"]} : (tensor<1x32x8x8xf32>, tensor<16x32x1x1xf32>) -> tensor<1x16x8x8xf32>
  %e1 = nn.conv %s, %w1 {dilations = [1, 1], group = 1 : i64, pads = [0, 0, 0, 0], strides = [1, 1], post_ops = ["relu"]} : (tensor<1x16x8x8xf32>, tensor<32x16x1x1xf32>) -> tensor<1x32x8x8xf32>
  %e3 = nn.conv %s, %w3 {dilations = [1, 1], group = 1 : i64, pads = [1, 1, 1, 1], strides = [1, 1], post_ops = ["relu"]} : (tensor<1x16x8x8xf32>, tensor<32x16x3x3xf32>) -> tensor<1x32x8x8xf32>
  %c = nn.concat %e1, %e3 {axis = 1 : i64} : (tensor<1x32x8x8xf32>, tensor<1x32x8x8xf32>) -> tensor<1x64x8x8xf32>
  %p = nn.max_pool %c {kernel_shape = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [1, 1]} : tensor<1x64x8x8xf32> -> tensor<1x64x4x4xf32>
  %s2 = nn.conv %p, %w4 {dilations = [1, 1], group = 1 : i64, pads = [0, 0, 0, 0], strides = [1, 1]} : (tensor<1x64x4x4xf32>, tensor<16x64x1x1xf32>) -> tensor<1x16x4x4xf32>
  return %s2 : tensor<1x16x4x4xf32>
}
