// RUN: nncc-opt %s --split-input-file --nn-plan-memory --nncc-lower-nn --nncc-parallelize=min-work=1 | FileCheck %s
// RUN: nncc-opt %s --split-input-file --nn-plan-memory --nncc-lower-nn --nncc-parallelize | FileCheck %s --check-prefix=WHOLE
// Generated loops move into functions over a slice [begin, end) of one
// parallel loop, run by nnk.parallel_for; each output element is written
// by exactly one slice. An op's buffers are passed as the views it reads.

// CHECK-LABEL: func.func @g(
// CHECK-NOT: linalg.
// CHECK: %[[T:.*]] = memref.view %arg4
// CHECK: nnk.parallel_for @g_par0(%arg0, %arg1, %[[T]]) {cost = 128 : i64, count = 64 : i64}
// CHECK: %[[E:.*]] = memref.view %arg4
// CHECK: nnk.parallel_for @g_par1(%[[T]], %[[E]]) {cost = 128 : i64, count = 64 : i64}
// The transpose splits its output's rows: a column slice of its input.
// CHECK: nnk.parallel_for @g_par2(%[[E]], %arg2) {cost = 192 : i64, count = 32 : i64}
// The reduction splits its rows (the parallel loop), never the reduced one.
// CHECK: nnk.parallel_for @g_par3(%arg3)
// CHECK: nnk.parallel_for @g_par4(%[[E]], %arg3)
// CHECK-NOT: linalg.
// CHECK: return

// CHECK-LABEL: func.func private @g_par4(%arg0: memref<64x32xf32>, %arg1: memref<64xf32>, %arg2: index, %arg3: index) attributes {nncc.parallel_body}
// CHECK: %[[N:.*]] = arith.subi %arg3, %arg2
// CHECK: %[[IN:.*]] = memref.subview %arg0[%arg2, 0] [%[[N]], 32] [1, 1]
// CHECK: %[[OUT:.*]] = memref.subview %arg1[%arg2] [%[[N]]] [1]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%[[IN]] {{.*}} outs(%[[OUT]]

// The fill's value is a constant cloned into its body.
// CHECK-LABEL: func.func private @g_par3(
// CHECK: %[[Z:.*]] = arith.constant 0.0
// CHECK: linalg.fill ins(%[[Z]]

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

// Identical loops over different places share one body: two steps' gate
// slices of [8, 128] (row stride 128, different columns) become the same
// strided arguments at offset 0; the contiguous results become plain
// memrefs. A loop with another body gets its own function.
// CHECK-LABEL: func.func @steps(
// CHECK: nnk.parallel_for @steps_par0(
// CHECK: nnk.parallel_for @steps_par0(
// CHECK: nnk.parallel_for @steps_par1(
// CHECK-NOT: nnk.parallel_for
// CHECK: return
// CHECK: func.func private @steps_par1(
// CHECK: func.func private @steps_par0(%arg0: memref<8x16xf32, #[[S:map[0-9]*]]>, %arg1: memref<8x16xf32, #[[S]]>, %arg2: memref<8x16xf32>, %arg3: index, %arg4: index)
// CHECK-NOT: @steps_par2

// Below min-work (by default) a loop runs whole on the calling thread: count
// 1, its body over the static shapes, begin and end unused. Shared alike.
// WHOLE-LABEL: func.func @steps(
// WHOLE: nnk.parallel_for @steps_par0({{.*}}) {cost = {{[0-9]+}} : i64, count = 1 : i64}
// WHOLE: nnk.parallel_for @steps_par0({{.*}}) {cost = {{[0-9]+}} : i64, count = 1 : i64}
// WHOLE: nnk.parallel_for @steps_par1({{.*}}) {cost = {{[0-9]+}} : i64, count = 1 : i64}
// WHOLE: func.func private @steps_par0(%arg0: memref<8x16xf32, #[[S:map[0-9]*]]>, %arg1: memref<8x16xf32, #[[S]]>, %arg2: memref<8x16xf32>, %arg3: index, %arg4: index)
// WHOLE-NOT: memref.subview
// WHOLE: linalg.generic {{.*}} ins(%arg0, %arg1 : {{.*}}) outs(%arg2 : memref<8x16xf32>)
func.func @steps(%g: tensor<8x128xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %a0 = nn.fused(%g) : (tensor<8x128xf32>) -> tensor<8x16xf32> {
  ^bb0(%v: tensor<8x128xf32>):
    %i = nn.slice %v {sizes = [8, 16], starts = [0, 0], steps = [1, 1]} : tensor<8x128xf32> -> tensor<8x16xf32>
    %f = nn.slice %v {sizes = [8, 16], starts = [0, 16], steps = [1, 1]} : tensor<8x128xf32> -> tensor<8x16xf32>
    %s = nn.mul %i, %f : tensor<8x16xf32>, tensor<8x16xf32>
    nn.yield %s : tensor<8x16xf32>
  }
  %a1 = nn.fused(%g) : (tensor<8x128xf32>) -> tensor<8x16xf32> {
  ^bb0(%v: tensor<8x128xf32>):
    %i = nn.slice %v {sizes = [8, 16], starts = [0, 64], steps = [1, 1]} : tensor<8x128xf32> -> tensor<8x16xf32>
    %f = nn.slice %v {sizes = [8, 16], starts = [0, 80], steps = [1, 1]} : tensor<8x128xf32> -> tensor<8x16xf32>
    %s = nn.mul %i, %f : tensor<8x16xf32>, tensor<8x16xf32>
    nn.yield %s : tensor<8x16xf32>
  }
  %a2 = nn.fused(%g) : (tensor<8x128xf32>) -> tensor<8x16xf32> {
  ^bb0(%v: tensor<8x128xf32>):
    %i = nn.slice %v {sizes = [8, 16], starts = [0, 64], steps = [1, 1]} : tensor<8x128xf32> -> tensor<8x16xf32>
    %f = nn.slice %v {sizes = [8, 16], starts = [0, 80], steps = [1, 1]} : tensor<8x128xf32> -> tensor<8x16xf32>
    %s = nn.add %i, %f : tensor<8x16xf32>, tensor<8x16xf32>
    nn.yield %s : tensor<8x16xf32>
  }
  return %a0, %a1, %a2 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
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

// -----

// A constant global is never written: its argument is noalias, so LLVM
// keeps the broadcast scalar in a register (the output may alias the
// other buffers, which stay plain).
// CHECK-LABEL: func.func private @scale_par0(%arg0: memref<64x32xf32>, %arg1: memref<f32> {llvm.noalias}, %arg2: memref<64x32xf32>, %arg3: index, %arg4: index)
func.func @scale(%x: tensor<64x32xf32>) -> tensor<64x32xf32> {
  %c = nn.constant dense<3.0> : tensor<f32>
  %0 = nn.div %x, %c : tensor<64x32xf32>, tensor<f32>
  return %0 : tensor<64x32xf32>
}
