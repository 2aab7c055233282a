// Training sessions (driver/Trainer.h) on ONNX models built in the test:
// a while loop whose iterations are not known at compile time.
#include "driver/Trainer.h"
#include "test/unit/OnnxBuild.h"

#include <gtest/gtest.h>

#include <algorithm>
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

namespace {

/// The parameters W and U ([3, 3]) and t = tanh(x W + h U) in g.
void addTanhCell(onnx::GraphProto *g, const std::string &h, const std::string &t, const std::vector<float> &w,
                 const std::vector<float> &u) {
  addFloatInitializer(g, "W", {3, 3}, w);
  addFloatInitializer(g, "U", {3, 3}, u);
  addNode(g, "MatMul", {"x", "W"}, {"a"});
  addNode(g, "MatMul", {h, "U"}, {"b"});
  addNode(g, "Add", {"a", "b"}, {"p"});
  addNode(g, "Tanh", {"p"}, {t});
}

/// x [4, 3], h0 [4, 3] -> y = tanh(x W + h0 U), with y also the state it
/// hands back (output 1, `hn`), or (handsBack false) a sum in its place.
onnx::ModelProto carriedModel(bool handsBack, const std::vector<float> &w, const std::vector<float> &u) {
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::FLOAT, {4, 3});
  addInput(g, "h0", onnx::TensorProto::FLOAT, {4, 3});
  addTanhCell(g, "h0", "y", w, u);
  if (handsBack)
    addNode(g, "Identity", {"y"}, {"hn"});
  else
    setIntAttribute(addNode(g, "ReduceSum", {"y"}, {"hn"}), "keepdims", 0);
  for (const char *name : {"y", "hn"}) {
    auto *out = g->add_output();
    out->set_name(name);
    out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  }
  return m;
}

/// tanh(x W + h U) for [4, 3] x and h, [3, 3] W and U.
std::vector<float> carriedStep(const float *x, const float *h, const float *w, const float *u) {
  std::vector<float> y(12);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 3; ++c) {
      float p = 0;
      for (int k = 0; k < 3; ++k)
        p += x[r * 3 + k] * w[k * 3 + c] + h[r * 3 + k] * u[k * 3 + c];
      y[r * 3 + c] = std::tanh(p);
    }
  return y;
}

/// One training step of the carried-state model (weights W and U at wAt
/// and uAt) whose forward starts from h: its loss against the
/// hand-computed forward under the current weights, whose y it returns.
std::vector<float> checkedStep(TrainingSession &s, const Tensor &x, const float *h, size_t wAt, size_t uAt) {
  auto y = carriedStep(x.data<float>(), h, s.params()[wAt].data<float>(), s.params()[uAt].data<float>());
  float expected = 0, loss = 0;
  for (float v : y)
    expected += v * v;
  std::string error;
  Tensor none;
  EXPECT_TRUE(s.step(x, none, 0.1, loss, error)) << error;
  EXPECT_NEAR(loss, expected, 1e-5f * expected);
  return y;
}

} // namespace

