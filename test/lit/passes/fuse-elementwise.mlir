// RUN: nncc-opt %s --split-input-file --nn-fuse-elementwise | FileCheck %s
// Elementwise chains become nn.fused ops, cut at ops that are not
// elementwise (here reductions). Broadcast operands stay inputs.

// CHECK-LABEL: func.func @chain
// CHECK: %[[A:.*]] = nn.fused(%arg0, %arg1) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<8xf32>):
// CHECK-NEXT: %[[S:.*]] = nn.add %[[X]], %[[B]]
// CHECK-NEXT: %[[G:.*]] = nn.sigmoid %[[S]]
// CHECK-NEXT: %[[M:.*]] = nn.mul %[[S]], %[[G]]
// CHECK-NEXT: nn.yield %[[M]]
// CHECK: %[[R:.*]] = nn.reduce_sum %[[A]]
// CHECK: nn.fused(%arg0, %[[R]]) : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
// CHECK: nn.sub
// CHECK: nn.exp
// CHECK: nn.abs
// CHECK: nn.add
// CHECK: nn.yield
// CHECK-NOT: nn.exp
func.func @chain(%x: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = nn.add %x, %b : tensor<4x8xf32>, tensor<8xf32>
  %1 = nn.sigmoid %0 : tensor<4x8xf32>
  %2 = nn.mul %0, %1 : tensor<4x8xf32>, tensor<4x8xf32>
  %3 = nn.reduce_sum %2 {axes = [1], keepdims = true} : tensor<4x8xf32> -> tensor<4x1xf32>
  %4 = nn.sub %x, %3 : tensor<4x8xf32>, tensor<4x1xf32>
  %5 = nn.exp %4 : tensor<4x8xf32>
  %6 = nn.abs %4 : tensor<4x8xf32>
  %7 = nn.add %5, %6 : tensor<4x8xf32>, tensor<4x8xf32>
  return %7 : tensor<4x8xf32>
}

// -----

// A cheap op feeding two groups (x - mean, squared for the variance and
// divided for the result) is recomputed in both rather than stored.
// CHECK-LABEL: func.func @normalize
// CHECK: nn.fused(%arg0, %{{.*}})
// CHECK: nn.sub
// CHECK: nn.mul
// CHECK: nn.reduce_mean
// CHECK: nn.fused(%arg0, %{{.*}}, %{{.*}})
// CHECK: nn.sub
// CHECK: nn.div
// CHECK-NOT: nn.sub
// CHECK: return
func.func @normalize(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %m = nn.reduce_mean %x {axes = [1], keepdims = true} : tensor<4x8xf32> -> tensor<4x1xf32>
  %d = nn.sub %x, %m : tensor<4x8xf32>, tensor<4x1xf32>
  %sq = nn.mul %d, %d : tensor<4x8xf32>, tensor<4x8xf32>
  %v = nn.reduce_mean %sq {axes = [1], keepdims = true} : tensor<4x8xf32> -> tensor<4x1xf32>
  %y = nn.div %d, %v : tensor<4x8xf32>, tensor<4x1xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Not fused: an op whose result has a smaller shape than its user's
// (it would be recomputed per broadcast element), and ops used outside.
// CHECK-LABEL: func.func @boundaries
// CHECK: %[[E:.*]] = nn.exp %arg1 : tensor<8xf32>
// CHECK: %[[N:.*]] = nn.neg %arg0
// CHECK: nn.add %[[N]], %[[E]]
// CHECK-NOT: nn.fused
// CHECK: return
func.func @boundaries(%x: tensor<4x8xf32>, %y: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %e = nn.exp %y : tensor<8xf32>
  %n = nn.neg %x : tensor<4x8xf32>
  %s = nn.add %n, %e : tensor<4x8xf32>, tensor<8xf32>
  return %s, %n : tensor<4x8xf32>, tensor<4x8xf32>
}
