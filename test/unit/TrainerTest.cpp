// Training sessions (driver/Trainer.h) on ONNX models built in the test:
// a while loop whose iterations are not known at compile time.
#include "driver/Trainer.h"
#include "test/unit/OnnxBuild.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

using namespace nncc;
using namespace nncc::test;

namespace {

constexpr float kLimit = 2.0f;
constexpr int64_t kSmallTrips = 10;

/// x [4, 3] -> h <- tanh(h W) while sum(h^2) > kLimit, at most `trips`
/// times (W [3, 3] a weight); y = h.
onnx::ModelProto whileModel(int64_t trips, const std::vector<float> &w) {
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::FLOAT, {4, 3});
  addFloatInitializer(g, "W", {3, 3}, w);
  addScalarConstant(g, "lim", onnx::TensorProto::FLOAT, kLimit);
  addScalarConstant(g, "trips", onnx::TensorProto::INT64, 0, trips);
  auto *body = addLoop(g, {"trips", "", "x"}, {"y"});
  addInput(body, "i", onnx::TensorProto::INT64, {});
  addInput(body, "c", onnx::TensorProto::BOOL, {});
  addInput(body, "xin", onnx::TensorProto::FLOAT, {4, 3});
  addNode(body, "MatMul", {"xin", "W"}, {"p"});
  addNode(body, "Tanh", {"p"}, {"h"});
  addNode(body, "Mul", {"h", "h"}, {"h2"});
  setIntAttribute(addNode(body, "ReduceSum", {"h2"}, {"e"}), "keepdims", 0);
  addNode(body, "Greater", {"e", "lim"}, {"cout"});
  body->add_output()->set_name("cout");
  body->add_output()->set_name("h");
  auto *y = g->add_output();
  y->set_name("y");
  auto *tt = y->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : {4, 3})
    tt->mutable_shape()->add_dim()->set_dim_value(d);
  return m;
}

/// The iterations the loop runs for x and W (at most kSmallTrips).
int iterations(const Tensor &x, const std::vector<float> &w) {
  std::vector<float> h(x.data<float>(), x.data<float>() + 12);
  int i = 0;
  float e;
  do {
    std::vector<float> next(12, 0.f);
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 3; ++c) {
        for (int k = 0; k < 3; ++k)
          next[r * 3 + c] += h[r * 3 + k] * w[k * 3 + c];
        next[r * 3 + c] = std::tanh(next[r * 3 + c]);
      }
    h = next;
    e = 0;
    for (float v : h)
      e += v * v;
    ++i;
  } while (e > kLimit && i < kSmallTrips);
  return i;
}

} // namespace

/// A while loop whose trip count is INT64_MAX (as PyTorch exports a
/// scripted `while`): its backward saves its iterations in a capacity of
/// rows, here 2 (TrainStepOptions::loopRows). The first step's loop runs 4
/// iterations: the step recompiles with 16 rows and runs again. Three SGD
/// steps then give the losses and weights of the same model with trip
/// count 10, whose iterations are saved in 10 rows planned at compile time.
TEST(Trainer, WhileLoopOutgrowsItsSavedRows) {
  std::vector<float> w = {0.9f, 0.05f, -0.04f, 0.03f, 0.85f, 0.06f, -0.05f, 0.02f, 0.95f};
  Tensor x(DType::Float32, {4, 3});
  for (int k = 0; k < 12; ++k)
    x.data<float>()[k] = 0.95f - 0.03f * (float)k;
  int first = iterations(x, w);
  ASSERT_GT(first, 2) << "the loop must outgrow 2 rows";
  ASSERT_LT(first, kSmallTrips) << "the condition must stop it before the small trip count";
  TrainStepOptions opt;
  opt.loss = "sum_squares";
  opt.batch = 4;
  opt.solver.solver = "sgd";
  auto capped = whileModel(INT64_MAX, w), planned = whileModel(kSmallTrips, w);
  std::string error;
  TrainStepOptions cappedOpt = opt;
  cappedOpt.loopRows = 2;
  auto a = TrainingSession::create(capped, cappedOpt, error);
  ASSERT_TRUE(a) << error;
  auto b = TrainingSession::create(planned, opt, error);
  ASSERT_TRUE(b) << error;
  Tensor none;
  for (int step = 0; step < 3; ++step) {
    float la = 0, lb = 0;
    ASSERT_TRUE(a->step(x, none, 0.05, la, error)) << error;
    ASSERT_TRUE(b->step(x, none, 0.05, lb, error)) << error;
    EXPECT_NEAR(la, lb, 1e-6 * std::fabs(lb)) << "step " << step;
  }
  EXPECT_EQ(a->stepRecompilations(), 1);
  EXPECT_EQ(b->stepRecompilations(), 0);
  ASSERT_EQ(a->params().size(), 1u);
  for (int k = 0; k < 9; ++k) {
    EXPECT_NEAR(a->params()[0].data<float>()[k], b->params()[0].data<float>()[k], 1e-6) << "W[" << k << "]";
    EXPECT_NE(a->params()[0].data<float>()[k], w[k]) << "W[" << k << "] was not trained";
  }
  // Training without a capacity (loopRows = 0) refuses the loop, saying why.
  cappedOpt.loopRows = 0;
  EXPECT_FALSE(TrainingSession::create(capped, cappedOpt, error));
  EXPECT_NE(error.find("must be at most 65536"), std::string::npos) << error;
}
