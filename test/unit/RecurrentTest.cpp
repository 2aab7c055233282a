// Memory of the recurrent layers: forward-only runs keep a constant working
// set whatever the sequence length (the input projection is computed a chunk
// of steps at a time; a y nobody reads is not computed).
#include "driver/Compiler.h"
#include "ir/NNOps.h"
#include "ir/RecurrentActivations.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "TestUtil.h"
#include "test/unit/OnnxBuild.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <cstring>
#include <string>

using namespace mlir;

namespace {

/// `body` with every "T" in a shape replaced by the sequence length.
std::string withSteps(std::string body, int64_t steps) {
  for (size_t at; (at = body.find("<T")) != std::string::npos;)
    body.replace(at + 1, 1, std::to_string(steps));
  return body;
}

int64_t workspaceOf(const std::string &body, bool unroll = false) {
  MLIRContext ctx;
  nncc::CompileOptions options;
  options.unrollRecurrent = unroll;
  auto exe = nncc::test::compileText(ctx, body, options);
  return exe ? exe->workspaceBytes() : -1;
}

struct ForwardCase {
  const char *name;
  const char *body; ///< shapes with a leading "T" dimension for the steps
};

// Sequence classifiers: only the final state is read.
const ForwardCase kForward[] = {
    {"lstm", R"(func.func @main(%x: tensor<Tx16x64xf32>, %w: tensor<1x512x64xf32>, %r: tensor<1x512x128xf32>, %b: tensor<1x1024xf32>) -> tensor<1x16x128xf32> {
       %y, %h, %c = nn.lstm %x, %w, %r, %b {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 128 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<Tx16x64xf32>, tensor<1x512x64xf32>, tensor<1x512x128xf32>, tensor<1x1024xf32>) -> (tensor<Tx1x16x128xf32>, tensor<1x16x128xf32>, tensor<1x16x128xf32>)
       return %h : tensor<1x16x128xf32> })"},
    {"gru_bidirectional", R"(func.func @main(%x: tensor<Tx16x64xf32>, %w: tensor<2x384x64xf32>, %r: tensor<2x384x128xf32>) -> tensor<2x16x128xf32> {
       %y, %h = nn.gru %x, %w, %r {activations = ["Sigmoid", "Tanh", "Sigmoid", "Tanh"], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 128 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<Tx16x64xf32>, tensor<2x384x64xf32>, tensor<2x384x128xf32>) -> (tensor<Tx2x16x128xf32>, tensor<2x16x128xf32>)
       return %h : tensor<2x16x128xf32> })"},
    {"rnn_reverse", R"(func.func @main(%x: tensor<Tx16x64xf32>, %w: tensor<1x128x64xf32>, %r: tensor<1x128x128xf32>) -> tensor<1x16x128xf32> {
       %y, %h = nn.rnn %x, %w, %r {activations = ["Tanh"], activation_alpha = [], activation_beta = [], direction = "reverse", hidden_size = 128 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<Tx16x64xf32>, tensor<1x128x64xf32>, tensor<1x128x128xf32>) -> (tensor<Tx1x16x128xf32>, tensor<1x16x128xf32>)
       return %h : tensor<1x16x128xf32> })"},
    // Sequence lengths, both directions: the backward one starts each row
    // at its own last step.
    {"lstm_bidirectional_lengths", R"(func.func @main(%x: tensor<Tx16x64xf32>, %w: tensor<2x512x64xf32>, %r: tensor<2x512x128xf32>, %b: tensor<2x1024xf32>, %l: tensor<16xi32>) -> tensor<2x16x128xf32> {
       %y, %h, %c = nn.lstm %x, %w, %r, %b, %l {activations = [], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 128 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 0, 0, 0]> : vector<8xi32>} : (tensor<Tx16x64xf32>, tensor<2x512x64xf32>, tensor<2x512x128xf32>, tensor<2x1024xf32>, tensor<16xi32>) -> (tensor<Tx2x16x128xf32>, tensor<2x16x128xf32>, tensor<2x16x128xf32>)
       return %h : tensor<2x16x128xf32> })"},
};

class ForwardMemory : public testing::TestWithParam<ForwardCase> {};

TEST_P(ForwardMemory, DoesNotGrowWithSequenceLength) {
  int64_t short10 = workspaceOf(withSteps(GetParam().body, 10));
  int64_t long1000 = workspaceOf(withSteps(GetParam().body, 1000));
  ASSERT_GT(short10, 0);
  EXPECT_LE((double)long1000, 1.1 * (double)short10) << "T=10: " << short10 << " B, T=1000: " << long1000 << " B";
}

