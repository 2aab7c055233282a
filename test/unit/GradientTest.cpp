// Finite-difference checks of every gradient rule of passes/Autodiff, in
// double precision, at several shapes including broadcasting. Each case's
// function y = f(args) gets the loss sum(y * R) (R random, fixed), the
// autodiff pass emits the gradients, the graph is compiled and run, and the
// gradients are compared with central differences of the same compiled loss.
#include "driver/Compiler.h"
#include "ir/NNOps.h"
#include "passes/Autodiff.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "TestUtil.h"

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
  auto module = nncc::test::parseModule(ctx, c.body);
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
  // Loops whose iterations are not known at compile time return their
  // counts, which the run checks against their rows.
  SmallVector<Value> counts;
  nncc::DifferentiateOptions options;
  options.cappedCounts = &counts;
  ASSERT_TRUE(nncc::differentiate(b, loss, wrt, grads, error, options)) << c.name << ": " << error;
  SmallVector<Value> results{loss};
  results.append(grads.begin(), grads.end());
  nncc::setResultsWithRowChecks(func, results, counts);
  auto exe = nncc::compileModule(*module, nncc::CompileOptions(), error);
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

/// The text of a while loop (nn.loop) with trip count `trips`.
std::string whileLoop(const std::string &trips) {
  std::string text = R"(func.func @main(%x: tensor<3xf64>, %v: tensor<3xf64>, %w: tensor<3xf64>) -> tensor<3xf64> {
       %m = nn.constant dense<TRIPS> : tensor<i64>
       %c = nn.constant dense<true> : tensor<i1>
       %lim = nn.constant dense<1.1> : tensor<f64>
       %r, %q = nn.loop(%m, %c, %x, %v) : (tensor<i64>, tensor<i1>, tensor<3xf64>, tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>) {
       ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %xi: tensor<3xf64>, %vi: tensor<3xf64>):
         %p = nn.mul %xi, %w : tensor<3xf64>, tensor<3xf64>
         %a = nn.add %p, %vi : tensor<3xf64>, tensor<3xf64>
         %t = nn.tanh %a : tensor<3xf64>
         %h = nn.mul %t, %t : tensor<3xf64>, tensor<3xf64>
         %e = nn.reduce_sum %h {axes = [], keepdims = false} : tensor<3xf64> -> tensor<f64>
         %go = nn.greater %e, %lim : tensor<f64>, tensor<f64>
         nn.loop_yield %go, %t, %xi : tensor<i1>, tensor<3xf64>, tensor<3xf64>
       }
       %y = nn.mul %r, %q : tensor<3xf64>, tensor<3xf64>
       return %y : tensor<3xf64> })";
  return text.replace(text.find("TRIPS"), 5, trips);
}
const std::string kWhileLoop = whileLoop("10"), kUnboundedWhileLoop = whileLoop("9223372036854775807");

