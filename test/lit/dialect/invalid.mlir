// RUN: nncc-opt %s -split-input-file -verify-diagnostics
// Verifiers and shape inference reject malformed IR with a message.

func.func @gemm_inner(%a: tensor<2x3xf32>, %b: tensor<5x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'nn.gemm' op inner dimensions differ: 3 vs 5}}
  %0 = nn.gemm %a, %b : (tensor<2x3xf32>, tensor<5x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @add_shapes(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{operand shapes [2, 3] and [4] cannot be broadcast together}}
  %0 = nn.add %a, %b : tensor<2x3xf32>, tensor<4xf32>
  return
}

// -----

func.func @add_types(%a: tensor<2xf32>, %b: tensor<2xi64>) {
  // expected-error @+1 {{'nn.add' op operands have different element types: float32 and int64}}
  %0 = nn.add %a, %b : tensor<2xf32>, tensor<2xi64>
  return
}

// -----

func.func @transpose_perm(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'nn.transpose' op perm is not a permutation of [0, rank)}}
  %0 = nn.transpose %a {perm = [0, 0]} : tensor<2x3xf32> -> tensor<2x2xf32>
  return
}

// -----

func.func @reshape_count(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{reshape: 6 elements cannot take shape with 8}}
  %0 = nn.reshape %a {shape = [2, 4]} : tensor<2x3xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @reshape_result(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'nn.reshape' op inferred type(s) 'tensor<3x2xf32>' are incompatible with return type(s) of operation 'tensor<6xf32>'}}
  %0 = nn.reshape %a {shape = [3, 2]} : tensor<2x3xf32> -> tensor<6xf32>
  return
}

// -----

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{'nn.conv' op input channels 3 != weight channels 2 x group 1}}
  %0 = nn.conv %x, %w {dilations = [1, 1], pads = [0, 0, 0, 0], strides = [1, 1]} : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @pad_mode(%x: tensor<4xf32>) {
  // expected-error @+1 {{'nn.pad' op unknown mode 'mirror' (expected constant, reflect, edge or wrap)}}
  %0 = nn.pad %x {pads = [1, 1], mode = "mirror"} : tensor<4xf32> -> tensor<6xf32>
  return
}

// -----

