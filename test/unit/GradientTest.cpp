// Finite-difference checks of every gradient rule of passes/Autodiff, in
// double precision, at several shapes including broadcasting. Each case's
// function y = f(args) gets the loss sum(y * R) (R random, fixed), the
// autodiff pass emits the gradients, the graph is compiled and run, and the
// gradients are compared with central differences of the same compiled loss.
#include "driver/Compiler.h"
#include "ir/NNOps.h"
#include "passes/Autodiff.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir;

namespace {

struct GradCase {
  const char *name;
  const char *body; ///< a func.func @main(...) -> tensor
  double low = -2, high = 2; ///< range of the random inputs
  bool awayFromZero = false; ///< |x| >= 0.2 (kinks of relu, abs, ...)
};

void checkGradients(const GradCase &c) {
  MLIRContext ctx;
  nncc::loadDialects(ctx);
  auto module = parseSourceString<ModuleOp>(c.body, &ctx);
  ASSERT_TRUE(module) << c.name;
  auto func = *module->getOps<func::FuncOp>().begin();
  Operation *ret = func.getBody().front().getTerminator();
  Value y = ret->getOperand(0);
  auto yt = y.getType().cast<RankedTensorType>();
  OpBuilder b(ret);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> unit(-1, 1);
  SmallVector<double> r(yt.getNumElements());
  for (double &v : r)
    v = unit(rng);
  Value R = b.create<nncc::nn::ConstantOp>(func.getLoc(), yt, DenseElementsAttr::get(yt, ArrayRef<double>(r)));
  Value prod = b.create<nncc::nn::MulOp>(func.getLoc(), y, R);
  Value loss = b.create<nncc::nn::ReduceSumOp>(func.getLoc(), prod, b.getI64ArrayAttr({}), b.getBoolAttr(false));
  SmallVector<Value> wrt, grads;
  for (BlockArgument a : func.getArguments())
    if (a.getType().cast<RankedTensorType>().getElementType().isF64())
      wrt.push_back(a);
  std::string error;
  ASSERT_TRUE(nncc::differentiate(b, loss, wrt, grads, error)) << c.name << ": " << error;
  SmallVector<Value> results{loss};
  results.append(grads.begin(), grads.end());
  nncc::setFunctionResults(func, results);
  nncc::CompileOptions options;
  auto exe = nncc::compileModule(*module, options, error);
  ASSERT_TRUE(exe) << c.name << ": " << error;

  std::vector<nncc::Tensor> inputs;
  std::uniform_real_distribution<double> dist(c.low, c.high);
  for (const auto &sig : exe->inputs()) {
    nncc::Tensor t(sig.dtype, sig.shape);
    for (int64_t k = 0; k < t.numElements(); ++k) {
      if (sig.dtype == nncc::DType::Float64) {
        double v = dist(rng);
        if (c.awayFromZero && std::fabs(v) < 0.2)
          v = v < 0 ? v - 0.2 : v + 0.2;
        t.data<double>()[k] = v;
      } else if (sig.dtype == nncc::DType::Int64) {
        t.data<int64_t>()[k] = 0; // index inputs: set by the case's shapes
      }
    }
    inputs.push_back(std::move(t));
  }
  auto run = [&](std::vector<nncc::Tensor> &out) {
    std::vector<const nncc::Tensor *> in;
    for (auto &t : inputs)
      in.push_back(&t);
    std::string err;
    EXPECT_TRUE(exe->run(in, out, err)) << err;
  };
  std::vector<nncc::Tensor> out;
  run(out);
  const double h = 1e-6;
  size_t g = 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (inputs[k].dtype() != nncc::DType::Float64)
      continue;
    const nncc::Tensor &analytic = out[1 + g++];
    ASSERT_EQ(analytic.numElements(), inputs[k].numElements()) << c.name;
    for (int64_t e = 0; e < inputs[k].numElements(); ++e) {
      double &x = inputs[k].data<double>()[e];
      double saved = x;
      std::vector<nncc::Tensor> plus, minus;
      x = saved + h;
      run(plus);
      x = saved - h;
      run(minus);
      x = saved;
      double fd = (plus[0].data<double>()[0] - minus[0].data<double>()[0]) / (2 * h);
      double an = analytic.data<double>()[e];
      EXPECT_NEAR(an, fd, 1e-5 * (1 + std::fabs(fd))) << c.name << ": d loss / d arg" << k << "[" << e << "]";
    }
  }
}

