// Memory of the recurrent layers: forward-only runs keep a constant working
// set whatever the sequence length (the input projection is computed a chunk
// of steps at a time; a y nobody reads is not computed).
#include "driver/Compiler.h"
#include "ir/NNOps.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include <gtest/gtest.h>

#include <string>

using namespace mlir;

namespace {

/// `body` with every "T" in a shape replaced by the sequence length.
std::string withSteps(std::string body, int64_t steps) {
  for (size_t at; (at = body.find("<T")) != std::string::npos;)
    body.replace(at + 1, 1, std::to_string(steps));
  return body;
}

int64_t workspaceOf(const std::string &body) {
  MLIRContext ctx;
  nncc::loadDialects(ctx);
  auto module = parseSourceString<ModuleOp>(body, &ctx);
  EXPECT_TRUE(module);
  if (!module)
    return -1;
  std::string error;
  auto exe = nncc::compileModule(*module, nncc::CompileOptions(), error);
  EXPECT_TRUE(exe) << error;
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
};

class ForwardMemory : public testing::TestWithParam<ForwardCase> {};

TEST_P(ForwardMemory, DoesNotGrowWithSequenceLength) {
  int64_t short10 = workspaceOf(withSteps(GetParam().body, 10));
  int64_t long1000 = workspaceOf(withSteps(GetParam().body, 1000));
  ASSERT_GT(short10, 0);
  EXPECT_LE((double)long1000, 1.1 * (double)short10) << "T=10: " << short10 << " B, T=1000: " << long1000 << " B";
}

INSTANTIATE_TEST_SUITE_P(Recurrent, ForwardMemory, testing::ValuesIn(kForward),
                         [](const testing::TestParamInfo<ForwardCase> &i) { return std::string(i.param.name); });

} // namespace