/// Whether nn-unroll-recurrent leaves no whole layer in `body`.
bool unrollsWhole(const std::string &body) {
  MLIRContext ctx;
  nncc::loadDialects(ctx);
  auto module = nncc::test::parseModule(ctx, body);
  if (!module)
    return false;
  PassManager pm(&ctx);
  pm.addNestedPass<func::FuncOp>(nncc::createUnrollRecurrentPass());
  if (failed(pm.run(*module)))
    return false;
  int whole = 0;
  module->walk([&](Operation *op) { whole += isa<nncc::nn::LSTMOp, nncc::nn::GRUOp, nncc::nn::RNNOp>(op); });
  return whole == 0;
}

/// Unrolled into cells too, up to the pass's limit of 256 steps: the input
/// projection is made in chunks of steps, each freed after its last step.
TEST_P(ForwardMemory, UnrolledDoesNotGrowWithSequenceLength) {
  int64_t short10 = workspaceOf(withSteps(GetParam().body, 10), true);
  int64_t long256 = workspaceOf(withSteps(GetParam().body, 256), true);
  ASSERT_GT(short10, 0);
  EXPECT_TRUE(unrollsWhole(withSteps(GetParam().body, 256))) << "a layer of 256 steps kept whole";
  EXPECT_LE((double)long256, 1.1 * (double)short10) << "T=10: " << short10 << " B, T=256: " << long256 << " B";
}

/// The functions of generated loops (nncc-parallelize's bodies) in `body`
/// lowered with its layers unrolled.
int64_t loopBodiesOf(const std::string &body) {
  MLIRContext ctx;
  nncc::loadDialects(ctx);
  auto module = nncc::test::parseModule(ctx, body);
  if (!module)
    return -1;
  nncc::CompileOptions options;
  options.unrollRecurrent = true;
  nncc::LoweredGraph graph;
  std::string error;
  if (!nncc::lowerToLLVM(*module, options, graph, error))
    return -1;
  int64_t bodies = 0;
  module->walk([&](LLVM::LLVMFuncOp f) {
    bodies += f.getName().contains("_par") && !f.getName().endswith("_thunk") && !f.isExternal();
  });
  return bodies;
}

/// Each step of an unrolled layer runs the same loops over other places of
/// the arena: they share one compiled function each, so the code (and the
/// compile time) does not grow with the sequence length either.
TEST_P(ForwardMemory, UnrolledCodeDoesNotGrowWithSequenceLength) {
  int64_t short10 = loopBodiesOf(withSteps(GetParam().body, 10));
  int64_t long48 = loopBodiesOf(withSteps(GetParam().body, 48));
  ASSERT_GT(short10, 0);
  EXPECT_LE(long48, short10) << "T=10: " << short10 << " functions, T=48: " << long48;
}

INSTANTIATE_TEST_SUITE_P(Recurrent, ForwardMemory, testing::ValuesIn(kForward),
                         [](const testing::TestParamInfo<ForwardCase> &i) { return std::string(i.param.name); });

} // namespace