const GradCase kCases[] = {
    // An ONNX Loop run as a loop (nn.loop): through its carried value, its
    // scan output and a weight its body reads from outside.
    {"loop_for", R"(func.func @main(%x: tensor<3xf64>, %w: tensor<3xf64>) -> tensor<3xf64> {
       %m = nn.constant dense<4> : tensor<i64>
       %c = nn.constant dense<true> : tensor<i1>
       %r, %ys, %n = nn.loop(%m, %c, %x) {scan_outputs = 1 : i64} : (tensor<i64>, tensor<i1>, tensor<3xf64>) -> (tensor<3xf64>, tensor<4x3xf64>, tensor<i64>) {
       ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %xi: tensor<3xf64>):
         %p = nn.mul %xi, %w : tensor<3xf64>, tensor<3xf64>
         %t = nn.tanh %p : tensor<3xf64>
         %s = nn.mul %t, %xi : tensor<3xf64>, tensor<3xf64>
         nn.loop_yield %ci, %t, %s : tensor<i1>, tensor<3xf64>, tensor<3xf64>
       }
       %sum = nn.reduce_sum %ys {axes = [0], keepdims = false} : tensor<4x3xf64> -> tensor<3xf64>
       %y = nn.add %r, %sum : tensor<3xf64>, tensor<3xf64>
       return %y : tensor<3xf64> })"},
    // The loop's carried value starts as the weight its body also reads:
    // both paths carry gradient.
    {"loop_carries_its_weight", R"(func.func @main(%w: tensor<3xf64>) -> tensor<3xf64> {
       %m = nn.constant dense<3> : tensor<i64>
       %c = nn.constant dense<true> : tensor<i1>
       %r = nn.loop(%m, %c, %w) : (tensor<i64>, tensor<i1>, tensor<3xf64>) -> tensor<3xf64> {
       ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %hi: tensor<3xf64>):
         %p = nn.mul %hi, %w : tensor<3xf64>, tensor<3xf64>
         %t = nn.tanh %p : tensor<3xf64>
         nn.loop_yield %ci, %t : tensor<i1>, tensor<3xf64>
       }
       return %r : tensor<3xf64> })"},
    // A while loop: the body computes its condition from the data (sum of
    // t^2 > 1.1: at these inputs 4 iterations of at most 10, the sums
    // 2.41, 1.14, 1.83, 1.09), and carries two values, one swapped with the
    // other.
    {"loop_while", kWhileLoop.c_str()},
    // The same with trip count INT64_MAX (as PyTorch exports a scripted
    // while): its iterations are saved in a capacity of rows.
    {"loop_while_unbounded", kUnboundedWhileLoop.c_str()},
    // A loop inside a loop's body: differentiated inside the outer
    // backward's body. The inner loop starts from zeros: only its body
    // reads values with gradients (the weight and the outer body's h), not
    // its operands.
    {"loop_nested", R"(func.func @main(%x: tensor<3xf64>, %w: tensor<3xf64>) -> tensor<3xf64> {
       %m = nn.constant dense<3> : tensor<i64>
       %m2 = nn.constant dense<2> : tensor<i64>
       %c = nn.constant dense<true> : tensor<i1>
       %half = nn.constant dense<0.5> : tensor<f64>
       %zeros = nn.constant dense<0.0> : tensor<3xf64>
       %r = nn.loop(%m, %c, %x) : (tensor<i64>, tensor<i1>, tensor<3xf64>) -> tensor<3xf64> {
       ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %h: tensor<3xf64>):
         %g = nn.loop(%m2, %ci, %zeros) : (tensor<i64>, tensor<i1>, tensor<3xf64>) -> tensor<3xf64> {
         ^bb0(%j: tensor<i64>, %cj: tensor<i1>, %gi: tensor<3xf64>):
           %p = nn.mul %gi, %w : tensor<3xf64>, tensor<3xf64>
           %q = nn.add %p, %h : tensor<3xf64>, tensor<3xf64>
           %t = nn.tanh %q : tensor<3xf64>
           nn.loop_yield %cj, %t : tensor<i1>, tensor<3xf64>
         }
         %hs = nn.mul %h, %half : tensor<3xf64>, tensor<f64>
         %s = nn.add %g, %hs : tensor<3xf64>, tensor<3xf64>
         nn.loop_yield %ci, %s : tensor<i1>, tensor<3xf64>
       }
       return %r : tensor<3xf64> })"},
    // Nested while loops (conditions from the data; the inner one starts
    // from a condition made inside the outer body).
    {"loop_nested_while", R"(func.func @main(%x: tensor<4x3xf64>, %w: tensor<3x3xf64>) -> tensor<4x3xf64> {
       %m = nn.constant dense<3> : tensor<i64>
       %m2 = nn.constant dense<10> : tensor<i64>
       %c = nn.constant dense<true> : tensor<i1>
       %scale = nn.constant dense<0.8> : tensor<f64>
       %lim = nn.constant dense<4.0> : tensor<f64>
       %lim2 = nn.constant dense<2.0> : tensor<f64>
       %r = nn.loop(%m, %c, %x) : (tensor<i64>, tensor<i1>, tensor<4x3xf64>) -> tensor<4x3xf64> {
       ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %h: tensor<4x3xf64>):
         %yes = nn.constant dense<true> : tensor<i1>
         %g = nn.loop(%m2, %yes, %h) : (tensor<i64>, tensor<i1>, tensor<4x3xf64>) -> tensor<4x3xf64> {
         ^bb0(%j: tensor<i64>, %cj: tensor<i1>, %gi: tensor<4x3xf64>):
           %p = nn.matmul %gi, %w : (tensor<4x3xf64>, tensor<3x3xf64>) -> tensor<4x3xf64>
           %t = nn.tanh %p : tensor<4x3xf64>
           %t2 = nn.mul %t, %t : tensor<4x3xf64>, tensor<4x3xf64>
           %e = nn.reduce_sum %t2 {axes = [], keepdims = false} : tensor<4x3xf64> -> tensor<f64>
           %go = nn.greater %e, %lim : tensor<f64>, tensor<f64>
           nn.loop_yield %go, %t : tensor<i1>, tensor<4x3xf64>
         }
         %hs = nn.mul %g, %scale : tensor<4x3xf64>, tensor<f64>
         %h2 = nn.mul %hs, %hs : tensor<4x3xf64>, tensor<4x3xf64>
         %e2 = nn.reduce_sum %h2 {axes = [], keepdims = false} : tensor<4x3xf64> -> tensor<f64>
         %go2 = nn.greater %e2, %lim2 : tensor<f64>, tensor<f64>
         nn.loop_yield %go2, %hs : tensor<i1>, tensor<4x3xf64>
       }
       return %r : tensor<4x3xf64> })"},
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
    {"gather_embedding_repeated", R"(func.func @main(%e: tensor<5x3xf64>) -> tensor<2x4x3xf64> {
       %i = nn.constant dense<[[0, 4, 4, 1], [-1, 2, 0, 0]]> : tensor<2x4xi64>
       %0 = nn.gather %e, %i {axis = 0 : i64} : (tensor<5x3xf64>, tensor<2x4xi64>) -> tensor<2x4x3xf64>
       return %0 : tensor<2x4x3xf64> })"},
    {"gather_inner_axes", R"(func.func @main(%a: tensor<2x4x3xf64>) -> tensor<2x3x2x3xf64> {
       %i = nn.constant dense<[[1, 1], [3, 0], [-2, 1]]> : tensor<3x2xi32>
       %0 = nn.gather %a, %i {axis = 1 : i64} : (tensor<2x4x3xf64>, tensor<3x2xi32>) -> tensor<2x3x2x3xf64>
       %j = nn.constant dense<[2, 0, 2, 1]> : tensor<4xi64>
       %1 = nn.gather %0, %j {axis = 3 : i64} : (tensor<2x3x2x3xf64>, tensor<4xi64>) -> tensor<2x3x2x4xf64>
       %2 = nn.reduce_sum %1 {axes = [3], keepdims = true} : tensor<2x3x2x4xf64> -> tensor<2x3x2x1xf64>
       %3 = nn.mul %0, %2 : tensor<2x3x2x3xf64>, tensor<2x3x2x1xf64>
       return %3 : tensor<2x3x2x3xf64> })"},
    {"trig_and_inverse", R"(func.func @main(%a: tensor<3x4xf64>) -> tensor<3x4xf64> {
       %0 = nn.sin %a : tensor<3x4xf64>
       %1 = nn.cos %a : tensor<3x4xf64>
       %2 = nn.tan %a : tensor<3x4xf64>
       %3 = nn.asin %a : tensor<3x4xf64>
       %4 = nn.acos %a : tensor<3x4xf64>
       %5 = nn.atan %a : tensor<3x4xf64>
       %6 = nn.atanh %a : tensor<3x4xf64>
       %s0 = nn.add %0, %1 : tensor<3x4xf64>, tensor<3x4xf64>
       %s1 = nn.mul %s0, %2 : tensor<3x4xf64>, tensor<3x4xf64>
       %s2 = nn.add %s1, %3 : tensor<3x4xf64>, tensor<3x4xf64>
       %s3 = nn.mul %s2, %4 : tensor<3x4xf64>, tensor<3x4xf64>
       %s4 = nn.add %s3, %5 : tensor<3x4xf64>, tensor<3x4xf64>
       %s5 = nn.mul %s4, %6 : tensor<3x4xf64>, tensor<3x4xf64>
       return %s5 : tensor<3x4xf64> })", -0.9, 0.9},
    {"hyperbolic_erf", R"(func.func @main(%a: tensor<3x4xf64>) -> tensor<3x4xf64> {
       %0 = nn.sinh %a : tensor<3x4xf64>
       %1 = nn.cosh %a : tensor<3x4xf64>
       %2 = nn.asinh %a : tensor<3x4xf64>
       %3 = nn.acosh %a : tensor<3x4xf64>
       %4 = nn.erf %a : tensor<3x4xf64>
       %s0 = nn.add %0, %1 : tensor<3x4xf64>, tensor<3x4xf64>
       %s1 = nn.mul %s0, %2 : tensor<3x4xf64>, tensor<3x4xf64>
       %s2 = nn.add %s1, %3 : tensor<3x4xf64>, tensor<3x4xf64>
       %s3 = nn.mul %s2, %4 : tensor<3x4xf64>, tensor<3x4xf64>
       return %s3 : tensor<3x4xf64> })", 1.1, 2.5},
    {"activations_smooth", R"(func.func @main(%a: tensor<4x5xf64>) -> tensor<4x5xf64> {
       %0 = nn.softsign %a : tensor<4x5xf64>
       %1 = nn.gelu %a : tensor<4x5xf64>
       %2 = nn.gelu %a {approximate = "tanh"} : tensor<4x5xf64>
       %3 = nn.elu %a {alpha = 0.7 : f32} : tensor<4x5xf64>
       %4 = nn.selu %a : tensor<4x5xf64>
       %5 = nn.celu %a {alpha = 1.5 : f32} : tensor<4x5xf64>
       %s0 = nn.add %0, %1 : tensor<4x5xf64>, tensor<4x5xf64>
       %s1 = nn.mul %s0, %2 : tensor<4x5xf64>, tensor<4x5xf64>
       %s2 = nn.add %s1, %3 : tensor<4x5xf64>, tensor<4x5xf64>
       %s3 = nn.mul %s2, %4 : tensor<4x5xf64>, tensor<4x5xf64>
       %s4 = nn.add %s3, %5 : tensor<4x5xf64>, tensor<4x5xf64>
       return %s4 : tensor<4x5xf64> })", -2, 2, true},
    {"activations_piecewise", R"(func.func @main(%a: tensor<4x6xf64>, %p: tensor<6xf64>) -> tensor<4x6xf64> {
       %0 = nn.hard_sigmoid %a {alpha = 0.3 : f32, beta = 0.4 : f32} : tensor<4x6xf64>
       %1 = nn.hard_swish %a : tensor<4x6xf64>
       %2 = nn.thresholded_relu %a {alpha = 0.5 : f32} : tensor<4x6xf64>
       %3 = nn.shrink %a {lambd = 0.6 : f32, bias = 0.2 : f32} : tensor<4x6xf64>
       %4 = nn.prelu %a, %p : tensor<4x6xf64>, tensor<6xf64>
       %5 = nn.floor %a : tensor<4x6xf64>
       %s0 = nn.add %0, %1 : tensor<4x6xf64>, tensor<4x6xf64>
       %s1 = nn.mul %s0, %2 : tensor<4x6xf64>, tensor<4x6xf64>
       %s2 = nn.add %s1, %3 : tensor<4x6xf64>, tensor<4x6xf64>
       %s3 = nn.mul %s2, %4 : tensor<4x6xf64>, tensor<4x6xf64>
       %s4 = nn.mul %s3, %5 : tensor<4x6xf64>, tensor<4x6xf64>
       return %s4 : tensor<4x6xf64> })", -4, 4, true},
    {"reduce_max_min_prod", R"(func.func @main(%a: tensor<2x3x4xf64>) -> tensor<2x1x4xf64> {
       %0 = nn.reduce_max %a {axes = [1], keepdims = true} : tensor<2x3x4xf64> -> tensor<2x1x4xf64>
       %1 = nn.reduce_min %a {axes = [0, 2], keepdims = false} : tensor<2x3x4xf64> -> tensor<3xf64>
       %2 = nn.reduce_prod %a {axes = [1], keepdims = true} : tensor<2x3x4xf64> -> tensor<2x1x4xf64>
       %3 = nn.reduce_max %a {axes = [], keepdims = false} : tensor<2x3x4xf64> -> tensor<f64>
       %m = nn.reduce_sum %1 {axes = [], keepdims = false} : tensor<3xf64> -> tensor<f64>
       %s0 = nn.add %0, %2 : tensor<2x1x4xf64>, tensor<2x1x4xf64>
       %s1 = nn.mul %s0, %m : tensor<2x1x4xf64>, tensor<f64>
       %s2 = nn.add %s1, %3 : tensor<2x1x4xf64>, tensor<f64>
       return %s2 : tensor<2x1x4xf64> })", 0.3, 2},
    {"slice_pad_tile", R"(func.func @main(%a: tensor<4x5xf64>) -> tensor<6x6xf64> {
       %0 = nn.slice %a {starts = [1, 0], steps = [1, 1], sizes = [2, 3]} : tensor<4x5xf64> -> tensor<2x3xf64>
       %1 = nn.tile %0 {repeats = [3, 2]} : tensor<2x3xf64> -> tensor<6x6xf64>
       %2 = nn.pad %a {pads = [1, -1, 1, 2]} : tensor<4x5xf64> -> tensor<6x6xf64>
       %3 = nn.mul %1, %2 : tensor<6x6xf64>, tensor<6x6xf64>
       return %3 : tensor<6x6xf64> })"},
    {"cumsum_trilu_reverse_sequence", R"(func.func @main(%a: tensor<4x3xf64>) -> tensor<4x3xf64> {
       %0 = nn.cumsum %a {axis = 0 : i64, exclusive = true, reverse = true} : tensor<4x3xf64>
       %1 = nn.cumsum %a {axis = 1 : i64} : tensor<4x3xf64>
       %2 = nn.trilu %a {upper = false, k = 0 : i64} : tensor<4x3xf64>
       %l = nn.constant dense<[2, 4, 1]> : tensor<3xi64>
       %3 = nn.reverse_sequence %a, %l {batch_axis = 1 : i64, time_axis = 0 : i64} : (tensor<4x3xf64>, tensor<3xi64>) -> tensor<4x3xf64>
       %s0 = nn.mul %0, %1 : tensor<4x3xf64>, tensor<4x3xf64>
       %s1 = nn.add %s0, %2 : tensor<4x3xf64>, tensor<4x3xf64>
       %s2 = nn.mul %s1, %3 : tensor<4x3xf64>, tensor<4x3xf64>
       return %s2 : tensor<4x3xf64> })"},
    {"gather_nd", R"(func.func @main(%a: tensor<3x4x2xf64>) -> tensor<3x2xf64> {
       %i = nn.constant dense<[[0, 1], [2, 3], [0, 1]]> : tensor<3x2xi64>
       %0 = nn.gather_nd %a, %i : (tensor<3x4x2xf64>, tensor<3x2xi64>) -> tensor<3x2xf64>
       %1 = nn.mul %0, %0 : tensor<3x2xf64>, tensor<3x2xf64>
       return %1 : tensor<3x2xf64> })"},
    {"batch_norm", R"(func.func @main(%x: tensor<2x3x2x2xf64>, %s: tensor<3xf64>, %b: tensor<3xf64>, %m: tensor<3xf64>, %v: tensor<3xf64>) -> tensor<2x3x2x2xf64> {
       %0 = nn.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-3 : f32} : (tensor<2x3x2x2xf64>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64>) -> tensor<2x3x2x2xf64>
       %1 = nn.mul %0, %0 : tensor<2x3x2x2xf64>, tensor<2x3x2x2xf64>
       return %1 : tensor<2x3x2x2xf64> })", 0.5, 2},
    {"layer_norm", R"(func.func @main(%x: tensor<2x3x4xf64>, %s: tensor<3x4xf64>, %b: tensor<3x4xf64>) -> tensor<2x3x4xf64> {
       %y, %m, %i = nn.layer_norm %x, %s, %b {axis = 1 : i64, epsilon = 1.0e-3 : f32} : (tensor<2x3x4xf64>, tensor<3x4xf64>, tensor<3x4xf64>) -> (tensor<2x3x4xf64>, tensor<2x1x1xf64>, tensor<2x1x1xf64>)
       %1 = nn.mul %y, %y : tensor<2x3x4xf64>, tensor<2x3x4xf64>
       return %1 : tensor<2x3x4xf64> })"},
    {"layer_norm_last_axis", R"(func.func @main(%x: tensor<3x5xf64>, %s: tensor<5xf64>) -> tensor<3x5xf64> {
       %y, %m, %i = nn.layer_norm %x, %s {axis = 1 : i64} : (tensor<3x5xf64>, tensor<5xf64>) -> (tensor<3x5xf64>, tensor<3x1xf64>, tensor<3x1xf64>)
       %1 = nn.mul %y, %x : tensor<3x5xf64>, tensor<3x5xf64>
       return %1 : tensor<3x5xf64> })"},
    {"instance_norm", R"(func.func @main(%x: tensor<2x3x2x3xf64>, %s: tensor<3xf64>, %b: tensor<3xf64>) -> tensor<2x3x2x3xf64> {
       %0 = nn.instance_norm %x, %s, %b {epsilon = 1.0e-3 : f32} : (tensor<2x3x2x3xf64>, tensor<3xf64>, tensor<3xf64>) -> tensor<2x3x2x3xf64>
       %1 = nn.mul %0, %0 : tensor<2x3x2x3xf64>, tensor<2x3x2x3xf64>
       return %1 : tensor<2x3x2x3xf64> })"},
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
    {"conv_grouped", R"(func.func @main(%x: tensor<2x4x5x5xf64>, %w: tensor<6x2x3x3xf64>, %b: tensor<6xf64>) -> tensor<2x6x3x3xf64> {
       %0 = nn.conv %x, %w bias %b {dilations = [1, 1], group = 2 : i64, pads = [1, 0, 1, 0], strides = [2, 1]} : (tensor<2x4x5x5xf64>, tensor<6x2x3x3xf64>, tensor<6xf64>) -> tensor<2x6x3x3xf64>
       return %0 : tensor<2x6x3x3xf64> })"},
    {"conv_transpose_stride2_outpad", R"(func.func @main(%x: tensor<2x3x3x4xf64>, %w: tensor<3x2x3x3xf64>, %b: tensor<2xf64>) -> tensor<2x2x6x8xf64> {
       %0 = nn.conv_transpose %x, %w, %b {dilations = [1, 1], output_padding = [1, 1], pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<2x3x3x4xf64>, tensor<3x2x3x3xf64>, tensor<2xf64>) -> tensor<2x2x6x8xf64>
       return %0 : tensor<2x2x6x8xf64> })"},
    {"conv_transpose_grouped_dilated", R"(func.func @main(%x: tensor<1x4x3x3xf64>, %w: tensor<4x1x2x2xf64>) -> tensor<1x2x5x5xf64> {
       %0 = nn.conv_transpose %x, %w {dilations = [2, 2], group = 2 : i64, output_padding = [0, 0], pads = [0, 0, 0, 0], strides = [1, 1]} : (tensor<1x4x3x3xf64>, tensor<4x1x2x2xf64>) -> tensor<1x2x5x5xf64>
       return %0 : tensor<1x2x5x5xf64> })"},
    {"lrn", R"(func.func @main(%x: tensor<2x5x2x3xf64>) -> tensor<2x5x2x3xf64> {
       %0 = nn.lrn %x {size = 3 : i64, alpha = 0.5 : f32, beta = 0.75 : f32, bias = 1.5 : f32} : tensor<2x5x2x3xf64>
       return %0 : tensor<2x5x2x3xf64> })"},
    {"lp_pool", R"(func.func @main(%x: tensor<1x2x5x5xf64>) -> tensor<1x2x3x3xf64> {
       %0 = nn.lp_pool %x {kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1], dilations = [1, 1], p = 3 : i64} : tensor<1x2x5x5xf64> -> tensor<1x2x3x3xf64>
       %1 = nn.lp_pool %x {kernel_shape = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [1, 1]} : tensor<1x2x5x5xf64> -> tensor<1x2x2x2xf64>
       %2 = nn.reduce_sum %1 {axes = [], keepdims = false} : tensor<1x2x2x2xf64> -> tensor<f64>
       %3 = nn.mul %0, %2 : tensor<1x2x3x3xf64>, tensor<f64>
       return %3 : tensor<1x2x3x3xf64> })", -2, 2, true},
    {"scatter_topk_mod", R"(func.func @main(%a: tensor<3x4xf64>, %u: tensor<3x2xf64>, %v: tensor<2x4xf64>, %m: tensor<3x4xf64>) -> tensor<3x4xf64> {
       %i = nn.constant dense<[[0, 3], [1, 2], [2, 0]]> : tensor<3x2xi64>
       %0 = nn.scatter_elements %a, %i, %u {axis = 1 : i64} : (tensor<3x4xf64>, tensor<3x2xi64>, tensor<3x2xf64>) -> tensor<3x4xf64>
       %j = nn.constant dense<[[2], [0]]> : tensor<2x1xi64>
       %1 = nn.scatter_nd %0, %j, %v {reduction = "add"} : (tensor<3x4xf64>, tensor<2x1xi64>, tensor<2x4xf64>) -> tensor<3x4xf64>
       %t, %ti = nn.topk %1 {k = 2 : i64, axis = 1 : i64} : tensor<3x4xf64> -> tensor<3x2xf64>, tensor<3x2xi64>
       %2 = nn.mod %1, %m {fmod = true} : tensor<3x4xf64>, tensor<3x4xf64>
       %3 = nn.reduce_sum %t {axes = [1], keepdims = true} : tensor<3x2xf64> -> tensor<3x1xf64>
       %4 = nn.mul %2, %3 : tensor<3x4xf64>, tensor<3x1xf64>
       return %4 : tensor<3x4xf64> })", 0.3, 2},
    {"einsum_contract_transpose_sum", R"(func.func @main(%a: tensor<2x3x4xf64>, %b: tensor<4x5xf64>, %c: tensor<3x6xf64>) -> tensor<5x2xf64> {
       %0 = nn.einsum %a, %b {equation = "ijk,kl->li"} : (tensor<2x3x4xf64>, tensor<4x5xf64>) -> tensor<5x2xf64>
       %1 = nn.einsum %c {equation = "jm->j"} : (tensor<3x6xf64>) -> tensor<3xf64>
       %2 = nn.einsum %a, %1 {equation = "ijk,j->i"} : (tensor<2x3x4xf64>, tensor<3xf64>) -> tensor<2xf64>
       %3 = nn.mul %0, %2 : tensor<5x2xf64>, tensor<2xf64>
       return %3 : tensor<5x2xf64> })"},
    {"resize_nearest_linear_cubic", R"(func.func @main(%x: tensor<1x2x3x4xf64>) -> tensor<1x2x5x3xf64> {
       %0 = nn.resize %x {sizes = [1, 2, 5, 3], scales = [1.0 : f32, 1.0 : f32, 1.66666663 : f32, 0.75 : f32], roi = [], mode = "nearest"} : tensor<1x2x3x4xf64> -> tensor<1x2x5x3xf64>
       %1 = nn.resize %x {sizes = [1, 2, 5, 3], scales = [1.0 : f32, 1.0 : f32, 1.66666663 : f32, 0.75 : f32], roi = [], mode = "linear", coordinate_transformation_mode = "align_corners"} : tensor<1x2x3x4xf64> -> tensor<1x2x5x3xf64>
       %2 = nn.resize %x {sizes = [1, 2, 5, 3], scales = [1.0 : f32, 1.0 : f32, 1.66666663 : f32, 0.75 : f32], roi = [], mode = "cubic"} : tensor<1x2x3x4xf64> -> tensor<1x2x5x3xf64>
       %3 = nn.mul %0, %1 : tensor<1x2x5x3xf64>, tensor<1x2x5x3xf64>
       %4 = nn.add %3, %2 : tensor<1x2x5x3xf64>, tensor<1x2x5x3xf64>
       return %4 : tensor<1x2x5x3xf64> })"},
    {"resize_crop_and_resize", R"(func.func @main(%x: tensor<1x1x4x5xf64>) -> tensor<1x1x3x6xf64> {
       %0 = nn.resize %x {sizes = [1, 1, 3, 6], scales = [1.0 : f32, 1.0 : f32, 0.75 : f32, 1.2 : f32], roi = [0.0 : f32, 0.0 : f32, 0.1 : f32, -0.2 : f32, 1.0 : f32, 1.0 : f32, 0.8 : f32, 1.1 : f32], mode = "linear", coordinate_transformation_mode = "tf_crop_and_resize", extrapolation_value = 2.5 : f32} : tensor<1x1x4x5xf64> -> tensor<1x1x3x6xf64>
       %1 = nn.mul %0, %0 : tensor<1x1x3x6xf64>, tensor<1x1x3x6xf64>
       return %1 : tensor<1x1x3x6xf64> })"},
    {"dft_forward_inverse_onesided", R"(func.func @main(%x: tensor<2x6x2xf64>, %r: tensor<2x5x1xf64>) -> tensor<2x8x2xf64> {
       %0 = nn.dft %x {axis = 1 : i64, length = 8 : i64} : tensor<2x6x2xf64> -> tensor<2x8x2xf64>
       %1 = nn.dft %0 {axis = 1 : i64, length = 8 : i64, inverse = true} : tensor<2x8x2xf64> -> tensor<2x8x2xf64>
       %2 = nn.dft %r {axis = 1 : i64, length = 4 : i64, onesided = true} : tensor<2x5x1xf64> -> tensor<2x3x2xf64>
       %3 = nn.reduce_sum %2 {axes = [1], keepdims = true} : tensor<2x3x2xf64> -> tensor<2x1x2xf64>
       %4 = nn.mul %1, %3 : tensor<2x8x2xf64>, tensor<2x1x2xf64>
       %5 = nn.add %4, %0 : tensor<2x8x2xf64>, tensor<2x8x2xf64>
       return %5 : tensor<2x8x2xf64> })"},
    {"det_batched", R"(func.func @main(%a: tensor<2x3x3xf64>, %b: tensor<4x4xf64>, %c: tensor<1x1xf64>) -> tensor<2xf64> {
       %0 = nn.det %a : tensor<2x3x3xf64> -> tensor<2xf64>
       %1 = nn.det %b : tensor<4x4xf64> -> tensor<f64>
       %2 = nn.det %c : tensor<1x1xf64> -> tensor<f64>
       %3 = nn.mul %0, %1 : tensor<2xf64>, tensor<f64>
       %4 = nn.add %3, %2 : tensor<2xf64>, tensor<f64>
       return %4 : tensor<2xf64> })"},
    {"stft_window", R"(func.func @main(%s: tensor<2x13x1xf64>, %w: tensor<6xf64>, %c: tensor<1x10x2xf64>) -> tensor<2x4x4x2xf64> {
       %0 = nn.stft %s, %w {frame_step = 2 : i64, frame_length = 6 : i64} : (tensor<2x13x1xf64>, tensor<6xf64>) -> tensor<2x4x4x2xf64>
       %1 = nn.stft %c {frame_step = 3 : i64, frame_length = 4 : i64, onesided = false} : (tensor<1x10x2xf64>) -> tensor<1x3x4x2xf64>
       %2 = nn.reduce_sum %1 {axes = [1], keepdims = true} : tensor<1x3x4x2xf64> -> tensor<1x1x4x2xf64>
       %3 = nn.mul %0, %2 : tensor<2x4x4x2xf64>, tensor<1x1x4x2xf64>
       return %3 : tensor<2x4x4x2xf64> })"},
    {"grid_sample_bilinear_zeros", R"(func.func @main(%x: tensor<1x2x4x5xf64>, %g: tensor<1x3x2x2xf64>) -> tensor<1x2x3x2xf64> {
       %0 = nn.grid_sample %x, %g : (tensor<1x2x4x5xf64>, tensor<1x3x2x2xf64>) -> tensor<1x2x3x2xf64>
       %1 = nn.mul %0, %0 : tensor<1x2x3x2xf64>, tensor<1x2x3x2xf64>
       return %1 : tensor<1x2x3x2xf64> })", -1.2, 1.2},
    {"grid_sample_bilinear_border_align", R"(func.func @main(%x: tensor<1x2x4x5xf64>, %g: tensor<1x3x2x2xf64>) -> tensor<1x2x3x2xf64> {
       %0 = nn.grid_sample %x, %g {padding_mode = "border", align_corners = true} : (tensor<1x2x4x5xf64>, tensor<1x3x2x2xf64>) -> tensor<1x2x3x2xf64>
       %1 = nn.mul %0, %0 : tensor<1x2x3x2xf64>, tensor<1x2x3x2xf64>
       return %1 : tensor<1x2x3x2xf64> })", -1.2, 1.2},
    {"grid_sample_bilinear_reflection", R"(func.func @main(%x: tensor<1x2x4x5xf64>, %g: tensor<1x3x2x2xf64>) -> tensor<1x2x3x2xf64> {
       %0 = nn.grid_sample %x, %g {padding_mode = "reflection"} : (tensor<1x2x4x5xf64>, tensor<1x3x2x2xf64>) -> tensor<1x2x3x2xf64>
       %1 = nn.mul %0, %0 : tensor<1x2x3x2xf64>, tensor<1x2x3x2xf64>
       return %1 : tensor<1x2x3x2xf64> })", -1.2, 1.2},
    {"grid_sample_nearest", R"(func.func @main(%x: tensor<1x2x4x5xf64>, %g: tensor<1x3x2x2xf64>) -> tensor<1x2x3x2xf64> {
       %0 = nn.grid_sample %x, %g {mode = "nearest"} : (tensor<1x2x4x5xf64>, tensor<1x3x2x2xf64>) -> tensor<1x2x3x2xf64>
       %1 = nn.mul %0, %0 : tensor<1x2x3x2xf64>, tensor<1x2x3x2xf64>
       return %1 : tensor<1x2x3x2xf64> })", -1.2, 1.2},
    {"grid_sample_bicubic", R"(func.func @main(%x: tensor<1x2x4x5xf64>, %g: tensor<1x3x2x2xf64>) -> tensor<1x2x3x2xf64> {
       %0 = nn.grid_sample %x, %g {mode = "bicubic"} : (tensor<1x2x4x5xf64>, tensor<1x3x2x2xf64>) -> tensor<1x2x3x2xf64>
       %1 = nn.mul %0, %0 : tensor<1x2x3x2xf64>, tensor<1x2x3x2xf64>
       return %1 : tensor<1x2x3x2xf64> })", -1.2, 1.2},
    {"roi_align_avg_max", R"(func.func @main(%x: tensor<2x2x6x7xf64>) -> tensor<3x2x2x3xf64> {
       %r = nn.constant dense<[[0.5, 1.0, 5.0, 4.5], [1.2, 0.3, 6.5, 5.8], [-0.7, 2.0, 3.3, 6.9]]> : tensor<3x4xf64>
       %i = nn.constant dense<[0, 1, 1]> : tensor<3xi64>
       %0 = nn.roi_align %x, %r, %i {output_height = 2 : i64, output_width = 3 : i64, sampling_ratio = 2 : i64, spatial_scale = 0.9 : f32} : (tensor<2x2x6x7xf64>, tensor<3x4xf64>, tensor<3xi64>) -> tensor<3x2x2x3xf64>
       %1 = nn.roi_align %x, %r, %i {mode = "max", output_height = 2 : i64, output_width = 3 : i64, half_pixel = false} : (tensor<2x2x6x7xf64>, tensor<3x4xf64>, tensor<3xi64>) -> tensor<3x2x2x3xf64>
       %2 = nn.mul %0, %1 : tensor<3x2x2x3xf64>, tensor<3x2x2x3xf64>
       return %2 : tensor<3x2x2x3xf64> })"},
    {"max_unpool", R"(func.func @main(%x: tensor<1x2x2x2xf64>) -> tensor<1x2x5x5xf64> {
       %i = nn.constant dense<[[[[0, 3], [10, 14]], [[20, 21], [23, 24]]]]> : tensor<1x2x2x2xi64>
       %0 = nn.max_unpool %x, %i {output_shape = [1, 2, 5, 5], index_shape = [1, 2, 4, 4]} : (tensor<1x2x2x2xf64>, tensor<1x2x2x2xi64>) -> tensor<1x2x5x5xf64>
       %1 = nn.mul %0, %0 : tensor<1x2x5x5xf64>, tensor<1x2x5x5xf64>
       return %1 : tensor<1x2x5x5xf64> })"},
    {"max_pool", R"(func.func @main(%x: tensor<2x3x6x6xf64>) -> tensor<2x3x3x3xf64> {
       %0 = nn.max_pool %x {kernel_shape = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [1, 1]} : tensor<2x3x6x6xf64> -> tensor<2x3x3x3xf64>
       return %0 : tensor<2x3x3x3xf64> })"},
    {"max_pool_overlapping_padded", R"(func.func @main(%x: tensor<1x2x5x5xf64>) -> tensor<1x2x3x3xf64> {
       %0 = nn.max_pool %x {kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1], dilations = [1, 1]} : tensor<1x2x5x5xf64> -> tensor<1x2x3x3xf64>
       return %0 : tensor<1x2x3x3xf64> })"},
    {"avg_pool", R"(func.func @main(%x: tensor<1x2x5x5xf64>) -> tensor<1x2x2x2xf64> {
       %0 = nn.avg_pool %x {kernel_shape = [3, 3], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [1, 1]} : tensor<1x2x5x5xf64> -> tensor<1x2x2x2xf64>
       return %0 : tensor<1x2x2x2xf64> })"},
    // Recurrent layers: the loss reads y, y_h (and y_c) together.
    {"lstm_full", R"(func.func @main(%x: tensor<5x2x3xf64>, %w: tensor<1x16x3xf64>, %r: tensor<1x16x4xf64>, %b: tensor<1x32xf64>, %h0: tensor<1x2x4xf64>, %c0: tensor<1x2x4xf64>, %p: tensor<1x12xf64>) -> tensor<5x1x2x4xf64> {
       %y, %h, %c = nn.lstm %x, %w, %r, %b, %h0, %c0, %p {activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 1, 1, 1]> : vector<8xi32>} : (tensor<5x2x3xf64>, tensor<1x16x3xf64>, tensor<1x16x4xf64>, tensor<1x32xf64>, tensor<1x2x4xf64>, tensor<1x2x4xf64>, tensor<1x12xf64>) -> (tensor<5x1x2x4xf64>, tensor<1x2x4xf64>, tensor<1x2x4xf64>)
       %0 = nn.add %y, %h : tensor<5x1x2x4xf64>, tensor<1x2x4xf64>
       %1 = nn.add %0, %c : tensor<5x1x2x4xf64>, tensor<1x2x4xf64>
       return %1 : tensor<5x1x2x4xf64> })", -1, 1},
    {"lstm_bidirectional_lengths_clip", R"(func.func @main(%x: tensor<4x3x2xf64>, %w: tensor<2x12x2xf64>, %r: tensor<2x12x3xf64>, %b: tensor<2x24xf64>) -> tensor<4x2x3x3xf64> {
       %l = nn.constant dense<[4, 2, 1]> : tensor<3xi32>
       %y, %h, %c = nn.lstm %x, %w, %r, %b, %l {activations = ["Sigmoid", "Tanh", "Tanh", "Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], clip = 1.5 : f32, direction = "bidirectional", hidden_size = 3 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 0, 0, 0]> : vector<8xi32>} : (tensor<4x3x2xf64>, tensor<2x12x2xf64>, tensor<2x12x3xf64>, tensor<2x24xf64>, tensor<3xi32>) -> (tensor<4x2x3x3xf64>, tensor<2x3x3xf64>, tensor<2x3x3xf64>)
       %0 = nn.add %y, %h : tensor<4x2x3x3xf64>, tensor<2x3x3xf64>
       %1 = nn.add %0, %c : tensor<4x2x3x3xf64>, tensor<2x3x3xf64>
       return %1 : tensor<4x2x3x3xf64> })", -1, 1},
    {"lstm_reverse_activations_input_forget", R"(func.func @main(%x: tensor<3x2x2xf64>, %w: tensor<1x12x2xf64>, %r: tensor<1x12x3xf64>, %h0: tensor<1x2x3xf64>) -> tensor<3x1x2x3xf64> {
       %y, %h, %c = nn.lstm %x, %w, %r, %h0 {activations = ["HardSigmoid", "Softsign", "ScaledTanh"], activation_alpha = [0.3 : f32, 0.8 : f32], activation_beta = [0.5 : f32, 1.2 : f32], direction = "reverse", hidden_size = 3 : i64, input_forget = true, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 1, 0, 0]> : vector<8xi32>} : (tensor<3x2x2xf64>, tensor<1x12x2xf64>, tensor<1x12x3xf64>, tensor<1x2x3xf64>) -> (tensor<3x1x2x3xf64>, tensor<1x2x3xf64>, tensor<1x2x3xf64>)
       %0 = nn.add %y, %c : tensor<3x1x2x3xf64>, tensor<1x2x3xf64>
       return %0 : tensor<3x1x2x3xf64> })", -1, 1},
    {"gru", R"(func.func @main(%x: tensor<5x2x3xf64>, %w: tensor<1x12x3xf64>, %r: tensor<1x12x4xf64>, %b: tensor<1x24xf64>, %h0: tensor<1x2x4xf64>) -> tensor<5x1x2x4xf64> {
       %y, %h = nn.gru %x, %w, %r, %b, %h0 {activations = ["Sigmoid", "Tanh"], activation_alpha = [], activation_beta = [], hidden_size = 4 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 1]> : vector<6xi32>} : (tensor<5x2x3xf64>, tensor<1x12x3xf64>, tensor<1x12x4xf64>, tensor<1x24xf64>, tensor<1x2x4xf64>) -> (tensor<5x1x2x4xf64>, tensor<1x2x4xf64>)
       %0 = nn.add %y, %h : tensor<5x1x2x4xf64>, tensor<1x2x4xf64>
       return %0 : tensor<5x1x2x4xf64> })", -1, 1},
    {"gru_linear_before_reset_bidirectional_lengths", R"(func.func @main(%x: tensor<4x3x2xf64>, %w: tensor<2x9x2xf64>, %r: tensor<2x9x3xf64>, %b: tensor<2x18xf64>, %h0: tensor<2x3x3xf64>) -> tensor<4x2x3x3xf64> {
       %l = nn.constant dense<[2, 4, 3]> : tensor<3xi64>
       %y, %h = nn.gru %x, %w, %r, %b, %l, %h0 {activations = ["Sigmoid", "Tanh", "Sigmoid", "Elu"], activation_alpha = [1.0 : f32], activation_beta = [], direction = "bidirectional", hidden_size = 3 : i64, linear_before_reset = true, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1]> : vector<6xi32>} : (tensor<4x3x2xf64>, tensor<2x9x2xf64>, tensor<2x9x3xf64>, tensor<2x18xf64>, tensor<3xi64>, tensor<2x3x3xf64>) -> (tensor<4x2x3x3xf64>, tensor<2x3x3xf64>)
       %0 = nn.add %y, %h : tensor<4x2x3x3xf64>, tensor<2x3x3xf64>
       return %0 : tensor<4x2x3x3xf64> })", -1, 1},
    {"rnn_bidirectional_lengths", R"(func.func @main(%x: tensor<4x3x2xf64>, %w: tensor<2x3x2xf64>, %r: tensor<2x3x3xf64>, %b: tensor<2x6xf64>, %h0: tensor<2x3x3xf64>) -> tensor<4x2x3x3xf64> {
       %l = nn.constant dense<[3, 0, 4]> : tensor<3xi32>
       %y, %h = nn.rnn %x, %w, %r, %b, %l, %h0 {activations = ["Tanh", "Softplus"], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 3 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1]> : vector<6xi32>} : (tensor<4x3x2xf64>, tensor<2x3x2xf64>, tensor<2x3x3xf64>, tensor<2x6xf64>, tensor<3xi32>, tensor<2x3x3xf64>) -> (tensor<4x2x3x3xf64>, tensor<2x3x3xf64>)
       %0 = nn.add %y, %h : tensor<4x2x3x3xf64>, tensor<2x3x3xf64>
       return %0 : tensor<4x2x3x3xf64> })", -1, 1},
};

