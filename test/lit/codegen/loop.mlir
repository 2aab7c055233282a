// RUN: nncc-opt %s --nn-plan-memory --nncc-lower-nn | FileCheck %s
// nn.loop (an ONNX Loop whose iterations are known only at run time) becomes
// an scf.while: the carried value lives in the loop's result buffer (copied
// in from the initial value once), the body's intermediates in an arena
// after the function's (here at 64), the iteration number and condition in
// two slots after that (128, 192); the yielded value is copied back into the
// carried buffer at the end of each iteration. The body reads %b from
// outside, which stays alive through the loop.

// CHECK-LABEL: func.func @main
// CHECK-SAME: %[[M:arg0]]: memref<i64>, %[[X:arg1]]: memref<4xf32>, %[[B:arg2]]: memref<4xf32>, %{{.*}}: memref<4xf32>, %[[WS:arg4]]: memref<256xi8>
// CHECK: %[[CARRIED:.*]] = memref.view %[[WS]][%c0][] : memref<256xi8> to memref<4xf32>
// CHECK: memref.copy %[[X]], %[[CARRIED]]
// CHECK: %[[TRIPS:.*]] = memref.load %[[M]][]
// CHECK: scf.while (%[[I:.*]] = %c0_i64, %[[C:.*]] = %{{.*}}) : (i64, i1) -> (i64, i1) {
// CHECK:   %[[MORE:.*]] = arith.cmpi slt, %[[I]], %[[TRIPS]]
// CHECK:   %[[GO:.*]] = arith.andi %[[C]], %[[MORE]]
// CHECK:   scf.condition(%[[GO]])
// CHECK: } do {
// CHECK:   memref.view %[[WS]][%c128][] : memref<256xi8> to memref<i64>
// CHECK:   memref.view %[[WS]][%c192][] : memref<256xi8> to memref<i8>
// CHECK:   %[[E:.*]] = memref.view %[[WS]][%c64][] : memref<256xi8> to memref<4xf32>
// CHECK:   linalg.generic {{.*}} ins(%[[CARRIED]] : memref<4xf32>) outs(%[[E]] : memref<4xf32>)
// CHECK:     math.exp
// CHECK:   linalg.generic {{.*}} ins(%[[E]], %[[B]] : memref<4xf32>, memref<4xf32>) outs(%[[S:.*]] : memref<4xf32>)
// CHECK:     arith.addf
// CHECK:   memref.copy %[[S]], %[[CARRIED]]
// CHECK:   scf.yield
// CHECK: }
// CHECK: linalg.generic {{.*}} ins(%[[CARRIED]] : memref<4xf32>)
// CHECK:   arith.negf
func.func @main(%m: tensor<i64>, %x: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %t = nn.constant dense<true> : tensor<i1>
  %r = nn.loop(%m, %t, %x) : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: tensor<i64>, %c: tensor<i1>, %xi: tensor<4xf32>):
    %e = nn.exp %xi : tensor<4xf32>
    %s = nn.add %e, %b : tensor<4xf32>, tensor<4xf32>
    nn.loop_yield %c, %s : tensor<i1>, tensor<4xf32>
  }
  %n = nn.neg %r : tensor<4xf32>
  return %n : tensor<4xf32>
}