/// Trains the carried-state model with `solver` (Adam: the carried states
/// follow the solver's state in the step's results): each step's loss and
/// final state against a hand-computed forward from the carried state under
/// that step's weights; a reset state; predict() from zero states.
static void checkCarried(const onnx::ModelProto &model, const char *solver) {
  std::string error;
  TrainStepOptions opt;
  opt.loss = "sum_squares";
  opt.batch = 7; // (ignored: the model fixes the features' first dimension)
  opt.solver.solver = solver;
  auto s = TrainingSession::create(model, opt, error);
  ASSERT_TRUE(s) << error;
  ASSERT_EQ(s->carried().size(), 1u);
  EXPECT_EQ(s->carriedSignatures()[0].name, "h0");
  Tensor x(DType::Float32, {4, 3});
  for (int k = 0; k < 12; ++k)
    x.data<float>()[k] = 0.9f - 0.15f * (float)k;
  std::vector<float> h(12, 0.f);
  const auto &names = s->paramNames();
  size_t wAt = std::find(names.begin(), names.end(), "W") - names.begin();
  size_t uAt = std::find(names.begin(), names.end(), "U") - names.begin();
  ASSERT_LT(std::max(wAt, uAt), names.size());
  for (int step = 0; step < 3; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    // This step's forward: from the carried h, under the current weights.
    auto y = checkedStep(*s, x, h.data(), wAt, uAt);
    for (int k = 0; k < 12; ++k)
      EXPECT_NEAR(s->carried()[0].data<float>()[k], y[k], 1e-6f) << "h[" << k << "]";
    h = y;
  }
  // The state can be reset (a new sequence): the next step starts from it.
  std::fill(s->carried()[0].data<float>(), s->carried()[0].data<float>() + 12, 0.f);
  checkedStep(*s, x, std::vector<float>(12, 0.f).data(), wAt, uAt);
  // predict: from zero states, which it leaves as they are.
  std::vector<float> kept(s->carried()[0].data<float>(), s->carried()[0].data<float>() + 12);
  auto y = carriedStep(x.data<float>(), std::vector<float>(12, 0.f).data(), s->params()[wAt].data<float>(),
                  s->params()[uAt].data<float>());
  Tensor predicted;
  ASSERT_TRUE(s->predict(x, predicted, error)) << error;
  for (int k = 0; k < 12; ++k) {
    EXPECT_NEAR(predicted.data<float>()[k], y[k], 1e-6f) << "y[" << k << "]";
    EXPECT_EQ(s->carried()[0].data<float>()[k], kept[k]) << "h[" << k << "]";
  }
}

/// Truncated BPTT: a model whose second input its second output hands back
/// carries it from step to step (zeros at first); each step's forward
/// starts from the previous step's final state, under that step's weights.
TEST(Trainer, CarriesStatesFromStepToStep) {
  std::vector<float> w{0.5f, -0.3f, 0.2f, 0.1f, 0.4f, -0.2f, -0.6f, 0.3f, 0.7f};
  std::vector<float> u{0.3f, 0.2f, -0.1f, -0.4f, 0.5f, 0.2f, 0.1f, -0.3f, 0.6f};
  for (const char *solver : {"sgd", "adam"}) {
    SCOPED_TRACE(solver);
    checkCarried(carriedModel(true, w, u), solver);
  }
}

/// A second input that no output hands back (a batch's sequence lengths, a
/// mask) is given for each step: the step and predict() read what the
/// caller set (zeros before), it stays as set, and the weights train.
TEST(Trainer, TakesGivenInputsEachStep) {
  std::vector<float> w{0.5f, -0.3f, 0.2f, 0.1f, 0.4f, -0.2f, -0.6f, 0.3f, 0.7f};
  std::vector<float> u{0.3f, 0.2f, -0.1f, -0.4f, 0.5f, 0.2f, 0.1f, -0.3f, 0.6f};
  std::string error;
  TrainStepOptions opt;
  opt.loss = "sum_squares";
  auto model = carriedModel(false, w, u);
  auto s = TrainingSession::create(model, opt, error);
  ASSERT_TRUE(s) << error;
  EXPECT_TRUE(s->carried().empty());
  ASSERT_EQ(s->given().size(), 1u);
  EXPECT_EQ(s->givenSignatures()[0].name, "h0");
  ASSERT_EQ(s->laterInputs().size(), 1u);
  EXPECT_EQ(s->laterInputs()[0].first, &s->given()[0]);
  const auto &names = s->paramNames();
  size_t wAt = std::find(names.begin(), names.end(), "W") - names.begin();
  size_t uAt = std::find(names.begin(), names.end(), "U") - names.begin();
  ASSERT_LT(std::max(wAt, uAt), names.size());
  Tensor x(DType::Float32, {4, 3});
  for (int k = 0; k < 12; ++k)
    x.data<float>()[k] = 0.9f - 0.15f * (float)k;
  for (int step = 0; step < 3; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    std::vector<float> h(12, 0.f); // zeros first, then values set for the step
    if (step > 0)
      for (int k = 0; k < 12; ++k)
        h[k] = s->given()[0].data<float>()[k] = 0.1f * (float)(k % 5) - 0.2f * (float)step;
    checkedStep(*s, x, h.data(), wAt, uAt);
    for (int k = 0; k < 12; ++k)
      EXPECT_EQ(s->given()[0].data<float>()[k], h[k]) << "h[" << k << "]";
  }
  EXPECT_NE(s->params()[wAt].data<float>()[0], w[0]) << "W was not trained";
  auto y = carriedStep(x.data<float>(), s->given()[0].data<float>(), s->params()[wAt].data<float>(),
                       s->params()[uAt].data<float>());
  Tensor predicted;
  ASSERT_TRUE(s->predict(x, predicted, error)) << error;
  for (int k = 0; k < 12; ++k)
    EXPECT_NEAR(predicted.data<float>()[k], y[k], 1e-6f) << "y[" << k << "]";
}