class Gradient : public testing::TestWithParam<GradCase> {};
TEST_P(Gradient, MatchesFiniteDifferences) { checkGradients(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Ops, Gradient, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<GradCase> &i) { return std::string(i.param.name); });

/// The function of `module` returning its loss (its result) and the
/// gradients w.r.t. its first two arguments, loops whose iterations are not
/// known at compile time saving theirs in 2 rows (their counts returned and
/// checked by the run), compiled without a way to recompile.
std::unique_ptr<nncc::Executable> compileLoopGradients(ModuleOp module, std::string &error) {
  auto func = *module.getOps<func::FuncOp>().begin();
  Operation *ret = func.getBody().front().getTerminator();
  OpBuilder b(ret);
  SmallVector<Value> grads, counts;
  nncc::DifferentiateOptions options;
  options.loopRows = 2;
  options.cappedCounts = &counts;
  if (!nncc::differentiate(b, ret->getOperand(0), {func.getArgument(0), func.getArgument(1)}, grads, error, options))
    return nullptr;
  if (counts.size() != 1) {
    error = "expected one loop with a capacity of rows, got " + std::to_string(counts.size());
    return nullptr;
  }
  SmallVector<Value> results{ret->getOperand(0)};
  results.append(grads.begin(), grads.end());
  nncc::setResultsWithRowChecks(func, results, counts);
  auto within = func.getResultAttrOfType<IntegerAttr>(results.size(), "nn.rows_within");
  if (!within || within.getInt() != 2) {
    error = "the count is not checked against the 2 saved rows";
    return nullptr;
  }
  return nncc::compileModule(module, nncc::CompileOptions(), error);
}

/// A while loop with trip count INT64_MAX and a scan output of 100000 rows:
/// too many iterations to save, so its saved iterations get a capacity of
/// 2 rows (DifferentiateOptions::loopRows). The loop stops at the fewest
/// rows of all its scan outputs, so its hidden count is checked against 2,
/// not 100000 (the loss reads rows 0 and 1 of the scan output, and the
/// last x). Run for 4 iterations (x = 3.5 counts down by 1 while x > 0)
/// without a way to recompile, the step fails saying so instead of
/// returning gradients of 2 iterations; run for 2 (x = 1.5), it returns
/// them.
TEST(LoopGradient, SavedRowsRunningOutAreDetected) {
  MLIRContext ctx;
  auto module = nncc::test::parseModule(ctx, R"(func.func @main(%x: tensor<f64>, %w: tensor<f64>) -> tensor<f64> {
    %m = nn.constant dense<9223372036854775807> : tensor<i64>
    %c = nn.constant dense<true> : tensor<i1>
    %one = nn.constant dense<1.0> : tensor<f64>
    %zero = nn.constant dense<0.0> : tensor<f64>
    %r, %ys, %n = nn.loop(%m, %c, %x) {scan_outputs = 1 : i64} : (tensor<i64>, tensor<i1>, tensor<f64>) -> (tensor<f64>, tensor<100000xf64>, tensor<i64>) {
    ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %xi: tensor<f64>):
      %d = nn.sub %xi, %one : tensor<f64>, tensor<f64>
      %go = nn.greater %d, %zero : tensor<f64>, tensor<f64>
      %y = nn.mul %xi, %w : tensor<f64>, tensor<f64>
      nn.loop_yield %go, %d, %y : tensor<i1>, tensor<f64>, tensor<f64>
    }
    %i0 = nn.constant dense<0> : tensor<i64>
    %i1 = nn.constant dense<1> : tensor<i64>
    %y0 = nn.gather %ys, %i0 {axis = 0 : i64} : (tensor<100000xf64>, tensor<i64>) -> tensor<f64>
    %y1 = nn.gather %ys, %i1 {axis = 0 : i64} : (tensor<100000xf64>, tensor<i64>) -> tensor<f64>
    %s = nn.add %y0, %y1 : tensor<f64>, tensor<f64>
    %l = nn.add %s, %r : tensor<f64>, tensor<f64>
    return %l : tensor<f64> })");
  ASSERT_TRUE(module);
  std::string error;
  auto exe = compileLoopGradients(*module, error);
  ASSERT_TRUE(exe) << error;
  nncc::Tensor x(nncc::DType::Float64, {}), w(nncc::DType::Float64, {});
  *w.data<double>() = 0.5;
  std::vector<nncc::Tensor> out;
  *x.data<double>() = 3.5;
  EXPECT_FALSE(exe->run({&x, &w}, out, error));
  EXPECT_NE(error.find("a loop ran more than 2 iterations"), std::string::npos) << error;
  *x.data<double>() = 1.5; // 2 iterations: y = 0.75 and 0.25, r = -0.5
  ASSERT_TRUE(exe->run({&x, &w}, out, error)) << error;
  EXPECT_DOUBLE_EQ(out[0].data<double>()[0], 0.75 + 0.25 - 0.5);
  EXPECT_DOUBLE_EQ(out[1].data<double>()[0], 2 * 0.5 + 1); // dl/dx: w per scanned row, 1 through r
  EXPECT_DOUBLE_EQ(out[2].data<double>()[0], 1.5 + 0.5);   // dl/dw: the scanned x's
}

