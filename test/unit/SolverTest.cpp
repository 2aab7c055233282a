// Each solver's update, emitted as nn ops and compiled, against the update
// computed by hand for a few steps; and each learning-rate policy.
#include "driver/Trainer.h"
#include "passes/Autodiff.h"
#include "ir/NNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir;

namespace {

/// One parameter p[2] with a fixed gradient per step, updated by the
/// compiled solver for three steps; returns p after each step.
std::vector<std::array<float, 2>> runSolver(const nncc::SolverConfig &cfg, double lr,
                                            const std::vector<std::array<float, 2>> &gradients) {
  MLIRContext ctx;
  int count = nncc::solverStateCount(cfg.solver);
  std::string sig = "%p: tensor<2xf32>, %g: tensor<2xf32>, %lr: tensor<f32>";
  for (int k = 0; k < count; ++k)
    sig += ", %s" + std::to_string(k) + ": tensor<2xf32>";
  std::string text = "func.func @main(" + sig + ") -> tensor<2xf32> { return %p : tensor<2xf32> }";
  auto module = nncc::test::parseModule(ctx, text);
  auto func = *module->getOps<func::FuncOp>().begin();
  Operation *ret = func.getBody().front().getTerminator();
  OpBuilder b(ret);
  SmallVector<Value> state, newParams, newState;
  for (int k = 0; k < count; ++k)
    state.push_back(func.getArgument(3 + k));
  nncc::emitSolverUpdate(b, func.getLoc(), cfg, func.getArgument(2), {func.getArgument(0)},
                         {func.getArgument(1)}, state, newParams, newState);
  SmallVector<Value> results{newParams[0]};
  results.append(newState.begin(), newState.end());
  nncc::setFunctionResults(func, results);
  std::string error;
  auto exe = nncc::compileModule(*module, nncc::CompileOptions(), error);
  EXPECT_TRUE(exe) << error;
  std::vector<std::array<float, 2>> out;
  if (!exe)
    return out;
  nncc::Tensor p(nncc::DType::Float32, {2}), g(nncc::DType::Float32, {2}), rate(nncc::DType::Float32, {});
  p.data<float>()[0] = 1.0f;
  p.data<float>()[1] = -2.0f;
  std::vector<nncc::Tensor> st(count, nncc::Tensor(nncc::DType::Float32, {2}));
  for (auto &t : st)
    t.data<float>()[0] = t.data<float>()[1] = 0;
  for (size_t step = 0; step < gradients.size(); ++step) {
    g.data<float>()[0] = gradients[step][0];
    g.data<float>()[1] = gradients[step][1];
    *rate.data<float>() =
        (float)(cfg.solver == "adam" ? nncc::adamStepSize(lr, cfg.momentum, cfg.beta2, step + 1) : lr);
    std::vector<const nncc::Tensor *> in{&p, &g, &rate};
    for (auto &t : st)
      in.push_back(&t);
    std::vector<nncc::Tensor> res;
    EXPECT_TRUE(exe->run(in, res, error)) << error;
    p = res[0];
    for (int k = 0; k < count; ++k)
      st[k] = res[1 + k];
    out.push_back({p.data<float>()[0], p.data<float>()[1]});
  }
  return out;
}

const std::vector<std::array<float, 2>> kGrads = {{0.5f, -1.0f}, {0.25f, 2.0f}, {-1.0f, 0.5f}};

/// The same updates, by hand, in double precision.
std::vector<std::array<double, 2>> byHand(const nncc::SolverConfig &c, double lr) {
  double p[2] = {1.0, -2.0}, s0[2] = {0, 0}, s1[2] = {0, 0};
  std::vector<std::array<double, 2>> out;
  for (size_t t = 0; t < kGrads.size(); ++t) {
    double gs[2] = {kGrads[t][0], kGrads[t][1]};
    for (int i = 0; i < 2; ++i)
      gs[i] += c.l1 ? c.weightDecay * ((p[i] > 0) - (p[i] < 0)) : c.weightDecay * p[i];
    if (c.clipNorm > 0) {
      double n = std::sqrt(gs[0] * gs[0] + gs[1] * gs[1]);
      if (n > c.clipNorm)
        for (double &v : gs)
          v *= c.clipNorm / n;
    }
    for (int i = 0; i < 2; ++i) {
      double g = gs[i];
      if (c.solver == "sgd") {
        p[i] -= lr * g;
      } else if (c.solver == "momentum") {
        s0[i] = c.momentum * s0[i] + lr * g;
        p[i] -= s0[i];
      } else if (c.solver == "nesterov") {
        double prev = s0[i];
        s0[i] = c.momentum * s0[i] + lr * g;
        p[i] -= (1 + c.momentum) * s0[i] - c.momentum * prev;
      } else if (c.solver == "adagrad") {
        s0[i] += g * g;
        p[i] -= lr * g / (std::sqrt(s0[i]) + c.eps);
      } else if (c.solver == "rmsprop") {
        s0[i] = c.rmsDecay * s0[i] + (1 - c.rmsDecay) * g * g;
        p[i] -= lr * g / (std::sqrt(s0[i]) + c.eps);
      } else if (c.solver == "adam") {
        s0[i] = c.momentum * s0[i] + (1 - c.momentum) * g;
        s1[i] = c.beta2 * s1[i] + (1 - c.beta2) * g * g;
        double mhat = s0[i] / (1 - std::pow(c.momentum, t + 1)), vhat = s1[i] / (1 - std::pow(c.beta2, t + 1));
        p[i] -= lr * mhat / (std::sqrt(vhat) + c.eps);
      }
    }
    out.push_back({p[0], p[1]});
  }
  return out;
}

void expectSolver(nncc::SolverConfig c, double lr) {
  auto got = runSolver(c, lr, kGrads);
  auto want = byHand(c, lr);
  ASSERT_EQ(got.size(), want.size());
  for (size_t t = 0; t < want.size(); ++t)
    for (int i = 0; i < 2; ++i)
      EXPECT_NEAR(got[t][i], want[t][i], 1e-5 * (1 + std::fabs(want[t][i])))
          << c.solver << " step " << t + 1 << " element " << i;
}

TEST(Solver, Sgd) { expectSolver({"sgd"}, 0.1); }
TEST(Solver, Momentum) { expectSolver({"momentum", 0.9}, 0.1); }
TEST(Solver, Nesterov) { expectSolver({"nesterov", 0.8}, 0.1); }
TEST(Solver, Adagrad) { expectSolver({"adagrad"}, 0.5); }
TEST(Solver, RmsProp) {
  nncc::SolverConfig c{"rmsprop"};
  c.rmsDecay = 0.9;
  expectSolver(c, 0.01);
}
TEST(Solver, Adam) { expectSolver({"adam", 0.9, 0.999}, 0.01); }
TEST(Solver, L2WeightDecay) {
  nncc::SolverConfig c{"momentum", 0.9};
  c.weightDecay = 0.01;
  expectSolver(c, 0.1);
}
TEST(Solver, L1WeightDecay) {
  nncc::SolverConfig c{"sgd"};
  c.weightDecay = 0.05;
  c.l1 = true;
  expectSolver(c, 0.1);
}
TEST(Solver, ClipByGlobalNorm) {
  nncc::SolverConfig c{"sgd"};
  c.clipNorm = 0.7; // every step's gradient is longer
  expectSolver(c, 0.1);
}

TEST(LrPolicy, Values) {
  nncc::LrPolicy p;
  p.base = 0.1;
  p.gamma = 0.5;
  p.power = 2;
  p.stepSize = 10;
  p.maxIter = 100;
  p.stepValues = {5, 20};
  auto at = [&](const char *name, int64_t it) {
    p.policy = name;
    return p.at(it);
  };
  EXPECT_DOUBLE_EQ(at("fixed", 37), 0.1);
  EXPECT_DOUBLE_EQ(at("step", 9), 0.1);
  EXPECT_DOUBLE_EQ(at("step", 25), 0.1 * 0.25);
  EXPECT_DOUBLE_EQ(at("exp", 3), 0.1 * 0.125);
  EXPECT_DOUBLE_EQ(at("inv", 4), 0.1 * std::pow(1 + 0.5 * 4, -2.0));
  EXPECT_DOUBLE_EQ(at("multistep", 4), 0.1);
  EXPECT_DOUBLE_EQ(at("multistep", 5), 0.05);
  EXPECT_DOUBLE_EQ(at("multistep", 20), 0.025);
  EXPECT_DOUBLE_EQ(at("poly", 50), 0.1 * 0.25);
  EXPECT_DOUBLE_EQ(at("sigmoid", 10), 0.05);
  p.warmup = 4;
  EXPECT_DOUBLE_EQ(at("fixed", 0), 0.025);
  EXPECT_DOUBLE_EQ(at("fixed", 3), 0.1);
  EXPECT_DOUBLE_EQ(at("fixed", 4), 0.1);
}

} // namespace