/// Inputs (x, g, h0) and outputs (y = tanh(x W + g U) + h0, a sum, hn = y):
/// g is given (no output hands it back), h0 carried (hn at its place). Each
/// step takes the given g as set and the carried h0 from the step before, in
/// the model's order.
TEST(Trainer, MixesGivenAndCarriedInputs) {
  std::vector<float> w{0.5f, -0.3f, 0.2f, 0.1f, 0.4f, -0.2f, -0.6f, 0.3f, 0.7f};
  std::vector<float> u{0.3f, 0.2f, -0.1f, -0.4f, 0.5f, 0.2f, 0.1f, -0.3f, 0.6f};
  auto m = makeModel(13);
  auto *gr = m.mutable_graph();
  for (const char *name : {"x", "g", "h0"})
    addInput(gr, name, onnx::TensorProto::FLOAT, {4, 3});
  addTanhCell(gr, "g", "t", w, u);
  addNode(gr, "Add", {"t", "h0"}, {"y"});
  setIntAttribute(addNode(gr, "ReduceSum", {"y"}, {"sum"}), "keepdims", 0);
  addNode(gr, "Identity", {"y"}, {"hn"});
  for (const char *name : {"y", "sum", "hn"})
    gr->add_output()->set_name(name);
  std::string error;
  TrainStepOptions opt;
  opt.loss = "sum_squares";
  auto s = TrainingSession::create(m, opt, error);
  ASSERT_TRUE(s) << error;
  ASSERT_EQ(s->given().size(), 1u);
  ASSERT_EQ(s->carried().size(), 1u);
  EXPECT_EQ(s->givenSignatures()[0].name, "g");
  EXPECT_EQ(s->carriedSignatures()[0].name, "h0");
  auto later = s->laterInputs();
  ASSERT_EQ(later.size(), 2u);
  EXPECT_EQ(later[0].first, &s->given()[0]);
  EXPECT_EQ(later[1].first, &s->carried()[0]);
  const auto &names = s->paramNames();
  size_t wAt = std::find(names.begin(), names.end(), "W") - names.begin();
  size_t uAt = std::find(names.begin(), names.end(), "U") - names.begin();
  ASSERT_LT(std::max(wAt, uAt), names.size());
  Tensor x(DType::Float32, {4, 3}), none;
  for (int k = 0; k < 12; ++k)
    x.data<float>()[k] = 0.9f - 0.15f * (float)k;
  std::vector<float> h(12, 0.f);
  for (int step = 0; step < 3; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    float *g = s->given()[0].data<float>();
    for (int k = 0; k < 12; ++k)
      g[k] = 0.2f * (float)(k % 3) - 0.1f * (float)step;
    auto y = carriedStep(x.data<float>(), g, s->params()[wAt].data<float>(), s->params()[uAt].data<float>());
    float expected = 0, loss = 0;
    for (int k = 0; k < 12; ++k) {
      y[k] += h[k];
      expected += y[k] * y[k];
    }
    ASSERT_TRUE(s->step(x, none, 0.05, loss, error)) << error;
    EXPECT_NEAR(loss, expected, 1e-5f * expected);
    for (int k = 0; k < 12; ++k)
      EXPECT_NEAR(s->carried()[0].data<float>()[k], y[k], 1e-5f) << "hn[" << k << "]";
    h = y;
  }
}

