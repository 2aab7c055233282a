// RUN: nncc-opt %s --split-input-file --nn-plan-memory --nncc-lower-nn --nncc-parallelize=min-work=1 | FileCheck %s
// Generated loops move into functions over a slice [begin, end) of one
// parallel loop, run by nnk.parallel_for; each output element is written
// by exactly one slice. The views an op reads are rebuilt in its body.

// CHECK-LABEL: func.func @g(
// CHECK-NOT: linalg.
// CHECK: nnk.parallel_for @g_par0(%arg0, %arg1, %arg4) {cost = 128 : i64, count = 64 : i64}
// CHECK: nnk.parallel_for @g_par1(%arg4) {cost = 128 : i64, count = 64 : i64}
// The transpose splits its output's rows: a column slice of its input.
// CHECK: nnk.parallel_for @g_par2(%arg4, %arg2) {cost = 192 : i64, count = 32 : i64}
// The reduction splits its rows (the parallel loop), never the reduced one.
// CHECK: nnk.parallel_for @g_par3(%arg3)
// CHECK: nnk.parallel_for @g_par4(%arg4, %arg3)
// CHECK-NOT: linalg.
// CHECK: return

// CHECK-LABEL: func.func private @g_par4(%arg0: memref<{{[0-9]+}}xi8>, %arg1: memref<64xf32>, %arg2: index, %arg3: index) attributes {nncc.parallel_body}
// CHECK: %[[V:.*]] = memref.view %arg0
// CHECK: %[[N:.*]] = arith.subi %arg3, %arg2
// CHECK: %[[IN:.*]] = memref.subview %[[V]][%arg2, 0] [%[[N]], 32] [1, 1]
// CHECK: %[[OUT:.*]] = memref.subview %arg1[%arg2] [%[[N]]] [1]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%[[IN]] {{.*}} outs(%[[OUT]]

// CHECK-LABEL: func.func private @g_par2(
// CHECK: memref.subview %{{.*}}[0, %arg2] [64, %{{.*}}] [1, 1]
// CHECK: memref.subview %arg1[%arg2, 0] [%{{.*}}, 64] [1, 1]
func.func @g(%x: tensor<64x32xf32>, %y: tensor<32xf32>) -> (tensor<32x64xf32>, tensor<64xf32>) {
  %0 = nn.add %x, %y : tensor<64x32xf32>, tensor<32xf32>
  %1 = nn.exp %0 : tensor<64x32xf32>
  %2 = nn.transpose %1 {perm = [1, 0]} : tensor<64x32xf32> -> tensor<32x64xf32>
  %3 = nn.reduce_sum %1 {axes = [1], keepdims = false} : tensor<64x32xf32> -> tensor<64xf32>
  return %2, %3 : tensor<32x64xf32>, tensor<64xf32>
}

// -----

// linalg.index of the split loop is offset by the slice's start.
// CHECK-LABEL: func.func private @iota_par0(
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK: arith.addi %[[I]], %{{.*}} : index
func.func @iota(%x: tensor<64x8xf32>) -> tensor<64x8xi64> {
  %0 = nn.argmax %x {axis = 1 : i64, keepdims = true, select_last_index = false} : tensor<64x8xf32> -> tensor<64x1xi64>
  %1 = nn.expand %0 {shape = [64, 8]} : tensor<64x1xi64> -> tensor<64x8xi64>
  return %1 : tensor<64x8xi64>
}
