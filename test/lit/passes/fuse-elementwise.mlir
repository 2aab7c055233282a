// RUN: nncc-opt %s --split-input-file --nn-fuse-elementwise | FileCheck %s
// Elementwise chains become nn.fused ops, cut at ops that are not
// elementwise (here reductions). Broadcast operands stay inputs.

// CHECK-LABEL: func.func @chain
// CHECK: %[[A:.*]] = nn.fused(%arg0, %arg1) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<8xf32>):
// CHECK-NEXT: %[[S:.*]] = nn.add %[[X]], %[[B]]
// CHECK-NEXT: %[[G:.*]] = nn.sigmoid %[[S]]
// CHECK-NEXT: %[[M:.*]] = nn.mul %[[S]], %[[G]]
// CHECK-NEXT: nn.yield %[[M]]
// CHECK: %[[R:.*]] = nn.reduce_sum %[[A]]
// CHECK: nn.fused(%arg0, %[[R]]) : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
// CHECK: nn.sub
// CHECK: nn.exp
// CHECK: nn.abs
// CHECK: nn.add
// CHECK: nn.yield
// CHECK-NOT: nn.exp
func.func @chain(%x: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = nn.add %x, %b : tensor<4x8xf32>, tensor<8xf32>
  %1 = nn.sigmoid %0 : tensor<4x8xf32>
  %2 = nn.mul %0, %1 : tensor<4x8xf32>, tensor<4x8xf32>
  %3 = nn.reduce_sum %2 {axes = [1], keepdims = true} : tensor<4x8xf32> -> tensor<4x1xf32>
  %4 = nn.sub %x, %3 : tensor<4x8xf32>, tensor<4x1xf32>
  %5 = nn.exp %4 : tensor<4x8xf32>
  %6 = nn.abs %4 : tensor<4x8xf32>
  %7 = nn.add %5, %6 : tensor<4x8xf32>, tensor<4x8xf32>
  return %7 : tensor<4x8xf32>
}

// -----