const GradCase kCases[] = {
    {"add_broadcast", R"(func.func @main(%a: tensor<3x4xf64>, %b: tensor<4xf64>) -> tensor<3x4xf64> {
       %y = nn.add %a, %b : tensor<3x4xf64>, tensor<4xf64>
       return %y : tensor<3x4xf64> })"},
    {"add_broadcast_3d", R"(func.func @main(%a: tensor<2x3x4xf64>, %b: tensor<3x1xf64>) -> tensor<2x3x4xf64> {
       %y = nn.add %a, %b : tensor<2x3x4xf64>, tensor<3x1xf64>
       return %y : tensor<2x3x4xf64> })"},
    {"sub_mul_div", R"(func.func @main(%a: tensor<3x4xf64>, %b: tensor<1x4xf64>, %c: tensor<3x1xf64>) -> tensor<3x4xf64> {
       %s = nn.sub %a, %b : tensor<3x4xf64>, tensor<1x4xf64>
       %m = nn.mul %s, %c : tensor<3x4xf64>, tensor<3x1xf64>
       %y = nn.div %m, %b : tensor<3x4xf64>, tensor<1x4xf64>
       return %y : tensor<3x4xf64> })", 0.5, 2},
    {"shared_use", R"(func.func @main(%a: tensor<5xf64>) -> tensor<5xf64> {
       %e = nn.exp %a : tensor<5xf64>
       %y = nn.mul %e, %a : tensor<5xf64>, tensor<5xf64>
       return %y : tensor<5xf64> })"},
    {"unary_smooth", R"(func.func @main(%a: tensor<2x3xf64>) -> tensor<2x3xf64> {
       %0 = nn.sigmoid %a : tensor<2x3xf64>
       %1 = nn.tanh %0 : tensor<2x3xf64>
       %2 = nn.softplus %1 : tensor<2x3xf64>
       %3 = nn.neg %2 : tensor<2x3xf64>
       %4 = nn.exp %3 : tensor<2x3xf64>
       return %4 : tensor<2x3xf64> })"},
    {"log_sqrt_reciprocal", R"(func.func @main(%a: tensor<2x3xf64>) -> tensor<2x3xf64> {
       %0 = nn.log %a : tensor<2x3xf64>
       %1 = nn.sqrt %a : tensor<2x3xf64>
       %2 = nn.reciprocal %a : tensor<2x3xf64>
       %3 = nn.add %0, %1 : tensor<2x3xf64>, tensor<2x3xf64>
       %4 = nn.add %3, %2 : tensor<2x3xf64>, tensor<2x3xf64>
       return %4 : tensor<2x3xf64> })", 0.5, 2},
    {"pow", R"(func.func @main(%a: tensor<2x3xf64>, %b: tensor<3xf64>) -> tensor<2x3xf64> {
       %0 = nn.pow %a, %b : tensor<2x3xf64>, tensor<3xf64>
       return %0 : tensor<2x3xf64> })", 0.5, 2},
    {"relu_leaky_abs", R"(func.func @main(%a: tensor<4x5xf64>) -> tensor<4x5xf64> {
       %0 = nn.relu %a : tensor<4x5xf64>
       %1 = nn.leaky_relu %a {alpha = 0.1 : f32} : tensor<4x5xf64>
       %2 = nn.abs %a : tensor<4x5xf64>
       %3 = nn.add %0, %1 : tensor<4x5xf64>, tensor<4x5xf64>
       %4 = nn.mul %3, %2 : tensor<4x5xf64>, tensor<4x5xf64>
       return %4 : tensor<4x5xf64> })", -2, 2, true},
    {"max_min_select", R"(func.func @main(%a: tensor<3x4xf64>, %b: tensor<4xf64>) -> tensor<3x4xf64> {
       %0 = nn.max %a, %b : tensor<3x4xf64>, tensor<4xf64>
       %1 = nn.min %a, %b : tensor<3x4xf64>, tensor<4xf64>
       %c = nn.greater %a, %b : tensor<3x4xf64>, tensor<4xf64>
       %2 = nn.select %c, %0, %1 : tensor<3x4xi1>, tensor<3x4xf64>, tensor<3x4xf64>
       %3 = nn.mul %2, %0 : tensor<3x4xf64>, tensor<3x4xf64>
       return %3 : tensor<3x4xf64> })"},
    {"matmul", R"(func.func @main(%a: tensor<3x4xf64>, %b: tensor<4x5xf64>) -> tensor<3x5xf64> {
       %0 = nn.matmul %a, %b : (tensor<3x4xf64>, tensor<4x5xf64>) -> tensor<3x5xf64>
       return %0 : tensor<3x5xf64> })"},
    {"matmul_batched_broadcast", R"(func.func @main(%a: tensor<2x3x4xf64>, %b: tensor<4x5xf64>) -> tensor<2x3x5xf64> {
       %0 = nn.matmul %a, %b : (tensor<2x3x4xf64>, tensor<4x5xf64>) -> tensor<2x3x5xf64>
       return %0 : tensor<2x3x5xf64> })"},
    {"gemm", R"(func.func @main(%a: tensor<3x4xf64>, %b: tensor<4x5xf64>, %c: tensor<5xf64>) -> tensor<3x5xf64> {
       %0 = nn.gemm %a, %b, %c {alpha = 0.5 : f32, beta = 2.0 : f32} : (tensor<3x4xf64>, tensor<4x5xf64>, tensor<5xf64>) -> tensor<3x5xf64>
       return %0 : tensor<3x5xf64> })"},
    {"gemm_transposed", R"(func.func @main(%a: tensor<4x3xf64>, %b: tensor<5x4xf64>, %c: tensor<3x1xf64>) -> tensor<3x5xf64> {
       %0 = nn.gemm %a, %b, %c {transA = true, transB = true} : (tensor<4x3xf64>, tensor<5x4xf64>, tensor<3x1xf64>) -> tensor<3x5xf64>
       return %0 : tensor<3x5xf64> })"},
    {"gemm_transB", R"(func.func @main(%a: tensor<3x4xf64>, %b: tensor<5x4xf64>) -> tensor<3x5xf64> {
       %0 = nn.gemm %a, %b {transB = true} : (tensor<3x4xf64>, tensor<5x4xf64>) -> tensor<3x5xf64>
       return %0 : tensor<3x5xf64> })"},
    {"softmax_logsoftmax", R"(func.func @main(%a: tensor<3x4xf64>) -> tensor<3x4xf64> {
       %0 = nn.softmax %a {axis = 1 : i64} : tensor<3x4xf64>
       %1 = nn.log_softmax %a {axis = 0 : i64} : tensor<3x4xf64>
       %2 = nn.add %0, %1 : tensor<3x4xf64>, tensor<3x4xf64>
       return %2 : tensor<3x4xf64> })"},
    {"reductions", R"(func.func @main(%a: tensor<2x3x4xf64>) -> tensor<2x1x1xf64> {
       %0 = nn.reduce_sum %a {axes = [1], keepdims = false} : tensor<2x3x4xf64> -> tensor<2x4xf64>
       %1 = nn.reduce_mean %a {axes = [1, 2], keepdims = true} : tensor<2x3x4xf64> -> tensor<2x1x1xf64>
       %2 = nn.reduce_sum %0 {axes = [], keepdims = false} : tensor<2x4xf64> -> tensor<f64>
       %3 = nn.mul %1, %2 : tensor<2x1x1xf64>, tensor<f64>
       return %3 : tensor<2x1x1xf64> })"},
    {"reshape_transpose_expand", R"(func.func @main(%a: tensor<2x3x4xf64>, %b: tensor<3x1xf64>) -> tensor<4x2x3xf64> {
       %0 = nn.transpose %a {perm = [2, 0, 1]} : tensor<2x3x4xf64> -> tensor<4x2x3xf64>
       %1 = nn.reshape %b {shape = [1, 3]} : tensor<3x1xf64> -> tensor<1x3xf64>
       %2 = nn.expand %1 {shape = [2, 3]} : tensor<1x3xf64> -> tensor<2x3xf64>
       %3 = nn.mul %0, %2 : tensor<4x2x3xf64>, tensor<2x3xf64>
       return %3 : tensor<4x2x3xf64> })"},
    {"concat", R"(func.func @main(%a: tensor<2x3xf64>, %b: tensor<2x2xf64>) -> tensor<2x5xf64> {
       %0 = nn.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf64>, tensor<2x2xf64>) -> tensor<2x5xf64>
       %1 = nn.mul %0, %0 : tensor<2x5xf64>, tensor<2x5xf64>
       return %1 : tensor<2x5xf64> })"},
    {"gather_elements", R"(func.func @main(%a: tensor<3x4xf64>) -> tensor<3x2xf64> {
       %i = nn.constant dense<[[0, 3], [1, 1], [2, 0]]> : tensor<3x2xi64>
       %0 = nn.gather_elements %a, %i {axis = 1 : i64} : (tensor<3x4xf64>, tensor<3x2xi64>) -> tensor<3x2xf64>
       return %0 : tensor<3x2xf64> })"},
    {"conv_pad1", R"(func.func @main(%x: tensor<2x3x5x5xf64>, %w: tensor<4x3x3x3xf64>, %b: tensor<4xf64>) -> tensor<2x4x5x5xf64> {
       %0 = nn.conv %x, %w bias %b {dilations = [1, 1], pads = [1, 1, 1, 1], strides = [1, 1]} : (tensor<2x3x5x5xf64>, tensor<4x3x3x3xf64>, tensor<4xf64>) -> tensor<2x4x5x5xf64>
       return %0 : tensor<2x4x5x5xf64> })"},
    {"conv_stride2_odd", R"(func.func @main(%x: tensor<1x2x7x6xf64>, %w: tensor<3x2x3x2xf64>) -> tensor<1x3x3x3xf64> {
       %0 = nn.conv %x, %w {dilations = [1, 1], pads = [0, 1, 0, 0], strides = [2, 2]} : (tensor<1x2x7x6xf64>, tensor<3x2x3x2xf64>) -> tensor<1x3x3x3xf64>
       return %0 : tensor<1x3x3x3xf64> })"},
    {"conv_dilated", R"(func.func @main(%x: tensor<1x2x7x7xf64>, %w: tensor<2x2x3x3xf64>) -> tensor<1x2x5x5xf64> {
       %0 = nn.conv %x, %w {dilations = [2, 2], pads = [1, 1, 1, 1], strides = [1, 1]} : (tensor<1x2x7x7xf64>, tensor<2x2x3x3xf64>) -> tensor<1x2x5x5xf64>
       return %0 : tensor<1x2x5x5xf64> })"},
    {"conv_depthwise_stride2", R"(func.func @main(%x: tensor<2x3x6x5xf64>, %w: tensor<3x1x3x3xf64>, %b: tensor<3xf64>) -> tensor<2x3x3x3xf64> {
       %0 = nn.conv %x, %w bias %b {dilations = [1, 1], group = 3 : i64, pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<2x3x6x5xf64>, tensor<3x1x3x3xf64>, tensor<3xf64>) -> tensor<2x3x3x3xf64>
       return %0 : tensor<2x3x3x3xf64> })"},
    {"max_pool", R"(func.func @main(%x: tensor<2x3x6x6xf64>) -> tensor<2x3x3x3xf64> {
       %0 = nn.max_pool %x {kernel_shape = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [1, 1]} : tensor<2x3x6x6xf64> -> tensor<2x3x3x3xf64>
       return %0 : tensor<2x3x3x3xf64> })"},
    {"max_pool_overlapping_padded", R"(func.func @main(%x: tensor<1x2x5x5xf64>) -> tensor<1x2x3x3xf64> {
       %0 = nn.max_pool %x {kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1], dilations = [1, 1]} : tensor<1x2x5x5xf64> -> tensor<1x2x3x3xf64>
       return %0 : tensor<1x2x3x3xf64> })"},
    {"avg_pool", R"(func.func @main(%x: tensor<1x2x5x5xf64>) -> tensor<1x2x2x2xf64> {
       %0 = nn.avg_pool %x {kernel_shape = [3, 3], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [1, 1]} : tensor<1x2x5x5xf64> -> tensor<1x2x2x2xf64>
       return %0 : tensor<1x2x2x2xf64> })"},
};