namespace {

/// Runs `body` (f32) on seeded random inputs, with or without unrolling the
/// recurrent layers into cells, under a recurrent schedule; returns every
/// output.
std::vector<nncc::Tensor> runBody(const std::string &body, bool unroll, const char *schedule = "wavefront") {
  MLIRContext ctx;
  nncc::CompileOptions options;
  options.unrollRecurrent = unroll;
  options.recurrentSchedule = schedule;
  auto exe = nncc::test::compileText(ctx, body, options);
  if (!exe)
    return {};
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> unit(-0.7f, 0.7f);
  std::vector<nncc::Tensor> inputs;
  for (auto &sig : exe->inputs()) {
    inputs.emplace_back(sig.dtype, sig.shape);
    // (integer inputs are sequence lengths: ragged, one past the steps,
    // one zero)
    const int64_t lengths[] = {2, 7, 0, 5};
    for (int64_t k = 0; k < inputs.back().numElements(); ++k) {
      if (sig.dtype == nncc::DType::Int32)
        inputs.back().data<int32_t>()[k] = (int32_t)lengths[k % 4];
      else if (sig.dtype == nncc::DType::Int64)
        inputs.back().data<int64_t>()[k] = lengths[k % 4];
      else
        inputs.back().data<float>()[k] = unit(rng);
    }
  }
  return nncc::test::runExecutable(*exe, inputs);
}

struct UnrollCase {
  const char *name;
  const char *body;
};

// Both directions, initial states, biases, peepholes, both GRU variants and
// non-default activations; every result of each layer is returned.
const UnrollCase kUnroll[] = {
    {"lstm_bidirectional_peepholes", R"(func.func @main(%x: tensor<6x3x5xf32>, %w: tensor<2x28x5xf32>, %r: tensor<2x28x7xf32>, %b: tensor<2x56xf32>, %h0: tensor<2x3x7xf32>, %c0: tensor<2x3x7xf32>, %p: tensor<2x21xf32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x3x7xf32>) {
       %y, %h, %c = nn.lstm %x, %w, %r, %b, %h0, %c0, %p {activations = ["Sigmoid", "Tanh", "Tanh", "Sigmoid", "Relu", "Tanh"], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 1, 1, 1]> : vector<8xi32>} : (tensor<6x3x5xf32>, tensor<2x28x5xf32>, tensor<2x28x7xf32>, tensor<2x56xf32>, tensor<2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x21xf32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x3x7xf32>)
       return %y, %h, %c : tensor<6x2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x3x7xf32> })"},
    {"gru_bidirectional", R"(func.func @main(%x: tensor<6x3x5xf32>, %w: tensor<2x21x5xf32>, %r: tensor<2x21x7xf32>, %b: tensor<2x42xf32>, %h0: tensor<2x3x7xf32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>) {
       %y, %h = nn.gru %x, %w, %r, %b, %h0 {activations = [], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 1]> : vector<6xi32>} : (tensor<6x3x5xf32>, tensor<2x21x5xf32>, tensor<2x21x7xf32>, tensor<2x42xf32>, tensor<2x3x7xf32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>)
       return %y, %h : tensor<6x2x3x7xf32>, tensor<2x3x7xf32> })"},
    {"gru_linear_before_reset_reverse", R"(func.func @main(%x: tensor<6x3x5xf32>, %w: tensor<1x21x5xf32>, %r: tensor<1x21x7xf32>, %b: tensor<1x42xf32>) -> (tensor<6x1x3x7xf32>, tensor<1x3x7xf32>) {
       %y, %h = nn.gru %x, %w, %r, %b {activations = ["Sigmoid", "Tanh"], activation_alpha = [], activation_beta = [], direction = "reverse", hidden_size = 7 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<6x3x5xf32>, tensor<1x21x5xf32>, tensor<1x21x7xf32>, tensor<1x42xf32>) -> (tensor<6x1x3x7xf32>, tensor<1x3x7xf32>)
       return %y, %h : tensor<6x1x3x7xf32>, tensor<1x3x7xf32> })"},
    // Chunks of 128 / 32 = 4 steps: 4 full ones (W prepared for them) and
    // a partial one, in both directions.
    {"lstm_bidirectional_chunked", R"(func.func @main(%x: tensor<18x32x5xf32>, %w: tensor<2x28x5xf32>, %r: tensor<2x28x7xf32>, %b: tensor<2x56xf32>) -> (tensor<18x2x32x7xf32>, tensor<2x32x7xf32>) {
       %y, %h, %c = nn.lstm %x, %w, %r, %b {activations = [], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<18x32x5xf32>, tensor<2x28x5xf32>, tensor<2x28x7xf32>, tensor<2x56xf32>) -> (tensor<18x2x32x7xf32>, tensor<2x32x7xf32>, tensor<2x32x7xf32>)
       return %y, %c : tensor<18x2x32x7xf32>, tensor<2x32x7xf32> })"},
    {"gru_chunked", R"(func.func @main(%x: tensor<18x32x5xf32>, %w: tensor<1x21x5xf32>, %r: tensor<1x21x7xf32>, %b: tensor<1x42xf32>) -> tensor<18x1x32x7xf32> {
       %y, %h = nn.gru %x, %w, %r, %b {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<18x32x5xf32>, tensor<1x21x5xf32>, tensor<1x21x7xf32>, tensor<1x42xf32>) -> (tensor<18x1x32x7xf32>, tensor<1x32x7xf32>)
       return %y : tensor<18x1x32x7xf32> })"},
    {"rnn_bidirectional", R"(func.func @main(%x: tensor<6x3x5xf32>, %w: tensor<2x7x5xf32>, %r: tensor<2x7x7xf32>, %b: tensor<2x14xf32>, %h0: tensor<2x3x7xf32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>) {
       %y, %h = nn.rnn %x, %w, %r, %b, %h0 {activations = ["Relu", "Tanh"], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 1]> : vector<6xi32>} : (tensor<6x3x5xf32>, tensor<2x7x5xf32>, tensor<2x7x7xf32>, tensor<2x14xf32>, tensor<2x3x7xf32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>)
       return %y, %h : tensor<6x2x3x7xf32>, tensor<2x3x7xf32> })"},
    // Sequence lengths (in no order, one row running all 6 steps, one none),
    // clip (0.5: it binds) and peepholes, both directions.
    {"lstm_bidirectional_lengths_clip", R"(func.func @main(%x: tensor<6x3x5xf32>, %w: tensor<2x28x5xf32>, %r: tensor<2x28x7xf32>, %b: tensor<2x56xf32>, %h0: tensor<2x3x7xf32>, %c0: tensor<2x3x7xf32>, %p: tensor<2x21xf32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x3x7xf32>) {
       %l = nn.constant dense<[2, 6, 0]> : tensor<3xi32>
       %y, %h, %c = nn.lstm %x, %w, %r, %b, %l, %h0, %c0, %p {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, direction = "bidirectional", hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1, 1, 1]> : vector<8xi32>} : (tensor<6x3x5xf32>, tensor<2x28x5xf32>, tensor<2x28x7xf32>, tensor<2x56xf32>, tensor<3xi32>, tensor<2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x21xf32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x3x7xf32>)
       return %y, %h, %c : tensor<6x2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x3x7xf32> })"},
    // input_forget (f = 1 - i) and ONNX's other activations, with alphas and
    // betas consumed in order by those that take them (HardSigmoid 0.3 and
    // 0.4, ScaledTanh 0.8 and 1.2; Softplus none; then LeakyRelu 0.2, Affine
    // 0.6 and -0.1, Elu's default 1).
    {"lstm_input_forget_activations", R"(func.func @main(%x: tensor<6x3x5xf32>, %w: tensor<2x28x5xf32>, %r: tensor<2x28x7xf32>, %b: tensor<2x56xf32>, %h0: tensor<2x3x7xf32>, %c0: tensor<2x3x7xf32>, %p: tensor<2x21xf32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x3x7xf32>) {
       %l = nn.constant dense<[6, 4, 5]> : tensor<3xi32>
       %y, %h, %c = nn.lstm %x, %w, %r, %b, %l, %h0, %c0, %p {activations = ["HardSigmoid", "ScaledTanh", "Softplus", "LeakyRelu", "Affine", "Elu"], activation_alpha = [3.000000e-01 : f32, 8.000000e-01 : f32, 2.000000e-01 : f32, 6.000000e-01 : f32], activation_beta = [4.000000e-01 : f32, 1.200000e+00 : f32, -1.000000e-01 : f32], direction = "bidirectional", hidden_size = 7 : i64, input_forget = true, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1, 1, 1]> : vector<8xi32>} : (tensor<6x3x5xf32>, tensor<2x28x5xf32>, tensor<2x28x7xf32>, tensor<2x56xf32>, tensor<3xi32>, tensor<2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x21xf32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x3x7xf32>)
       return %y, %h, %c : tensor<6x2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x3x7xf32> })"},
    // A reverse GRU (ONNX's default cell) with lengths and clip; one with
    // linear_before_reset and other activations (ThresholdedRelu 0.1,
    // Softsign).
    {"gru_reverse_lengths_clip", R"(func.func @main(%x: tensor<6x3x5xf32>, %w: tensor<1x21x5xf32>, %r: tensor<1x21x7xf32>, %b: tensor<1x42xf32>, %h0: tensor<1x3x7xf32>) -> (tensor<6x1x3x7xf32>, tensor<1x3x7xf32>) {
       %l = nn.constant dense<[4, 6, 1]> : tensor<3xi64>
       %y, %h = nn.gru %x, %w, %r, %b, %l, %h0 {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, direction = "reverse", hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1]> : vector<6xi32>} : (tensor<6x3x5xf32>, tensor<1x21x5xf32>, tensor<1x21x7xf32>, tensor<1x42xf32>, tensor<3xi64>, tensor<1x3x7xf32>) -> (tensor<6x1x3x7xf32>, tensor<1x3x7xf32>)
       return %y, %h : tensor<6x1x3x7xf32>, tensor<1x3x7xf32> })"},
    {"gru_bidirectional_lengths_activations", R"(func.func @main(%x: tensor<6x3x5xf32>, %w: tensor<2x21x5xf32>, %r: tensor<2x21x7xf32>, %b: tensor<2x42xf32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>) {
       %l = nn.constant dense<[5, 3, 6]> : tensor<3xi32>
       %y, %h = nn.gru %x, %w, %r, %b, %l {activations = ["Sigmoid", "Softsign", "ThresholdedRelu", "Tanh"], activation_alpha = [1.000000e-01 : f32], activation_beta = [], direction = "bidirectional", hidden_size = 7 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 0]> : vector<6xi32>} : (tensor<6x3x5xf32>, tensor<2x21x5xf32>, tensor<2x21x7xf32>, tensor<2x42xf32>, tensor<3xi32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>)
       return %y, %h : tensor<6x2x3x7xf32>, tensor<2x3x7xf32> })"},
    // Lengths known at run time only (runBody: 2, 7 and 0 of 6 steps),
    // i32 and i64.
    {"lstm_bidirectional_runtime_lengths", R"(func.func @main(%x: tensor<6x3x5xf32>, %w: tensor<2x28x5xf32>, %r: tensor<2x28x7xf32>, %b: tensor<2x56xf32>, %l: tensor<3xi32>, %h0: tensor<2x3x7xf32>, %c0: tensor<2x3x7xf32>, %p: tensor<2x21xf32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x3x7xf32>) {
       %y, %h, %c = nn.lstm %x, %w, %r, %b, %l, %h0, %c0, %p {activations = ["Sigmoid", "Softsign", "Tanh", "Sigmoid", "Tanh", "Softplus"], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, direction = "bidirectional", hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1, 1, 1]> : vector<8xi32>} : (tensor<6x3x5xf32>, tensor<2x28x5xf32>, tensor<2x28x7xf32>, tensor<2x56xf32>, tensor<3xi32>, tensor<2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x21xf32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x3x7xf32>)
       return %y, %h, %c : tensor<6x2x3x7xf32>, tensor<2x3x7xf32>, tensor<2x3x7xf32> })"},
    {"gru_reverse_runtime_lengths_i64", R"(func.func @main(%x: tensor<6x3x5xf32>, %w: tensor<1x21x5xf32>, %r: tensor<1x21x7xf32>, %b: tensor<1x42xf32>, %l: tensor<3xi64>, %h0: tensor<1x3x7xf32>) -> (tensor<6x1x3x7xf32>, tensor<1x3x7xf32>) {
       %y, %h = nn.gru %x, %w, %r, %b, %l, %h0 {activations = ["HardSigmoid", "Tanh"], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, direction = "reverse", hidden_size = 7 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1]> : vector<6xi32>} : (tensor<6x3x5xf32>, tensor<1x21x5xf32>, tensor<1x21x7xf32>, tensor<1x42xf32>, tensor<3xi64>, tensor<1x3x7xf32>) -> (tensor<6x1x3x7xf32>, tensor<1x3x7xf32>)
       return %y, %h : tensor<6x1x3x7xf32>, tensor<1x3x7xf32> })"},
    // RNNs with lengths, clip and alpha-taking activations (Elu 0.7,
    // LeakyRelu 0.2).
    {"rnn_bidirectional_lengths_clip_activations", R"(func.func @main(%x: tensor<6x3x5xf32>, %w: tensor<2x7x5xf32>, %r: tensor<2x7x7xf32>, %b: tensor<2x14xf32>, %h0: tensor<2x3x7xf32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>) {
       %l = nn.constant dense<[3, 6, 1]> : tensor<3xi32>
       %y, %h = nn.rnn %x, %w, %r, %b, %l, %h0 {activations = ["Elu", "LeakyRelu"], activation_alpha = [7.000000e-01 : f32, 2.000000e-01 : f32], activation_beta = [], clip = 4.000000e-01 : f32, direction = "bidirectional", hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1]> : vector<6xi32>} : (tensor<6x3x5xf32>, tensor<2x7x5xf32>, tensor<2x7x7xf32>, tensor<2x14xf32>, tensor<3xi32>, tensor<2x3x7xf32>) -> (tensor<6x2x3x7xf32>, tensor<2x3x7xf32>)
       return %y, %h : tensor<6x2x3x7xf32>, tensor<2x3x7xf32> })"},
};