func.func @concat_dims(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error @+1 {{'nn.concat' op inputs differ in dimension 1 (not the axis)}}
  %0 = nn.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @slice_bounds(%a: tensor<4xf32>) {
  // expected-error @+1 {{'nn.slice' op dimension 0 reads elements [2, 5] outside [0, 4)}}
  %0 = nn.slice %a {starts = [2], steps = [1], sizes = [4]} : tensor<4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @lstm_weights(%x: tensor<5x2x3xf32>, %w: tensor<1x12x3xf32>, %r: tensor<1x16x4xf32>) {
  // expected-error @+1 {{'nn.lstm' op W must be [1, 16, input]}}
  %y, %h, %c = nn.lstm %x, %w, %r {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  return
}

// -----

func.func @loop_changes_carried_type(%m: tensor<i64>, %c: tensor<i1>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{carried value 0 must keep its type 'tensor<4xf32>'}}
  %r = nn.loop(%m, %c, %x) : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %xi: tensor<4xf32>):
    %y = nn.concat %xi, %xi {axis = 0 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<8xf32>
    nn.loop_yield %ci, %y : tensor<i1>, tensor<8xf32>
  }
  return %r : tensor<4xf32>
}

// -----

func.func @checkpoint_segments(%x: tensor<5x2x3xf32>, %w: tensor<1x16x3xf32>, %r: tensor<1x16x4xf32>) {
  // expected-error @+1 {{segment_steps must be at least 1, got 0}}
  %y, %h, %c, %ck = nn.lstm_checkpointed %x, %w, %r {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, segment_steps = 0 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x5x2x2x4xf32>)
  return
}

// -----

func.func @checkpoint_states(%x: tensor<5x2x3xf32>, %w: tensor<1x16x3xf32>, %r: tensor<1x16x4xf32>) {
  // expected-error @+1 {{states must be 1 (c) or 2 (c and h), got 3}}
  %y, %h, %c, %ck = nn.lstm_checkpointed %x, %w, %r {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, segment_steps = 3 : i64, states = 3 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x5x2x2x4xf32>)
  return
}

// -----

// nn.lstm_saving saves the gates of some steps, not all (nn.lstm_with_gates).
func.func @saving_all_steps(%x: tensor<5x2x3xf32>, %w: tensor<1x16x3xf32>, %r: tensor<1x16x4xf32>) {
  // expected-error @+1 {{saved_steps must be at least 1 and fewer than the steps (else nn.lstm_with_gates), got 5}}
  %y, %h, %c, %ck, %g = nn.lstm_saving %x, %w, %r {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, segment_steps = 3 : i64, states = 1 : i64, saved_steps = 5 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x1x2x4xf32>, tensor<1x5x2x16xf32>)
  return
}

// -----

// A recurrent layer's activations: none, or every function of its cell
// for each direction, as ONNX names them.
func.func @gru_activations_count(%x: tensor<5x2x3xf32>, %w: tensor<2x12x3xf32>, %r: tensor<2x12x4xf32>) {
  // expected-error @+1 {{activations must name 2 function(s) per direction, 2 direction(s): 4, got 2}}
  %y, %h = nn.gru %x, %w, %r {activations = ["Sigmoid", "Tanh"], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<2x12x3xf32>, tensor<2x12x4xf32>) -> (tensor<5x2x2x4xf32>, tensor<2x2x4xf32>)
  return
}

// -----

func.func @rnn_activation_name(%x: tensor<5x2x3xf32>, %w: tensor<1x4x3xf32>, %r: tensor<1x4x4xf32>) {
  // expected-error @+1 {{activation 'Gelu' is not one of ONNX's}}
  %y, %h = nn.rnn %x, %w, %r {activations = ["Gelu"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  return
}

// -----

// A GRU's or RNN's saved_steps (the last steps' rows only) are fewer than
// its steps: all of them are saved without it.
func.func @gru_saving_all_steps(%x: tensor<5x2x3xf32>, %w: tensor<1x12x3xf32>, %r: tensor<1x12x4xf32>) {
  // expected-error @+1 {{saved_steps must be at least 1 and fewer than the steps (else no saved_steps), got 5}}
  %y, %h, %g = nn.gru_with_gates %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, saved_steps = 5 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x5x2x16xf32>)
  return
}

// -----

func.func @rnn_saving_no_steps(%x: tensor<5x2x3xf32>, %w: tensor<1x4x3xf32>, %r: tensor<1x4x4xf32>) {
  // expected-error @+1 {{saved_steps must be at least 1 and fewer than the steps (else no saved_steps), got 0}}
  %y, %h, %g = nn.rnn_with_gates %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, saved_steps = 0 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x0x2x4xf32>)
  return
}

// -----

// Its saved rows are those of saved_steps steps.
func.func @rnn_saved_steps_type(%x: tensor<5x2x3xf32>, %w: tensor<1x4x3xf32>, %r: tensor<1x4x4xf32>) {
  // expected-error @+1 {{inferred type(s)}}
  %y, %h, %g = nn.rnn_with_gates %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, saved_steps = 3 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x5x2x4xf32>)
  return
}

// -----

// The GRU's saved rows are 4H wide: the three gates and r * h_{t-1}.
func.func @gru_saved_width(%x: tensor<5x2x3xf32>, %w: tensor<1x12x3xf32>, %r: tensor<1x12x4xf32>) {
  // expected-error @+1 {{inferred type(s)}}
  %y, %h, %g = nn.gru_with_gates %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x5x2x12xf32>)
  return
}

// -----

func.func @loop_scan_rows(%m: tensor<i64>, %c: tensor<i1>, %x: tensor<4xf32>) -> tensor<6x3xf32> {
  // expected-error @+1 {{scan output 0 must be [N, ...] of its yielded value's static type 'tensor<4xf32>'}}
  %r, %ys, %n = nn.loop(%m, %c, %x) {scan_outputs = 1 : i64} : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> (tensor<4xf32>, tensor<6x3xf32>, tensor<i64>) {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %xi: tensor<4xf32>):
    nn.loop_yield %ci, %xi, %xi : tensor<i1>, tensor<4xf32>, tensor<4xf32>
  }
  return %ys : tensor<6x3xf32>
}

// -----

func.func @loop_scan_no_count(%m: tensor<i64>, %c: tensor<i1>, %x: tensor<4xf32>) -> tensor<6x4xf32> {
  // expected-error @+1 {{has 2 results for 1 carried values and 1 scan outputs (and then the iteration count)}}
  %r, %ys = nn.loop(%m, %c, %x) {scan_outputs = 1 : i64} : (tensor<i64>, tensor<i1>, tensor<4xf32>) -> (tensor<4xf32>, tensor<6x4xf32>) {
  ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %xi: tensor<4xf32>):
    nn.loop_yield %ci, %xi, %xi : tensor<i1>, tensor<4xf32>, tensor<4xf32>
  }
  return %ys : tensor<6x4xf32>
}