class Gradient : public testing::TestWithParam<GradCase> {};
TEST_P(Gradient, MatchesFiniteDifferences) { checkGradients(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Ops, Gradient, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<GradCase> &i) { return std::string(i.param.name); });

/// The three losses, differentiated w.r.t. the prediction.
void checkLoss(nncc::LossKind kind, const char *body) {
  MLIRContext ctx;
  nncc::loadDialects(ctx);
  auto module = parseSourceString<ModuleOp>(body, &ctx);
  ASSERT_TRUE(module);
  auto func = *module->getOps<func::FuncOp>().begin();
  Operation *ret = func.getBody().front().getTerminator();
  OpBuilder b(ret);
  Value loss = nncc::emitLoss(b, func.getLoc(), kind, func.getArgument(0), ret->getOperand(0));
  SmallVector<Value> grads;
  std::string error;
  ASSERT_TRUE(nncc::differentiate(b, loss, {func.getArgument(0)}, grads, error)) << error;
  nncc::setFunctionResults(func, {loss, grads[0]});
  auto exe = nncc::compileModule(*module, nncc::CompileOptions(), error);
  ASSERT_TRUE(exe) << error;
  nncc::Tensor z(nncc::DType::Float64, exe->inputs()[0].shape);
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> dist(-2, 2);
  for (int64_t k = 0; k < z.numElements(); ++k)
    z.data<double>()[k] = dist(rng);
  auto eval = [&](std::vector<nncc::Tensor> &out) {
    std::string err;
    ASSERT_TRUE(exe->run({&z}, out, err)) << err;
  };
  std::vector<nncc::Tensor> out;
  eval(out);
  for (int64_t e = 0; e < z.numElements(); ++e) {
    double saved = z.data<double>()[e];
    std::vector<nncc::Tensor> p, m;
    z.data<double>()[e] = saved + 1e-6;
    eval(p);
    z.data<double>()[e] = saved - 1e-6;
    eval(m);
    z.data<double>()[e] = saved;
    double fd = (p[0].data<double>()[0] - m[0].data<double>()[0]) / 2e-6;
    EXPECT_NEAR(out[1].data<double>()[e], fd, 1e-6 * (1 + std::fabs(fd))) << e;
  }
}