/// ONNX's activation_alpha and activation_beta go, in order, to the
/// activations that take them (Affine, LeakyRelu, ThresholdedRelu,
/// ScaledTanh, HardSigmoid, Elu take an alpha; Affine, ScaledTanh,
/// HardSigmoid a beta); the rest take the defaults of the ONNX operators of
/// the same names; none given: the cell's defaults for every direction.
TEST(RecurrentActivations, AlphasAndBetasInOrder) {
  MLIRContext ctx;
  Builder b(&ctx);
  auto floats = [&](std::vector<float> v) {
    SmallVector<Attribute> a;
    for (float x : v)
      a.push_back(b.getF32FloatAttr(x));
    return b.getArrayAttr(a);
  };
  struct Want {
    int64_t code;
    double alpha, beta;
  };
  auto expect = [](ArrayRef<nncc::nn::RecurrentActivation> got, std::vector<Want> want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t k = 0; k < want.size(); ++k) {
      EXPECT_EQ(got[k].code, want[k].code) << k;
      EXPECT_NEAR(got[k].alpha, want[k].alpha, 1e-6) << k;
      EXPECT_NEAR(got[k].beta, want[k].beta, 1e-6) << k;
    }
  };
  expect(nncc::nn::recurrentActivations(
             b.getStrArrayAttr({"HardSigmoid", "ScaledTanh", "Softplus", "leakyrelu", "Affine", "Elu"}),
             floats({0.3f, 0.8f, 0.2f, 0.6f}), floats({0.4f, 1.2f, -0.1f}), {}, 2),
         {{7, 0.3, 0.4}, {6, 0.8, 1.2}, {10, 0, 0}, {4, 0.2, 0}, {3, 0.6, -0.1}, {8, 1.0, 0}});
  // Defaults: LeakyRelu 0.01, HardSigmoid 0.2 and 0.5, ThresholdedRelu 1,
  // Affine 1 and 0, ScaledTanh 1 and 1, Elu 1.
  expect(nncc::nn::recurrentActivations(
             b.getStrArrayAttr({"LeakyRelu", "HardSigmoid", "ThresholdedRelu", "Affine", "ScaledTanh", "Elu"}), {},
             {}, {}, 2),
         {{4, 0.01, 0}, {7, 0.2, 0.5}, {5, 1.0, 0}, {3, 1.0, 0.0}, {6, 1.0, 1.0}, {8, 1.0, 0}});
  expect(nncc::nn::recurrentActivations(b.getStrArrayAttr({}), {}, {}, {"Sigmoid", "Tanh"}, 2),
         {{2, 0, 0}, {1, 0, 0}, {2, 0, 0}, {1, 0, 0}});
  EXPECT_EQ(nncc::nn::recurrentActivationCode("Gelu"), -1);
}

