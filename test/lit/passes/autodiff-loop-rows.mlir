// RUN: nncc-opt %s --nn-autodiff=loop-rows=0 --split-input-file --verify-diagnostics
// Without a capacity for their saved iterations (loop-rows=0), loops whose
// iterations are not known at compile time are refused, not answered with
// zero gradients.

// expected-error @+1 {{training through a Loop run as a loop needs its trip count M known at compile time}}
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

// A while loop (its condition from the data) whose trip count, INT64_MAX
// as PyTorch exports a scripted `while`, is too large to save.
// expected-error @+1 {{its trip count M must be at most 65536 (it may run 9223372036854775807 iterations)}}
func.func @unbounded_while(%w: tensor<4xf32>, %x: tensor<4xf32>) -> tensor<f32> {
  %m = nn.constant dense<9223372036854775807> : tensor<i64>
  %c = nn.constant dense<true> : tensor<i1>
  %lim = nn.constant dense<1.0> : tensor<f32>
  %r = nn.loop(%m, %c, %x) : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %xi: tensor<4xf32>):
    %y = nn.mul %xi, %w : tensor<4xf32>, tensor<4xf32>
    %e = nn.reduce_sum %y {axes = [], keepdims = false} : tensor<4xf32> -> tensor<f32>
    %go = nn.greater %e, %lim : tensor<f32>, tensor<f32>
    nn.loop_yield %go, %y : tensor<i1>, tensor<4xf32>
  }
  %s = nn.reduce_sum %r {axes = [], keepdims = false} : tensor<4xf32> -> tensor<f32>
  return %s : tensor<f32>
}
