// RUN: nncc-opt %s --nncc-lower-nn --split-input-file | FileCheck %s
// nn on tensors becomes buffers: arena views, linalg and kernel calls.

// Compiled for the portable kernels (a bundle): the workspace is the arena
// (128 bytes) then the portable GEMM's scratch (544). The matmul's meta ends
// with: no bias (0), constant weights (1), no post-ops (0), then the scratch.
// CHECK-LABEL: func.func @small(%arg0: memref<4x8xf32>, %arg1: memref<4x16xf32>, %arg2: memref<704xi8>, %arg3: memref<512xi8>)
// CHECK-SAME: nncc.param_names = ["w"]
// CHECK-SAME: nncc.scratch_bytes = 544
// CHECK: %[[W:.*]] = memref.view %arg3[%{{.*}}][] : memref<512xi8> to memref<8x16xf32>
// CHECK: %[[T:.*]] = memref.view %arg2[%{{.*}}][] : memref<704xi8> to memref<4x8xf32>
// CHECK: linalg.generic {{.*}} ins(%arg0 : memref<4x8xf32>) outs(%[[T]] : memref<4x8xf32>)
// CHECK: arith.select
// CHECK: %[[S:.*]] = memref.view %arg2[%{{.*}}][] : memref<704xi8> to memref<544xi8>
// CHECK: nnk.call "nncc_matmul"(%[[T]], %[[W]], %arg1, %[[S]]) {meta = [1, 2, 4, 8, 1, 2, 8, 16, 1, 2, 4, 16, 0, 1, 0, 2, 1, 544]}
module attributes {nncc.portable_kernels} {
func.func @small(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %w = nn.param "w" : tensor<8x16xf32>
  %0 = nn.relu %x : tensor<4x8xf32>
  %1 = nn.matmul %0, %w : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %1 : tensor<4x16xf32>
}
}

// -----

// For the host runtime, oneDNN runs the matmul and brings its own scratch.
// The fused bias and ReLU are in the meta: bias buffer, constant weights,
// one post-op (code 1, alpha 0, beta 0).
// CHECK-LABEL: func.func @host
// CHECK-SAME: nncc.scratch_bytes = 0
// CHECK: nnk.call "nncc_matmul"(%arg0, %{{.*}}, %arg1, %{{.*}}) {meta = [1, 2, 4, 8, 1, 2, 8, 16, 1, 2, 4, 16, 1, 1, 16, 1, 1, 1, 0, 0, 0]}
func.func @host(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %w = nn.param "w" : tensor<8x16xf32>
  %b = nn.param "b" : tensor<16xf32>
  %0 = nn.matmul %x, %w, bias %b {post_ops = ["relu"]} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// A random op calls its kernel with the output and its own draw counter, a
// mutable global of the module that each run advances; two ops of one
// stream (a clone) still get a counter each. Meta: the output (f32 [2, 3]),
// the counter (i64 [1]), the seed (7), the stream (3), low 0.0 and high 1.0
// (doubles' bits), no scratch.
// CHECK-DAG: memref.global "private" @nncc_random_draws_3 : memref<1xi64> = dense<0>
// CHECK-DAG: memref.global "private" @nncc_random_draws_3_1 : memref<1xi64> = dense<0>
// CHECK-LABEL: func.func @draws
// CHECK: %[[C:.*]] = memref.get_global @nncc_random_draws_3 : memref<1xi64>
// CHECK: nnk.call "nncc_random_uniform"(%{{.*}}, %[[C]]) {meta = [1, 2, 2, 3, 7, 1, 1, 7, 3, 0, 4607182418800017408, 0]}
// CHECK: %[[D:.*]] = memref.get_global @nncc_random_draws_3_1 : memref<1xi64>
// CHECK: nnk.call "nncc_random_uniform"(%{{.*}}, %[[D]])
func.func @draws() -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %0 = nn.random_uniform {shape = [2, 3], element_type = f32, low = 0.0, high = 1.0, seed = 7, stream = 3} : tensor<2x3xf32>
  %1 = nn.random_uniform {shape = [2, 3], element_type = f32, low = 0.0, high = 1.0, seed = 7, stream = 3} : tensor<2x3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// A cast to f16 inside a fused loop rounds (truncf, then extf back to the
// f32 it is computed in): the comparison sees the f16 value, as it would
// had the cast been stored.
// CHECK-LABEL: func.func @rounds_to_half
// CHECK: linalg.generic
// CHECK: %[[T:.*]] = arith.truncf %{{.*}} : f32 to f16
// CHECK: %[[E:.*]] = arith.extf %[[T]] : f16 to f32
// CHECK: arith.cmpf olt, %[[E]]
func.func @rounds_to_half(%x: tensor<8xf32>) -> tensor<8xi1> {
  %one = nn.constant dense<1.0> : tensor<f16>
  %fused = nn.fused(%x, %one) : (tensor<8xf32>, tensor<f16>) -> tensor<8xi1> {
  ^bb0(%a: tensor<8xf32>, %b: tensor<f16>):
    %h = nn.cast %a : tensor<8xf32> to f16
    %lt = nn.less %h, %b : tensor<8xf16>, tensor<f16>
    nn.yield %lt : tensor<8xi1>
  }
  return %fused : tensor<8xi1>
}
