// RUN: nncc-opt %s --nn-autodiff --split-input-file --verify-diagnostics | FileCheck %s
// Reverse mode in the nn dialect: the gradients follow the loss as results.

// y = sum(relu(x W^T + b)): dW and db come from the relu mask; x (used
// twice: by the gemm and by the mul) accumulates both gradients.
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: -> (tensor<f32>, tensor<2x3xf32>, tensor<4x3xf32>, tensor<4xf32>)
// CHECK: %[[H:.*]] = nn.gemm %arg0, %arg1, %arg2 {transB = true}
// CHECK: %[[R:.*]] = nn.relu %[[H]]
// CHECK: %[[MASK:.*]] = nn.greater %[[H]]
// CHECK: %[[DH:.*]] = nn.select %[[MASK]]
// The input gradient: dH W (no transposes), plus the mul's share.
// CHECK-DAG: nn.gemm %[[DH]], %arg1 {{.*}}: (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
// The weight gradient: dH^T x.
// CHECK-DAG: nn.gemm %[[DH]], %arg0 {{.*}}transA = true{{.*}} -> tensor<4x3xf32>
// The bias gradient: dH summed over the batch.
// CHECK-DAG: nn.reduce_sum %[[DH]] {axes = [0]
// CHECK: return
func.func @mlp(%x: tensor<2x3xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>) -> tensor<f32> {
  %h = nn.gemm %x, %w, %b {transB = true} : (tensor<2x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %r = nn.relu %h : tensor<2x4xf32>
  %s = nn.reduce_sum %r {axes = [], keepdims = false} : tensor<2x4xf32> -> tensor<f32>
  %t = nn.reduce_sum %x {axes = [], keepdims = false} : tensor<2x3xf32> -> tensor<f32>
  %l = nn.mul %s, %t : tensor<f32>, tensor<f32>
  return %l : tensor<f32>
}

// -----

// An argument the loss does not depend on gets zeros.
// CHECK-LABEL: func.func @unused
// CHECK: %[[Z:.*]] = nn.constant dense<0.000000e+00> : tensor<3xf32>
// CHECK: return %{{.*}}, %{{.*}}, %[[Z]]
func.func @unused(%x: tensor<3xf32>, %y: tensor<3xf32>) -> tensor<f32> {
  %e = nn.exp %x : tensor<3xf32>
  %s = nn.reduce_sum %e {axes = [], keepdims = false} : tensor<3xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// The loss must be a scalar.
// expected-error @+1 {{nn-autodiff: the loss must be a float scalar}}
func.func @not_scalar(%x: tensor<3xf32>) -> tensor<3xf32> {
  %e = nn.exp %x : tensor<3xf32>
  return %e : tensor<3xf32>
}

// -----

// An op without a gradient rule is named.
// expected-error @+1 {{nn-autodiff: no gradient for 'nn.pad'}}
func.func @no_rule(%x: tensor<4x4xf32>) -> tensor<f32> {
  %f = nn.pad %x {pads = [1, 1, 1, 1], mode = "reflect"} : tensor<4x4xf32> -> tensor<6x6xf32>
  %s = nn.reduce_sum %f {axes = [], keepdims = false} : tensor<6x6xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// A recurrent layer's backward is one nn.lstm_grad: it takes the forward
// operands, the forward y (h_{t-1} for dR), the gradients of the results the
// loss reads (here y_h only; dY and dY_c are absent) and (store-all, the
// default) the gate pre-activations that the forward, now an
// nn.lstm_with_gates, saved; the operands' gradients are its results.
// CHECK-LABEL: func.func @lstm
// CHECK-SAME: -> (tensor<f32>, tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>)
// CHECK-NOT: nn.lstm %
// CHECK: %[[Y:.*]], %[[H:.*]], %{{.*}}, %[[G:.*]] = nn.lstm_with_gates %arg0, %arg1, %arg2 {{.*}} -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x5x2x16xf32>)
// CHECK: %[[DX:.*]], %[[DW:.*]], %[[DR:.*]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} = nn.lstm_grad %arg0, %arg1, %arg2, %[[Y]], %{{.*}}, %[[G]] {{{.*}}operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1]>
// CHECK: return %{{.*}}, %[[DX]], %[[DW]], %[[DR]]
func.func @lstm(%x: tensor<5x2x3xf32>, %w: tensor<1x16x3xf32>, %r: tensor<1x16x4xf32>) -> tensor<f32> {
  %y, %h, %c = nn.lstm %x, %w, %r {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  %s = nn.reduce_sum %h {axes = [], keepdims = false} : tensor<1x2x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// A Loop run as a loop (nn.loop) with a trip count known at compile time:
// the forward also saves each iteration's carried value (a scan output of
// [3, 4]) and counts the iterations; the backward is a loop of that many
// iterations, which gathers step n - 1 - i's saved x, runs the body's
// backward and carries dx and the running sum of dw (w is read from
// outside the body).
// CHECK-LABEL: func.func @through_loop
// CHECK: %[[F:.*]]:3 = nn.loop(%{{.*}}, %{{.*}}, %arg1) {scan_outputs = 1 : i64} : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> (tensor<4xf32>, tensor<3x4xf32>, tensor<i64>)
// CHECK: ^bb0(%{{.*}}: tensor<i64>, %{{.*}}: tensor<i1>, %[[XI:.*]]: tensor<4xf32>):
// CHECK:   nn.loop_yield %{{.*}}, %{{.*}}, %[[XI]] :
// CHECK: %[[B:.*]]:2 = nn.loop(%[[F]]#2, %{{.*}}, %{{.*}}, %{{.*}}) {scan_outputs = 0 : i64}
// CHECK: ^bb0(%[[I:.*]]: tensor<i64>, %[[C:.*]]: tensor<i1>, %[[DX:.*]]: tensor<4xf32>, %[[SUMDW:.*]]: tensor<4xf32>):
// CHECK:   %[[I1:.*]] = nn.add %[[I]], %{{.*}} : tensor<i64>, tensor<i64>
// CHECK:   %[[T:.*]] = nn.sub %[[F]]#2, %[[I1]]
// CHECK:   %[[X:.*]] = nn.gather %[[F]]#1, %[[T]] {axis = 0 : i64}
// CHECK:   %[[NDX:.*]] = nn.mul %[[DX]], %arg0
// CHECK:   %[[DW:.*]] = nn.mul %[[DX]], %[[X]]
// CHECK:   %[[NSUM:.*]] = nn.add %[[SUMDW]], %[[DW]]
// CHECK:   nn.loop_yield %[[C]], %[[NDX]], %[[NSUM]]
// CHECK: return %{{.*}}, %[[B]]#1, %[[B]]#0
func.func @through_loop(%w: tensor<4xf32>, %x: tensor<4xf32>) -> tensor<f32> {
  %m = nn.constant dense<3> : tensor<i64>
  %c = nn.constant dense<true> : tensor<i1>
  %r = nn.loop(%m, %c, %x) : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %xi: tensor<4xf32>):
    %y = nn.mul %xi, %w : tensor<4xf32>, tensor<4xf32>
    nn.loop_yield %ci, %y : tensor<i1>, tensor<4xf32>
  }
  %s = nn.reduce_sum %r {axes = [], keepdims = false} : tensor<4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// The loss itself is a loop's result (the loop op is replaced while it is
// differentiated): dw sums w_k-independent terms over the iterations.
// CHECK-LABEL: func.func @loss_is_loop
// CHECK: %[[F:.*]]:3 = nn.loop(%{{.*}}, %{{.*}}, %arg0) {scan_outputs = 1 : i64}
// CHECK: %[[B:.*]]:2 = nn.loop(%[[F]]#2,
// CHECK: return %[[F]]#0, %{{.*}}
func.func @loss_is_loop(%w: tensor<f32>) -> tensor<f32> {
  %m = nn.constant dense<2> : tensor<i64>
  %c = nn.constant dense<true> : tensor<i1>
  %r = nn.loop(%m, %c, %w) : (tensor<i64>, tensor<i1>, tensor<f32>) -> tensor<f32> {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %xi: tensor<f32>):
    %y = nn.mul %xi, %w : tensor<f32>, tensor<f32>
    nn.loop_yield %ci, %y : tensor<i1>, tensor<f32>
  }
  return %r : tensor<f32>
}

// -----

// With a trip count known only at run time the iterations are saved in a
// capacity of rows (loop-rows; by default as many as fit 64 MiB, at most
// 4096): the saving loop stops when they run out, its count (one more
// than the rows then) becomes a result marked nn.rows_within for the
// runtime to recompile with more, and the backward runs at most that many
// iterations. (With loop-rows=0 it is refused: autodiff-loop-rows.mlir.)
// CHECK-LABEL: func.func @through_runtime_loop
// CHECK-SAME: tensor<i64> {nn.grows_loop = 0 : i64, nn.rows_within = 4096 : i64}
// CHECK: %[[F:.*]]:3 = nn.loop(%arg0, %arg1, %arg3) {scan_outputs = 1 : i64} : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4096x4xf32>, tensor<i64>)
// CHECK: %[[CAP:.*]] = nn.constant dense<4096> : tensor<i64>
// CHECK: %[[N:.*]] = nn.min %[[F]]#2, %[[CAP]]
// CHECK: nn.loop(%[[N]],
// CHECK: return %{{.*}}, %{{.*}}, %{{.*}}, %[[F]]#2 :
func.func @through_runtime_loop(%m: tensor<i64>, %c: tensor<i1>, %w: tensor<4xf32>, %x: tensor<4xf32>) -> tensor<f32> {
  %r = nn.loop(%m, %c, %x) : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %xi: tensor<4xf32>):
    %y = nn.mul %xi, %w : tensor<4xf32>, tensor<4xf32>
    nn.loop_yield %ci, %y : tensor<i1>, tensor<4xf32>
  }
  %s = nn.reduce_sum %r {axes = [], keepdims = false} : tensor<4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// A while loop inside a loop's body is differentiated inside the outer
// backward's body, where no count can be checked at the end of the run:
// its iterations must be planned at compile time (here M = INT64_MAX).
// expected-error @+1 {{(a loop inside a loop body: its iterations must be planned at compile time)}}
func.func @inner_while(%w: tensor<4xf32>, %x: tensor<4xf32>) -> tensor<f32> {
  %m = nn.constant dense<2> : tensor<i64>
  %big = nn.constant dense<9223372036854775807> : tensor<i64>
  %c = nn.constant dense<true> : tensor<i1>
  %lim = nn.constant dense<1.0> : tensor<f32>
  %r = nn.loop(%m, %c, %x) : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %h: tensor<4xf32>):
    %g = nn.loop(%big, %ci, %h) : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> tensor<4xf32> {
    ^bb0(%j: tensor<i64>, %cj: tensor<i1>, %gi: tensor<4xf32>):
      %y = nn.mul %gi, %w : tensor<4xf32>, tensor<4xf32>
      %e = nn.reduce_sum %y {axes = [], keepdims = false} : tensor<4xf32> -> tensor<f32>
      %go = nn.greater %e, %lim : tensor<f32>, tensor<f32>
      nn.loop_yield %go, %y : tensor<i1>, tensor<4xf32>
    }
    nn.loop_yield %ci, %g : tensor<i1>, tensor<4xf32>
  }
  %s = nn.reduce_sum %r {axes = [], keepdims = false} : tensor<4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// A loop with a trip count known only at run time and a scan output of 5
// rows (a capacity given by an import): they may stop it before its end,
// and its backward would miss the iterations past them: refused.
// expected-error @+1 {{may outrun the 5 rows of its scan outputs}}
func.func @scan_rows_bound_it(%m: tensor<i64>, %c: tensor<i1>, %w: tensor<4xf32>, %x: tensor<4xf32>) -> tensor<f32> {
  %r, %ys, %n = nn.loop(%m, %c, %x) {scan_outputs = 1 : i64} : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> (tensor<4xf32>, tensor<5x4xf32>, tensor<i64>) {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %xi: tensor<4xf32>):
    %y = nn.mul %xi, %w : tensor<4xf32>, tensor<4xf32>
    nn.loop_yield %ci, %y, %xi : tensor<i1>, tensor<4xf32>, tensor<4xf32>
  }
  %s = nn.reduce_sum %r {axes = [], keepdims = false} : tensor<4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// A loop without carried values saves nothing: its trip count (100000, more
// than 65536 iterations could be saved) is planned as it is, without a
// capacity or a count to check; its backward runs as many iterations as
// the forward did.
// CHECK-LABEL: func.func @nothing_carried
// CHECK-NOT: nn.rows_within
// CHECK: %[[F:.*]]:2 = nn.loop(%{{.*}}, %{{.*}}) {scan_outputs = 1 : i64}
// CHECK-NOT: nn.min
// CHECK: nn.loop(%[[F]]#1,
func.func @nothing_carried(%w: tensor<2xf32>) -> tensor<f32> {
  %m = nn.constant dense<100000> : tensor<i64>
  %c = nn.constant dense<true> : tensor<i1>
  %ys, %n = nn.loop(%m, %c) {scan_outputs = 1 : i64} : (tensor<i64>, tensor<i1>) -> (tensor<100000x2xf32>, tensor<i64>) {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>):
    %y = nn.mul %w, %w : tensor<2xf32>, tensor<2xf32>
    nn.loop_yield %ci, %y : tensor<i1>, tensor<2xf32>
  }
  %s = nn.reduce_sum %ys {axes = [], keepdims = false} : tensor<100000x2xf32> -> tensor<f32>
  return %s : tensor<f32>
}