/// A model whose Dropout is in training mode (ratio 0.5): each training
/// step drops (the loss at lr 0 differs from step to step), predictions
/// drop nothing (as PyTorch's model.eval(): equal to x W).
TEST(Trainer, DropoutDropsInStepsNotInPredictions) {
  auto m = makeModel(15);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::FLOAT, {8, 16});
  std::vector<float> w(16 * 4);
  for (size_t k = 0; k < w.size(); ++k)
    w[k] = 0.05f * (float)(k % 9) - 0.2f;
  addFloatInitializer(g, "W", {16, 4}, w);
  addScalarConstant(g, "ratio", onnx::TensorProto::FLOAT, 0.5);
  addBoolConstant(g, "training", true);
  addNode(g, "Dropout", {"x", "ratio", "training"}, {"xd"});
  addNode(g, "MatMul", {"xd", "W"}, {"y"});
  g->add_output()->set_name("y");
  TrainStepOptions opt;
  opt.loss = "sum_squares";
  opt.batch = 8;
  std::string error;
  auto s = TrainingSession::create(m, opt, error);
  ASSERT_TRUE(s) << error;
  Tensor x(DType::Float32, {8, 16}), none;
  for (int k = 0; k < 8 * 16; ++k)
    x.data<float>()[k] = 0.1f * (float)(k % 11) - 0.4f;
  std::vector<float> losses;
  for (int step = 0; step < 3; ++step) {
    float loss = 0;
    ASSERT_TRUE(s->step(x, none, 0.0, loss, error)) << error;
    losses.push_back(loss);
  }
  EXPECT_NE(losses[0], losses[1]);
  EXPECT_NE(losses[1], losses[2]);
  Tensor y1, y2;
  ASSERT_TRUE(s->predict(x, y1, error)) << error;
  ASSERT_TRUE(s->predict(x, y2, error)) << error;
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 4; ++c) {
      float want = 0;
      for (int k = 0; k < 16; ++k)
        want += x.data<float>()[r * 16 + k] * w[k * 4 + c];
      EXPECT_NEAR(y1.data<float>()[r * 4 + c], want, 1e-5f) << r << ", " << c;
      EXPECT_EQ(y1.data<float>()[r * 4 + c], y2.data<float>()[r * 4 + c]);
    }
}

TEST(Trainer, RefusesOutputsOfRunTimeLength) {
  // y = (x W)[x W > 0]: a loss over y would read entries past its length.
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::FLOAT, {4, 3});
  addFloatInitializer(g, "W", {3, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1});
  addScalarConstant(g, "zero", onnx::TensorProto::FLOAT, 0);
  addNode(g, "MatMul", {"x", "W"}, {"h"});
  addNode(g, "Greater", {"h", "zero"}, {"mask"});
  addNode(g, "NonZero", {"mask"}, {"nz"});
  addNode(g, "Transpose", {"nz"}, {"at"});
  addNode(g, "GatherND", {"h", "at"}, {"y"});
  g->add_output()->set_name("y");
  TrainStepOptions opt;
  opt.loss = "sum_squares";
  opt.batch = 4;
  std::string error;
  EXPECT_FALSE(TrainingSession::create(m, opt, error));
  EXPECT_NE(error.find("the model's output 'y' has a length known only at run time"), std::string::npos) << error;
}