/// h <- h + tanh(w) while h < lim, trip count INT64_MAX: the add's backward
/// does not read h, so nothing reads the saved iterations (their gathers
/// are dead); the loop must still stop at their 2 rows (its count is
/// checked), and a run of 2 iterations gets dr/dw = 2 (1 - tanh(w)^2).
TEST(LoopGradient, UnreadSavedRowsStillCountIterations) {
  MLIRContext ctx;
  auto module = nncc::test::parseModule(ctx, R"(func.func @main(%h0: tensor<f64>, %w: tensor<f64>, %lim: tensor<f64>) -> tensor<f64> {
    %m = nn.constant dense<9223372036854775807> : tensor<i64>
    %c = nn.constant dense<true> : tensor<i1>
    %r = nn.loop(%m, %c, %h0) : (tensor<i64>, tensor<i1>, tensor<f64>) -> tensor<f64> {
    ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %hi: tensor<f64>):
      %t = nn.tanh %w : tensor<f64>
      %h = nn.add %hi, %t : tensor<f64>, tensor<f64>
      %go = nn.greater %lim, %h : tensor<f64>, tensor<f64>
      nn.loop_yield %go, %h : tensor<i1>, tensor<f64>
    }
    return %r : tensor<f64> })");
  ASSERT_TRUE(module);
  std::string error;
  auto exe = compileLoopGradients(*module, error);
  ASSERT_TRUE(exe) << error;
  nncc::Tensor h0(nncc::DType::Float64, {}), w(nncc::DType::Float64, {}), lim(nncc::DType::Float64, {});
  *h0.data<double>() = 0;
  *w.data<double>() = 1;
  double t = std::tanh(1.0);
  std::vector<nncc::Tensor> out;
  *lim.data<double>() = 3; // 4 iterations
  EXPECT_FALSE(exe->run({&h0, &w, &lim}, out, error));
  EXPECT_NE(error.find("a loop ran more than 2 iterations"), std::string::npos) << error;
  *lim.data<double>() = 1; // 2 iterations
  ASSERT_TRUE(exe->run({&h0, &w, &lim}, out, error)) << error;
  EXPECT_DOUBLE_EQ(out[0].data<double>()[0], 2 * t);
  EXPECT_DOUBLE_EQ(out[1].data<double>()[0], 1);
  EXPECT_NEAR(out[2].data<double>()[0], 2 * (1 - t * t), 1e-12);
}

/// The three losses, differentiated w.r.t. the prediction.
void checkLoss(nncc::LossKind kind, const char *body) {
  MLIRContext ctx;
  auto module = nncc::test::parseModule(ctx, body);
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

/// The training graph of `body` with "ELT" read as `elt` (f32 or f64): a
/// function that returns the gradients of sum(y * R) (R from a fixed seed)
/// w.r.t. every argument, under the given recurrent memory policy (and,
/// with `withOutput`, y last); null if it does not parse.
OwningOpRef<ModuleOp> trainingModule(MLIRContext &ctx, std::string body, const char *elt, const char *rnnMemory,
                                     int64_t budget, bool withOutput) {
  for (size_t at; (at = body.find("ELT")) != std::string::npos;)
    body.replace(at, 3, elt);
  auto module = nncc::test::parseModule(ctx, body);
  EXPECT_TRUE(module);
  if (!module)
    return module;
  auto func = *module->getOps<func::FuncOp>().begin();
  Operation *ret = func.getBody().front().getTerminator();
  Value y = ret->getOperand(0);
  auto yt = y.getType().cast<RankedTensorType>();
  OpBuilder b(ret);
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> unit(-1, 1);
  SmallVector<double> r(yt.getNumElements());
  for (double &v : r)
    v = unit(rng);
  auto rt = RankedTensorType::get(yt.getShape(), b.getF64Type());
  Value R = b.create<nncc::nn::ConstantOp>(func.getLoc(), rt, DenseElementsAttr::get(rt, ArrayRef<double>(r)));
  if (!yt.getElementType().isF64())
    R = b.create<nncc::nn::CastOp>(func.getLoc(), R, TypeAttr::get(yt.getElementType()));
  Value loss = b.create<nncc::nn::ReduceSumOp>(func.getLoc(), b.create<nncc::nn::MulOp>(func.getLoc(), y, R),
                                               b.getI64ArrayAttr({}), b.getBoolAttr(false));
  SmallVector<Value> wrt(func.getArguments().begin(), func.getArguments().end()), grads;
  std::string error;
  EXPECT_TRUE(nncc::differentiate(b, loss, wrt, grads, error)) << error;
  nncc::setRecurrentMemoryPolicy(func, rnnMemory, budget);
  SmallVector<Value> results(grads.begin(), grads.end());
  if (withOutput) // (y as the return reads it now: the policy may have replaced its op)
    results.push_back(ret->getOperand(0));
  nncc::setFunctionResults(func, results);
  return module;
}

/// The forwards that save the gates of every step (nn.lstm_with_gates,
/// nn.gru_with_gates, nn.rnn_with_gates without saved_steps) in a module.
int savingForwards(ModuleOp module) {
  int n = 0;
  module.walk([&](Operation *op) {
    n += op->getName().getStringRef().endswith("_with_gates") && !op->hasAttr("saved_steps");
  });
  return n;
}

std::vector<std::vector<double>> runGradients(ModuleOp module, const std::vector<std::vector<double>> &args,
                                              int64_t *workspace = nullptr, const char *schedule = "wavefront",
                                              std::vector<double> *outputs = nullptr, bool unroll = false);

/// Gradients of sum(y * R) (R from a fixed seed) w.r.t. every argument of
/// `body` with "ELT" read as `elt` (f32 or f64), at the given argument values
/// (and, with `outputs`, y's values there).
std::vector<std::vector<double>> gradientsAt(std::string body, const char *elt,
                                             const std::vector<std::vector<double>> &args,
                                             const char *rnnMemory = "store-all", int64_t budget = 0,
                                             int64_t *workspace = nullptr, const char *schedule = "wavefront",
                                             int *savingForwardsOut = nullptr, int *stackedGradients = nullptr,
                                             std::vector<double> *outputs = nullptr) {
  MLIRContext ctx;
  auto module = trainingModule(ctx, body, elt, rnnMemory, budget, outputs != nullptr);
  if (!module)
    return {};
  if (savingForwardsOut)
    *savingForwardsOut = savingForwards(*module);
  if (stackedGradients) { // what nn-stack-recurrent makes of (a copy of) it
    OwningOpRef<ModuleOp> copy = module->clone();
    PassManager pm(&ctx);
    pm.addNestedPass<func::FuncOp>(nncc::createStackRecurrentPass(schedule, 0));
    EXPECT_TRUE(succeeded(pm.run(*copy)));
    *stackedGradients = 0;
    copy->walk([&](Operation *op) { *stackedGradients += isa<nncc::nn::LSTMStackGradOp, nncc::nn::GRUStackGradOp, nncc::nn::RNNStackGradOp>(op); });
  }
  return runGradients(*module, args, workspace, schedule, outputs);
}

/// Compiles a training module (trainingModule's; with `unroll`, its
/// recurrent forwards unrolled into cells) and runs it at the given argument
/// values: its results (the gradients; with `outputs`, the last result, y,
/// goes there).
std::vector<std::vector<double>> runGradients(ModuleOp module, const std::vector<std::vector<double>> &args,
                                              int64_t *workspace, const char *schedule,
                                              std::vector<double> *outputs, bool unroll) {
  std::string error;
  nncc::CompileOptions options;
  options.recurrentSchedule = schedule;
  options.unrollRecurrent = unroll;
  auto exe = nncc::compileModule(module, options, error);
  EXPECT_TRUE(exe) << error;
  if (!exe)
    return {};
  std::vector<nncc::Tensor> inputs;
  for (size_t k = 0; k < exe->inputs().size(); ++k) {
    nncc::Tensor t(exe->inputs()[k].dtype, exe->inputs()[k].shape);
    for (int64_t e = 0; e < t.numElements(); ++e) {
      if (t.dtype() == nncc::DType::Float64)
        t.data<double>()[e] = args[k][e];
      else
        t.data<float>()[e] = (float)args[k][e];
    }
    inputs.push_back(std::move(t));
  }
  std::vector<const nncc::Tensor *> in;
  for (auto &t : inputs)
    in.push_back(&t);
  std::vector<nncc::Tensor> out;
  EXPECT_TRUE(exe->run(in, out, error)) << error;
  if (workspace)
    *workspace = exe->workspaceBytes();
  std::vector<std::vector<double>> result;
  for (auto &t : out) {
    std::vector<double> v;
    for (int64_t e = 0; e < t.numElements(); ++e)
      v.push_back(t.dtype() == nncc::DType::Float64 ? t.data<double>()[e] : (double)t.data<float>()[e]);
    result.push_back(std::move(v));
  }
  if (outputs && !result.empty()) {
    *outputs = std::move(result.back());
    result.pop_back();
  }
  return result;
}

/// Random arguments of the given sizes, the same values in f32 and f64.
std::vector<std::vector<double>> randomArgs(const std::vector<int64_t> &sizes, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-0.5, 0.5);
  std::vector<std::vector<double>> args;
  for (int64_t n : sizes) {
    args.emplace_back(n);
    for (double &v : args.back())
      v = (double)(float)dist(rng);
  }
  return args;
}

/// Each gradient within `rel` times its largest magnitude of the reference.
void expectGradientsNear(const std::vector<std::vector<double>> &got, const std::vector<std::vector<double>> &ref,
                         double rel, const std::string &what) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  for (size_t k = 0; k < ref.size(); ++k) {
    double scale = 0;
    for (double v : ref[k])
      scale = std::max(scale, std::fabs(v));
    ASSERT_GT(scale, 0) << what << ": argument " << k;
    for (size_t e = 0; e < ref[k].size(); ++e)
      EXPECT_NEAR(got[k][e], ref[k][e], rel * scale) << what << ": argument " << k << " element " << e;
  }
}

/// The float forward with ONNX's clip (the vectorized rows clamp the
/// pre-activations; the backward takes the general path) against the
/// double path: the outputs too, and the clip must bind somewhere.
void expectClippedOutputsNear(const std::string &body, const std::vector<std::vector<double>> &args) {
  std::vector<double> y64, y32, unclipped;
  gradientsAt(body, "f64", args, "store-all", 0, nullptr, "wavefront", nullptr, nullptr, &y64);
  gradientsAt(body, "f32", args, "store-all", 0, nullptr, "wavefront", nullptr, nullptr, &y32);
  std::string without = body;
  without.erase(without.find("clip = "), without.find("direction") - without.find("clip = "));
  gradientsAt(without, "f64", args, "store-all", 0, nullptr, "wavefront", nullptr, nullptr, &unclipped);
  expectGradientsNear({y32}, {y64}, 2e-5, "the outputs, f32 against f64");
  double moved = 0;
  for (size_t k = 0; k < y64.size() && k < unclipped.size(); ++k)
    moved = std::max(moved, std::fabs(y64[k] - unclipped[k]));
  EXPECT_GT(moved, 1e-2) << "the clip never binds";
}

/// The float LSTM cell (vectorized sigmoid and tanh, activations kept from the
/// recomputed forward) against the double path, which the finite-difference
/// cases check: peepholes, both directions, sequence lengths, H = 19 (a
/// vector tail), under store-all, recompute-gates and checkpoint; without
/// clip and with.
TEST(RecurrentGradient, FloatLSTMMatchesDouble) {
  for (const char *clip : {"", "clip = 0.5 : f32, "}) {
    std::string body = R"(func.func @main(%x: tensor<6x3x5xELT>, %w: tensor<2x76x5xELT>, %r: tensor<2x76x19xELT>, %b: tensor<2x152xELT>, %h0: tensor<2x3x19xELT>, %c0: tensor<2x3x19xELT>, %p: tensor<2x57xELT>) -> tensor<6x2x3x19xELT> {
      %l = nn.constant dense<[6, 2, 5]> : tensor<3xi32>
      %y, %h, %c = nn.lstm %x, %w, %r, %b, %l, %h0, %c0, %p {activations = ["Sigmoid", "Tanh", "Tanh", "Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], CLIPdirection = "bidirectional", hidden_size = 19 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1, 1, 1]> : vector<8xi32>} : (tensor<6x3x5xELT>, tensor<2x76x5xELT>, tensor<2x76x19xELT>, tensor<2x152xELT>, tensor<3xi32>, tensor<2x3x19xELT>, tensor<2x3x19xELT>, tensor<2x57xELT>) -> (tensor<6x2x3x19xELT>, tensor<2x3x19xELT>, tensor<2x3x19xELT>)
      %0 = nn.add %y, %h : tensor<6x2x3x19xELT>, tensor<2x3x19xELT>
      %1 = nn.add %0, %c : tensor<6x2x3x19xELT>, tensor<2x3x19xELT>
      return %1 : tensor<6x2x3x19xELT> })";
    body.replace(body.find("CLIP"), 4, clip);
    SCOPED_TRACE(clip);
    auto args = randomArgs({6 * 3 * 5, 2 * 76 * 5, 2 * 76 * 19, 2 * 152, 2 * 3 * 19, 2 * 3 * 19, 2 * 57}, 5);
    auto f64 = gradientsAt(body, "f64", args);
    ASSERT_EQ(f64.size(), args.size());
    // (checkpoint: the backward recomputes h from the rows too)
    for (const char *policy : {"store-all", "recompute-gates", "checkpoint"})
      expectGradientsNear(gradientsAt(body, "f32", args, policy), f64, 2e-4, std::string("f32 against f64, ") + policy);
    if (*clip)
      expectClippedOutputsNear(body, args);
  }
}

/// The same for the float GRU cells, with linear_before_reset and without
/// (the vectorized rows nn.gru_grad and nn.gru_stack_grad share): initial
/// state, both directions, sequence lengths, H = 19; with biases and
/// without (Rb_h zero); under store-all (the forward's saved rows) and
/// recompute-gates; with biases, also with clip.
TEST(RecurrentGradient, FloatGRUMatchesDouble) {
  for (bool lbr : {true, false})
    for (int variant : {0, 1, 2}) {
      bool bias = variant != 1, clip = variant == 2;
      std::string body = R"(func.func @main(%x: tensor<6x3x5xELT>, %w: tensor<2x57x5xELT>, %r: tensor<2x57x19xELT>, ARG %h0: tensor<2x3x19xELT>) -> tensor<6x2x3x19xELT> {
        %l = nn.constant dense<[6, 2, 5]> : tensor<3xi32>
        %y, %h = nn.gru %x, %w, %r, BIAS %l, %h0 {activations = ["Sigmoid", "Tanh", "Sigmoid", "Tanh"], activation_alpha = [], activation_beta = [], CLIPdirection = "bidirectional", hidden_size = 19 : i64, linear_before_reset = LBR, operand_segment_sizes = dense<[1, 1, 1, SEG, 1, 1]> : vector<6xi32>} : (tensor<6x3x5xELT>, tensor<2x57x5xELT>, tensor<2x57x19xELT>, TYPE tensor<3xi32>, tensor<2x3x19xELT>) -> (tensor<6x2x3x19xELT>, tensor<2x3x19xELT>)
        %0 = nn.add %y, %h : tensor<6x2x3x19xELT>, tensor<2x3x19xELT>
        return %0 : tensor<6x2x3x19xELT> })";
      body.replace(body.find("ARG"), 3, bias ? "%b: tensor<2x114xELT>," : "");
      body.replace(body.find("BIAS"), 4, bias ? "%b," : "");
      body.replace(body.find("LBR"), 3, lbr ? "true" : "false");
      body.replace(body.find("SEG"), 3, bias ? "1" : "0");
      body.replace(body.find("TYPE"), 4, bias ? "tensor<2x114xELT>," : "");
      body.replace(body.find("CLIP"), 4, clip ? "clip = 0.5 : f32, " : "");
      SCOPED_TRACE(std::string(lbr ? "linear_before_reset" : "reset first") + (bias ? ", with biases" : ", without biases") +
                   (clip ? ", clip" : ""));
      std::vector<int64_t> sizes = {6 * 3 * 5, 2 * 57 * 5, 2 * 57 * 19, 2 * 3 * 19};
      if (bias)
        sizes.insert(sizes.begin() + 3, 2 * 114);
      auto args = randomArgs(sizes, 5);
      auto f64 = gradientsAt(body, "f64", args);
      ASSERT_EQ(f64.size(), args.size());
      for (const char *policy : {"store-all", "recompute-gates"})
        expectGradientsNear(gradientsAt(body, "f32", args, policy), f64, 2e-4,
                            std::string("f32 against f64, ") + policy);
      if (clip)
        expectClippedOutputsNear(body, args);
    }
}