// -----

// A stack's kernel trusts its shapes: an RNN stack's rows for the backward
// are hidden wide, not 4 * hidden.
func.func @rnn_stack_gates(%x: tensor<5x2x3xf32>, %w0: tensor<1x4x3xf32>, %r0: tensor<1x4x4xf32>, %b0: tensor<1x8xf32>,
                           %w1: tensor<1x4x4xf32>, %r1: tensor<1x4x4xf32>, %b1: tensor<1x8xf32>) -> tensor<5x1x2x4xf32> {
  // expected-error @+1 {{'nn.rnn_stack' op gates must be [layers, steps, batch, 1 * hidden]}}
  %y, %s, %g, %hn = nn.rnn_stack %x, %w0, %r0, %b0, %w1, %r1, %b1 {chunk_steps = 5 : i64, hidden_size = 4 : i64} : (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x5x2x4xf32>, tensor<2x5x2x16xf32>, tensor<2x2x4xf32>)
  return %y : tensor<5x1x2x4xf32>
}

// -----

// An RNN stack's kernel runs tanh or Relu cells only.
func.func @rnn_stack_activation(%x: tensor<5x2x3xf32>, %w0: tensor<1x4x3xf32>, %r0: tensor<1x4x4xf32>, %b0: tensor<1x8xf32>,
                                %w1: tensor<1x4x4xf32>, %r1: tensor<1x4x4xf32>, %b1: tensor<1x8xf32>) -> tensor<5x1x2x4xf32> {
  // expected-error @+1 {{'nn.rnn_stack' op activation must be Tanh or Relu, got 'Sigmoid'}}
  %y, %s, %g, %hn = nn.rnn_stack %x, %w0, %r0, %b0, %w1, %r1, %b1 {activation = "Sigmoid", chunk_steps = 5 : i64, hidden_size = 4 : i64} : (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x5x2x4xf32>, tensor<2x5x2x4xf32>, tensor<2x2x4xf32>)
  return %y : tensor<5x1x2x4xf32>
}

// -----

// The same for its backward.
func.func @rnn_stack_grad_activation(%x: tensor<5x2x3xf32>, %w0: tensor<1x4x3xf32>, %r0: tensor<1x4x4xf32>, %b0: tensor<1x8xf32>,
                                     %w1: tensor<1x4x4xf32>, %r1: tensor<1x4x4xf32>, %b1: tensor<1x8xf32>,
                                     %s: tensor<1x5x2x4xf32>, %g: tensor<2x5x2x4xf32>, %y: tensor<5x1x2x4xf32>) -> tensor<5x2x3xf32> {
  // expected-error @+1 {{'nn.rnn_stack_grad' op activation must be Tanh or Relu, got 'Elu'}}
  %dx, %dw:6, %dh0 = nn.rnn_stack_grad %x, [%w0, %r0, %b0, %w1, %r1, %b1], %s, gates %g, %y dy %y {activation = "Elu", chunk_steps = 5 : i64, hidden_size = 4 : i64} : (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>, tensor<1x5x2x4xf32>, tensor<2x5x2x4xf32>, tensor<5x1x2x4xf32>, tensor<5x1x2x4xf32>) -> (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>, tensor<2x2x4xf32>)
  return %dx : tensor<5x2x3xf32>
}

// -----

// A clipped RNN stack's backward reads the saved pre-activations.
func.func @rnn_stack_grad_clip_without_gates(%x: tensor<5x2x3xf32>, %w0: tensor<1x4x3xf32>, %r0: tensor<1x4x4xf32>, %b0: tensor<1x8xf32>,
                                     %w1: tensor<1x4x4xf32>, %r1: tensor<1x4x4xf32>, %b1: tensor<1x8xf32>,
                                     %s: tensor<1x5x2x4xf32>, %g: tensor<2x5x2x4xf32>, %y: tensor<5x1x2x4xf32>) -> tensor<5x2x3xf32> {
  // expected-error @+1 {{'nn.rnn_stack_grad' op with a clip needs the forward's saved pre-activations (gates): the outputs do not tell where the clip bound}}
  %dx, %dw:6, %dh0 = nn.rnn_stack_grad %x, [%w0, %r0, %b0, %w1, %r1, %b1], %s, %y dy %y {clip = 5.000000e-01 : f32, chunk_steps = 5 : i64, hidden_size = 4 : i64} : (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>, tensor<1x5x2x4xf32>, tensor<5x1x2x4xf32>, tensor<5x1x2x4xf32>) -> (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>, tensor<2x2x4xf32>)
  return %dx : tensor<5x2x3xf32>
}