class UnrolledCells : public testing::TestWithParam<UnrollCase> {};

/// nn-unroll-recurrent's cells compute what the whole-layer kernels do.
TEST_P(UnrolledCells, MatchWholeLayers) {
  EXPECT_TRUE(unrollsWhole(GetParam().body)) << "a layer kept whole";
  {
    // After the graph passes each step's pointwise math (gate slices,
    // activations, clip, the lengths' selects, the new states and the
    // output) is one nn.fused op, two for a GRU whose reset gate comes
    // before its second product; nothing of a step's shape stays outside.
    MLIRContext ctx;
    auto module = nncc::test::parseModule(ctx, GetParam().body);
    ASSERT_TRUE(module);
    nncc::loadDialects(ctx);
    nncc::CompileOptions options;
    options.unrollRecurrent = true;
    PassManager pm(&ctx);
    nncc::buildGraphPipeline(pm, options);
    ASSERT_TRUE(succeeded(pm.run(*module)));
    auto main = *module->getOps<func::FuncOp>().begin();
    auto y = main.getFunctionType().getResult(0).cast<RankedTensorType>().getShape(); // [T, D, B, H]
    std::string body = GetParam().body;
    bool twoProducts = body.find("nn.gru") != std::string::npos && body.find("linear_before_reset = true") == std::string::npos;
    SmallVector<int64_t> step = {y[2], y[3]};
    int64_t fused = 0;
    for (Operation &op : main.getBody().front()) {
      if (op.getNumResults() == 0 || !op.getResult(0).getType().isa<RankedTensorType>() ||
          op.getResult(0).getType().cast<RankedTensorType>().getShape() != llvm::makeArrayRef(step))
        continue;
      if (isa<nncc::nn::FusedOp>(op))
        ++fused;
      else
        EXPECT_FALSE(nncc::nn::isElementwise(&op) || isa<nncc::nn::SliceOp>(op))
            << "outside nn.fused: " << op.getName().getStringRef().str();
    }
    EXPECT_EQ(fused, y[0] * y[1] * (twoProducts ? 2 : 1));
  }
  // A clip must bind: the outputs without it differ.
  std::string body = GetParam().body;
  if (size_t at = body.find("clip = "); at != std::string::npos) {
    std::string unclipped = body;
    unclipped.erase(at, body.find("direction") - at);
    auto with = runBody(body, false), without = runBody(unclipped, false);
    ASSERT_FALSE(with.empty());
    ASSERT_EQ(with.size(), without.size());
    float moved = 0;
    for (int64_t e = 0; e < with[0].numElements(); ++e)
      moved = std::max(moved, std::fabs(with[0].data<float>()[e] - without[0].data<float>()[e]));
    EXPECT_GT(moved, 1e-2f) << "the clip never binds";
  }
  auto layer = runBody(GetParam().body, false), cells = runBody(GetParam().body, true);
  ASSERT_EQ(layer.size(), cells.size());
  ASSERT_FALSE(layer.empty());
  for (size_t k = 0; k < layer.size(); ++k) {
    ASSERT_EQ(layer[k].shape(), cells[k].shape());
    for (int64_t e = 0; e < layer[k].numElements(); ++e)
      EXPECT_NEAR(cells[k].data<float>()[e], layer[k].data<float>()[e], 2e-5) << "output " << k << " element " << e;
  }
}