/// The same for the float simple RNN (the vectorized rows of nn.rnn and
/// nn.rnn_grad, taken per direction for tanh or Relu; nn.rnn's with clip
/// too): initial state, both directions, sequence lengths, H = 19, 50 steps
/// of batch 3 (several projection chunks), under store-all (the saved
/// pre-activations), recompute-gates and the smallest budget (the shortest
/// segments); then a Relu direction beside a tanh one (the Relu rows), and
/// both with clip, whose backward takes the general path.
TEST(RecurrentGradient, FloatRNNMatchesDouble) {
  struct Case {
    const char *activations, *clip;
  };
  for (Case k : {Case{R"("Tanh", "Tanh")", ""}, Case{R"("Tanh", "Relu")", ""}, Case{R"("Tanh", "Tanh")", "clip = 1.5 : f32, "},
                 Case{R"("Relu", "Tanh")", "clip = 0.5 : f32, "}}) {
    std::string body = R"(func.func @main(%x: tensor<50x3x5xELT>, %w: tensor<2x19x5xELT>, %r: tensor<2x19x19xELT>, %b: tensor<2x38xELT>, %h0: tensor<2x3x19xELT>) -> tensor<50x2x3x19xELT> {
      %l = nn.constant dense<[50, 21, 37]> : tensor<3xi32>
      %y, %h = nn.rnn %x, %w, %r, %b, %l, %h0 {activations = [ACTS], activation_alpha = [], activation_beta = [], CLIPdirection = "bidirectional", hidden_size = 19 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1]> : vector<6xi32>} : (tensor<50x3x5xELT>, tensor<2x19x5xELT>, tensor<2x19x19xELT>, tensor<2x38xELT>, tensor<3xi32>, tensor<2x3x19xELT>) -> (tensor<50x2x3x19xELT>, tensor<2x3x19xELT>)
      %0 = nn.add %y, %h : tensor<50x2x3x19xELT>, tensor<2x3x19xELT>
      return %0 : tensor<50x2x3x19xELT> })";
    body.replace(body.find("ACTS"), 4, k.activations);
    body.replace(body.find("CLIP"), 4, k.clip);
    SCOPED_TRACE(std::string(k.activations) + " " + k.clip);
    auto args = randomArgs({50 * 3 * 5, 2 * 19 * 5, 2 * 19 * 19, 2 * 38, 2 * 3 * 19}, 5);
    auto f64 = gradientsAt(body, "f64", args);
    ASSERT_EQ(f64.size(), args.size());
    for (auto [policy, budget] : {std::pair<const char *, int64_t>{"store-all", 0}, {"recompute-gates", 0},
                                  {"budget", 1}})
      expectGradientsNear(gradientsAt(body, "f32", args, policy, budget), f64, 2e-4,
                          std::string("f32 against f64, ") + policy);
    if (*k.clip)
      expectClippedOutputsNear(body, args);
  }
}

/// Every memory policy of a recurrent backward gives store-all's gradients
/// (within 1e-6 relative to each gradient's largest element), in double and
/// in float, and the budget is honoured.
void checkMemoryPolicies(const char *body, const std::vector<int64_t> &sizes) {
  auto args = randomArgs(sizes, 9);
  for (const char *elt : {"f64", "f32"}) {
    int64_t allBytes = 0, budgetBytes = 0;
    auto reference = gradientsAt(body, elt, args, "store-all", 0, &allBytes);
    ASSERT_EQ(reference.size(), args.size());
    struct Policy {
      const char *name;
      int64_t budget;
    };
    // The smallest working set (budget=1) leaves the rest of the workspace;
    // a budget of that much again admits longer segments than the minimum.
    int64_t minimalBytes = 0;
    gradientsAt(body, elt, args, "budget", 1, &minimalBytes);
    int64_t budget = minimalBytes;
    for (Policy p : {Policy{"recompute-gates", 0}, Policy{"checkpoint", 0}, Policy{"budget", budget}}) {
      int64_t bytes = 0;
      auto got = gradientsAt(body, elt, args, p.name, p.budget, &bytes);
      expectGradientsNear(got, reference, 1e-6, std::string(elt) + " " + p.name);
      EXPECT_LT(bytes, allBytes) << elt << " " << p.name;
      if (std::string(p.name) == "budget")
        budgetBytes = bytes;
    }
    // The budget bounds the backward's working set.
    EXPECT_LE(budgetBytes - minimalBytes, budget) << elt;
    EXPECT_LT(minimalBytes, budgetBytes) << elt;
  }
}

/// LSTM: both directions, lengths and peepholes.
TEST(RecurrentGradient, MemoryPoliciesAgreeLSTM) {
  checkMemoryPolicies(R"(func.func @main(%x: tensor<23x3x5xELT>, %w: tensor<2x28x5xELT>, %r: tensor<2x28x7xELT>, %b: tensor<2x56xELT>, %h0: tensor<2x3x7xELT>, %c0: tensor<2x3x7xELT>, %p: tensor<2x21xELT>) -> tensor<23x2x3x7xELT> {
    %l = nn.constant dense<[23, 9, 17]> : tensor<3xi32>
    %y, %h, %c = nn.lstm %x, %w, %r, %b, %l, %h0, %c0, %p {activations = ["Sigmoid", "Tanh", "Tanh", "Sigmoid", "Tanh", "Tanh"], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1, 1, 1]> : vector<8xi32>} : (tensor<23x3x5xELT>, tensor<2x28x5xELT>, tensor<2x28x7xELT>, tensor<2x56xELT>, tensor<3xi32>, tensor<2x3x7xELT>, tensor<2x3x7xELT>, tensor<2x21xELT>) -> (tensor<23x2x3x7xELT>, tensor<2x3x7xELT>, tensor<2x3x7xELT>)
    %0 = nn.add %y, %h : tensor<23x2x3x7xELT>, tensor<2x3x7xELT>
    %1 = nn.add %0, %c : tensor<23x2x3x7xELT>, tensor<2x3x7xELT>
    return %1 : tensor<23x2x3x7xELT> })",
                      {23 * 3 * 5, 2 * 28 * 5, 2 * 28 * 7, 2 * 56, 2 * 3 * 7, 2 * 3 * 7, 2 * 21});
}

/// A batch of 16 over 40 steps: recompute-gates (256 / 16 = 16 steps) and
/// checkpoint (7) run several segments.
TEST(RecurrentGradient, MemoryPoliciesAgreeLSTMSegments) {
  checkMemoryPolicies(R"(func.func @main(%x: tensor<40x16x3xELT>, %w: tensor<1x20x3xELT>, %r: tensor<1x20x5xELT>, %b: tensor<1x40xELT>) -> tensor<40x1x16x5xELT> {
    %y, %h, %c = nn.lstm %x, %w, %r, %b {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 5 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<40x16x3xELT>, tensor<1x20x3xELT>, tensor<1x20x5xELT>, tensor<1x40xELT>) -> (tensor<40x1x16x5xELT>, tensor<1x16x5xELT>, tensor<1x16x5xELT>)
    return %y : tensor<40x1x16x5xELT> })",
                      {40 * 16 * 3, 20 * 3, 20 * 5, 40});
}

/// A bidirectional LSTM of 200 steps with lengths, initial states and
/// peepholes, batch 8 (segments of 256 / 8 = 32 steps).
const char *kLongLSTM = R"(func.func @main(%x: tensor<200x8x5xELT>, %w: tensor<2x24x5xELT>, %r: tensor<2x24x6xELT>, %b: tensor<2x48xELT>, %h0: tensor<2x8x6xELT>, %c0: tensor<2x8x6xELT>, %p: tensor<2x18xELT>) -> tensor<200x2x8x6xELT> {
    %l = nn.constant dense<[200, 9, 33, 64, 200, 1, 140, 165]> : tensor<8xi32>
    %y, %h, %c = nn.lstm %x, %w, %r, %b, %l, %h0, %c0, %p {activations = [], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 6 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1, 1, 1]> : vector<8xi32>} : (tensor<200x8x5xELT>, tensor<2x24x5xELT>, tensor<2x24x6xELT>, tensor<2x48xELT>, tensor<8xi32>, tensor<2x8x6xELT>, tensor<2x8x6xELT>, tensor<2x18xELT>) -> (tensor<200x2x8x6xELT>, tensor<2x8x6xELT>, tensor<2x8x6xELT>)
    %0 = nn.add %y, %c : tensor<200x2x8x6xELT>, tensor<2x8x6xELT>
    return %0 : tensor<200x2x8x6xELT> })";

/// Under recompute-gates, and a budget that does not hold the gates, the
/// forward saves the states before every recompute segment (batch 8: 32
/// steps; nn.lstm_checkpointed, keeping y) and the backward starts its
/// segments from them: from each (recompute-gates), from every other one
/// (a budget's segments of 64, 96, ... steps) or, for segments of other lengths,
/// from the states its own first pass computes. A sweep of budgets from the
/// smallest working set to store-all's runs all of these, and each gives
/// store-all's gradients. Both directions, lengths, initial states and
/// peepholes.
TEST(RecurrentGradient, SavedCheckpointsServeEverySegmentLength) {
  const char *body = kLongLSTM;
  auto args = randomArgs({200 * 8 * 5, 2 * 24 * 5, 2 * 24 * 6, 2 * 48, 2 * 8 * 6, 2 * 8 * 6, 2 * 18}, 12);
  for (const char *elt : {"f64", "f32"}) {
    SCOPED_TRACE(elt);
    int64_t allBytes = 0, minimalBytes = 0;
    auto reference = gradientsAt(body, elt, args, "store-all", 0, &allBytes);
    ASSERT_EQ(reference.size(), args.size());
    expectGradientsNear(gradientsAt(body, elt, args, "recompute-gates"), reference, 1e-6, "recompute-gates");
    expectGradientsNear(gradientsAt(body, elt, args, "budget", 1, &minimalBytes), reference, 1e-6, "budget=1");
    for (int k = 1; k <= 12; ++k) {
      int64_t budget = minimalBytes + (allBytes - minimalBytes) * k / 12;
      expectGradientsNear(gradientsAt(body, elt, args, "budget", budget), reference, 1e-6,
                          "budget=" + std::to_string(budget));
    }
  }
}

/// The saved_steps of a forward that saves the gates of its last steps in a
/// module (nn.lstm_saving, nn.gru_with_gates, nn.rnn_with_gates; 0: none).
int64_t savedStepsIn(ModuleOp module) {
  int64_t steps = 0;
  module.walk([&](Operation *op) {
    if (auto k = op->getAttrOfType<IntegerAttr>("saved_steps"))
      steps = k.getInt();
  });
  return steps;
}

/// Runs `check` on `body` with its GRU's LBR read as linear_before_reset
/// true and then false (both cells), each under a trace naming it.
template <typename Check> void forBothGRUCells(const std::string &body, Check check) {
  for (const char *lbr : {"true", "false"}) {
    std::string b = body;
    b.replace(b.find("LBR"), 3, lbr);
    SCOPED_TRACE(std::string("linear_before_reset = ") + lbr);
    check(b.c_str());
  }
}

/// A budget that holds the gates of at least half the steps but not of all
/// saves those of the steps after the first m segments of 32 (batch 8; an
/// LSTM: nn.lstm_saving, a GRU or RNN: nn.*_with_gates with saved_steps),
/// the more of them the larger the budget, and the backward works in them
/// there and recomputes the others (an LSTM's from the saved cell states, a
/// GRU's or RNN's from y): store-all's gradients at every budget. Each
/// direction saves its own last steps (in its step order); rows past their
/// length have zero rows there. `body` is 200 steps of batch 8.
void checkBudgetSavesTheLastSteps(const char *body, const std::vector<int64_t> &sizes) {
  auto args = randomArgs(sizes, 13);
  for (const char *elt : {"f64", "f32"}) {
    SCOPED_TRACE(elt);
    auto inspect = [&](int64_t budget, int *allSaved) {
      MLIRContext ctx;
      auto module = trainingModule(ctx, body, elt, "budget", budget, false);
      *allSaved = module ? savingForwards(*module) : -1;
      return module ? savedStepsIn(*module) : -1;
    };
    // The smallest budget that saves some steps' gates and the smallest
    // that saves all (nn.*_with_gates), by bisection.
    auto smallest = [&](auto saves) {
      int64_t lo = 1, hi = int64_t(1) << 26;
      while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        (saves(mid) ? hi : lo) = mid;
      }
      return hi;
    };
    int all = 0;
    int64_t some = smallest([&](int64_t b) {
      int allOf = 0;
      return inspect(b, &allOf) > 0 || allOf > 0;
    });
    int64_t every = smallest([&](int64_t b) {
      int allOf = 0;
      inspect(b, &allOf);
      return allOf > 0;
    });
    ASSERT_LT(some, every);
    EXPECT_EQ(inspect(some, &all), 200 - 3 * 32) << "the steps after 3 segments of 32: at least half";
    EXPECT_EQ(inspect(every - 1, &all), 200 - 32) << "all but the first segment";
    auto reference = gradientsAt(body, elt, args, "store-all");
    ASSERT_EQ(reference.size(), args.size());
    int64_t last = 0;
    for (int k = 0; k <= 4; ++k) {
      int64_t budget = some + (every - 1 - some) * k / 4, saved = inspect(budget, &all);
      EXPECT_EQ(all, 0);
      EXPECT_GE(saved, last) << "budget " << budget;
      EXPECT_EQ((200 - saved) % 32, 0) << "budget " << budget;
      last = saved;
      expectGradientsNear(gradientsAt(body, elt, args, "budget", budget), reference, 1e-6,
                          "budget=" + std::to_string(budget) + ", " + std::to_string(saved) + " steps saved");
    }
    // Segments that straddle the first saved step (a budget's start one
    // there): a GRU's or RNN's backward under checkpoint (segments of
    // ceil(sqrt(200)) = 15 steps; an LSTM's follow its checkpoints')
    // recomputes such a segment whole and works in the saved rows from the
    // next one on.
    if (std::string(body).find("nn.lstm ") == std::string::npos) {
      MLIRContext ctx;
      auto module = trainingModule(ctx, body, elt, "budget", some, false);
      ASSERT_EQ(savedStepsIn(*module), 200 - 3 * 32);
      module->walk([&](Operation *op) {
        if (isa<nncc::nn::GRUGradOp, nncc::nn::RNNGradOp>(op))
          op->setAttr("memory_policy", StringAttr::get(&ctx, "checkpoint"));
      });
      expectGradientsNear(runGradients(*module, args), reference, 1e-6, "segments of 15 over 104 saved steps");
    }
  }
}

TEST(RecurrentGradient, BudgetSavesTheLastStepsGates) {
  checkBudgetSavesTheLastSteps(kLongLSTM, {200 * 8 * 5, 2 * 24 * 5, 2 * 24 * 6, 2 * 48, 2 * 8 * 6, 2 * 8 * 6, 2 * 18});
}

TEST(RecurrentGradient, BudgetSavesTheLastStepsGatesGRU) {
  forBothGRUCells(R"(func.func @main(%x: tensor<200x8x5xELT>, %w: tensor<2x18x5xELT>, %r: tensor<2x18x6xELT>, %b: tensor<2x36xELT>, %h0: tensor<2x8x6xELT>) -> tensor<200x2x8x6xELT> {
      %l = nn.constant dense<[200, 9, 33, 64, 200, 1, 140, 165]> : tensor<8xi32>
      %y, %h = nn.gru %x, %w, %r, %b, %l, %h0 {activations = [], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 6 : i64, linear_before_reset = LBR, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1]> : vector<6xi32>} : (tensor<200x8x5xELT>, tensor<2x18x5xELT>, tensor<2x18x6xELT>, tensor<2x36xELT>, tensor<8xi32>, tensor<2x8x6xELT>) -> (tensor<200x2x8x6xELT>, tensor<2x8x6xELT>)
      %0 = nn.add %y, %h : tensor<200x2x8x6xELT>, tensor<2x8x6xELT>
      return %0 : tensor<200x2x8x6xELT> })", [](const char *body) {
    checkBudgetSavesTheLastSteps(body, {200 * 8 * 5, 2 * 18 * 5, 2 * 18 * 6, 2 * 36, 2 * 8 * 6});
  });
}