// -----

// A GRU stack's bias is 6 * hidden per layer.
func.func @gru_stack_bias(%x: tensor<5x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>, %b0: tensor<1x8xf32>,
                          %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>, %b1: tensor<1x24xf32>) -> tensor<5x1x2x4xf32> {
  // expected-error @+1 {{'nn.gru_stack' op layer 0: B must be 'tensor<1x24xf32>'}}
  %y, %s, %g, %hn = nn.gru_stack %x, %w0, %r0, %b0, %w1, %r1, %b1 {chunk_steps = 5 : i64, hidden_size = 4 : i64} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>, tensor<1x8xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x5x2x4xf32>, tensor<2x5x2x16xf32>, tensor<2x2x4xf32>)
  return %y : tensor<5x1x2x4xf32>
}

// -----

// One layer is no stack.
func.func @lstm_stack_one_layer(%x: tensor<5x2x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>, %b0: tensor<1x32xf32>) -> tensor<5x1x2x4xf32> {
  // expected-error @+1 {{'nn.lstm_stack' op needs W, R and B for each of 2 to 32 layers}}
  %y, %s, %c, %g, %hn, %cn = nn.lstm_stack %x, %w0, %r0, %b0 {chunk_steps = 5 : i64, hidden_size = 4 : i64} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>) -> (tensor<5x1x2x4xf32>, tensor<0x5x2x4xf32>, tensor<1x1x2x4xf32>, tensor<1x5x2x16xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  return %y : tensor<5x1x2x4xf32>
}

// -----

// A stack's initial and final states are [layers, batch, hidden].
func.func @gru_stack_initial_h(%x: tensor<5x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>, %b0: tensor<1x24xf32>,
                               %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>, %b1: tensor<1x24xf32>, %h: tensor<1x2x4xf32>) -> tensor<5x1x2x4xf32> {
  // expected-error @+1 {{'nn.gru_stack' op initial_h must be 'tensor<2x2x4xf32>' ([layers, batch, hidden])}}
  %y, %s, %g, %hn = nn.gru_stack %x, %w0, %r0, %b0, %w1, %r1, %b1 initial_h %h {chunk_steps = 5 : i64, hidden_size = 4 : i64} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>, tensor<1x2x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x5x2x4xf32>, tensor<2x5x2x16xf32>, tensor<2x2x4xf32>)
  return %y : tensor<5x1x2x4xf32>
}

// -----

func.func @lstm_stack_y_c(%x: tensor<5x2x3xf32>, %w0: tensor<1x16x3xf32>, %r0: tensor<1x16x4xf32>, %b0: tensor<1x32xf32>,
                          %w1: tensor<1x16x4xf32>, %r1: tensor<1x16x4xf32>, %b1: tensor<1x32xf32>) -> tensor<5x1x2x4xf32> {
  // expected-error @+1 {{'nn.lstm_stack' op y_c must be 'tensor<2x2x4xf32>' ([layers, batch, hidden])}}
  %y, %s, %c, %g, %hn, %cn = nn.lstm_stack %x, %w0, %r0, %b0, %w1, %r1, %b1 {chunk_steps = 5 : i64, hidden_size = 4 : i64} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x5x2x4xf32>, tensor<2x1x2x4xf32>, tensor<2x5x2x16xf32>, tensor<2x2x4xf32>, tensor<2x4x4xf32>)
  return %y : tensor<5x1x2x4xf32>
}

// -----

// The backward's final states' gradients likewise.
func.func @rnn_stack_grad_dy_h(%x: tensor<5x2x3xf32>, %w0: tensor<1x4x3xf32>, %r0: tensor<1x4x4xf32>, %b0: tensor<1x8xf32>,
                               %w1: tensor<1x4x4xf32>, %r1: tensor<1x4x4xf32>, %b1: tensor<1x8xf32>,
                               %s: tensor<1x5x2x4xf32>, %g: tensor<2x5x2x4xf32>, %y: tensor<5x1x2x4xf32>, %dhn: tensor<2x2x3xf32>) -> tensor<5x2x3xf32> {
  // expected-error @+1 {{'nn.rnn_stack_grad' op dy_h must be 'tensor<2x2x4xf32>' ([layers, batch, hidden])}}
  %dx, %dw:6, %dh0 = nn.rnn_stack_grad %x, [%w0, %r0, %b0, %w1, %r1, %b1], %s, gates %g, %y dy %y dy_h %dhn {chunk_steps = 5 : i64, hidden_size = 4 : i64} : (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>, tensor<1x5x2x4xf32>, tensor<2x5x2x4xf32>, tensor<5x1x2x4xf32>, tensor<5x1x2x4xf32>, tensor<2x2x3xf32>) -> (tensor<5x2x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>, tensor<2x2x4xf32>)
  return %dx : tensor<5x2x3xf32>
}

