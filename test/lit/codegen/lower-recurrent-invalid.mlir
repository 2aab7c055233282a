// RUN: nncc-opt %s --nncc-lower-nn --split-input-file --verify-diagnostics

// The backward works in place in the rows its own forward saved: gates
// saved by another kind of layer (here an RNN's, H wide, for a GRU backward
// that reads 4H-wide rows) are refused.
func.func @gates_of_another_kind(%x: tensor<3x2x2xf32>, %w: tensor<1x12x2xf32>, %r: tensor<1x12x4xf32>, %rw: tensor<1x4x2xf32>, %rr: tensor<1x4x4xf32>, %dy: tensor<3x1x2x4xf32>) -> tensor<1x12x2xf32> {
  %y, %h = nn.gru %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<3x2x2xf32>, tensor<1x12x2xf32>, tensor<1x12x4xf32>) -> (tensor<3x1x2x4xf32>, tensor<1x2x4xf32>)
  %ry, %rh, %g = nn.rnn_with_gates %x, %rw, %rr {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<3x2x2xf32>, tensor<1x4x2xf32>, tensor<1x4x4xf32>) -> (tensor<3x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x3x2x4xf32>)
  // expected-error @+1 {{reads gates that its own forward's nn.*_with_gates did not save}}
  %dx, %dw, %dr, %db, %dh = nn.gru_grad %x, %w, %r, %y, %dy, %g {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 1, 1, 0, 1]> : vector<10xi32>} : (tensor<3x2x2xf32>, tensor<1x12x2xf32>, tensor<1x12x4xf32>, tensor<3x1x2x4xf32>, tensor<3x1x2x4xf32>, tensor<1x3x2x4xf32>) -> (tensor<3x2x2xf32>, tensor<1x12x2xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>, tensor<1x2x4xf32>)
  return %dw : tensor<1x12x2xf32>
}