// A cheap op feeding two groups (x - mean, squared for the variance and
// divided for the result) is recomputed in both rather than stored.
// CHECK-LABEL: func.func @normalize
// CHECK: nn.fused(%arg0, %{{.*}})
// CHECK: nn.sub
// CHECK: nn.mul
// CHECK: nn.reduce_mean
// CHECK: nn.fused(%arg0, %{{.*}}, %{{.*}})
// CHECK: nn.sub
// CHECK: nn.div
// CHECK-NOT: nn.sub
// CHECK: return
func.func @normalize(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %m = nn.reduce_mean %x {axes = [1], keepdims = true} : tensor<4x8xf32> -> tensor<4x1xf32>
  %d = nn.sub %x, %m : tensor<4x8xf32>, tensor<4x1xf32>
  %sq = nn.mul %d, %d : tensor<4x8xf32>, tensor<4x8xf32>
  %v = nn.reduce_mean %sq {axes = [1], keepdims = true} : tensor<4x8xf32> -> tensor<4x1xf32>
  %y = nn.div %d, %v : tensor<4x8xf32>, tensor<4x1xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Not fused: an op whose result has a smaller shape than its user's (it
// would be recomputed per broadcast element). An op also used outside its
// user's group (here returned) is one more result of that group.
// CHECK-LABEL: func.func @boundaries
// CHECK: %[[E:.*]] = nn.exp %arg1 : tensor<8xf32>
// CHECK: %[[F:.*]]:2 = nn.fused(%arg0, %[[E]]) : (tensor<4x8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)
// CHECK: %[[N:.*]] = nn.neg
// CHECK: %[[S:.*]] = nn.add %[[N]]
// CHECK: nn.yield %[[N]], %[[S]]
// CHECK: return %[[F]]#1, %[[F]]#0
func.func @boundaries(%x: tensor<4x8xf32>, %y: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %e = nn.exp %y : tensor<8xf32>
  %n = nn.neg %x : tensor<4x8xf32>
  %s = nn.add %n, %e : tensor<4x8xf32>, tensor<8xf32>
  return %s, %n : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Two unrolled LSTM steps (batch 2, hidden 4; xw holds both steps' input
// projections). Each step is one nn.fused op from its gate pre-activations
// to h and c: the add of the two products moves below the gate slices, the
// slices read xw and the product as views (a step's rows of xw, then a
// gate's columns, one slice), and c is a second result which the next step
// reads instead of recomputing.
// CHECK-LABEL: func.func @lstm_steps
// CHECK: %[[M0:.*]] = nn.gemm %arg3, %arg1
// CHECK-NEXT: %[[S0:.*]]:2 = nn.fused(%arg0, %[[M0]], %arg2) : (tensor<4x16xf32>, tensor<2x16xf32>, tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>)
// CHECK-NEXT: ^bb0(%[[XW:.*]]: tensor<4x16xf32>, %[[M:.*]]: tensor<2x16xf32>, %[[C:.*]]: tensor<2x4xf32>):
// CHECK-NEXT: %[[XI:.*]] = nn.slice %[[XW]] {sizes = [2, 4], starts = [0, 0], steps = [1, 1]} : tensor<4x16xf32> -> tensor<2x4xf32>
// CHECK-NEXT: %[[MI:.*]] = nn.slice %[[M]] {sizes = [2, 4], starts = [0, 0], steps = [1, 1]} : tensor<2x16xf32> -> tensor<2x4xf32>
// CHECK-NEXT: nn.add %[[XI]], %[[MI]]
// CHECK-COUNT-3: nn.sigmoid
// CHECK: nn.yield %{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<2x4xf32>
// CHECK-NEXT: }
// CHECK-NEXT: %[[M1:.*]] = nn.gemm %[[S0]]#1, %arg1
// CHECK-NEXT: %[[S1:.*]]:2 = nn.fused(%arg0, %[[M1]], %[[S0]]#0)
// CHECK: nn.slice %{{.*}} {sizes = [2, 4], starts = [2, 0], steps = [1, 1]} : tensor<4x16xf32> -> tensor<2x4xf32>
// CHECK: nn.sigmoid
// CHECK: nn.sigmoid
// CHECK: nn.tanh
// CHECK: nn.sigmoid
// CHECK: nn.tanh
// CHECK-NOT: nn.{{sigmoid|tanh}}
// CHECK: nn.yield
// CHECK-NEXT: }
// CHECK-NEXT: return %[[S1]]#1, %[[S1]]#0
func.func @lstm_steps(%xw: tensor<4x16xf32>, %r: tensor<16x4xf32>, %c0: tensor<2x4xf32>, %h0: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %m0 = nn.gemm %h0, %r {transB = true} : (tensor<2x4xf32>, tensor<16x4xf32>) -> tensor<2x16xf32>
  %x0 = nn.slice %xw {sizes = [2, 16], starts = [0, 0], steps = [1, 1]} : tensor<4x16xf32> -> tensor<2x16xf32>
  %p0 = nn.add %x0, %m0 : tensor<2x16xf32>, tensor<2x16xf32>
  %gi0 = nn.slice %p0 {sizes = [2, 4], starts = [0, 0], steps = [1, 1]} : tensor<2x16xf32> -> tensor<2x4xf32>
  %go0 = nn.slice %p0 {sizes = [2, 4], starts = [0, 4], steps = [1, 1]} : tensor<2x16xf32> -> tensor<2x4xf32>
  %gf0 = nn.slice %p0 {sizes = [2, 4], starts = [0, 8], steps = [1, 1]} : tensor<2x16xf32> -> tensor<2x4xf32>
  %gg0 = nn.slice %p0 {sizes = [2, 4], starts = [0, 12], steps = [1, 1]} : tensor<2x16xf32> -> tensor<2x4xf32>
  %i0 = nn.sigmoid %gi0 : tensor<2x4xf32>
  %f0 = nn.sigmoid %gf0 : tensor<2x4xf32>
  %g0 = nn.tanh %gg0 : tensor<2x4xf32>
  %fc0 = nn.mul %f0, %c0 : tensor<2x4xf32>, tensor<2x4xf32>
  %ig0 = nn.mul %i0, %g0 : tensor<2x4xf32>, tensor<2x4xf32>
  %c1 = nn.add %fc0, %ig0 : tensor<2x4xf32>, tensor<2x4xf32>
  %o0 = nn.sigmoid %go0 : tensor<2x4xf32>
  %tc0 = nn.tanh %c1 : tensor<2x4xf32>
  %h1 = nn.mul %o0, %tc0 : tensor<2x4xf32>, tensor<2x4xf32>
  %m1 = nn.gemm %h1, %r {transB = true} : (tensor<2x4xf32>, tensor<16x4xf32>) -> tensor<2x16xf32>
  %x1 = nn.slice %xw {sizes = [2, 16], starts = [2, 0], steps = [1, 1]} : tensor<4x16xf32> -> tensor<2x16xf32>
  %p1 = nn.add %x1, %m1 : tensor<2x16xf32>, tensor<2x16xf32>
  %gi1 = nn.slice %p1 {sizes = [2, 4], starts = [0, 0], steps = [1, 1]} : tensor<2x16xf32> -> tensor<2x4xf32>
  %go1 = nn.slice %p1 {sizes = [2, 4], starts = [0, 4], steps = [1, 1]} : tensor<2x16xf32> -> tensor<2x4xf32>
  %gf1 = nn.slice %p1 {sizes = [2, 4], starts = [0, 8], steps = [1, 1]} : tensor<2x16xf32> -> tensor<2x4xf32>
  %gg1 = nn.slice %p1 {sizes = [2, 4], starts = [0, 12], steps = [1, 1]} : tensor<2x16xf32> -> tensor<2x4xf32>
  %i1 = nn.sigmoid %gi1 : tensor<2x4xf32>
  %f1 = nn.sigmoid %gf1 : tensor<2x4xf32>
  %g1 = nn.tanh %gg1 : tensor<2x4xf32>
  %fc1 = nn.mul %f1, %c1 : tensor<2x4xf32>, tensor<2x4xf32>
  %ig1 = nn.mul %i1, %g1 : tensor<2x4xf32>, tensor<2x4xf32>
  %c2 = nn.add %fc1, %ig1 : tensor<2x4xf32>, tensor<2x4xf32>
  %o1 = nn.sigmoid %go1 : tensor<2x4xf32>
  %tc1 = nn.tanh %c2 : tensor<2x4xf32>
  %h2 = nn.mul %o1, %tc1 : tensor<2x4xf32>, tensor<2x4xf32>
  return %h2, %c2 : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// Groups merge along the values one feeds the other when every other user
// of their results comes after both: h (read by the product) and y (a
// step's output under sequence lengths) are one nn.fused op. In @no_merge
// y needs the product of h: merged, h would come after its own user.
// CHECK-LABEL: func.func @merge
// CHECK: %[[F:.*]]:2 = nn.fused(%arg0, %arg1)
// CHECK: nn.tanh
// CHECK: nn.select
// CHECK: nn.mul
// CHECK: nn.yield
// CHECK-NOT: nn.fused
// CHECK: nn.matmul %[[F]]#0, %arg2
// CHECK-LABEL: func.func @no_merge
// CHECK: %[[H:.*]]:2 = nn.fused(%arg0, %arg1)
// CHECK: %[[P:.*]] = nn.matmul %[[H]]#1, %arg2
// CHECK: nn.add %[[H]]#0, %[[P]]
func.func @merge(%x: tensor<4x8xf32>, %m: tensor<4x1xi1>, %w: tensor<8x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %a = nn.tanh %x : tensor<4x8xf32>
  %h = nn.select %m, %a, %x : tensor<4x1xi1>, tensor<4x8xf32>, tensor<4x8xf32>
  %y = nn.mul %a, %a : tensor<4x8xf32>, tensor<4x8xf32>
  %p = nn.matmul %h, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %p, %y : tensor<4x8xf32>, tensor<4x8xf32>
}
func.func @no_merge(%x: tensor<4x8xf32>, %m: tensor<4x1xi1>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %a = nn.tanh %x : tensor<4x8xf32>
  %h = nn.select %m, %a, %x : tensor<4x1xi1>, tensor<4x8xf32>, tensor<4x8xf32>
  %p = nn.matmul %h, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %y = nn.add %a, %p : tensor<4x8xf32>, tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Slices move through an op only when they cover no more than its elements
// (overlapping slices would compute some twice). A broadcast operand is
// sliced along the dimensions it has; its slices, views broadcast to the
// group's shape, are in the group too.
// CHECK-LABEL: func.func @overlap
// CHECK: nn.exp %arg0 : tensor<2x16xf32>
// CHECK-LABEL: func.func @broadcast
// CHECK-NEXT: nn.fused(%arg0, %arg1) : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x8xf32>
// CHECK-DAG: nn.slice %{{.*}} {sizes = [8], starts = [0], steps = [1]} : tensor<16xf32> -> tensor<8xf32>
// CHECK-DAG: nn.slice %{{.*}} {sizes = [8], starts = [8], steps = [1]} : tensor<16xf32> -> tensor<8xf32>
// CHECK-DAG: nn.slice %{{.*}} {sizes = [2, 8], starts = [0, 0], steps = [1, 1]} : tensor<2x16xf32> -> tensor<2x8xf32>
// CHECK-DAG: nn.slice %{{.*}} {sizes = [2, 8], starts = [0, 8], steps = [1, 1]} : tensor<2x16xf32> -> tensor<2x8xf32>
// CHECK: nn.yield
func.func @overlap(%x: tensor<2x16xf32>) -> tensor<2x12xf32> {
  %e = nn.exp %x : tensor<2x16xf32>
  %a = nn.slice %e {sizes = [2, 12], starts = [0, 0], steps = [1, 1]} : tensor<2x16xf32> -> tensor<2x12xf32>
  %b = nn.slice %e {sizes = [2, 12], starts = [0, 4], steps = [1, 1]} : tensor<2x16xf32> -> tensor<2x12xf32>
  %s = nn.mul %a, %b : tensor<2x12xf32>, tensor<2x12xf32>
  return %s : tensor<2x12xf32>
}
func.func @broadcast(%x: tensor<2x16xf32>, %b: tensor<16xf32>) -> tensor<2x8xf32> {
  %e = nn.add %x, %b : tensor<2x16xf32>, tensor<16xf32>
  %l = nn.slice %e {sizes = [2, 8], starts = [0, 0], steps = [1, 1]} : tensor<2x16xf32> -> tensor<2x8xf32>
  %r = nn.slice %e {sizes = [2, 8], starts = [0, 8], steps = [1, 1]} : tensor<2x16xf32> -> tensor<2x8xf32>
  %s = nn.mul %l, %r : tensor<2x8xf32>, tensor<2x8xf32>
  return %s : tensor<2x8xf32>
}

// -----

// A slice reads an input of its group, never a value the group computes:
// x, sliced (row 0, broadcast) and read whole by the same group, is
// computed before it.
// CHECK-LABEL: func.func @slice_of_member
// CHECK: %[[X:.*]] = nn.exp %arg0 : tensor<4x8xf32>
// CHECK: nn.fused(%[[X]]) : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK: nn.slice %{{.*}} {sizes = [1, 8], starts = [0, 0], steps = [1, 1]}
// CHECK: nn.add
// CHECK: nn.mul
func.func @slice_of_member(%a: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %x = nn.exp %a : tensor<4x8xf32>
  %s = nn.slice %x {sizes = [1, 8], starts = [0, 0], steps = [1, 1]} : tensor<4x8xf32> -> tensor<1x8xf32>
  %y = nn.add %x, %s : tensor<4x8xf32>, tensor<1x8xf32>
  %z = nn.mul %y, %y : tensor<4x8xf32>, tensor<4x8xf32>
  return %z : tensor<4x8xf32>
}

// -----

// Slices of slices compose (start s1 + st1 * s2, step st1 * st2): rows 1,
// 5, 9 of x (every other row from 1, then every other from 0), columns 3,
// 9 (every third column from 0, then every other from 1). An operand used
// twice is sliced once; a select (its i1 condition broadcast) and a cast
// move below slices as any elementwise op does.
// CHECK-LABEL: func.func @steps
// CHECK: nn.fused(%arg1, %arg0, %{{.*}}) : (tensor<12x1xi1>, tensor<12x12xf32>, tensor<f32>) -> tensor<3x2xf32>
// CHECK-NEXT: ^bb0(%[[M:.*]]: tensor<12x1xi1>, %[[X:.*]]: tensor<12x12xf32>, %{{.*}}: tensor<f32>):
// CHECK-DAG: nn.slice %[[X]] {sizes = [3, 2], starts = [1, 3], steps = [4, 6]} : tensor<12x12xf32> -> tensor<3x2xf32>
// CHECK-DAG: nn.slice %[[M]] {sizes = [3, 1], starts = [1, 0], steps = [4, 1]} : tensor<12x1xi1> -> tensor<3x1xi1>
// CHECK-NOT: nn.slice
// CHECK: nn.yield
func.func @steps(%x: tensor<12x12xf32>, %m: tensor<12x1xi1>) -> tensor<3x2xf32> {
  %z = nn.constant dense<0.0> : tensor<f32>
  %sq = nn.mul %x, %x : tensor<12x12xf32>, tensor<12x12xf32>
  %sel = nn.select %m, %sq, %z : tensor<12x1xi1>, tensor<12x12xf32>, tensor<f32>
  %h = nn.cast %sel : tensor<12x12xf32> to f16
  %a = nn.slice %h {sizes = [6, 4], starts = [1, 0], steps = [2, 3]} : tensor<12x12xf16> -> tensor<6x4xf16>
  %b = nn.slice %a {sizes = [3, 2], starts = [0, 1], steps = [2, 2]} : tensor<6x4xf16> -> tensor<3x2xf16>
  %f = nn.cast %b : tensor<3x2xf16> to f32
  %y = nn.exp %f : tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
