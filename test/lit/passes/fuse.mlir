// RUN: nncc-opt %s --nn-fuse --split-input-file | FileCheck %s
// Epilogues folded into the op producing their input: activations and
// residual sums into convolutions (oneDNN post-ops), row biases into matmuls.

// A ResNet basic block: relu into the first conv; the skip add, then relu,
// into the second.
// CHECK-LABEL: func.func @resblock
// CHECK: %[[C1:.*]] = nn.conv %arg0, %{{.*}} bias %{{.*}} {{{.*}}post_ops = ["relu"]
// CHECK: %[[C2:.*]] = nn.conv %[[C1]], %{{.*}} residual %arg0 {{{.*}}post_ops = ["sum", "relu"]
// CHECK-NOT: nn.relu
// CHECK-NOT: nn.add
// CHECK: return %[[C2]]
func.func @resblock(%x: tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32> {
  %w = nn.param "w" : tensor<8x8x3x3xf32>
  %b = nn.param "b" : tensor<8xf32>
  %0 = nn.conv %x, %w bias %b {dilations = [1, 1], group = 1 : i64, pads = [1, 1, 1, 1], strides = [1, 1]} : (tensor<1x8x8x8xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %1 = nn.relu %0 : tensor<1x8x8x8xf32>
  %2 = nn.conv %1, %w {dilations = [1, 1], group = 1 : i64, pads = [1, 1, 1, 1], strides = [1, 1]} : (tensor<1x8x8x8xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x8x8xf32>
  %3 = nn.add %2, %x : tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>
  %4 = nn.relu %3 : tensor<1x8x8x8xf32>
  return %4 : tensor<1x8x8x8xf32>
}

// -----

// ONNX Clip imports as min(max(x, lo), hi): one clip post-op (ReLU6).
// CHECK-LABEL: func.func @relu6
// CHECK: nn.conv {{.*}}post_ops = ["clip:0:6"]
// CHECK-NOT: nn.max
// CHECK-NOT: nn.min
func.func @relu6(%x: tensor<1x4x5x5xf32>) -> tensor<1x4x5x5xf32> {
  %w = nn.param "w" : tensor<4x1x3x3xf32>
  %lo = nn.constant dense<0.0> : tensor<f32>
  %hi = nn.constant dense<6.0> : tensor<f32>
  %0 = nn.conv %x, %w {dilations = [1, 1], group = 4 : i64, pads = [1, 1, 1, 1], strides = [1, 1]} : (tensor<1x4x5x5xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x5x5xf32>
  %1 = nn.max %0, %lo : tensor<1x4x5x5xf32>, tensor<f32>
  %2 = nn.min %1, %hi : tensor<1x4x5x5xf32>, tensor<f32>
  return %2 : tensor<1x4x5x5xf32>
}

// -----

// A conv whose output is also used elsewhere keeps its activation separate.
// CHECK-LABEL: func.func @shared
// CHECK: %[[C:.*]] = nn.conv
// CHECK-NOT: post_ops
// CHECK: nn.relu %[[C]]
func.func @shared(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w = nn.param "w" : tensor<2x2x1x1xf32>
  %0 = nn.conv %x, %w {dilations = [1, 1], group = 1 : i64, pads = [0, 0, 0, 0], strides = [1, 1]} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %1 = nn.relu %0 : tensor<1x2x4x4xf32>
  return %0, %1 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// A row bias joins the matmul (the GEMM's epilogue); a full matrix does not.
// CHECK-LABEL: func.func @linear
// CHECK: %[[R:.*]] = nn.reshape %{{.*}} {{.*}}tensor<1x16xf32> -> tensor<16xf32>
// CHECK: %[[M:.*]] = nn.matmul %arg0, %{{.*}}, bias %[[R]]
// CHECK: %[[N:.*]] = nn.matmul %[[M]], %{{.*}} : (
// CHECK: nn.add %[[N]], %arg1
func.func @linear(%x: tensor<2x4x8xf32>, %m: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %w = nn.param "w" : tensor<8x16xf32>
  %v = nn.param "v" : tensor<16x16xf32>
  %b = nn.param "b" : tensor<1x16xf32>
  %0 = nn.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %1 = nn.add %b, %0 : tensor<1x16xf32>, tensor<2x4x16xf32>
  %2 = nn.matmul %1, %v : (tensor<2x4x16xf32>, tensor<16x16xf32>) -> tensor<2x4x16xf32>
  %3 = nn.add %2, %m : tensor<2x4x16xf32>, tensor<2x4x16xf32>
  return %3 : tensor<2x4x16xf32>
}

// -----

// Activations after a Gemm or MatMul run in its epilogue too (an MLP layer).
// CHECK-LABEL: func.func @mlp
// CHECK: %[[G:.*]] = nn.gemm %arg0, %{{.*}}, %{{.*}} {post_ops = ["relu"], transB = true}
// CHECK: nn.matmul %[[G]], %{{.*}} {post_ops = ["clip:0:6"]}
// CHECK-NOT: nn.relu
// CHECK-NOT: nn.max
func.func @mlp(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w = nn.param "w" : tensor<16x8xf32>
  %b = nn.param "b" : tensor<16xf32>
  %v = nn.param "v" : tensor<16x4xf32>
  %lo = nn.constant dense<0.0> : tensor<f32>
  %hi = nn.constant dense<6.0> : tensor<f32>
  %0 = nn.gemm %x, %w, %b {transB = true} : (tensor<2x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  %1 = nn.relu %0 : tensor<2x16xf32>
  %2 = nn.matmul %1, %v : (tensor<2x16xf32>, tensor<16x4xf32>) -> tensor<2x4xf32>
  %3 = nn.max %2, %lo : tensor<2x4xf32>, tensor<f32>
  %4 = nn.min %3, %hi : tensor<2x4xf32>, tensor<f32>
  return %4 : tensor<2x4xf32>
}

// -----

// A layer norm spelled out by the exporter (PyTorch, opset < 17) becomes
// nn.layer_norm, its scale and shift included.
// CHECK-LABEL: func.func @layer_norm
// CHECK: %[[Y:.*]], %{{.*}}, %{{.*}} = nn.layer_norm %arg0, %{{.*}}, %{{.*}} {axis = 2 : i64, epsilon = 9.99999974E-6 : f32}
// CHECK-NOT: nn.div
// CHECK: return %[[Y]]
func.func @layer_norm(%x: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %g = nn.param "g" : tensor<8xf32>
  %b = nn.param "b" : tensor<8xf32>
  %two = nn.constant dense<2.0> : tensor<f32>
  %eps = nn.constant dense<1.0e-5> : tensor<f32>
  %m = nn.reduce_mean %x {axes = [2], keepdims = true} : tensor<2x3x8xf32> -> tensor<2x3x1xf32>
  %d = nn.sub %x, %m : tensor<2x3x8xf32>, tensor<2x3x1xf32>
  %p = nn.pow %d, %two : tensor<2x3x8xf32>, tensor<f32>
  %v = nn.reduce_mean %p {axes = [2], keepdims = true} : tensor<2x3x8xf32> -> tensor<2x3x1xf32>
  %a = nn.add %v, %eps : tensor<2x3x1xf32>, tensor<f32>
  %s = nn.sqrt %a : tensor<2x3x1xf32>
  %n = nn.div %d, %s : tensor<2x3x8xf32>, tensor<2x3x1xf32>
  %w = nn.mul %n, %g : tensor<2x3x8xf32>, tensor<8xf32>
  %y = nn.add %w, %b : tensor<2x3x8xf32>, tensor<8xf32>
  return %y : tensor<2x3x8xf32>
}

// -----

// Over a leading axis it is not a layer norm: left alone.
// CHECK-LABEL: func.func @not_trailing
// CHECK-NOT: nn.layer_norm
// CHECK: nn.div
func.func @not_trailing(%x: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %eps = nn.constant dense<1.0e-5> : tensor<f32>
  %m = nn.reduce_mean %x {axes = [1], keepdims = true} : tensor<2x3x8xf32> -> tensor<2x1x8xf32>
  %d = nn.sub %x, %m : tensor<2x3x8xf32>, tensor<2x1x8xf32>
  %p = nn.mul %d, %d : tensor<2x3x8xf32>, tensor<2x3x8xf32>
  %v = nn.reduce_mean %p {axes = [1], keepdims = true} : tensor<2x3x8xf32> -> tensor<2x1x8xf32>
  %a = nn.add %v, %eps : tensor<2x1x8xf32>, tensor<f32>
  %s = nn.sqrt %a : tensor<2x1x8xf32>
  %n = nn.div %d, %s : tensor<2x3x8xf32>, tensor<2x1x8xf32>
  return %n : tensor<2x3x8xf32>
}

// -----

// A sum of products over every element is a dot product: the product is
// not stored. A partial sum, or a product with broadcasting, stays.
// CHECK-LABEL: func.func @sum_of_squares
// CHECK: %[[A:.*]] = nn.reshape %arg0 {allowzero = true, shape = [1, 96]}
// CHECK: %[[B:.*]] = nn.reshape %arg0 {allowzero = true, shape = [96, 1]}
// CHECK: %[[D:.*]] = nn.matmul %[[A]], %[[B]]
// CHECK: %[[S:.*]] = nn.reshape %[[D]] {allowzero = true, shape = []}
// CHECK-NOT: nn.mul
// CHECK: return %[[S]]
func.func @sum_of_squares(%x: tensor<4x8x3xf32>) -> tensor<f32> {
  %m = nn.mul %x, %x : tensor<4x8x3xf32>, tensor<4x8x3xf32>
  %s = nn.reduce_sum %m {axes = [], keepdims = false} : tensor<4x8x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// CHECK-LABEL: func.func @partial_sum
// CHECK: nn.mul
// CHECK: nn.reduce_sum
// CHECK-NOT: nn.matmul
func.func @partial_sum(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4xf32> {
  %m = nn.mul %x, %y : tensor<4x8xf32>, tensor<4x8xf32>
  %s = nn.reduce_sum %m {axes = [1], keepdims = false} : tensor<4x8xf32> -> tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

// An expand read by broadcasting binary ops is not materialized; a unary op
// (which does not broadcast) keeps it.
// CHECK-LABEL: func.func @expand_broadcast
// CHECK: %[[E:.*]] = nn.expand %arg0
// CHECK: %[[M:.*]] = nn.mul %arg0, %arg1
// CHECK: %[[N:.*]] = nn.neg %[[E]]
func.func @expand_broadcast(%c: tensor<1x1xf32>, %x: tensor<6x5xf32>) -> (tensor<6x5xf32>, tensor<6x5xf32>) {
  %e = nn.expand %c {shape = [6, 5]} : tensor<1x1xf32> -> tensor<6x5xf32>
  %m = nn.mul %e, %x : tensor<6x5xf32>, tensor<6x5xf32>
  %n = nn.neg %e : tensor<6x5xf32>
  return %m, %n : tensor<6x5xf32>, tensor<6x5xf32>
}

// PRelu broadcasts its slope to x only: its expanded x stays.
// CHECK-LABEL: func.func @expand_prelu
// CHECK: %[[E:.*]] = nn.expand %arg0
// CHECK: nn.prelu %[[E]], %arg1
func.func @expand_prelu(%c: tensor<1x5xf32>, %s: tensor<6x5xf32>) -> tensor<6x5xf32> {
  %e = nn.expand %c {shape = [6, 5]} : tensor<1x5xf32> -> tensor<6x5xf32>
  %p = nn.prelu %e, %s : tensor<6x5xf32>, tensor<6x5xf32>
  return %p : tensor<6x5xf32>
}