INSTANTIATE_TEST_SUITE_P(Recurrent, UnrolledCells, testing::ValuesIn(kUnroll),
                         [](const testing::TestParamInfo<UnrollCase> &i) { return std::string(i.param.name); });

} // namespace

namespace {

/// Saved gates that another op reads too (e.g. after CSE merged two
/// identical forwards): the backward must not overwrite them (it recomputes
/// instead), so the gradients and the other reader's result are those of a
/// backward that was never given them.
TEST(SavedGates, ReadTwiceAreNotOverwritten) {
  const char *body = R"(func.func @main(%x: tensor<5x2x3xf32>, %w: tensor<1x16x3xf32>, %r: tensor<1x16x4xf32>, %dy: tensor<5x1x2x4xf32>) -> (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x5x2x16xf32>) {
    %y, %h, %c, %g = nn.lstm_with_gates %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x5x2x16xf32>)
    %dx, %dw, %dr, %db, %dh, %dc, %dp = nn.lstm_grad %x, %w, %r, %y, %dy GATES {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, SAVED]> : vector<14xi32>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<5x1x2x4xf32>, tensor<5x1x2x4xf32> TYPE) -> (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x12xf32>)
    %n = nn.neg %g : tensor<1x5x2x16xf32>
    return %dx, %dw, %dr, %n : tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x5x2x16xf32> })";
  auto variant = [&](bool saved) {
    std::string b = body;
    auto put = [&](const char *key, const char *value) { b.replace(b.find(key), strlen(key), value); };
    put("GATES", saved ? ", %g" : "");
    put("SAVED", saved ? "1" : "0");
    put("TYPE", saved ? ", tensor<1x5x2x16xf32>" : "");
    return runBody(b, false);
  };
  auto given = variant(true), recomputed = variant(false);
  ASSERT_EQ(given.size(), 4u);
  ASSERT_EQ(recomputed.size(), 4u);
  for (size_t k = 0; k < given.size(); ++k)
    for (int64_t e = 0; e < given[k].numElements(); ++e)
      EXPECT_NEAR(given[k].data<float>()[e], recomputed[k].data<float>()[e], 1e-5) << "output " << k << " element " << e;
}

} // namespace