TEST(RecurrentGradient, BudgetSavesTheLastStepsGatesRNN) {
  checkBudgetSavesTheLastSteps(R"(func.func @main(%x: tensor<200x8x5xELT>, %w: tensor<2x6x5xELT>, %r: tensor<2x6x6xELT>, %b: tensor<2x12xELT>, %h0: tensor<2x8x6xELT>) -> tensor<200x2x8x6xELT> {
    %l = nn.constant dense<[200, 9, 33, 64, 200, 1, 140, 165]> : tensor<8xi32>
    %y, %h = nn.rnn %x, %w, %r, %b, %l, %h0 {activations = ["Tanh", "Relu"], activation_alpha = [], activation_beta = [], clip = 2.5 : f32, direction = "bidirectional", hidden_size = 6 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1]> : vector<6xi32>} : (tensor<200x8x5xELT>, tensor<2x6x5xELT>, tensor<2x6x6xELT>, tensor<2x12xELT>, tensor<8xi32>, tensor<2x8x6xELT>) -> (tensor<200x2x8x6xELT>, tensor<2x8x6xELT>)
    %0 = nn.add %y, %h : tensor<200x2x8x6xELT>, tensor<2x8x6xELT>
    return %0 : tensor<200x2x8x6xELT> })",
                               {200 * 8 * 5, 2 * 6 * 5, 2 * 6 * 6, 2 * 12, 2 * 8 * 6});
}

/// Training through layers unrolled into cells (--unroll-recurrent: the
/// forward's cells, the layers' backward kernels reading their y) with
/// sequence lengths, clip and non-default activations gives the gradients
/// of the layers' own kernels, in double, under store-all (the forward
/// unrolled as the plain op) and recompute-gates.
TEST(RecurrentGradient, UnrolledLayersTrainWithLengthsAndClip) {
  const char *body = R"(func.func @main(%x: tensor<7x3x5xELT>, %w: tensor<2x21x5xELT>, %r: tensor<2x21x7xELT>, %b: tensor<2x42xELT>, %h0: tensor<2x3x7xELT>, %rw: tensor<2x7x14xELT>, %rr: tensor<2x7x7xELT>) -> tensor<7x2x3x7xELT> {
    %l = nn.constant dense<[7, 2, 5]> : tensor<3xi32>
    %y, %h = nn.gru %x, %w, %r, %b, %l, %h0 {activations = ["Sigmoid", "Softsign", "HardSigmoid", "Tanh"], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, direction = "bidirectional", hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1]> : vector<6xi32>} : (tensor<7x3x5xELT>, tensor<2x21x5xELT>, tensor<2x21x7xELT>, tensor<2x42xELT>, tensor<3xi32>, tensor<2x3x7xELT>) -> (tensor<7x2x3x7xELT>, tensor<2x3x7xELT>)
    %t = nn.transpose %y {perm = [0, 2, 1, 3]} : tensor<7x2x3x7xELT> -> tensor<7x3x2x7xELT>
    %x1 = nn.reshape %t {shape = [7, 3, 14]} : tensor<7x3x2x7xELT> -> tensor<7x3x14xELT>
    %y1, %h1 = nn.rnn %x1, %rw, %rr, %l {activations = ["Elu", "Tanh"], activation_alpha = [5.000000e-01 : f32], activation_beta = [], clip = 8.000000e-01 : f32, direction = "bidirectional", hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 1, 0]> : vector<6xi32>} : (tensor<7x3x14xELT>, tensor<2x7x14xELT>, tensor<2x7x7xELT>, tensor<3xi32>) -> (tensor<7x2x3x7xELT>, tensor<2x3x7xELT>)
    %0 = nn.add %y1, %h1 : tensor<7x2x3x7xELT>, tensor<2x3x7xELT>
    return %0 : tensor<7x2x3x7xELT> })";
  auto args = randomArgs({7 * 3 * 5, 2 * 21 * 5, 2 * 21 * 7, 2 * 42, 2 * 3 * 7, 2 * 7 * 14, 2 * 7 * 7}, 21);
  for (const char *policy : {"store-all", "recompute-gates"}) {
    SCOPED_TRACE(policy);
    auto layers = gradientsAt(body, "f64", args, policy);
    ASSERT_EQ(layers.size(), args.size());
    MLIRContext ctx;
    auto module = trainingModule(ctx, body, "f64", policy, 0, false);
    ASSERT_TRUE(module);
    {
      OwningOpRef<ModuleOp> copy = module->clone();
      PassManager pm(&ctx);
      pm.addNestedPass<func::FuncOp>(nncc::createUnrollRecurrentPass());
      ASSERT_TRUE(succeeded(pm.run(*copy)));
      int whole = 0;
      copy->walk([&](Operation *op) {
        whole += isa<nncc::nn::GRUOp, nncc::nn::GRUWithGatesOp, nncc::nn::RNNOp, nncc::nn::RNNWithGatesOp>(op);
      });
      EXPECT_EQ(whole, 0) << "a forward kept whole";
    }
    expectGradientsNear(runGradients(*module, args, nullptr, "wavefront", nullptr, /*unroll=*/true), layers, 1e-9,
                        "unrolled against the layers");
  }
}

/// GRU, with and without linear_before_reset, both directions and lengths.
TEST(RecurrentGradient, MemoryPoliciesAgreeGRU) {
  forBothGRUCells(R"(func.func @main(%x: tensor<23x3x5xELT>, %w: tensor<2x21x5xELT>, %r: tensor<2x21x7xELT>, %b: tensor<2x42xELT>, %h0: tensor<2x3x7xELT>) -> tensor<23x2x3x7xELT> {
      %l = nn.constant dense<[23, 9, 17]> : tensor<3xi32>
      %y, %h = nn.gru %x, %w, %r, %b, %l, %h0 {activations = ["Sigmoid", "Tanh", "Sigmoid", "Tanh"], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 7 : i64, linear_before_reset = LBR, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1]> : vector<6xi32>} : (tensor<23x3x5xELT>, tensor<2x21x5xELT>, tensor<2x21x7xELT>, tensor<2x42xELT>, tensor<3xi32>, tensor<2x3x7xELT>) -> (tensor<23x2x3x7xELT>, tensor<2x3x7xELT>)
      %0 = nn.add %y, %h : tensor<23x2x3x7xELT>, tensor<2x3x7xELT>
      return %0 : tensor<23x2x3x7xELT> })", [](const char *body) {
    checkMemoryPolicies(body, {23 * 3 * 5, 2 * 21 * 5, 2 * 21 * 7, 2 * 42, 2 * 3 * 7});
  });
}

/// Simple RNN: both directions, lengths, an initial state and clip. (60
/// steps: with fewer, the forward's buffers for both directions at once
/// make the minimal workspace, and so the budget below, large enough for
/// the saved pre-activations, and the budget policy then rightly picks
/// store-all.)
TEST(RecurrentGradient, MemoryPoliciesAgreeRNN) {
  checkMemoryPolicies(R"(func.func @main(%x: tensor<60x3x5xELT>, %w: tensor<2x7x5xELT>, %r: tensor<2x7x7xELT>, %b: tensor<2x14xELT>, %h0: tensor<2x3x7xELT>) -> tensor<60x2x3x7xELT> {
    %l = nn.constant dense<[60, 9, 37]> : tensor<3xi32>
    %y, %h = nn.rnn %x, %w, %r, %b, %l, %h0 {activations = ["Tanh", "Relu"], activation_alpha = [], activation_beta = [], clip = 2.5 : f32, direction = "bidirectional", hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1]> : vector<6xi32>} : (tensor<60x3x5xELT>, tensor<2x7x5xELT>, tensor<2x7x7xELT>, tensor<2x14xELT>, tensor<3xi32>, tensor<2x3x7xELT>) -> (tensor<60x2x3x7xELT>, tensor<2x3x7xELT>)
    %0 = nn.add %y, %h : tensor<60x2x3x7xELT>, tensor<2x3x7xELT>
    return %0 : tensor<60x2x3x7xELT> })",
                      {60 * 3 * 5, 2 * 7 * 5, 2 * 7 * 7, 2 * 14, 2 * 3 * 7});
}

/// budget=BYTES saves the gates when they fit beside the backward's working
/// set for segments of 256 / batch steps (16 here): from some budget above
/// the gates' own bytes on, found by bisection, and not below it. The
/// backward then works in them segment by segment, in the rest: at that
/// budget in segments shorter than the 30 steps (for the LSTM a first pass
/// also computes the cell-state checkpoints from the saved rows without
/// activating them). Either way the gradients are store-all's. Lengths and
/// both directions included.
void checkBudgetSavesGates(const char *body, const std::vector<int64_t> &sizes, int64_t savedElements) {
  auto args = randomArgs(sizes, 4);
  for (const char *elt : {"f64", "f32"}) {
    SCOPED_TRACE(elt);
    int64_t saved = savedElements * (std::string(elt) == "f64" ? 8 : 4), allBytes = 0, bytes = 0;
    auto saves = [&](int64_t budget) {
      MLIRContext ctx;
      auto module = trainingModule(ctx, body, elt, "budget", budget, false);
      return module ? savingForwards(*module) : -1;
    };
    int64_t lo = saved, hi = 64 * saved;
    ASSERT_EQ(saves(lo), 0) << "the gates alone fill the budget: recomputed";
    ASSERT_EQ(saves(hi), 1);
    while (hi - lo > 1) {
      int64_t mid = lo + (hi - lo) / 2;
      (saves(mid) ? hi : lo) = mid;
    }
    int64_t threshold = hi;
    for (int64_t budget : {threshold + 1, threshold + saved, 2 * threshold})
      EXPECT_EQ(saves(budget), 1) << "budget " << budget << " above " << threshold;
    int saving = 0;
    auto reference = gradientsAt(body, elt, args, "store-all", 0, &allBytes, "wavefront", &saving);
    ASSERT_EQ(reference.size(), args.size());
    EXPECT_EQ(saving, 1);
    auto got = gradientsAt(body, elt, args, "budget", threshold, &bytes, "wavefront", &saving);
    EXPECT_EQ(saving, 1) << "the gates fit beside a segment's working set: saved";
    expectGradientsNear(got, reference, 1e-6, "budget saving the gates");
    EXPECT_LT(bytes, allBytes) << "segments shorter than the sequence";
    got = gradientsAt(body, elt, args, "budget", threshold - 1, &bytes, "wavefront", &saving);
    EXPECT_EQ(saving, 0) << "they do not: recomputed";
    expectGradientsNear(got, reference, 1e-6, "budget recomputing the gates");
  }
}

TEST(RecurrentGradient, BudgetSavesGatesLSTM) {
  checkBudgetSavesGates(R"(func.func @main(%x: tensor<30x16x40xELT>, %w: tensor<2x12x40xELT>, %r: tensor<2x12x3xELT>, %b: tensor<2x24xELT>, %c0: tensor<2x16x3xELT>, %p: tensor<2x9xELT>) -> tensor<30x2x16x3xELT> {
    %l = nn.constant dense<[30, 11, 23, 30, 5, 17, 29, 30, 1, 12, 30, 26, 8, 30, 19, 22]> : tensor<16xi32>
    %y, %h, %c = nn.lstm %x, %w, %r, %b, %l, %c0, %p {activations = [], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 3 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 0, 1, 1]> : vector<8xi32>} : (tensor<30x16x40xELT>, tensor<2x12x40xELT>, tensor<2x12x3xELT>, tensor<2x24xELT>, tensor<16xi32>, tensor<2x16x3xELT>, tensor<2x9xELT>) -> (tensor<30x2x16x3xELT>, tensor<2x16x3xELT>, tensor<2x16x3xELT>)
    %0 = nn.add %y, %c : tensor<30x2x16x3xELT>, tensor<2x16x3xELT>
    return %0 : tensor<30x2x16x3xELT> })",
                        {30 * 16 * 40, 2 * 12 * 40, 2 * 12 * 3, 2 * 24, 2 * 16 * 3, 2 * 9}, 2 * 30 * 16 * 12);
}

TEST(RecurrentGradient, BudgetSavesGatesGRU) {
  forBothGRUCells(R"(func.func @main(%x: tensor<30x16x40xELT>, %w: tensor<2x9x40xELT>, %r: tensor<2x9x3xELT>, %b: tensor<2x18xELT>) -> tensor<30x2x16x3xELT> {
      %l = nn.constant dense<[30, 11, 23, 30, 5, 17, 29, 30, 1, 12, 30, 26, 8, 30, 19, 22]> : tensor<16xi32>
      %y, %h = nn.gru %x, %w, %r, %b, %l {activations = [], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 3 : i64, linear_before_reset = LBR, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 0]> : vector<6xi32>} : (tensor<30x16x40xELT>, tensor<2x9x40xELT>, tensor<2x9x3xELT>, tensor<2x18xELT>, tensor<16xi32>) -> (tensor<30x2x16x3xELT>, tensor<2x16x3xELT>)
      return %y : tensor<30x2x16x3xELT> })", [](const char *body) {
    checkBudgetSavesGates(body, {30 * 16 * 40, 2 * 9 * 40, 2 * 9 * 3, 2 * 18}, 2 * 30 * 16 * 12);
  });
}

TEST(RecurrentGradient, BudgetSavesGatesRNN) {
  checkBudgetSavesGates(R"(func.func @main(%x: tensor<30x16x40xELT>, %w: tensor<2x3x40xELT>, %r: tensor<2x3x3xELT>, %b: tensor<2x6xELT>) -> tensor<30x2x16x3xELT> {
    %l = nn.constant dense<[30, 11, 23, 30, 5, 17, 29, 30, 1, 12, 30, 26, 8, 30, 19, 22]> : tensor<16xi32>
    %y, %h = nn.rnn %x, %w, %r, %b, %l {activations = [], activation_alpha = [], activation_beta = [], direction = "bidirectional", hidden_size = 3 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 0]> : vector<6xi32>} : (tensor<30x16x40xELT>, tensor<2x3x40xELT>, tensor<2x3x3xELT>, tensor<2x6xELT>, tensor<16xi32>) -> (tensor<30x2x16x3xELT>, tensor<2x16x3xELT>)
    return %y : tensor<30x2x16x3xELT> })",
                        {30 * 16 * 40, 2 * 3 * 40, 2 * 3 * 3, 2 * 6}, 2 * 30 * 16 * 3);
}

/// Under checkpoint the backward reads no y (it recomputes h from the
/// forward's checkpoints), so y can die once dY is computed from it: here
/// dY = 2 y R takes y's buffer, and y and dY never both live. Before, the
/// workspace held both (2 x 64 KB at T = 1000), plus scratch.
TEST(RecurrentGradient, CheckpointLetsTheOutputDie) {
  const char *body = R"(func.func @main(%x: tensor<1000x2x4xELT>, %w: tensor<1x32x4xELT>, %r: tensor<1x32x8xELT>) -> tensor<1000x1x2x8xELT> {
    %y, %h, %c = nn.lstm %x, %w, %r {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 8 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<1000x2x4xELT>, tensor<1x32x4xELT>, tensor<1x32x8xELT>) -> (tensor<1000x1x2x8xELT>, tensor<1x2x8xELT>, tensor<1x2x8xELT>)
    %sq = nn.mul %y, %y : tensor<1000x1x2x8xELT>, tensor<1000x1x2x8xELT>
    return %sq : tensor<1000x1x2x8xELT> })";
  auto args = randomArgs({1000 * 2 * 4, 32 * 4, 32 * 8}, 3);
  int64_t all = 0, checkpoint = 0, yBytes = 1000 * 2 * 8 * 4;
  auto reference = gradientsAt(body, "f32", args, "store-all", 0, &all);
  auto got = gradientsAt(body, "f32", args, "checkpoint", 0, &checkpoint);
  expectGradientsNear(got, reference, 1e-5, "checkpoint");
  EXPECT_LT(checkpoint, 3 * yBytes / 2) << "store-all: " << all;
  EXPECT_LT(checkpoint, all / 4);
}

