// Random numbers: RandomUniform, RandomNormal, Bernoulli and Multinomial
// have their distributions; every run draws anew, a compilation repeats the
// draws of another, any thread count gives the same numbers; training-mode
// Dropout keeps and scales, and its gradient uses the forward's mask.
#include "driver/Compiler.h"
#include "ir/NNOps.h"
#include "passes/Autodiff.h"
#include "runtime/Threads.h"
#include "test/unit/OnnxBuild.h"
#include "test/unit/TestUtil.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "onnx/onnx_pb.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace nncc;
using namespace nncc::test;

namespace {

void setFloatAttribute(onnx::NodeProto *node, const std::string &name, float v) {
  auto *a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

void setIntsAttribute(onnx::NodeProto *node, const std::string &name, std::vector<int64_t> v) {
  auto *a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v)
    a->add_ints(x);
}

struct Moments {
  double mean = 0, var = 0, min = INFINITY, max = -INFINITY;
};

Moments moments(const Tensor &t) {
  Moments m;
  int64_t n = t.numElements();
  for (int64_t k = 0; k < n; ++k) {
    double v = t.elementAsDouble(k);
    m.mean += v;
    m.min = std::min(m.min, v);
    m.max = std::max(m.max, v);
  }
  m.mean /= (double)n;
  for (int64_t k = 0; k < n; ++k)
    m.var += (t.elementAsDouble(k) - m.mean) * (t.elementAsDouble(k) - m.mean);
  m.var /= (double)(n - 1);
  return m;
}

constexpr int64_t kN = 200000;

/// RandomUniform [-1, 3), RandomNormal (2, 0.5), Bernoulli(p) and
/// Multinomial over 4 classes of probabilities 0.1 .. 0.4.
onnx::ModelProto distributions() {
  auto m = makeModel(15);
  auto *g = m.mutable_graph();
  addInput(g, "p", onnx::TensorProto::FLOAT, {kN});
  auto *u = addNode(g, "RandomUniform", {}, {"u"});
  setIntsAttribute(u, "shape", {kN});
  setFloatAttribute(u, "low", -1);
  setFloatAttribute(u, "high", 3);
  setFloatAttribute(u, "seed", 5);
  auto *z = addNode(g, "RandomNormal", {}, {"z"});
  setIntsAttribute(z, "shape", {kN});
  setFloatAttribute(z, "mean", 2);
  setFloatAttribute(z, "scale", 0.5f);
  addNode(g, "Bernoulli", {"p"}, {"b"});
  addFloatInitializer(g, "logits", {1, 4}, {std::log(0.1f), std::log(0.2f), std::log(0.3f), std::log(0.4f)});
  setIntAttribute(addNode(g, "Multinomial", {"logits"}, {"c"}), "sample_size", kN);
  for (const char *o : {"u", "z", "b", "c"})
    g->add_output()->set_name(o);
  return m;
}

} // namespace

TEST(Random, DrawsHaveTheirDistributions) {
  std::string error;
  auto exe = compileOnnx(distributions(), {}, {}, error);
  ASSERT_TRUE(exe) << error;
  Tensor p(DType::Float32, {kN});
  for (int64_t k = 0; k < kN; ++k)
    p.data<float>()[k] = 0.3f;
  std::vector<Tensor> out;
  ASSERT_TRUE(exe->run({&p}, out, error)) << error;
  // Standard errors at n = 200000: uniform mean 0.0026, normal 0.0011,
  // Bernoulli 0.001; the bounds are about 5 of them.
  Moments u = moments(out[0]);
  EXPECT_NEAR(u.mean, 1.0, 0.013);
  EXPECT_NEAR(u.var, 16.0 / 12, 0.02);
  EXPECT_GE(u.min, -1.0);
  EXPECT_LT(u.max, 3.0);
  EXPECT_LT(u.min, -0.999);
  EXPECT_GT(u.max, 2.999);
  Moments z = moments(out[1]);
  EXPECT_NEAR(z.mean, 2.0, 0.006);
  EXPECT_NEAR(std::sqrt(z.var), 0.5, 0.005);
  int64_t within = 0; // P(|z - mean| < scale) = 0.6827
  for (int64_t k = 0; k < kN; ++k)
    within += std::fabs(out[1].data<float>()[k] - 2) < 0.5f;
  EXPECT_NEAR((double)within / kN, 0.6827, 0.006);
  Moments b = moments(out[2]);
  EXPECT_NEAR(b.mean, 0.3, 0.005);
  EXPECT_EQ(b.min, 0.0);
  EXPECT_EQ(b.max, 1.0);
  ASSERT_EQ(out[3].shape(), (std::vector<int64_t>{1, kN}));
  ASSERT_EQ(out[3].dtype(), DType::Int32);
  int64_t counts[4] = {0, 0, 0, 0};
  for (int64_t k = 0; k < kN; ++k) {
    int32_t c = out[3].data<int32_t>()[k];
    ASSERT_TRUE(c >= 0 && c < 4) << c;
    ++counts[c];
  }
  for (int c = 0; c < 4; ++c)
    EXPECT_NEAR((double)counts[c] / kN, 0.1 * (c + 1), 0.005) << "class " << c;
}