namespace {

/// Stacks of layers with ONNX's clip (inference: the stack clips in its
/// cells' rows) against the same layers one by one, whose rows the float
/// against double tests check (GradientTest): LSTM, both GRU cells and both
/// RNN activations, three layers, sequence lengths in no order, with a clip
/// (0.5) that binds. Each chain must run as one stack.
TEST(ClippedStacks, MatchLayers) {
  struct Cell {
    const char *name, *op, *attrs, *results;
    int gates;
  };
  const Cell cells[] = {
      {"lstm", "nn.lstm", "", ", %c", 4},
      {"gru", "nn.gru", "linear_before_reset = true, ", "", 3},
      {"gru_reset_first", "nn.gru", "", "", 3},
      {"rnn_tanh", "nn.rnn", "", "", 1},
      {"rnn_relu", "nn.rnn", "", "", 1},
  };
  for (const Cell &cell : cells) {
    SCOPED_TRACE(cell.name);
    bool lstm = cell.gates == 4, relu = std::string(cell.name) == "rnn_relu";
    int64_t G = cell.gates * 7;
    std::string acts = relu ? R"(["Relu"])" : "[]";
    std::string segments = lstm ? "dense<[1, 1, 1, 0, 1, 0, 0, 0]> : vector<8xi32>" : "dense<[1, 1, 1, 0, 1, 0]> : vector<6xi32>";
    std::string states = lstm ? ", tensor<1x3x7xf32>, tensor<1x3x7xf32>" : ", tensor<1x3x7xf32>";
    std::string body = "func.func @main(%x: tensor<18x3x5xf32>";
    for (int l = 0; l < 3; ++l)
      body += ", %w" + std::to_string(l) + ": tensor<1x" + std::to_string(G) + "x" + (l ? "7" : "5") + "xf32>, %r" +
              std::to_string(l) + ": tensor<1x" + std::to_string(G) + "x7xf32>";
    body += ") -> tensor<18x1x3x7xf32> {\n  %l = nn.constant dense<[9, 18, 4]> : tensor<3xi32>\n";
    std::string in = "%x";
    for (int l = 0; l < 3; ++l) {
      std::string L = std::to_string(l), I = l ? "7" : "5";
      body += "  %y" + L + ", %h" + L + (lstm ? ", %c" + L : "") + " = " + cell.op + " " + in + ", %w" + L + ", %r" + L +
              ", %l {activations = " + acts + ", activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, " +
              "hidden_size = 7 : i64, " + cell.attrs + "operand_segment_sizes = " + segments + "} : (tensor<18x3x" + I +
              "xf32>, tensor<1x" + std::to_string(G) + "x" + I + "xf32>, tensor<1x" + std::to_string(G) +
              "x7xf32>, tensor<3xi32>) -> (tensor<18x1x3x7xf32>" + states + ")\n";
      if (l < 2) {
        body += "  %x" + L + " = nn.reshape %y" + L + " {shape = [18, 3, 7]} : tensor<18x1x3x7xf32> -> tensor<18x3x7xf32>\n";
        in = "%x" + L;
      }
    }
    body += "  return %y2 : tensor<18x1x3x7xf32>\n}";
    {
      MLIRContext ctx;
      auto module = nncc::test::parseModule(ctx, body);
      ASSERT_TRUE(module) << body;
      PassManager pm(&ctx);
      pm.addNestedPass<func::FuncOp>(nncc::createStackRecurrentPass("wavefront", 0));
      ASSERT_TRUE(succeeded(pm.run(*module)));
      int stacks = 0;
      module->walk([&](Operation *op) {
        stacks += isa<nncc::nn::LSTMStackOp, nncc::nn::GRUStackOp, nncc::nn::RNNStackOp>(op);
      });
      EXPECT_EQ(stacks, 1) << "the clipped layers were not stacked";
    }
    auto stacked = runBody(body, false, "wavefront"), layers = runBody(body, false, "sequential");
    ASSERT_EQ(stacked.size(), 1u);
    ASSERT_EQ(layers.size(), 1u);
    for (int64_t e = 0; e < layers[0].numElements(); ++e)
      EXPECT_NEAR(stacked[0].data<float>()[e], layers[0].data<float>()[e], 2e-5) << "element " << e;
  }
}

} // namespace