/// Stacked layers under the wavefront schedule against the same layers run
/// one by one (float) and against the f64 gradients (checked against finite
/// differences above). `body` has STEPS for the sequence length: 70 steps of
/// batch 3 (chunks of 21 steps, the last one short, two in the middle), 21
/// (one whole chunk) and 1 (or `steps`). The gradients must run as one
/// stacked backward op. With initial states (`states`: their sizes, after
/// the weights; OUTS is STEPS + 3) the first step's h_{-1} is not zero.
/// Without `recomputing` the layers stack only where their forward saves
/// their pre-activations (clipped RNNs: the stack's backward needs them).
void checkWavefrontStack(const std::string &body, int64_t input, const std::vector<int64_t> &weights,
                         const std::vector<int64_t> &states = {},
                         const std::vector<int64_t> &steps = {70, 21, 1}, bool recomputing = true) {
  for (int64_t T : steps) {
    std::string b = body;
    for (size_t at; (at = b.find("STEPS")) != std::string::npos;)
      b.replace(at, 5, std::to_string(T));
    for (size_t at; (at = b.find("OUTS")) != std::string::npos;)
      b.replace(at, 4, std::to_string(T + 3));
    for (size_t at; (at = b.find("HALF")) != std::string::npos;) // (sequence lengths)
      b.replace(at, 4, std::to_string(std::max<int64_t>(1, T / 2)));
    for (size_t at; (at = b.find("THIRD")) != std::string::npos;)
      b.replace(at, 5, std::to_string(std::max<int64_t>(1, T / 3)));
    for (size_t at; (at = b.find("CHUNK")) != std::string::npos;) // (a chunk's steps, or fewer)
      b.replace(at, 5, std::to_string(std::min<int64_t>(21, T)));
    for (size_t at; (at = b.find("MORE")) != std::string::npos;) // (more than there are: clamped)
      b.replace(at, 4, std::to_string(T + 5));
    SCOPED_TRACE("steps: " + std::to_string(T));
    std::vector<int64_t> sizes{T * 3 * input};
    sizes.insert(sizes.end(), weights.begin(), weights.end());
    sizes.insert(sizes.end(), states.begin(), states.end());
    auto args = randomArgs(sizes, 5);
    auto reference = gradientsAt(b, "f64", args);
    ASSERT_EQ(reference.size(), args.size());
    int stacked = 0, layered = 0;
    int64_t allBytes = 0;
    std::vector<double> layersY, wavefrontY;
    auto layers = gradientsAt(b, "f32", args, "store-all", 0, nullptr, "sequential", nullptr, &layered, &layersY);
    auto wavefront =
        gradientsAt(b, "f32", args, "store-all", 0, &allBytes, "wavefront", nullptr, &stacked, &wavefrontY);
    // The outputs too (the gradients do not depend on them).
    expectGradientsNear({wavefrontY}, {layersY}, 1e-5, "the wavefront's outputs against sequential");
    EXPECT_EQ(stacked, 1) << "the gradients were not stacked";
    EXPECT_EQ(layered, 0);
    ASSERT_EQ(wavefront.size(), args.size());
    // One step from a zero h_{-1} (a layer without initial state): dR
    // (arguments 2, 5 and 8) is zero, and then left out.
    auto zero = [](const std::vector<double> &g) { return llvm::all_of(g, [](double v) { return v == 0.0; }); };
    std::vector<size_t> zeroDR;
    if (T == 1)
      for (size_t k : {8, 5, 2}) {
        if (!zero(reference[k]))
          continue;
        for (double v : wavefront[k])
          EXPECT_EQ(v, 0.0) << "dR of argument " << k;
        for (auto *g : {&reference, &layers, &wavefront})
          g->erase(g->begin() + k);
        zeroDR.push_back(k);
      }
    expectGradientsNear(wavefront, layers, 1e-5, "wavefront against sequential");
    expectGradientsNear(wavefront, reference, 2e-4, "wavefront against f64");
    // The other memory policies: the stacked backward recomputes each
    // chunk's pre-activations (the forward saves none) and gives store-all's
    // gradients. A budget stacks the layers when it holds what the stack
    // keeps per layer beyond its output (a chunk's rows: 18312 bytes here,
    // and an LSTM's cell state per chunk; 20000 saves the gates where they
    // take at most half of it, T = 21 and 1); below it (1 byte) each layer
    // keeps its own kernel, which honours it, as an LSTM under checkpoint
    // does (which keeps fewer states and lets y die).
    struct Policy {
      const char *name;
      int64_t budget;
      int stacks, saves; ///< (saves: -1 either way)
    };
    bool lstm = b.find("nn.lstm ") != std::string::npos;
    for (Policy p : {Policy{"recompute-gates", 0, 1, 0}, Policy{"checkpoint", 0, lstm ? 0 : 1, 0},
                     Policy{"budget", 20000, 1, -1},
                     Policy{"budget", 1, 0, 0}}) {
      const char *policy = p.name;
      int recomputed = 0, saving = -1;
      int64_t bytes = 0;
      auto got = gradientsAt(b, "f32", args, policy, p.budget, &bytes, "wavefront", &saving, &recomputed);
      int stacks = recomputing ? p.stacks : saving > 0;
      EXPECT_EQ(recomputed, stacks) << policy << " " << p.budget << ": stacked or not";
      if (p.saves >= 0)
        EXPECT_EQ(saving, p.saves) << policy << ": gates saved";
      if (T > 21 && saving == 0) // (several chunks: the gates of all steps against a chunk's per layer)
        EXPECT_LT(bytes, allBytes) << policy;
      ASSERT_EQ(got.size(), args.size());
      for (size_t k : zeroDR) {
        for (double v : got[k])
          EXPECT_EQ(v, 0.0) << policy << ": dR of argument " << k;
        got.erase(got.begin() + k);
      }
      // (2e-6: stacks run in float only, where 210 rows of sums round
      // differently in other orders; the layers' own budget kernel differs
      // from their store-all by 1.2e-6 here too. In double the policies
      // agree to 1e-6: MemoryPoliciesAgree*.)
      expectGradientsNear(got, stacks ? wavefront : layers, 2e-6, std::string(policy) + " against store-all");
    }
  }
}

/// Three stacked LSTM layers: nn.lstm_stack and nn.lstm_stack_grad (float
/// only). No activations given: the ONNX defaults, for the stack and the
/// layers alike; the last layer has no bias (the stack's zeros).
TEST(RecurrentGradient, WavefrontStackMatchesLayers) {
  checkWavefrontStack(R"(func.func @main(%x: tensor<STEPSx3x5xELT>, %w0: tensor<1x28x5xELT>, %r0: tensor<1x28x7xELT>, %b0: tensor<1x56xELT>, %w1: tensor<1x28x7xELT>, %r1: tensor<1x28x7xELT>, %b1: tensor<1x56xELT>, %w2: tensor<1x28x7xELT>, %r2: tensor<1x28x7xELT>) -> tensor<STEPSx1x3x7xELT> {
    %y0, %h0, %c0 = nn.lstm %x, %w0, %r0, %b0 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<STEPSx3x5xELT>, tensor<1x28x5xELT>, tensor<1x28x7xELT>, tensor<1x56xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>, tensor<1x3x7xELT>)
    %x1 = nn.reshape %y0 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1, %b1 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<STEPSx3x7xELT>, tensor<1x28x7xELT>, tensor<1x28x7xELT>, tensor<1x56xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>, tensor<1x3x7xELT>)
    %x2 = nn.reshape %y1 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y2, %h2, %c2 = nn.lstm %x2, %w2, %r2 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<STEPSx3x7xELT>, tensor<1x28x7xELT>, tensor<1x28x7xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>, tensor<1x3x7xELT>)
    return %y2 : tensor<STEPSx1x3x7xELT> })",
                      5, {28 * 5, 28 * 7, 56, 28 * 7, 28 * 7, 56, 28 * 7, 28 * 7});
}

/// Replaces every `key` in `text` with `value`.
std::string replaceAll(std::string text, const std::string &key, const std::string &value) {
  for (size_t at; (at = text.find(key)) != std::string::npos;)
    text.replace(at, key.size(), value);
  return text;
}

/// Stacks of clipped LSTMs, GRUs (both cells) and RNNs (tanh and Relu)
/// train too: their forward and backward rows clip (ONNX's clip on every
/// layer, 0.5: it binds). The RNNs' backward takes the derivative from the
/// pre-activations the stack saves: they stack where the layers save theirs
/// (store-all, or a budget that holds them), and otherwise keep their own
/// kernels.
TEST(RecurrentGradient, WavefrontClippedStacksMatchLayers) {
  const std::string lstm = R"(func.func @main(%x: tensor<STEPSx3x5xELT>, %w0: tensor<1x28x5xELT>, %r0: tensor<1x28x7xELT>, %b0: tensor<1x56xELT>, %w1: tensor<1x28x7xELT>, %r1: tensor<1x28x7xELT>, %b1: tensor<1x56xELT>, %w2: tensor<1x28x7xELT>, %r2: tensor<1x28x7xELT>) -> tensor<STEPSx1x3x7xELT> {
    %y0, %h0, %c0 = nn.lstm %x, %w0, %r0, %b0 {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<STEPSx3x5xELT>, tensor<1x28x5xELT>, tensor<1x28x7xELT>, tensor<1x56xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>, tensor<1x3x7xELT>)
    %x1 = nn.reshape %y0 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1, %b1 {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<STEPSx3x7xELT>, tensor<1x28x7xELT>, tensor<1x28x7xELT>, tensor<1x56xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>, tensor<1x3x7xELT>)
    %x2 = nn.reshape %y1 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y2, %h2, %c2 = nn.lstm %x2, %w2, %r2 {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<STEPSx3x7xELT>, tensor<1x28x7xELT>, tensor<1x28x7xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>, tensor<1x3x7xELT>)
    return %y2 : tensor<STEPSx1x3x7xELT> })";
  {
    SCOPED_TRACE("LSTM");
    checkWavefrontStack(lstm, 5, {28 * 5, 28 * 7, 56, 28 * 7, 28 * 7, 56, 28 * 7, 28 * 7});
  }
  const std::string gru = R"(func.func @main(%x: tensor<STEPSx3x5xELT>, %w0: tensor<1x21x5xELT>, %r0: tensor<1x21x7xELT>, %b0: tensor<1x42xELT>, %w1: tensor<1x21x7xELT>, %r1: tensor<1x21x7xELT>, %b1: tensor<1x42xELT>, %w2: tensor<1x21x7xELT>, %r2: tensor<1x21x7xELT>) -> tensor<STEPSx1x3x7xELT> {
    %y0, %h0 = nn.gru %x, %w0, %r0, %b0 {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 7 : i64, linear_before_reset = LBR, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<STEPSx3x5xELT>, tensor<1x21x5xELT>, tensor<1x21x7xELT>, tensor<1x42xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>)
    %x1 = nn.reshape %y0 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y1, %h1 = nn.gru %x1, %w1, %r1, %b1 {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 7 : i64, linear_before_reset = LBR, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<STEPSx3x7xELT>, tensor<1x21x7xELT>, tensor<1x21x7xELT>, tensor<1x42xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>)
    %x2 = nn.reshape %y1 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y2, %h2 = nn.gru %x2, %w2, %r2 {activations = [], activation_alpha = [], activation_beta = [], clip = 5.000000e-01 : f32, hidden_size = 7 : i64, linear_before_reset = LBR, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<STEPSx3x7xELT>, tensor<1x21x7xELT>, tensor<1x21x7xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>)
    return %y2 : tensor<STEPSx1x3x7xELT> })";
  for (const char *lbr : {"true", "false"}) {
    SCOPED_TRACE(std::string("GRU, linear_before_reset = ") + lbr);
    checkWavefrontStack(replaceAll(gru, "LBR", lbr), 5, {21 * 5, 21 * 7, 42, 21 * 7, 21 * 7, 42, 21 * 7, 21 * 7});
  }
  std::string rnn = replaceAll(replaceAll(replaceAll(gru, "nn.gru", "nn.rnn"), "linear_before_reset = LBR, ", ""),
                               "x21x", "x7x");
  rnn = replaceAll(rnn, "x42x", "x14x");
  for (const char *acts : {R"(["Tanh"])", R"(["Relu"])"}) {
    SCOPED_TRACE(std::string("RNN, ") + acts);
    checkWavefrontStack(replaceAll(rnn, "activations = []", std::string("activations = ") + acts), 5,
                        {7 * 5, 7 * 7, 14, 7 * 7, 7 * 7, 14, 7 * 7, 7 * 7}, {}, {70, 21, 1}, false);
  }
}

/// The same for three stacked GRUs, with linear_before_reset (PyTorch's)
/// and without (ONNX's default: the h gate's second product per step):
/// nn.gru_stack and nn.gru_stack_grad, whose backward reads the stack's
/// saved pre-activations (or recomputes them) and outputs.
TEST(RecurrentGradient, WavefrontGRUStackMatchesLayers) {
  const std::string body = R"(func.func @main(%x: tensor<STEPSx3x5xELT>, %w0: tensor<1x21x5xELT>, %r0: tensor<1x21x7xELT>, %b0: tensor<1x42xELT>, %w1: tensor<1x21x7xELT>, %r1: tensor<1x21x7xELT>, %b1: tensor<1x42xELT>, %w2: tensor<1x21x7xELT>, %r2: tensor<1x21x7xELT>) -> tensor<STEPSx1x3x7xELT> {
    %y0, %h0 = nn.gru %x, %w0, %r0, %b0 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, linear_before_reset = LBR, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<STEPSx3x5xELT>, tensor<1x21x5xELT>, tensor<1x21x7xELT>, tensor<1x42xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>)
    %x1 = nn.reshape %y0 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y1, %h1 = nn.gru %x1, %w1, %r1, %b1 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, linear_before_reset = LBR, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<STEPSx3x7xELT>, tensor<1x21x7xELT>, tensor<1x21x7xELT>, tensor<1x42xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>)
    %x2 = nn.reshape %y1 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y2, %h2 = nn.gru %x2, %w2, %r2 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, linear_before_reset = LBR, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<STEPSx3x7xELT>, tensor<1x21x7xELT>, tensor<1x21x7xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>)
    return %y2 : tensor<STEPSx1x3x7xELT> })";
  for (const char *lbr : {"true", "false"}) {
    SCOPED_TRACE(std::string("linear_before_reset = ") + lbr);
    checkWavefrontStack(replaceAll(body, "LBR", lbr), 5, {21 * 5, 21 * 7, 42, 21 * 7, 21 * 7, 42, 21 * 7, 21 * 7});
  }
}

/// The same for three stacked simple RNNs, tanh (the first layer naming it,
/// the others taking the default) and Relu (PyTorch's two nonlinearities):
/// nn.rnn_stack and nn.rnn_stack_grad, whose backward takes the
/// activation's derivative from the saved outputs.
TEST(RecurrentGradient, WavefrontRNNStackMatchesLayers) {
  const std::string body = R"(func.func @main(%x: tensor<STEPSx3x5xELT>, %w0: tensor<1x7x5xELT>, %r0: tensor<1x7x7xELT>, %b0: tensor<1x14xELT>, %w1: tensor<1x7x7xELT>, %r1: tensor<1x7x7xELT>, %b1: tensor<1x14xELT>, %w2: tensor<1x7x7xELT>, %r2: tensor<1x7x7xELT>) -> tensor<STEPSx1x3x7xELT> {
    %y0, %h0 = nn.rnn %x, %w0, %r0, %b0 {activations = FIRST, activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<STEPSx3x5xELT>, tensor<1x7x5xELT>, tensor<1x7x7xELT>, tensor<1x14xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>)
    %x1 = nn.reshape %y0 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y1, %h1 = nn.rnn %x1, %w1, %r1, %b1 {activations = OTHERS, activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0]> : vector<6xi32>} : (tensor<STEPSx3x7xELT>, tensor<1x7x7xELT>, tensor<1x7x7xELT>, tensor<1x14xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>)
    %x2 = nn.reshape %y1 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y2, %h2 = nn.rnn %x2, %w2, %r2 {activations = OTHERS, activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 0]> : vector<6xi32>} : (tensor<STEPSx3x7xELT>, tensor<1x7x7xELT>, tensor<1x7x7xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>)
    return %y2 : tensor<STEPSx1x3x7xELT> })";
  for (auto [first, others] : {std::pair<const char *, const char *>{R"(["Tanh"])", "[]"}, {R"(["Relu"])", R"(["Relu"])"}}) {
    SCOPED_TRACE(first);
    checkWavefrontStack(replaceAll(replaceAll(body, "FIRST", first), "OTHERS", others), 5,
                        {7 * 5, 7 * 7, 14, 7 * 7, 7 * 7, 14, 7 * 7, 7 * 7});
  }
}

