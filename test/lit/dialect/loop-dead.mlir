// RUN: nncc-opt %s --canonicalize | FileCheck %s
// nn.loop has no effects beyond its body's (RecursiveSideEffects): one whose
// results nothing reads is dead code, like any pure op.
// CHECK-LABEL: func.func @main
// CHECK-NOT: nn.loop
// CHECK: return %arg2
func.func @main(%m: tensor<i64>, %c: tensor<i1>, %x: tensor<4xf32>) -> tensor<4xf32> {
  %r = nn.loop(%m, %c, %x) : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %xi: tensor<4xf32>):
    %e = nn.exp %xi : tensor<4xf32>
    nn.loop_yield %ci, %e : tensor<i1>, tensor<4xf32>
  }
  return %x : tensor<4xf32>
}