// -----

func.func @gru_stack_seq_lens(%x: tensor<5x2x3xf32>, %w0: tensor<1x12x3xf32>, %r0: tensor<1x12x4xf32>, %b0: tensor<1x24xf32>,
                              %w1: tensor<1x12x4xf32>, %r1: tensor<1x12x4xf32>, %b1: tensor<1x24xf32>, %l: tensor<3xi32>) -> tensor<5x1x2x4xf32> {
  // expected-error @+1 {{'nn.gru_stack' op seq_lens must be [batch]}}
  %y, %s, %g, %hn = nn.gru_stack %x, %w0, %r0, %b0, %w1, %r1, %b1 seq_lens %l {chunk_steps = 5 : i64, hidden_size = 4 : i64} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>, tensor<1x12x4xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>, tensor<3xi32>) -> (tensor<5x1x2x4xf32>, tensor<1x5x2x4xf32>, tensor<2x5x2x16xf32>, tensor<2x2x4xf32>)
  return %y : tensor<5x1x2x4xf32>
}

// -----

// nn.fused: results of one shape; slices of arguments only (codegen reads
// them as views).
func.func @fused_result_shapes(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'nn.fused' op results differ in shape: 'tensor<4xf32>' and 'tensor<2x4xf32>'}}
  %a, %b = nn.fused(%x) : (tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>) {
  ^bb0(%v: tensor<2x4xf32>):
    %n = nn.neg %v : tensor<2x4xf32>
    %s = nn.slice %v {sizes = [1, 4], starts = [0, 0], steps = [1, 1]} : tensor<2x4xf32> -> tensor<1x4xf32>
    %r = nn.reshape %s {shape = [4]} : tensor<1x4xf32> -> tensor<4xf32>
    nn.yield %n, %r : tensor<2x4xf32>, tensor<4xf32>
  }
  return %a : tensor<2x4xf32>
}

// -----

func.func @fused_slice_of_value(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %y = nn.fused(%x) : (tensor<2x8xf32>) -> tensor<2x4xf32> {
  ^bb0(%v: tensor<2x8xf32>):
    %a = nn.slice %v {sizes = [2, 4], starts = [0, 0], steps = [1, 2]} : tensor<2x8xf32> -> tensor<2x4xf32>
    // expected-error @+1 {{'nn.slice' op inside nn.fused must slice an argument, with steps above zero}}
    %b = nn.slice %a {sizes = [2, 4], starts = [0, 0], steps = [1, 1]} : tensor<2x4xf32> -> tensor<2x4xf32>
    nn.yield %b : tensor<2x4xf32>
  }
  return %y : tensor<2x4xf32>
}

// -----

func.func @fused_slice_shape(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %y = nn.fused(%x) : (tensor<2x8xf32>) -> tensor<2x4xf32> {
  ^bb0(%v: tensor<2x8xf32>):
    // expected-error @+1 {{'nn.slice' op inside nn.fused must broadcast to the result's shape [2, 4]}}
    %s = nn.slice %v {sizes = [2, 3], starts = [0, 0], steps = [1, 1]} : tensor<2x8xf32> -> tensor<2x3xf32>
    %t = nn.slice %v {sizes = [2, 4], starts = [0, 4], steps = [1, 1]} : tensor<2x8xf32> -> tensor<2x4xf32>
    nn.yield %t : tensor<2x4xf32>
  }
  return %y : tensor<2x4xf32>
}

// -----

func.func @fused_no_results(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{'nn.fused' op has no results}}
  nn.fused(%x) : (tensor<2x4xf32>) -> () {
  ^bb0(%v: tensor<2x4xf32>):
    nn.yield
  }
  return
}

// -----

func.func @fused_yield_types(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'nn.fused' op body must end in nn.yield of the result types}}
  %a, %b = nn.fused(%x) : (tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  ^bb0(%v: tensor<2x4xf32>):
    %n = nn.neg %v : tensor<2x4xf32>
    nn.yield %n : tensor<2x4xf32>
  }
  return %a : tensor<2x4xf32>
}
