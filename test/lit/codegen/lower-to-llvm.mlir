// RUN: nncc-opt %s --nncc-lower-nn --convert-linalg-to-loops --lower-affine --convert-scf-to-cf --nncc-lower-to-llvm --reconcile-unrealized-casts | FileCheck %s
// The whole lowering: bare-pointer functions, an entry point, kernel calls.

// CHECK-DAG: llvm.mlir.global internal constant @__nnk_meta_{{[0-9]+}}(dense<[1, 2, 4, 8
// CHECK-DAG: llvm.func @nncc_matmul(!llvm.ptr<i64>, !llvm.ptr<ptr<i8>>)
// CHECK-LABEL: llvm.func @small(%arg0: !llvm.ptr<f32>, %arg1: !llvm.ptr<f32>, %arg2: !llvm.ptr<i8>, %arg3: !llvm.ptr<i8>)
// CHECK: llvm.call @nncc_matmul
// CHECK-LABEL: llvm.func @small_entry(%arg0: !llvm.ptr<ptr<i8>>, %arg1: !llvm.ptr<ptr<i8>>, %arg2: !llvm.ptr<i8>, %arg3: !llvm.ptr<i8>) -> i32
// CHECK: llvm.call @small(
func.func @small(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %w = nn.param "w" : tensor<8x16xf32>
  %0 = nn.relu %x : tensor<4x8xf32>
  %1 = nn.matmul %0, %w : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %1 : tensor<4x16xf32>
}