/// Narrowed to f16, uniform numbers stay below `high` and Bernoulli(1) is
/// always 1 (both compare or clamp in f32).
TEST(Random, HalfPrecisionDrawsKeepTheirRange) {
  auto m = makeModel(15);
  auto *g = m.mutable_graph();
  addInput(g, "p", onnx::TensorProto::FLOAT16, {kN});
  auto *u = addNode(g, "RandomUniform", {}, {"u"});
  setIntsAttribute(u, "shape", {kN});
  setIntAttribute(u, "dtype", onnx::TensorProto::FLOAT16);
  addNode(g, "Bernoulli", {"p"}, {"b"});
  g->add_output()->set_name("u");
  g->add_output()->set_name("b");
  std::string error;
  auto exe = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(exe) << error;
  Tensor p(DType::Float16, {kN});
  for (int64_t k = 0; k < kN; ++k)
    p.data<uint16_t>()[k] = 0x3c00; // 1.0
  std::vector<Tensor> out;
  ASSERT_TRUE(exe->run({&p}, out, error)) << error;
  Moments mu = moments(out[0]), mb = moments(out[1]);
  EXPECT_GE(mu.min, 0.0);
  EXPECT_LT(mu.max, 1.0);
  EXPECT_NEAR(mu.mean, 0.5, 0.005);
  EXPECT_EQ(mb.min, 1.0);
}

/// Each run draws anew; two ops of one seed draw differently; compiling
/// again (a fresh draw counter) repeats the first compilation's draws, on
/// 1 thread as on 2.
TEST(Random, RunsDrawAnewCompilationsRepeat) {
  auto m = makeModel(15);
  auto *g = m.mutable_graph();
  for (const char *name : {"a", "b"}) {
    auto *u = addNode(g, "RandomUniform", {}, {name});
    setIntsAttribute(u, "shape", {50000});
    setFloatAttribute(u, "seed", 11);
    g->add_output()->set_name(name);
  }
  std::string error;
  int threads = numThreads();
  setNumThreads(2);
  auto first = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(first) << error;
  std::vector<Tensor> run1, run2, again;
  ASSERT_TRUE(first->run({}, run1, error)) << error;
  ASSERT_TRUE(first->run({}, run2, error)) << error;
  setNumThreads(1);
  auto second = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(second) << error;
  ASSERT_TRUE(second->run({}, again, error)) << error;
  setNumThreads(threads);
  auto same = [](const Tensor &x, const Tensor &y) {
    return std::memcmp(x.data<float>(), y.data<float>(), x.numElements() * sizeof(float)) == 0;
  };
  EXPECT_FALSE(same(run1[0], run2[0])) << "a second run draws anew";
  EXPECT_FALSE(same(run1[0], run1[1])) << "two ops of one seed differ";
  EXPECT_TRUE(same(run1[0], again[0])) << "a new compilation repeats the draws, whatever the threads";
  EXPECT_TRUE(same(run1[1], again[1]));
}

/// Dropout in training mode (ratio 0.25): y = x / 0.75 where the mask keeps,
/// 0 elsewhere; about 75% kept.
TEST(Random, TrainingDropoutKeepsAndScales) {
  auto m = makeModel(15);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::FLOAT, {kN});
  addScalarConstant(g, "ratio", onnx::TensorProto::FLOAT, 0.25);
  addBoolConstant(g, "training", true);
  addNode(g, "Dropout", {"x", "ratio", "training"}, {"y", "mask"});
  g->add_output()->set_name("y");
  g->add_output()->set_name("mask");
  std::string error;
  auto exe = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(exe) << error;
  Tensor x(DType::Float32, {kN});
  for (int64_t k = 0; k < kN; ++k)
    x.data<float>()[k] = 1.0f + (float)(k % 13);
  std::vector<Tensor> out;
  ASSERT_TRUE(exe->run({&x}, out, error)) << error;
  int64_t kept = 0;
  for (int64_t k = 0; k < kN; ++k) {
    bool keep = out[1].data<bool>()[k];
    kept += keep;
    ASSERT_EQ(out[0].data<float>()[k], keep ? x.data<float>()[k] * (1 / 0.75f) : 0.0f) << k;
  }
  EXPECT_NEAR((double)kept / kN, 0.75, 0.005);
}

