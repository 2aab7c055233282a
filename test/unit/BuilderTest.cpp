//===- BuilderTest.cpp - the C++ GraphBuilder and its recurrent cells -----===//
//
// Graphs built in C++ compile and run; misuse is reported by name. The
// unrolled cells (frontend/builder/Cells.h) match straightforward double
// implementations of the LSTM, GRU, multiplicative-integration LSTM and
// additive attention; their graph has one hoisted input projection and one
// recurrent matmul per step; and their gradients (autodiff through the
// unrolled cells) match central finite differences of the double reference.
//
//===----------------------------------------------------------------------===//
#include "driver/Compiler.h"
#include "driver/nncc.h"
#include "frontend/builder/Cells.h"
#include "ir/NNOps.h"
#include "passes/Autodiff.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <random>

using nncc::GraphBuilder;
using nncc::Tensor;
namespace cells = nncc::cells;

namespace {

using Vec = std::vector<double>;

Tensor tensorOf(const std::vector<int64_t> &shape, const Vec &v) {
  Tensor t(nncc::DType::Float32, shape);
  for (int64_t k = 0; k < t.numElements(); ++k)
    t.data<float>()[k] = (float)v[k];
  return t;
}

Vec randomVec(size_t n, std::mt19937 &rng, double scale = 0.5) {
  std::uniform_real_distribution<double> d(-scale, scale);
  Vec v(n);
  for (double &x : v)
    x = (double)(float)d(rng);
  return v;
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

/// [rows, k] x [k, n] (+ bias [n]).
Vec matmul(const Vec &a, const Vec &b, int64_t rows, int64_t k, int64_t n, const Vec *bias = nullptr) {
  Vec c(rows * n, 0);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = bias ? (*bias)[j] : 0;
      for (int64_t p = 0; p < k; ++p)
        s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
  return c;
}

/// A layer's matmul-ready weights as doubles.
struct Layer {
  Vec w, r, b, b2, alpha, beta1, beta2;
};

enum class Kind { LSTM, GRU, MILSTM };

/// The reference recurrence: x [T, B, I] -> y [T, B, H].
Vec reference(Kind kind, const Vec &x, const Layer &l, int64_t T, int64_t B, int64_t I, int64_t H) {
  int64_t G = (kind == Kind::GRU ? 3 : 4) * H;
  Vec h(B * H, 0), c(B * H, 0), y;
  for (int64_t t = 0; t < T; ++t) {
    Vec xt(x.begin() + t * B * I, x.begin() + (t + 1) * B * I);
    Vec xw = matmul(xt, l.w, B, I, G, kind == Kind::MILSTM ? nullptr : &l.b);
    Vec hr = matmul(h, l.r, B, H, G, kind == Kind::GRU ? &l.b2 : nullptr);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j) {
        auto at = [&](const Vec &v, int64_t gate) { return v[b * G + gate * H + j]; };
        double &hv = h[b * H + j], &cv = c[b * H + j];
        if (kind == Kind::GRU) {
          double z = sigmoid(at(xw, 0) + at(hr, 0)), r = sigmoid(at(xw, 1) + at(hr, 1));
          double n = std::tanh(at(xw, 2) + r * at(hr, 2));
          hv = (1 - z) * n + z * hv;
          continue;
        }
        double pre[4];
        for (int gate = 0; gate < 4; ++gate) {
          int64_t k = gate * H + j;
          pre[gate] = kind == Kind::LSTM ? at(xw, gate) + at(hr, gate)
                                         : l.alpha[k] * at(xw, gate) * at(hr, gate) + l.beta1[k] * at(xw, gate) +
                                               l.beta2[k] * at(hr, gate) + l.b[k];
        }
        double i = sigmoid(pre[0]), o = sigmoid(pre[1]), f = sigmoid(pre[2]), g = std::tanh(pre[3]);
        cv = f * cv + i * g;
        hv = o * std::tanh(cv);
      }
    y.insert(y.end(), h.begin(), h.end());
  }
  return y;
}

/// Random weights for a layer of `kind`, their graph weights in `g`.
struct Made {
  Layer values;
  cells::LSTMWeights lstm;
  cells::GRUWeights gru;
  cells::MILSTMWeights mi;
};

Made makeLayer(GraphBuilder &g, Kind kind, int64_t I, int64_t H, std::mt19937 &rng, const std::string &prefix) {
  int64_t G = (kind == Kind::GRU ? 3 : 4) * H;
  Made m;
  m.values.w = randomVec(I * G, rng);
  m.values.r = randomVec(H * G, rng);
  m.values.b = randomVec(G, rng);
  m.values.b2 = randomVec(G, rng);
  m.values.alpha = randomVec(G, rng, 1.0);
  m.values.beta1 = randomVec(G, rng, 1.0);
  m.values.beta2 = randomVec(G, rng, 1.0);
  auto w = g.weight(prefix + ".w", tensorOf({I, G}, m.values.w));
  auto r = g.weight(prefix + ".r", tensorOf({H, G}, m.values.r));
  auto b = g.weight(prefix + ".b", tensorOf({G}, m.values.b));
  if (kind == Kind::LSTM)
    m.lstm = {w, r, b};
  else if (kind == Kind::GRU)
    m.gru = {w, r, b, g.weight(prefix + ".b2", tensorOf({G}, m.values.b2))};
  else
    m.mi = {w, r, g.weight(prefix + ".alpha", tensorOf({G}, m.values.alpha)),
            g.weight(prefix + ".beta1", tensorOf({G}, m.values.beta1)),
            g.weight(prefix + ".beta2", tensorOf({G}, m.values.beta2)), b};
  return m;
}

std::vector<Tensor> run(GraphBuilder &g, const std::vector<Tensor> &inputs) {
  std::string error;
  auto model = nncc::CompiledModel::fromBuilder(g, error);
  EXPECT_TRUE(model) << error;
  std::vector<Tensor> out;
  if (model)
    EXPECT_TRUE(model->run(inputs, out, error)) << error;
  return out;
}

void expectNear(const Tensor &got, const Vec &want, double tol, const char *what) {
  ASSERT_EQ(got.numElements(), (int64_t)want.size()) << what;
  for (size_t k = 0; k < want.size(); ++k)
    EXPECT_NEAR(got.data<float>()[k], want[k], tol) << what << " element " << k;
}

int count(const std::string &text, const std::string &what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

TEST(GraphBuilder, BuildsCompilesAndRuns) {
  GraphBuilder g;
  auto x = g.input("x", {2, 3});
  auto w = g.weight("w", tensorOf({3, 2}, {1, 2, 3, 4, 5, 6}));
  auto b = g.weight("b", tensorOf({2}, {0.5, -0.5}));
  g.output(g.relu(g.matmul(x, w, b)), "y");
  EXPECT_EQ(g.shape(g.matmul(x, w)), (std::vector<int64_t>{2, 2}));
  auto out = run(g, {tensorOf({2, 3}, {1, 0, -1, 0.5, 0.5, 0.5})});
  ASSERT_EQ(out.size(), 1u);
  // [1, 0, -1] W = [-4, -4] + b -> relu 0; [.5, .5, .5] W = [4.5, 6] + b.
  expectNear(out[0], {0, 0, 5, 5.5}, 1e-6, "relu(x W + b)");
}

TEST(GraphBuilder, RunsAgainIntoItsOutputs) {
  // A second run writes over the first run's output tensors; one whose
  // outputs are its inputs reads them as they were.
  GraphBuilder g;
  auto x = g.input("x", {2, 2});
  auto w = g.weight("w", tensorOf({2, 2}, {1, 2, 3, 4}));
  g.output(g.matmul(x, w), "y");
  std::string error;
  auto model = nncc::CompiledModel::fromBuilder(g, error);
  ASSERT_TRUE(model) << error;
  std::vector<Tensor> out;
  ASSERT_TRUE(model->run({tensorOf({2, 2}, {1, 0, 0, 1})}, out, error)) << error;
  expectNear(out[0], {1, 2, 3, 4}, 1e-6, "x W, first run");
  const void *buffer = out[0].data();
  ASSERT_TRUE(model->run({tensorOf({2, 2}, {1, 1, 0, 2})}, out, error)) << error;
  EXPECT_EQ(out[0].data(), buffer);
  expectNear(out[0], {4, 6, 6, 8}, 1e-6, "x W, second run");
  out[0] = tensorOf({3}, {7, 7, 7}); // another shape: replaced
  ASSERT_TRUE(model->run({tensorOf({2, 2}, {0, 1, 1, 0})}, out, error)) << error;
  expectNear(out[0], {3, 4, 1, 2}, 1e-6, "x W into a tensor of another shape");
  std::vector<Tensor> state{tensorOf({2, 2}, {1, 0, 0, 1})};
  for (int k = 0; k < 2; ++k)
    ASSERT_TRUE(model->run(state, state, error)) << error;
  expectNear(state[0], {7, 10, 15, 22}, 1e-6, "W W, the outputs fed back as the inputs");
  // More outputs than inputs: the vector grows while the run reads it.
  GraphBuilder two;
  auto x2 = two.input("x", {2, 2});
  two.output(two.matmul(x2, two.weight("w", tensorOf({2, 2}, {1, 2, 3, 4}))), "y");
  two.output(two.relu(x2), "z");
  auto both = nncc::CompiledModel::fromBuilder(two, error);
  ASSERT_TRUE(both) << error;
  std::vector<Tensor> v{tensorOf({2, 2}, {1, -1, 0, 2})};
  ASSERT_TRUE(both->run(v, v, error)) << error;
  ASSERT_EQ(v.size(), 2u);
  expectNear(v[0], {-2, -2, 6, 8}, 1e-6, "x W into the inputs' vector");
  expectNear(v[1], {1, 0, 0, 2}, 1e-6, "relu(x) into the inputs' vector");
}

TEST(GraphBuilder, ReportsMisuseByName) {
  GraphBuilder g;
  auto x = g.input("x", {2, 3});
  auto w = g.input("w", {4, 5});
  auto y = g.matmul(x, w); // 3 != 4
  EXPECT_FALSE(y.valid());
  EXPECT_NE(g.error().find("matmul"), std::string::npos) << g.error();
  g.output(g.relu(y), "y"); // later calls keep the first error
  std::string error;
  EXPECT_FALSE(nncc::CompiledModel::fromBuilder(g, error));
  EXPECT_NE(error.find("matmul"), std::string::npos) << error;

  GraphBuilder h;
  auto v = h.input("v", {4});
  EXPECT_FALSE(h.slice(v, 0, 2, 6).valid());
  EXPECT_NE(h.error().find("slice"), std::string::npos) << h.error();
  GraphBuilder none;
  none.input("v", {4});
  EXPECT_FALSE(nncc::CompiledModel::fromBuilder(none, error));
  EXPECT_NE(error.find("no output"), std::string::npos) << error;
}

/// A stacked recurrent model of `kind` against the reference, and its graph:
/// per layer one hoisted projection and one recurrent matmul per step.
void checkRecurrent(Kind kind, int layers) {
  const int64_t T = 7, B = 3, I = 5, H = 6;
  std::mt19937 rng(3);
  GraphBuilder g;
  auto x = g.input("x", {T, B, I});
  Vec xv = randomVec(T * B * I, rng, 1.0);
  std::vector<Made> made;
  auto y = x;
  for (int l = 0; l < layers; ++l) {
    made.push_back(makeLayer(g, kind, l == 0 ? I : H, H, rng, "l" + std::to_string(l)));
    y = kind == Kind::LSTM ? cells::lstm(g, y, made.back().lstm)
        : kind == Kind::GRU ? cells::gru(g, y, made.back().gru)
                            : cells::miLSTM(g, y, made.back().mi);
  }
  g.output(y, "y");
  ASSERT_TRUE(g.error().empty()) << g.error();
  EXPECT_EQ(count(g.ir(), "nn.matmul"), layers * (1 + T));
  {
    // After the graph passes the hoisting stands (one projection per layer,
    // one recurrent matmul per step) and each step's pointwise math is fused.
    std::string error;
    mlir::ModuleOp *module = g.module(error);
    ASSERT_TRUE(module) << error;
    auto copy = mlir::OwningOpRef<mlir::ModuleOp>(module->clone());
    nncc::loadDialects(*copy->getContext());
    mlir::PassManager pm(copy->getContext());
    nncc::buildGraphPipeline(pm, nncc::CompileOptions());
    ASSERT_TRUE(mlir::succeeded(pm.run(*copy)));
    std::map<std::string, int> ops;
    copy->walk([&](mlir::Operation *op) {
      if (op->getParentOp() && op->getParentOp()->getName().getStringRef() == "func.func")
        ++ops[op->getName().getStringRef().str()];
    });
    EXPECT_EQ(ops["nn.matmul"], layers * (1 + T));
    // One nn.fused op per step (gate slices, activations, h and c), no
    // pointwise op of a step outside it.
    EXPECT_EQ(ops["nn.fused"], layers * T);
    for (const char *name : {"nn.sigmoid", "nn.tanh", "nn.slice", "nn.add", "nn.mul"})
      EXPECT_EQ(ops[name], 0) << name << " outside nn.fused";
  }
  Vec want = xv;
  for (int l = 0; l < layers; ++l)
    want = reference(kind, want, made[l].values, T, B, l == 0 ? I : H, H);
  auto out = run(g, {tensorOf({T, B, I}, xv)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (std::vector<int64_t>{T, B, H}));
  expectNear(out[0], want, 2e-5, "y");
}

TEST(Cells, StackedLSTMMatchesReference) { checkRecurrent(Kind::LSTM, 2); }
TEST(Cells, StackedGRUMatchesReference) { checkRecurrent(Kind::GRU, 2); }
TEST(Cells, MultiplicativeIntegrationLSTMMatchesReference) { checkRecurrent(Kind::MILSTM, 1); }

TEST(Cells, AdditiveAttentionMatchesReference) {
  const int64_t S = 5, B = 2, K = 4, Q = 3, A = 6;
  std::mt19937 rng(7);
  Vec keys = randomVec(S * B * K, rng, 1.0), query = randomVec(B * Q, rng, 1.0);
  Vec wk = randomVec(K * A, rng), wq = randomVec(Q * A, rng), v = randomVec(A, rng, 1.0);
  GraphBuilder g;
  auto kIn = g.input("keys", {S, B, K}), qIn = g.input("query", {B, Q});
  auto proj = cells::projectKeys(g, kIn, g.weight("wk", tensorOf({K, A}, wk)));
  GraphBuilder::Value weights;
  auto context = cells::attend(g, proj, kIn, qIn, g.weight("wq", tensorOf({Q, A}, wq)),
                               g.weight("v", tensorOf({A, 1}, v)), &weights);
  g.output(context, "context");
  g.output(weights, "weights");
  ASSERT_TRUE(g.error().empty()) << g.error();
  Vec kp = matmul(keys, wk, S * B, K, A), qp = matmul(query, wq, B, Q, A);
  Vec a(S * B), ctx(B * K, 0);
  for (int64_t b = 0; b < B; ++b) {
    double m = -1e300, sum = 0;
    for (int64_t s = 0; s < S; ++s) {
      double e = 0;
      for (int64_t j = 0; j < A; ++j)
        e += v[j] * std::tanh(kp[(s * B + b) * A + j] + qp[b * A + j]);
      a[s * B + b] = e;
      m = std::max(m, e);
    }
    for (int64_t s = 0; s < S; ++s)
      sum += a[s * B + b] = std::exp(a[s * B + b] - m);
    for (int64_t s = 0; s < S; ++s) {
      a[s * B + b] /= sum;
      for (int64_t k = 0; k < K; ++k)
        ctx[b * K + k] += a[s * B + b] * keys[(s * B + b) * K + k];
    }
  }
  auto out = run(g, {tensorOf({S, B, K}, keys), tensorOf({B, Q}, query)});
  ASSERT_EQ(out.size(), 2u);
  expectNear(out[0], ctx, 1e-5, "context");
  expectNear(out[1], a, 1e-5, "attention weights");
}

/// Autodiff through the unrolled cells: d sum(y * y) / d weights against
/// central differences of the double reference.
TEST(Cells, GradientsMatchFiniteDifferences) {
  for (Kind kind : {Kind::LSTM, Kind::GRU, Kind::MILSTM}) {
    SCOPED_TRACE(kind == Kind::LSTM ? "lstm" : kind == Kind::GRU ? "gru" : "mi-lstm");
    const int64_t T = 5, B = 2, I = 3, H = 4;
    std::mt19937 rng(11);
    GraphBuilder g;
    auto x = g.input("x", {T, B, I});
    Vec xv = randomVec(T * B * I, rng, 1.0);
    Made m = makeLayer(g, kind, I, H, rng, "l");
    auto y = kind == Kind::LSTM ? cells::lstm(g, x, m.lstm)
             : kind == Kind::GRU ? cells::gru(g, x, m.gru)
                                 : cells::miLSTM(g, x, m.mi);
    auto loss = g.reduceSum(g.mul(y, y), {}, false);
    g.output(loss, "loss");
    std::string error;
    mlir::ModuleOp *module = g.module(error);
    ASSERT_TRUE(module) << error;
    auto func = *module->getOps<mlir::func::FuncOp>().begin();
    mlir::Operation *ret = func.getBody().front().getTerminator();
    // The weights become arguments (as for training); the gradients of W
    // and R are the results.
    auto names = nncc::paramsToArguments(func);
    mlir::OpBuilder b(ret);
    llvm::SmallVector<mlir::Value> grads;
    ASSERT_TRUE(nncc::differentiate(b, ret->getOperand(0), {func.getArgument(1), func.getArgument(2)}, grads, error))
        << error;
    nncc::setFunctionResults(func, grads);
    nncc::loadDialects(*module->getContext());
    auto exe = nncc::compileModule(*module, nncc::CompileOptions(), error);
    ASSERT_TRUE(exe) << error;
    std::map<std::string, std::pair<std::vector<int64_t>, const Vec *>> values{
        {"l.w", {{I, 0}, &m.values.w}},        {"l.r", {{H, 0}, &m.values.r}},
        {"l.b", {{0}, &m.values.b}},           {"l.b2", {{0}, &m.values.b2}},
        {"l.alpha", {{0}, &m.values.alpha}},   {"l.beta1", {{0}, &m.values.beta1}},
        {"l.beta2", {{0}, &m.values.beta2}}};
    std::vector<Tensor> inputs{tensorOf({T, B, I}, xv)};
    for (const std::string &n : names) {
      ASSERT_TRUE(values.count(n)) << n;
      auto shape = values[n].first;
      const Vec &v = *values[n].second;
      shape.back() = (int64_t)v.size() / (shape.size() == 2 ? shape[0] : 1);
      inputs.push_back(tensorOf(shape, v));
    }
    std::vector<const Tensor *> in;
    for (auto &t : inputs)
      in.push_back(&t);
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run(in, out, error)) << error;
    ASSERT_EQ(out.size(), 2u);
    auto lossOf = [&](const Layer &l) {
      Vec yv = reference(kind, xv, l, T, B, I, H);
      double s = 0;
      for (double v : yv)
        s += v * v;
      return s;
    };
    for (int which = 0; which < 2; ++which) {
      Vec &param = which == 0 ? m.values.w : m.values.r;
      double scale = 0;
      for (int64_t e = 0; e < out[which].numElements(); ++e)
        scale = std::max(scale, std::fabs((double)out[which].data<float>()[e]));
      ASSERT_GT(scale, 0);
      for (size_t e = 0; e < param.size(); e += 5) {
        double keep = param[e], eps = 1e-5;
        param[e] = keep + eps;
        double up = lossOf(m.values);
        param[e] = keep - eps;
        double down = lossOf(m.values);
        param[e] = keep;
        EXPECT_NEAR(out[which].data<float>()[e], (up - down) / (2 * eps), 2e-3 * scale)
            << (which == 0 ? "dW" : "dR") << " element " << e;
      }
    }
  }
}

} // namespace
