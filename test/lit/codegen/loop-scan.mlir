// RUN: nncc-opt %s --nn-plan-memory --nncc-lower-nn | FileCheck %s
// A loop run as a loop with a scan output (scan_outputs = 1): the body's
// scan value (here the carried value before the update, a body argument)
// is stored into row i of the scan result, a graph output of at most 6 rows,
// element by element, before the carried value is updated; after the loop
// the last result gets the number of iterations that ran (the runtime keeps
// that many rows). The loop never runs more iterations than the scan
// output has rows (the trip count is capped at 6); when the rows ran out
// before the loop ended (its condition still true and fewer than M
// iterations run), the count is one more than the rows, which tells the
// runtime to recompile with more.

// CHECK-LABEL: func.func @main
// CHECK-SAME: %[[YS:arg4]]: memref<6x4xf32>, %[[COUNT:arg5]]: memref<i64>
// CHECK: %[[M:.*]] = memref.load %arg0[] : memref<i64>
// CHECK: %[[CAP:.*]] = arith.constant 6 : i64
// CHECK: %[[TRIPS:.*]] = arith.minsi %[[M]], %[[CAP]] : i64
// CHECK: %[[W:.*]]:2 = scf.while
// CHECK:   arith.cmpi slt, %{{.*}}, %[[TRIPS]] : i64
// CHECK: } do {
// CHECK: ^bb0(%[[I:.*]]: i64, %{{.*}}: i1):
// CHECK:   %[[ROW:.*]] = arith.index_cast %[[I]] : i64 to index
// CHECK:   %[[FLAT:.*]] = memref.collapse_shape %[[YS]]
// CHECK:   %[[BASE:.*]] = arith.muli %[[ROW]], %c4
// CHECK:   scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:     %[[V:.*]] = memref.load %{{.*}}[%[[J]]] : memref<4xf32>
// CHECK:     %[[AT:.*]] = arith.addi %[[BASE]], %[[J]]
// CHECK:     memref.store %[[V]], %[[FLAT]][%[[AT]]] : memref<24xf32>
// CHECK:   }
// CHECK:   memref.copy
// CHECK:   scf.yield
// CHECK: %[[BELOW:.*]] = arith.cmpi slt, %[[W]]#0, %[[M]] : i64
// CHECK: %[[CUT:.*]] = arith.andi %[[W]]#1, %[[BELOW]] : i1
// CHECK: %[[ONE_MORE:.*]] = arith.extui %[[CUT]] : i1 to i64
// CHECK: %[[RAN:.*]] = arith.addi %[[W]]#0, %[[ONE_MORE]] : i64
// CHECK: memref.store %[[RAN]], %[[COUNT]][] : memref<i64>
func.func @main(%m: tensor<i64>, %c: tensor<i1>, %x: tensor<4xf32>) -> (tensor<4xf32>, tensor<6x4xf32>, tensor<i64>) {
  %r, %ys, %n = nn.loop(%m, %c, %x) {scan_outputs = 1 : i64} : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> (tensor<4xf32>, tensor<6x4xf32>, tensor<i64>) {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %xi: tensor<4xf32>):
    %e = nn.exp %xi : tensor<4xf32>
    nn.loop_yield %ci, %e, %xi : tensor<i1>, tensor<4xf32>, tensor<4xf32>
  }
  return %r, %ys, %n : tensor<4xf32>, tensor<6x4xf32>, tensor<i64>
}