TEST(Loss, SoftmaxCrossEntropy) {
  checkLoss(nncc::LossKind::SoftmaxCrossEntropy, R"(func.func @main(%z: tensor<4x3xf64>) -> tensor<4xi64> {
    %l = nn.constant dense<[2, 0, 1, 2]> : tensor<4xi64>
    return %l : tensor<4xi64> })");
}
TEST(Loss, MeanSquaredError) {
  checkLoss(nncc::LossKind::MeanSquaredError, R"(func.func @main(%z: tensor<4x2xf64>) -> tensor<4x2xf64> {
    %t = nn.constant dense<[[0.5, 1.0], [-1.0, 0.0], [2.0, 0.25], [0.0, 0.0]]> : tensor<4x2xf64>
    return %t : tensor<4x2xf64> })");
}
TEST(Loss, BinaryCrossEntropyWithLogits) {
  checkLoss(nncc::LossKind::BinaryCrossEntropyWithLogits, R"(func.func @main(%z: tensor<5x1xf64>) -> tensor<5x1xf64> {
    %t = nn.constant dense<[[1.0], [0.0], [1.0], [0.0], [1.0]]> : tensor<5x1xf64>
    return %t : tensor<5x1xf64> })");
}

/// A loss that is not a scalar is refused with a message.
TEST(Autodiff, RejectsNonScalarLoss) {
  MLIRContext ctx;
  nncc::loadDialects(ctx);
  auto module = parseSourceString<ModuleOp>(R"(func.func @main(%a: tensor<3xf64>) -> tensor<3xf64> {
    %0 = nn.exp %a : tensor<3xf64>
    return %0 : tensor<3xf64> })", &ctx);
  auto func = *module->getOps<func::FuncOp>().begin();
  Operation *ret = func.getBody().front().getTerminator();
  OpBuilder b(ret);
  SmallVector<Value> grads;
  std::string error;
  EXPECT_FALSE(nncc::differentiate(b, ret->getOperand(0), {func.getArgument(0)}, grads, error));
  EXPECT_NE(error.find("scalar"), std::string::npos) << error;
}

} // namespace
