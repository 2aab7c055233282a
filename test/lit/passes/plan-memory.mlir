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
