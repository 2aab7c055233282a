// RUN: nncc-opt %s --nncc-lower-nn --split-input-file --verify-diagnostics

// The LSTM backward turns the saved gate pre-activations into their
// gradients in place, so no other op may read them.
func.func @gates_read_twice(%x: tensor<3x2x2xf32>, %w: tensor<1x16x2xf32>, %r: tensor<1x16x4xf32>, %dy: tensor<3x1x2x4xf32>) -> (tensor<1x16x2xf32>, tensor<1x3x2x16xf32>) {
  %y, %h, %c, %g = nn.lstm_with_gates %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<3x2x2xf32>, tensor<1x16x2xf32>, tensor<1x16x4xf32>) -> (tensor<3x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x3x2x16xf32>)
  %n = nn.neg %g : tensor<1x3x2x16xf32>
  // expected-error @+1 {{reads gates that do not come from its forward's nn.*_with_gates, that another op reads too}}
  %dx, %dw, %dr, %db, %dh, %dc, %dp = nn.lstm_grad %x, %w, %r, %y, %dy, %g {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1]> : vector<14xi32>} : (tensor<3x2x2xf32>, tensor<1x16x2xf32>, tensor<1x16x4xf32>, tensor<3x1x2x4xf32>, tensor<3x1x2x4xf32>, tensor<1x3x2x16xf32>) -> (tensor<3x2x2xf32>, tensor<1x16x2xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x12xf32>)
  return %dw, %n : tensor<1x16x2xf32>, tensor<1x3x2x16xf32>
}
