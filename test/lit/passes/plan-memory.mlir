// RUN: nncc-opt %s --nn-plan-memory | FileCheck %s
// RUN: nncc-opt %s --nn-plan-memory="reuse=false" | FileCheck %s --check-prefix=NOREUSE
// Dead values give their memory to later ones; outputs go to the caller.

// CHECK-LABEL: func.func @chain
// CHECK-SAME: nn.arena_bytes = 8192
// CHECK: nn.relu %arg0 {nn.arena_offset = [0]}
// CHECK: nn.exp %{{.*}} {nn.arena_offset = [4096]}
// CHECK: nn.neg %{{.*}} {nn.arena_offset = [0]}
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