/// The backward of dropout reads the mask the forward drew: d loss / d x =
/// mask * 2 * R exactly, for loss = sum(select(mask, 2 x, 0) * R).
TEST(Random, DropoutGradientUsesTheForwardMask) {
  mlir::MLIRContext ctx;
  auto module = parseModule(ctx, R"(
    func.func @main(%x: tensor<64x32xf64>, %r: tensor<64x32xf64>) -> tensor<64x32xi1> {
      %u = nn.random_uniform {shape = [64, 32], element_type = f64, low = 0.0, high = 1.0, seed = 3, stream = 0} : tensor<64x32xf64>
      %half = nn.constant dense<0.5> : tensor<f64>
      %keep = nn.greater_equal %u, %half : tensor<64x32xf64>, tensor<f64>
      return %keep : tensor<64x32xi1>
    })");
  ASSERT_TRUE(module);
  auto func = *module->getOps<mlir::func::FuncOp>().begin();
  mlir::Operation *ret = func.getBody().front().getTerminator();
  mlir::OpBuilder b(ret);
  mlir::Location loc = func.getLoc();
  mlir::Value x = func.getArgument(0), r = func.getArgument(1), keep = ret->getOperand(0);
  auto scalar = mlir::RankedTensorType::get({}, b.getF64Type());
  mlir::Value two = b.create<nn::ConstantOp>(loc, scalar, mlir::DenseElementsAttr::get(scalar, 2.0));
  mlir::Value zero = b.create<nn::ConstantOp>(loc, scalar, mlir::DenseElementsAttr::get(scalar, 0.0));
  mlir::Value y = b.create<nn::SelectOp>(loc, keep, b.create<nn::MulOp>(loc, x, two), zero);
  mlir::Value loss = b.create<nn::ReduceSumOp>(loc, b.create<nn::MulOp>(loc, y, r), b.getI64ArrayAttr({}),
                                               b.getBoolAttr(false));
  llvm::SmallVector<mlir::Value> grads;
  std::string error;
  ASSERT_TRUE(differentiate(b, loss, {x}, grads, error)) << error;
  setResultsWithRowChecks(func, {keep, grads[0]}, {});
  auto exe = compileModule(*module, CompileOptions(), error);
  ASSERT_TRUE(exe) << error;
  Tensor xs(DType::Float64, {64, 32}), rs(DType::Float64, {64, 32});
  for (int64_t k = 0; k < 64 * 32; ++k) {
    xs.data<double>()[k] = 0.01 * (double)k;
    rs.data<double>()[k] = 1.0 + (double)(k % 7);
  }
  for (int run = 0; run < 2; ++run) { // (a new mask each run)
    auto out = runExecutable(*exe, {xs, rs});
    int64_t kept = 0;
    for (int64_t k = 0; k < 64 * 32; ++k) {
      bool m = out[0].data<bool>()[k];
      kept += m;
      ASSERT_EQ(out[1].data<double>()[k], m ? 2 * rs.data<double>()[k] : 0.0) << "run " << run << ", " << k;
    }
    EXPECT_GT(kept, 800);
    EXPECT_LT(kept, 1250);
  }
}

/// A loop run as a loop recomputes its body in the backward: one that draws
/// random numbers is refused, naming the cause.
TEST(Random, LoopBackwardRefusesRandomBodies) {
  mlir::MLIRContext ctx;
  auto module = parseModule(ctx, R"(
    func.func @main(%x: tensor<3xf64>, %m: tensor<i64>) -> tensor<3xf64> {
      %c = nn.constant dense<true> : tensor<i1>
      %r = nn.loop(%m, %c, %x) : (tensor<i64>, tensor<i1>, tensor<3xf64>) -> (tensor<3xf64>) {
      ^bb0(%i: tensor<i64>, %ci: tensor<i1>, %xi: tensor<3xf64>):
        %u = nn.random_uniform {shape = [3], element_type = f64, low = 0.0, high = 1.0, seed = 3, stream = 0} : tensor<3xf64>
        %y = nn.mul %xi, %u : tensor<3xf64>, tensor<3xf64>
        nn.loop_yield %ci, %y : tensor<i1>, tensor<3xf64>
      }
      return %r : tensor<3xf64>
    })");
  ASSERT_TRUE(module);
  auto func = *module->getOps<mlir::func::FuncOp>().begin();
  mlir::Operation *ret = func.getBody().front().getTerminator();
  mlir::OpBuilder b(ret);
  mlir::Value loss = b.create<nn::ReduceSumOp>(func.getLoc(), ret->getOperand(0), b.getI64ArrayAttr({}),
                                               b.getBoolAttr(false));
  llvm::SmallVector<mlir::Value> grads, counts;
  std::string error;
  DifferentiateOptions options;
  options.cappedCounts = &counts;
  EXPECT_FALSE(differentiate(b, loss, {func.getArgument(0)}, grads, error, options));
  EXPECT_NE(error.find("draws random numbers"), std::string::npos) << error;
}
