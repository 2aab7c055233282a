// RUN: nncc-opt %s --nn-plan-memory | FileCheck %s
// RUN: nncc-opt %s --nn-plan-memory="reuse=false" | FileCheck %s --check-prefix=NOREUSE
// Dead values give their memory to later ones; an elementwise op whose
// operand dies there writes in place of it; outputs go to the caller.

// CHECK-LABEL: func.func @chain
// CHECK-SAME: nn.arena_bytes = 4096
// CHECK: nn.relu %arg0 {nn.arena_offset = [0]}
// CHECK: nn.exp %{{.*}} {nn.arena_offset = [0], nn.in_place = 0 : i64}
// CHECK: nn.neg %{{.*}} {nn.arena_offset = [0], nn.in_place = 0 : i64}
// CHECK: nn.tanh %{{.*}} {nn.arena_offset = [-1]}
// NOREUSE: nn.arena_bytes = 12288
// NOREUSE: nn.neg %{{.*}} {nn.arena_offset = [8192]}
func.func @chain(%x: tensor<1024xf32>) -> tensor<1024xf32> {
  %a = nn.relu %x : tensor<1024xf32>
  %b = nn.exp %a : tensor<1024xf32>
  %c = nn.neg %b : tensor<1024xf32>
  %d = nn.tanh %c : tensor<1024xf32>
  return %d : tensor<1024xf32>
}

// %a is read again after exp: exp cannot overwrite it; add can (its last use).
// CHECK-LABEL: func.func @shared
// CHECK-SAME: nn.arena_bytes = 8192
// CHECK: nn.relu %arg0 {nn.arena_offset = [0]}
// CHECK: nn.exp %{{.*}} {nn.arena_offset = [4096]}
// CHECK: nn.add %{{.*}}, %{{.*}} {nn.arena_offset = [0], nn.in_place = 0 : i64}
func.func @shared(%x: tensor<1024xf32>) -> tensor<1024xf32> {
  %a = nn.relu %x : tensor<1024xf32>
  %b = nn.exp %a : tensor<1024xf32>
  %c = nn.add %a, %b : tensor<1024xf32>, tensor<1024xf32>
  %d = nn.tanh %c : tensor<1024xf32>
  return %d : tensor<1024xf32>
}

// A concat along its outermost non-unit axis: its parts are computed in
// place inside its buffer (part 1 at byte 0, part 2 at 4096) and the concat
// copies nothing; the buffer lives from the first part to the last use.
// CHECK-LABEL: func.func @concat_in_place
// CHECK-SAME: nn.arena_bytes = 8192
// CHECK: nn.relu %arg0 {nn.arena_offset = [0]}
// CHECK: nn.exp %arg0 {nn.arena_offset = [4096]}
// CHECK: nn.concat {{.*}}nn.arena_offset = [0], nn.concat_in_place
// A part that is not 64-byte aligned inside the result: copied as usual.
// CHECK-LABEL: func.func @concat_unaligned
// CHECK-NOT: nn.concat_in_place
func.func @concat_in_place(%x: tensor<1x1024xf32>) -> tensor<1x2048xf32> {
  %a = nn.relu %x : tensor<1x1024xf32>
  %b = nn.exp %x : tensor<1x1024xf32>
  %c = nn.concat %a, %b {axis = 1 : i64} : (tensor<1x1024xf32>, tensor<1x1024xf32>) -> tensor<1x2048xf32>
  %d = nn.neg %c : tensor<1x2048xf32>
  return %d : tensor<1x2048xf32>
}
func.func @concat_unaligned(%x: tensor<1x3xf32>) -> tensor<1x6xf32> {
  %a = nn.relu %x : tensor<1x3xf32>
  %b = nn.exp %x : tensor<1x3xf32>
  %c = nn.concat %a, %b {axis = 1 : i64} : (tensor<1x3xf32>, tensor<1x3xf32>) -> tensor<1x6xf32>
  %d = nn.neg %c : tensor<1x6xf32>
  return %d : tensor<1x6xf32>
}
