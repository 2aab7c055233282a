// RUN: nncc-opt %s --nncc-lower-nn | FileCheck %s
// nn on tensors becomes buffers: arena views, linalg and kernel calls.

// The workspace is the arena (128 bytes) then the kernels' scratch (544).
// CHECK-LABEL: func.func @small(%arg0: memref<4x8xf32>, %arg1: memref<4x16xf32>, %arg2: memref<704xi8>, %arg3: memref<512xi8>)
// CHECK-SAME: nncc.param_names = ["w"]
// CHECK-SAME: nncc.scratch_bytes = 544
// CHECK: %[[W:.*]] = memref.view %arg3[%{{.*}}][] : memref<512xi8> to memref<8x16xf32>
// CHECK: %[[T:.*]] = memref.view %arg2[%{{.*}}][] : memref<704xi8> to memref<4x8xf32>
// CHECK: linalg.generic {{.*}} ins(%arg0 : memref<4x8xf32>) outs(%[[T]] : memref<4x8xf32>)
// CHECK: arith.select
// CHECK: %[[S:.*]] = memref.view %arg2[%{{.*}}][] : memref<704xi8> to memref<544xi8>
// CHECK: nnk.call "nncc_matmul"(%[[T]], %[[W]], %arg1, %[[S]]) {meta = [1, 2, 4, 8, 1, 2, 8, 16, 1, 2, 4, 16, 0, 2, 1, 544]}
func.func @small(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %w = nn.param "w" : tensor<8x16xf32>
  %0 = nn.relu %x : tensor<4x8xf32>
  %1 = nn.matmul %0, %w : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %1 : tensor<4x16xf32>
}