/// checkWavefrontStack for 3-layer GRUs (both cells) and RNNs (tanh,
/// Relu) of hidden 7 over inputs of 5: `body` has OP (gru, rnn), ACTS, CELL
/// (a GRU's linear_before_reset), G and B (W's rows and B's width) for them.
void checkGRUAndRNNStacks(const std::string &body, const std::vector<int64_t> &states = {},
                          const std::vector<int64_t> &steps = {70, 21, 1}) {
  struct Case {
    const char *op, *acts, *cell;
    int64_t gates;
  };
  for (Case c : {Case{"gru", "[]", "linear_before_reset = true,", 3}, Case{"gru", "[]", "linear_before_reset = false,", 3},
                 Case{"rnn", R"(["Tanh"])", "", 1}, Case{"rnn", R"(["Relu"])", "", 1}}) {
    SCOPED_TRACE(std::string(c.op) + " " + c.acts + " " + c.cell);
    int64_t G = c.gates * 7;
    std::string b = replaceAll(replaceAll(replaceAll(body, "OP", c.op), "ACTS", c.acts), "CELL", c.cell);
    b = replaceAll(replaceAll(b, "xGx", "x" + std::to_string(G) + "x"), "xBx", "x" + std::to_string(2 * G) + "x");
    checkWavefrontStack(b, 5, {G * 5, G * 7, 2 * G, G * 7, G * 7, 2 * G, G * 7, G * 7}, states, steps);
  }
}

/// Stacks with initial states and final states in the loss (streaming
/// inference, truncated BPTT, an encoder's state handed on): the layers'
/// initial states become rows of the stack's (a zero row for a layer
/// without), the final states read become rows of the stack's, and their
/// gradients flow through the stacked backward, which also returns the
/// initial states' gradients. The loss reads y and some final states
/// (concatenated, OUTS = STEPS + 3 rows).
TEST(RecurrentGradient, WavefrontStacksCarryStates) {
  // LSTM: layer 0 starts from h and c, layer 1 from zeros, layer 2 from h
  // only; the loss reads READ: y and the final states of layer 0's h, layer
  // 1's h and layer 2's c; or (an encoder) the final states alone, layer
  // 0's h and layer 2's h and c (the top layer's y has no gradient: the
  // stacked backward runs without dy).
  const std::string lstm = R"(func.func @main(%x: tensor<STEPSx3x5xELT>, %w0: tensor<1x28x5xELT>, %r0: tensor<1x28x7xELT>, %b0: tensor<1x56xELT>, %w1: tensor<1x28x7xELT>, %r1: tensor<1x28x7xELT>, %b1: tensor<1x56xELT>, %w2: tensor<1x28x7xELT>, %r2: tensor<1x28x7xELT>, %ih0: tensor<1x3x7xELT>, %ic0: tensor<1x3x7xELT>, %ih2: tensor<1x3x7xELT>) -> tensor<RESULT> {
    %y0, %h0, %c0 = nn.lstm %x, %w0, %r0, %b0, %ih0, %ic0 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 1, 1, 0]> : vector<8xi32>} : (tensor<STEPSx3x5xELT>, tensor<1x28x5xELT>, tensor<1x28x7xELT>, tensor<1x56xELT>, tensor<1x3x7xELT>, tensor<1x3x7xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>, tensor<1x3x7xELT>)
    %x1 = nn.reshape %y0 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1, %b1 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 0, 0, 0, 0]> : vector<8xi32>} : (tensor<STEPSx3x7xELT>, tensor<1x28x7xELT>, tensor<1x28x7xELT>, tensor<1x56xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>, tensor<1x3x7xELT>)
    %x2 = nn.reshape %y1 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y2, %h2, %c2 = nn.lstm %x2, %w2, %r2, %ih2 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 0, 1, 0, 0]> : vector<8xi32>} : (tensor<STEPSx3x7xELT>, tensor<1x28x7xELT>, tensor<1x28x7xELT>, tensor<1x3x7xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>, tensor<1x3x7xELT>)
    %f0 = nn.reshape %h0 {shape = [1, 1, 3, 7]} : tensor<1x3x7xELT> -> tensor<1x1x3x7xELT>
    %f1 = nn.reshape %READ1 {shape = [1, 1, 3, 7]} : tensor<1x3x7xELT> -> tensor<1x1x3x7xELT>
    %f2 = nn.reshape %c2 {shape = [1, 1, 3, 7]} : tensor<1x3x7xELT> -> tensor<1x1x3x7xELT>
    %out = nn.concat READ {axis = 0 : i64} : (READTYPES) -> tensor<RESULT>
    return %out : tensor<RESULT> })";
  const std::string f = "tensor<1x1x3x7xELT>";
  checkWavefrontStack(replaceAll(replaceAll(replaceAll(replaceAll(lstm, "RESULT", "OUTSx1x3x7xELT"), "READ1", "h1"),
                                            "READTYPES", "tensor<STEPSx1x3x7xELT>, " + f + ", " + f + ", " + f),
                                 "READ", "%y2, %f0, %f1, %f2"),
                      5, {28 * 5, 28 * 7, 56, 28 * 7, 28 * 7, 56, 28 * 7, 28 * 7}, {21, 21, 21});
  checkWavefrontStack(replaceAll(replaceAll(replaceAll(replaceAll(lstm, "RESULT", "3x1x3x7xELT"), "READ1", "h2"),
                                            "READTYPES", f + ", " + f + ", " + f),
                                 "READ", "%f0, %f1, %f2"),
                      5, {28 * 5, 28 * 7, 56, 28 * 7, 28 * 7, 56, 28 * 7, 28 * 7}, {21, 21, 21});
  // GRUs (both cells) and RNNs (tanh, Relu): every layer starts from its
  // own h; the loss reads layer 0's and layer 2's final h and y twice.
  const std::string body = R"(func.func @main(%x: tensor<STEPSx3x5xELT>, %w0: tensor<1xGx5xELT>, %r0: tensor<1xGx7xELT>, %b0: tensor<1xBxELT>, %w1: tensor<1xGx7xELT>, %r1: tensor<1xGx7xELT>, %b1: tensor<1xBxELT>, %w2: tensor<1xGx7xELT>, %r2: tensor<1xGx7xELT>, %ih0: tensor<1x3x7xELT>, %ih1: tensor<1x3x7xELT>, %ih2: tensor<1x3x7xELT>) -> tensor<OUTSx1x3x7xELT> {
    %y0, %h0 = nn.OP %x, %w0, %r0, %b0, %ih0 {activations = ACTS, activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, CELL operand_segment_sizes = dense<[1, 1, 1, 1, 0, 1]> : vector<6xi32>} : (tensor<STEPSx3x5xELT>, tensor<1xGx5xELT>, tensor<1xGx7xELT>, tensor<1xBxELT>, tensor<1x3x7xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>)
    %x1 = nn.reshape %y0 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y1, %h1 = nn.OP %x1, %w1, %r1, %b1, %ih1 {activations = ACTS, activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, CELL operand_segment_sizes = dense<[1, 1, 1, 1, 0, 1]> : vector<6xi32>} : (tensor<STEPSx3x7xELT>, tensor<1xGx7xELT>, tensor<1xGx7xELT>, tensor<1xBxELT>, tensor<1x3x7xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>)
    %x2 = nn.reshape %y1 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y2, %h2 = nn.OP %x2, %w2, %r2, %ih2 {activations = ACTS, activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, CELL operand_segment_sizes = dense<[1, 1, 1, 0, 0, 1]> : vector<6xi32>} : (tensor<STEPSx3x7xELT>, tensor<1xGx7xELT>, tensor<1xGx7xELT>, tensor<1x3x7xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>)
    %f0 = nn.reshape %h0 {shape = [1, 1, 3, 7]} : tensor<1x3x7xELT> -> tensor<1x1x3x7xELT>
    %f2 = nn.reshape %h2 {shape = [1, 1, 3, 7]} : tensor<1x3x7xELT> -> tensor<1x1x3x7xELT>
    %out = nn.concat %y2, %f0, %f2, %f2 {axis = 0 : i64} : (tensor<STEPSx1x3x7xELT>, tensor<1x1x3x7xELT>, tensor<1x1x3x7xELT>, tensor<1x1x3x7xELT>) -> tensor<OUTSx1x3x7xELT>
    return %out : tensor<OUTSx1x3x7xELT> })";
  checkGRUAndRNNStacks(body, {21, 21, 21});
}

/// Stacks of layers with sequence lengths (ONNX sequence_lens, PyTorch's
/// packed sequences): GRUs and RNNs with rows of half, none and a third of
/// the steps, over 500, 170, 70, 21 and 1 steps (past half of them no row
/// runs: whole chunks without rows; from 170 on the layers' input
/// projections run on weights prepared once; at 500 the weight gradients
/// gather the running rows in more than one block); LSTMs (over 300 steps
/// too: more than one block) from initial
/// states (layer 0's h and c, layer 2's h) with rows of one chunk's steps (21: the row ends at a
/// chunk's end), more than there are (clamped) and 0 (the final states are
/// the initial ones; the last row: no step's products take it). Past its
/// length a row's outputs are zeros and its states stay; the loss reads y
/// and final states, so the state gradients must pass unchanged through the
/// steps past each row's length down to its last step (or, for the empty
/// rows, to the initial states). Rows after the last one running take no
/// products (the GRU's and RNN's second and third after a third of the
/// steps, the LSTM's third throughout); a row past its length before one
/// still running takes them, unread (the GRU's and RNN's second before).
TEST(RecurrentGradient, WavefrontStacksWithSequenceLengths) {
  // (the rows past a length must be written too: zeros)
  nncc::test::ScopedEnv poison("NNCC_POISON_WORKSPACE", "1");
  const std::string lstm = R"(func.func @main(%x: tensor<STEPSx3x5xELT>, %w0: tensor<1x28x5xELT>, %r0: tensor<1x28x7xELT>, %b0: tensor<1x56xELT>, %w1: tensor<1x28x7xELT>, %r1: tensor<1x28x7xELT>, %b1: tensor<1x56xELT>, %w2: tensor<1x28x7xELT>, %r2: tensor<1x28x7xELT>, %ih0: tensor<1x3x7xELT>, %ic0: tensor<1x3x7xELT>, %ih2: tensor<1x3x7xELT>) -> tensor<OUTSx1x3x7xELT> {
    %l = nn.constant dense<[CHUNK, MORE, 0]> : tensor<3xi32>
    %y0, %h0, %c0 = nn.lstm %x, %w0, %r0, %b0, %l, %ih0, %ic0 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 1, 1, 0]> : vector<8xi32>} : (tensor<STEPSx3x5xELT>, tensor<1x28x5xELT>, tensor<1x28x7xELT>, tensor<1x56xELT>, tensor<3xi32>, tensor<1x3x7xELT>, tensor<1x3x7xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>, tensor<1x3x7xELT>)
    %x1 = nn.reshape %y0 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y1, %h1, %c1 = nn.lstm %x1, %w1, %r1, %b1, %l {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 1, 1, 0, 0, 0]> : vector<8xi32>} : (tensor<STEPSx3x7xELT>, tensor<1x28x7xELT>, tensor<1x28x7xELT>, tensor<1x56xELT>, tensor<3xi32>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>, tensor<1x3x7xELT>)
    %x2 = nn.reshape %y1 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y2, %h2, %c2 = nn.lstm %x2, %w2, %r2, %l, %ih2 {activations = [], activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, operand_segment_sizes = dense<[1, 1, 1, 0, 1, 1, 0, 0]> : vector<8xi32>} : (tensor<STEPSx3x7xELT>, tensor<1x28x7xELT>, tensor<1x28x7xELT>, tensor<3xi32>, tensor<1x3x7xELT>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>, tensor<1x3x7xELT>)
    %f0 = nn.reshape %h0 {shape = [1, 1, 3, 7]} : tensor<1x3x7xELT> -> tensor<1x1x3x7xELT>
    %f2 = nn.reshape %h2 {shape = [1, 1, 3, 7]} : tensor<1x3x7xELT> -> tensor<1x1x3x7xELT>
    %g2 = nn.reshape %c2 {shape = [1, 1, 3, 7]} : tensor<1x3x7xELT> -> tensor<1x1x3x7xELT>
    %out = nn.concat %y2, %f0, %f2, %g2 {axis = 0 : i64} : (tensor<STEPSx1x3x7xELT>, tensor<1x1x3x7xELT>, tensor<1x1x3x7xELT>, tensor<1x1x3x7xELT>) -> tensor<OUTSx1x3x7xELT>
    return %out : tensor<OUTSx1x3x7xELT> })";
  checkWavefrontStack(lstm, 5, {28 * 5, 28 * 7, 56, 28 * 7, 28 * 7, 56, 28 * 7, 28 * 7}, {21, 21, 21},
                      {300, 70, 21, 1});
  const std::string body = R"(func.func @main(%x: tensor<STEPSx3x5xELT>, %w0: tensor<1xGx5xELT>, %r0: tensor<1xGx7xELT>, %b0: tensor<1xBxELT>, %w1: tensor<1xGx7xELT>, %r1: tensor<1xGx7xELT>, %b1: tensor<1xBxELT>, %w2: tensor<1xGx7xELT>, %r2: tensor<1xGx7xELT>) -> tensor<OUTSx1x3x7xELT> {
    %l = nn.constant dense<[HALF, 0, THIRD]> : tensor<3xi32>
    %y0, %h0 = nn.OP %x, %w0, %r0, %b0, %l {activations = ACTS, activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, CELL operand_segment_sizes = dense<[1, 1, 1, 1, 1, 0]> : vector<6xi32>} : (tensor<STEPSx3x5xELT>, tensor<1xGx5xELT>, tensor<1xGx7xELT>, tensor<1xBxELT>, tensor<3xi32>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>)
    %x1 = nn.reshape %y0 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y1, %h1 = nn.OP %x1, %w1, %r1, %b1, %l {activations = ACTS, activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, CELL operand_segment_sizes = dense<[1, 1, 1, 1, 1, 0]> : vector<6xi32>} : (tensor<STEPSx3x7xELT>, tensor<1xGx7xELT>, tensor<1xGx7xELT>, tensor<1xBxELT>, tensor<3xi32>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>)
    %x2 = nn.reshape %y1 {shape = [STEPS, 3, 7]} : tensor<STEPSx1x3x7xELT> -> tensor<STEPSx3x7xELT>
    %y2, %h2 = nn.OP %x2, %w2, %r2, %l {activations = ACTS, activation_alpha = [], activation_beta = [], hidden_size = 7 : i64, CELL operand_segment_sizes = dense<[1, 1, 1, 0, 1, 0]> : vector<6xi32>} : (tensor<STEPSx3x7xELT>, tensor<1xGx7xELT>, tensor<1xGx7xELT>, tensor<3xi32>) -> (tensor<STEPSx1x3x7xELT>, tensor<1x3x7xELT>)
    %f0 = nn.reshape %h0 {shape = [1, 1, 3, 7]} : tensor<1x3x7xELT> -> tensor<1x1x3x7xELT>
    %f2 = nn.reshape %h2 {shape = [1, 1, 3, 7]} : tensor<1x3x7xELT> -> tensor<1x1x3x7xELT>
    %out = nn.concat %y2, %f0, %f2, %f2 {axis = 0 : i64} : (tensor<STEPSx1x3x7xELT>, tensor<1x1x3x7xELT>, tensor<1x1x3x7xELT>, tensor<1x1x3x7xELT>) -> tensor<OUTSx1x3x7xELT>
    return %out : tensor<OUTSx1x3x7xELT> })";
  checkGRUAndRNNStacks(body, {}, {500, 170, 70, 21, 1});
}

/// A loss that is not a scalar is refused with a message.
TEST(Autodiff, RejectsNonScalarLoss) {
  MLIRContext ctx;
  auto module = nncc::test::parseModule(ctx, R"(func.func @main(%a: tensor<3xf64>) -> tensor<3xf64> {
    %0 = nn.exp %a : tensor<3xf64>
    return %0 : tensor<3xf64> })");
  auto func = *module->getOps<func::FuncOp>().begin();
  Operation *ret = func.getBody().front().getTerminator();
  OpBuilder b(ret);
  SmallVector<Value> grads;
  std::string error;
  EXPECT_FALSE(nncc::differentiate(b, ret->getOperand(0), {func.getArgument(0)}, grads, error));
  EXPECT_NE(error.find("scalar"), std::string::npos) << error;
}

} // namespace