namespace {

/// An ONNX bidirectional `op` layer (LSTM or GRU) whose W, R and B are
/// initializers (parameters of the graph), T = 12 steps of batch 16: two
/// chunks of the unrolled input projection, and each direction's W and R
/// (a default GRU's R rows split in two) made parameters of their own.
onnx::ModelProto bidirectionalLayer(const std::string &op, int gates) {
  const int64_t T = 12, B = 16, I = 5, H = 7;
  auto m = nncc::test::makeModel(14);
  auto *g = m.mutable_graph();
  nncc::test::addInput(g, "x", 1, {T, B, I});
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> unit(-0.6f, 0.6f);
  auto values = [&](int64_t n) {
    std::vector<float> v(n);
    for (float &f : v)
      f = unit(rng);
    return v;
  };
  nncc::test::addFloatInitializer(g, "W", {2, gates * H, I}, values(2 * gates * H * I));
  nncc::test::addFloatInitializer(g, "R", {2, gates * H, H}, values(2 * gates * H * H));
  nncc::test::addFloatInitializer(g, "B", {2, 2 * gates * H}, values(2 * 2 * gates * H));
  auto *node = nncc::test::setIntAttribute(nncc::test::addNode(g, op, {"x", "W", "R", "B"}, {"y"}, "layer"),
                                           "hidden_size", H);
  auto *a = node->add_attribute();
  a->set_name("direction");
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s("bidirectional");
  g->add_output()->set_name("y");
  return m;
}

} // namespace

/// Unrolled with the weights as parameters (per-direction and per-part
/// parameters, chunked projections), the layer computes what its kernel does.
TEST(UnrolledParameters, MatchWholeLayers) {
  for (auto [op, gates] : {std::pair<const char *, int>{"LSTM", 4}, {"GRU", 3}}) {
    SCOPED_TRACE(op);
    auto model = bidirectionalLayer(op, gates);
    nncc::Tensor x(nncc::DType::Float32, {12, 16, 5});
    std::mt19937 rng(2);
    std::uniform_real_distribution<float> unit(-1.f, 1.f);
    for (int64_t k = 0; k < x.numElements(); ++k)
      x.data<float>()[k] = unit(rng);
    std::vector<nncc::Tensor> outs[2];
    for (int unroll = 0; unroll < 2; ++unroll) {
      nncc::CompileOptions options;
      options.unrollRecurrent = unroll;
      std::string error;
      auto exe = nncc::compileOnnx(model, {}, options, error);
      ASSERT_TRUE(exe) << error;
      outs[unroll] = nncc::test::runExecutable(*exe, {x});
      ASSERT_EQ(outs[unroll].size(), 1u);
    }
    ASSERT_EQ(outs[0][0].shape(), outs[1][0].shape());
    for (int64_t e = 0; e < outs[0][0].numElements(); ++e)
      ASSERT_NEAR(outs[1][0].data<float>()[e], outs[0][0].data<float>()[e], 2e-5) << "element " << e;
  }
}
