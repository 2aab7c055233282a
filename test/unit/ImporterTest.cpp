// The ONNX importer on models built in the test: unsupported operators are
// all named at once, shape-determining inputs are specialized, and a small
// graph runs through the JIT.
#include "driver/Compiler.h"
#include "driver/nncc.h"
#include "test/unit/OnnxBuild.h"
#include "ir/NNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "onnx/onnx_pb.h"
#include <gtest/gtest.h>
#include <cstdio>
#include <fstream>
#include <functional>
#include <thread>

using namespace nncc;
using namespace nncc::test;

TEST(Importer, NamesEveryUnsupportedOperatorAtOnce) {
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "x", 1, {4});
  addNode(g, "FooBar", {"x"}, {"a"}, "foo1");
  addNode(g, "Relu", {"a"}, {"b"}, "relu");
  addNode(g, "Zorblax", {"b"}, {"c"}, "z1");
  addNode(g, "FooBar", {"c"}, {"d"}, "foo2");
  g->add_output()->set_name("d");
  mlir::MLIRContext ctx;
  std::string error;
  auto module = importOnnxModel(ctx, m, {}, error);
  EXPECT_FALSE(module);
  EXPECT_NE(error.find("2 operators"), std::string::npos) << error;
  EXPECT_NE(error.find("FooBar (nodes 'foo1', 'foo2')"), std::string::npos) << error;
  EXPECT_NE(error.find("Zorblax (node 'z1')"), std::string::npos) << error;
}

TEST(Importer, ShapeInputIsSpecializedWhenItsValueIsKnown) {
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "x", 1, {2, 6});
  addInput(g, "shape", 7, {2});
  addNode(g, "Reshape", {"x", "shape"}, {"y"}, "reshape");
  g->add_output()->set_name("y");

  mlir::MLIRContext ctx;
  std::string error;
  EXPECT_FALSE(importOnnxModel(ctx, m, {}, error));
  EXPECT_NE(error.find("must be known at compile time"), std::string::npos) << error;

  Tensor x(DType::Float32, {2, 6}), shape(DType::Int64, {2});
  for (int k = 0; k < 12; ++k)
    x.data<float>()[k] = (float)k;
  shape.data<int64_t>()[0] = 3;
  shape.data<int64_t>()[1] = -1;
  ImportOptions opts;
  opts.inputValues = {{"x", &x}, {"shape", &shape}};
  auto exe = compileOnnx(m, opts, {}, error);
  ASSERT_TRUE(exe) << error;
  std::vector<Tensor> out;
  ASSERT_TRUE(exe->run({&x, &shape}, out, error)) << error;
  EXPECT_EQ(out[0].shape(), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(out[0].data<float>()[11], 11.0f);
}

TEST(Importer, LegacyBroadcastAndRunOnTheJit) {
  // Opset 6 Add broadcasts B along axis 1 when broadcast=1.
  auto m = makeModel(6);
  auto *g = m.mutable_graph();
  addInput(g, "a", 1, {2, 3, 2});
  addInput(g, "b", 1, {3});
  setIntAttribute(setIntAttribute(addNode(g, "Add", {"a", "b"}, {"s"}, "add"), "broadcast", 1), "axis", 1);
  addNode(g, "Relu", {"s"}, {"y"}, "relu");
  g->add_output()->set_name("y");
  std::string error;
  auto exe = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(exe) << error;
  Tensor a(DType::Float32, {2, 3, 2}), b(DType::Float32, {3});
  for (int k = 0; k < 12; ++k)
    a.data<float>()[k] = -1.0f;
  for (int k = 0; k < 3; ++k)
    b.data<float>()[k] = (float)k;
  std::vector<Tensor> out;
  ASSERT_TRUE(exe->run({&a, &b}, out, error)) << error;
  // y[i, j, k] = relu(-1 + j)
  EXPECT_EQ(out[0].data<float>()[0], 0.0f);
  EXPECT_EQ(out[0].data<float>()[5], 1.0f);
  EXPECT_EQ(out[0].data<float>()[11], 1.0f);

  Tensor wrong(DType::Float32, {2, 3, 3});
  EXPECT_FALSE(exe->run({&wrong, &b}, out, error));
  EXPECT_NE(error.find("compiled for float32[2, 3, 2]"), std::string::npos) << error;
}

// --- ONNX Loop whose iterations are known only at run time: nn.loop --------

namespace {

/// x [3] with x[k] = a k + b.
Tensor ramp3(float a, float b) {
  Tensor x(DType::Float32, {3});
  for (int k = 0; k < 3; ++k)
    x.data<float>()[k] = a * (float)k + b;
  return x;
}

/// `m` compiled with `rows` rows for the scan outputs of loops given a
/// capacity (ImportOptions::loopRows).
std::unique_ptr<Executable> compileWithLoopRows(const onnx::ModelProto &m, int64_t rows, std::string &error) {
  ImportOptions io;
  io.loopRows = rows;
  return compileOnnx(m, io, {}, error);
}

Tensor scalarI64(int64_t v) {
  Tensor t(DType::Int64, {});
  t.data<int64_t>()[0] = v;
  return t;
}

/// A loop over x [3] (inputs M and cond as given) whose body negates x and
/// scans it; its condition output is `cout` (built by the caller). Its
/// results y and ys become graph outputs of `g` unless `inner`.
onnx::GraphProto *addNegateScanLoop(onnx::GraphProto *g, const std::string &trips, const std::string &cond = "",
                                    const std::string &x = "x", const std::string &y = "y",
                                    const std::string &ys = "ys", bool inner = false) {
  auto *body = addLoop(g, {trips, cond, x}, {y, ys});
  addInput(body, "i", onnx::TensorProto::INT64, {});
  addInput(body, "c", onnx::TensorProto::BOOL, {});
  addInput(body, "xin", onnx::TensorProto::FLOAT, {3});
  addNode(body, "Neg", {"xin"}, {"xout"});
  addNode(body, "Identity", {"xin"}, {"scan"});
  for (const char *o : {"cout", "xout", "scan"})
    body->add_output()->set_name(o);
  if (!inner) {
    g->add_output()->set_name(y);
    g->add_output()->set_name(ys);
  }
  return body;
}

} // namespace

/// The trip count is a graph input: one compiled graph runs the body M times
/// for every M, reading a value from outside the body (b) and the iteration
/// number. x <- 2 x + i + b.
TEST(Importer, LoopWithRuntimeTripCountRunsAsALoop) {
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "M", onnx::TensorProto::INT64, {});
  addInput(g, "x", onnx::TensorProto::FLOAT, {2, 3});
  addInput(g, "b", onnx::TensorProto::FLOAT, {3});
  auto *body = addLoop(g, {"M", "", "x"}, {"y"});
  addInput(body, "i", onnx::TensorProto::INT64, {});
  addInput(body, "c", onnx::TensorProto::BOOL, {});
  addInput(body, "xin", onnx::TensorProto::FLOAT, {2, 3});
  addScalarConstant(body, "two", onnx::TensorProto::FLOAT, 2.0);
  addNode(body, "Mul", {"xin", "two"}, {"x2"});
  setIntAttribute(addNode(body, "Cast", {"i"}, {"fi"}), "to", onnx::TensorProto::FLOAT);
  addNode(body, "Add", {"x2", "fi"}, {"x3"});
  addNode(body, "Add", {"x3", "b"}, {"xout"});
  addNode(body, "Identity", {"c"}, {"cout"});
  body->add_output()->set_name("cout");
  body->add_output()->set_name("xout");
  g->add_output()->set_name("y");
  std::string error;
  auto exe = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(exe) << error;
  Tensor x(DType::Float32, {2, 3}), b(DType::Float32, {3});
  for (int k = 0; k < 6; ++k)
    x.data<float>()[k] = 0.25f * (float)k - 0.5f;
  for (int k = 0; k < 3; ++k)
    b.data<float>()[k] = 0.1f * (float)k;
  for (int64_t trips : {0, 1, 5, 9}) {
    Tensor M = scalarI64(trips);
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run({&M, &x, &b}, out, error)) << error;
    ASSERT_EQ(out.size(), 1u);
    for (int k = 0; k < 6; ++k) {
      float want = x.data<float>()[k];
      for (int64_t i = 0; i < trips; ++i)
        want = 2 * want + (float)i + b.data<float>()[k % 3];
      EXPECT_FLOAT_EQ(out[0].data<float>()[k], want) << "M = " << trips << ", element " << k;
    }
  }
}

/// A while loop: no trip count, the body computes the condition (sum(x) <
/// limit) and counts its iterations; a second loop with a constant trip
/// count (3) swaps two carried values on each iteration, and stops early
/// when its initial condition (an input) is false.
TEST(Importer, WhileLoopStopsOnTheComputedCondition) {
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::FLOAT, {4});
  addInput(g, "limit", onnx::TensorProto::FLOAT, {});
  addInput(g, "go", onnx::TensorProto::BOOL, {});
  addInput(g, "p", onnx::TensorProto::FLOAT, {2});
  addInput(g, "q", onnx::TensorProto::FLOAT, {2});
  addScalarConstant(g, "yes", onnx::TensorProto::BOOL, 1);
  addScalarConstant(g, "zero", onnx::TensorProto::INT64, 0);
  addScalarConstant(g, "three", onnx::TensorProto::INT64, 3);
  auto *body = addLoop(g, {"", "yes", "x", "zero"}, {"y", "count"});
  addInput(body, "i", onnx::TensorProto::INT64, {});
  addInput(body, "c", onnx::TensorProto::BOOL, {});
  addInput(body, "xin", onnx::TensorProto::FLOAT, {4});
  addInput(body, "n", onnx::TensorProto::INT64, {});
  addScalarConstant(body, "two", onnx::TensorProto::FLOAT, 2.0);
  addScalarConstant(body, "one", onnx::TensorProto::INT64, 1);
  addNode(body, "Mul", {"xin", "two"}, {"xout"});
  addNode(body, "Add", {"n", "one"}, {"nout"});
  setIntAttribute(addNode(body, "ReduceSum", {"xout"}, {"s"}), "keepdims", 0);
  addNode(body, "Less", {"s", "limit"}, {"cout"});
  for (const char *o : {"cout", "xout", "nout"})
    body->add_output()->set_name(o);
  auto *swap = addLoop(g, {"three", "go", "p", "q"}, {"p_out", "q_out"});
  addInput(swap, "i", onnx::TensorProto::INT64, {});
  addInput(swap, "c", onnx::TensorProto::BOOL, {});
  addInput(swap, "pin", onnx::TensorProto::FLOAT, {2});
  addInput(swap, "qin", onnx::TensorProto::FLOAT, {2});
  addNode(swap, "Identity", {"c"}, {"cout"});
  for (const char *o : {"cout", "qin", "pin"})
    swap->add_output()->set_name(o);
  for (const char *o : {"y", "count", "p_out", "q_out"})
    g->add_output()->set_name(o);
  std::string error;
  auto exe = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(exe) << error;
  Tensor x(DType::Float32, {4}), limit(DType::Float32, {}), go(DType::Bool, {}), p(DType::Float32, {2}),
      q(DType::Float32, {2});
  for (int k = 0; k < 4; ++k)
    x.data<float>()[k] = 0.5f + (float)k; // sum 8
  p.data<float>()[0] = 1, p.data<float>()[1] = 2, q.data<float>()[0] = 3, q.data<float>()[1] = 4;
  struct Case { float limit; bool go; };
  for (Case c : {Case{10, true}, Case{100, false}, Case{1000, true}, Case{1, true}}) {
    limit.data<float>()[0] = c.limit;
    go.data<bool>()[0] = c.go;
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run({&x, &limit, &go, &p, &q}, out, error)) << error;
    ASSERT_EQ(out.size(), 4u);
    // The first iteration always runs (the initial condition is true); each
    // doubles x, and the next runs while the new sum is below the limit.
    int64_t count = 0;
    float scale = 1, total = 8;
    do {
      scale *= 2, ++count;
    } while (total * scale < c.limit);
    EXPECT_EQ(out[1].data<int64_t>()[0], count) << "limit " << c.limit;
    for (int k = 0; k < 4; ++k)
      EXPECT_FLOAT_EQ(out[0].data<float>()[k], x.data<float>()[k] * scale) << "limit " << c.limit;
    // Three swaps leave p and q swapped; none when the condition is false.
    EXPECT_EQ(out[2].data<float>()[0], c.go ? 3.0f : 1.0f);
    EXPECT_EQ(out[3].data<float>()[1], c.go ? 2.0f : 4.0f);
  }
}

/// Checks a run of the negating, scanning loop: `iterations` rows, each x
/// negated once more than the last, and x negated `iterations` times.
static void expectNegateScan(const Tensor &x, const std::vector<Tensor> &out, int64_t iterations) {
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(out[1].shape(), (std::vector<int64_t>{iterations, 3}));
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(out[0].data<float>()[k], (iterations % 2 ? -1.0f : 1.0f) * x.data<float>()[k]);
    for (int64_t it = 0; it < iterations; ++it) // each iteration scans x before negating it
      EXPECT_EQ(out[1].data<float>()[it * 3 + k], (it % 2 ? -1.0f : 1.0f) * x.data<float>()[k]) << "row " << it;
  }
}

/// A trip count from the data (a graph input M, the condition passed
/// through): the scan output gets a capacity of rows (ImportOptions::
/// loopRows, here 4; by default as many as fit 64 MiB), and a run that
/// needs more recompiles with 8 times as many and runs again. M = 4 fills
/// the rows exactly (no recompilation); M = 5 and 40 outgrow 4 and 32.
TEST(Importer, LoopWithRuntimeTripCountGrowsItsScanOutputs) {
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "M", onnx::TensorProto::INT64, {});
  addInput(g, "x", onnx::TensorProto::FLOAT, {3});
  addNode(addNegateScanLoop(g, "M"), "Identity", {"c"}, {"cout"});
  std::string error;
  {
    auto exe = compileOnnx(m, {}, {}, error);
    ASSERT_TRUE(exe) << error;
    EXPECT_EQ(exe->outputs()[1].shape, (std::vector<int64_t>{4096, 3})) << "12-byte rows: the most rows picked";
  }
  auto exe = compileWithLoopRows(m, 4, error);
  ASSERT_TRUE(exe) << error;
  ASSERT_EQ(exe->outputs().size(), 2u) << "the row count is not an output";
  Tensor x = ramp3(1, -0.5f);
  struct Case { int64_t trips; int recompilations; int64_t rows; };
  for (Case c : {Case{0, 0, 4}, Case{3, 0, 4}, Case{4, 0, 4}, Case{5, 1, 32}, Case{2, 1, 32}, Case{40, 2, 256}}) {
    SCOPED_TRACE("M = " + std::to_string(c.trips));
    Tensor M = scalarI64(c.trips);
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run({&M, &x}, out, error)) << error;
    expectNegateScan(x, out, c.trips);
    EXPECT_EQ(exe->recompilations, c.recompilations);
    EXPECT_EQ(exe->outputs()[1].shape[0], c.rows);
  }
  // Compiled without a way to recompile (compileModule), the run that
  // outgrows the rows fails and says what to do.
  mlir::MLIRContext ctx;
  loadDialects(ctx);
  ImportOptions io;
  io.loopRows = 4;
  auto module = importOnnxModel(ctx, m, io, error);
  ASSERT_TRUE(module) << error;
  auto fixed = compileModule(*module, {}, error);
  ASSERT_TRUE(fixed) << error;
  Tensor M = scalarI64(5);
  std::vector<Tensor> out;
  EXPECT_FALSE(fixed->run({&M, &x}, out, error));
  EXPECT_NE(error.find("a loop ran more than 4 iterations"), std::string::npos) << error;
  EXPECT_NE(error.find("ImportOptions::loopRows"), std::string::npos) << error;
}

/// A while loop without trip count, its condition i < n from the data:
/// n + 1 iterations. With 16 rows, n = 15
/// fills them (the loop ends as they run out: no recompilation), n = 16
/// needs one more (its condition is still true) and n = 200 outgrows 128.
/// Training imports (loopRows = 0) refuse such scan outputs, saying why.
TEST(Importer, WhileLoopGrowsItsScanOutputs) {
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::FLOAT, {3});
  addInput(g, "n", onnx::TensorProto::INT64, {});
  addScalarConstant(g, "yes", onnx::TensorProto::BOOL, 1);
  addNode(addNegateScanLoop(g, "", "yes"), "Less", {"i", "n"}, {"cout"});
  std::string error;
  auto exe = compileWithLoopRows(m, 16, error);
  ASSERT_TRUE(exe) << error;
  Tensor x = ramp3(2, 1);
  struct Case { int64_t n; int recompilations; };
  for (Case c : {Case{0, 0}, Case{15, 0}, Case{16, 1}, Case{200, 2}, Case{7, 2}}) {
    SCOPED_TRACE("n = " + std::to_string(c.n));
    Tensor n = scalarI64(c.n);
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run({&x, &n}, out, error)) << error;
    expectNegateScan(x, out, c.n + 1);
    EXPECT_EQ(exe->recompilations, c.recompilations);
  }
  EXPECT_FALSE(compileWithLoopRows(m, 0, error));
  EXPECT_NE(error.find("its body computes the condition from data"), std::string::npos) << error;
  EXPECT_NE(error.find("when a loss reads them (training"), std::string::npos) << error;
}

/// Two loops with trip counts from the data (M1, M2), their rows grown
/// each for itself: one that outgrows its 4 rows gets 32 and then 256,
/// while the other keeps its 4. A third loop's scan output is not read:
/// it does not stop that loop, whose carried output is right for any M.
TEST(Importer, EachLoopGrowsItsOwnScanOutputs) {
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "M1", onnx::TensorProto::INT64, {});
  addInput(g, "M2", onnx::TensorProto::INT64, {});
  addInput(g, "x", onnx::TensorProto::FLOAT, {3});
  for (const char *k : {"1", "2", "3"}) {
    std::string s = k;
    auto *body = addLoop(g, {s == "3" ? "M2" : "M" + s, "", "x"}, {"y" + s, "ys" + s});
    addInput(body, "i", onnx::TensorProto::INT64, {});
    addInput(body, "c", onnx::TensorProto::BOOL, {});
    addInput(body, "xin", onnx::TensorProto::FLOAT, {3});
    addNode(body, "Neg", {"xin"}, {"xout"});
    addNode(body, "Identity", {"xin"}, {"scan"});
    addNode(body, "Identity", {"c"}, {"cout"});
    for (const char *o : {"cout", "xout", "scan"})
      body->add_output()->set_name(o);
  }
  for (const char *o : {"y1", "ys1", "y2", "ys2", "y3"})
    g->add_output()->set_name(o);
  std::string error;
  auto exe = compileWithLoopRows(m, 4, error);
  ASSERT_TRUE(exe) << error;
  Tensor x = ramp3(1, 0.5f);
  struct Case { int64_t m1, m2; int recompilations; int64_t rows1, rows2; };
  for (Case c : {Case{3, 2, 0, 4, 4}, Case{3, 9, 1, 4, 32}, Case{4, 40, 2, 4, 256}, Case{2, 7, 2, 4, 256}}) {
    SCOPED_TRACE("M1 = " + std::to_string(c.m1) + ", M2 = " + std::to_string(c.m2));
    Tensor m1 = scalarI64(c.m1), m2 = scalarI64(c.m2);
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run({&m1, &m2, &x}, out, error)) << error;
    ASSERT_EQ(out.size(), 5u);
    for (int k = 0; k < 3; ++k) {
      float v = x.data<float>()[k];
      EXPECT_EQ(out[0].data<float>()[k], c.m1 % 2 ? -v : v);
      EXPECT_EQ(out[2].data<float>()[k], c.m2 % 2 ? -v : v);
      EXPECT_EQ(out[4].data<float>()[k], c.m2 % 2 ? -v : v) << "the loop with an unread scan output stopped early";
    }
    EXPECT_EQ(out[1].shape()[0], c.m1);
    EXPECT_EQ(out[3].shape()[0], c.m2);
    EXPECT_EQ(exe->recompilations, c.recompilations);
    EXPECT_EQ(exe->outputs()[1].shape[0], c.rows1);
    EXPECT_EQ(exe->outputs()[3].shape[0], c.rows2);
  }
}

/// Loops that depend on each other: loop 1 (a while loop, n <- n + 1 while
/// n < K) counts its iterations, and loop 2 runs that many. With 4 rows and
/// K = 5, loop 1 runs out first (cut at n = 4, so loop 2 fits); recompiled
/// with more, n = 5 and loop 2 runs out for the first time, and is grown
/// in turn.
TEST(Importer, DependentLoopsGrowInTurn) {
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::FLOAT, {3});
  addInput(g, "K", onnx::TensorProto::INT64, {});
  addScalarConstant(g, "yes", onnx::TensorProto::BOOL, 1);
  addScalarConstant(g, "zero", onnx::TensorProto::INT64, 0);
  auto *counting = addLoop(g, {"", "yes", "x", "zero"}, {"y1", "n1", "ys1"});
  addInput(counting, "i", onnx::TensorProto::INT64, {});
  addInput(counting, "c", onnx::TensorProto::BOOL, {});
  addInput(counting, "xin", onnx::TensorProto::FLOAT, {3});
  addInput(counting, "nin", onnx::TensorProto::INT64, {});
  addScalarConstant(counting, "one", onnx::TensorProto::INT64, 1);
  addNode(counting, "Neg", {"xin"}, {"xout"});
  addNode(counting, "Add", {"nin", "one"}, {"nout"});
  addNode(counting, "Less", {"nout", "K"}, {"cout"});
  for (const char *o : {"cout", "xout", "nout", "xin"})
    counting->add_output()->set_name(o);
  g->add_output()->set_name("ys1");
  addNode(addNegateScanLoop(g, "n1"), "Identity", {"c"}, {"cout"});
  std::string error;
  auto exe = compileWithLoopRows(m, 4, error);
  ASSERT_TRUE(exe) << error;
  Tensor x = ramp3(1, 1), K = scalarI64(5);
  std::vector<Tensor> out;
  ASSERT_TRUE(exe->run({&x, &K}, out, error)) << error;
  EXPECT_EQ(exe->recompilations, 2);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].shape()[0], 5) << "loop 1's rows";
  expectNegateScan(x, {out[1], out[2]}, 5);
}

/// A loop's body may not output such a scan output (its count would be
/// lost): refused, naming the body and the value.
TEST(Importer, LoopBodyOutputsNoRunTimeScanOutput) {
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "M", onnx::TensorProto::INT64, {});
  addInput(g, "x", onnx::TensorProto::FLOAT, {3});
  addScalarConstant(g, "five", onnx::TensorProto::INT64, 5000);
  auto *outer = addLoop(g, {"five", "", "x"}, {"y", "yss"});
  outer->set_name("outer_body");
  addInput(outer, "j", onnx::TensorProto::INT64, {});
  addInput(outer, "cj", onnx::TensorProto::BOOL, {});
  addInput(outer, "h", onnx::TensorProto::FLOAT, {3});
  addNode(addNegateScanLoop(outer, "M", "", "h", "hn", "hs", /*inner=*/true), "Identity", {"c"}, {"cout"});
  addNode(outer, "Identity", {"cj"}, {"cjout"});
  for (const char *o : {"cjout", "hn", "hs"})
    outer->add_output()->set_name(o);
  g->add_output()->set_name("y");
  std::string error;
  EXPECT_FALSE(compileOnnx(m, {}, {}, error));
  EXPECT_NE(error.find("the body of 'outer_body' outputs 'hs'"), std::string::npos) << error;
}

/// The negating, scanning loop with trip count 10 and condition i < n (n an
/// input: data, so the loop runs as a loop).
static onnx::ModelProto untilN() {
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::FLOAT, {3});
  addInput(g, "n", onnx::TensorProto::INT64, {});
  addScalarConstant(g, "ten", onnx::TensorProto::INT64, 10);
  addNode(addNegateScanLoop(g, "ten"), "Less", {"i", "n"}, {"cout"});
  return m;
}

/// A condition from the data makes the loop run as a loop; with a constant
/// trip count (10) its scan output has 10 rows, of which the runtime keeps
/// those the iterations wrote: min(n + 1, 10).
TEST(Importer, LoopRunAsALoopTrimsItsScanOutputs) {
  auto m = untilN();
  std::string error;
  auto exe = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(exe) << error;
  ASSERT_EQ(exe->outputs().size(), 2u) << "the row count is not an output";
  EXPECT_EQ(exe->outputs()[1].shape, (std::vector<int64_t>{10, 3})) << "at most 10 rows";
  Tensor x(DType::Float32, {3});
  for (int k = 0; k < 3; ++k)
    x.data<float>()[k] = (float)k + 1;
  for (int64_t n : {0, 3, 9, 20}) {
    Tensor nt = scalarI64(n);
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run({&x, &nt}, out, error)) << error;
    SCOPED_TRACE("n = " + std::to_string(n));
    expectNegateScan(x, out, std::min<int64_t>(n + 1, 10));
  }
}

/// Too many iterations to unroll (5000 > 4096), a constant trip count: the
/// loop runs as a loop and its scan output holds every iteration's row.
TEST(Importer, LongLoopWithScanOutputsRunsAsALoop) {
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::FLOAT, {3});
  addScalarConstant(g, "many", onnx::TensorProto::INT64, 5000);
  addNode(addNegateScanLoop(g, "many"), "Identity", {"c"}, {"cout"});
  std::string error;
  auto exe = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(exe) << error;
  Tensor x(DType::Float32, {3});
  for (int k = 0; k < 3; ++k)
    x.data<float>()[k] = (float)k - 1.5f;
  std::vector<Tensor> out;
  ASSERT_TRUE(exe->run({&x}, out, error)) << error;
  ASSERT_EQ(out[1].shape(), (std::vector<int64_t>{5000, 3}));
  for (int64_t it : {0, 1, 2, 4097, 4999})
    for (int k = 0; k < 3; ++k)
      EXPECT_EQ(out[1].data<float>()[it * 3 + k], (it % 2 ? -1.0f : 1.0f) * x.data<float>()[k]) << "row " << it;
  for (int k = 0; k < 3; ++k)
    EXPECT_EQ(out[0].data<float>()[k], x.data<float>()[k]); // negated 5000 times
}

/// Such a scan output is only known to be complete at the end of the run:
/// a node may read it when it carries the count (Neg), not its shape.
TEST(Importer, LoopRunAsALoopScanOutputsCarryTheirRowCount) {
  // An elementwise op carries the rows that ran (RunTimeExtent.cpp).
  auto m = untilN();
  auto *g = m.mutable_graph();
  addNode(g, "Neg", {"ys"}, {"neg_ys"});
  g->mutable_output()->RemoveLast();
  g->add_output()->set_name("neg_ys");
  std::string error;
  auto exe = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(exe) << error;
  Tensor x(DType::Float32, {3});
  for (int k = 0; k < 3; ++k)
    x.data<float>()[k] = (float)k + 1;
  for (int64_t n : {0, 3, 20}) {
    Tensor nt = scalarI64(n);
    std::vector<Tensor> out, negated(2);
    ASSERT_TRUE(exe->run({&x, &nt}, out, error)) << error;
    negated[0] = std::move(out[0]);
    negated[1] = Tensor(DType::Float32, out[1].shape());
    for (int64_t k = 0; k < out[1].numElements(); ++k)
      negated[1].data<float>()[k] = -out[1].data<float>()[k];
    SCOPED_TRACE("n = " + std::to_string(n));
    expectNegateScan(x, negated, std::min<int64_t>(n + 1, 10));
  }
  // Its shape holds the rows that ran, not the bound.
  m = untilN();
  addNode(m.mutable_graph(), "Shape", {"ys"}, {"rows"});
  m.mutable_graph()->add_output()->set_name("rows");
  exe = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(exe) << error;
  for (int64_t n : {0, 3, 20}) {
    Tensor nt = scalarI64(n);
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run({&x, &nt}, out, error)) << error;
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(std::vector<int64_t>(out[2].data<int64_t>(), out[2].data<int64_t>() + 2),
              (std::vector<int64_t>{std::min<int64_t>(n + 1, 10), 3}))
        << "n = " << n;
  }
  // Not when the loop may outrun its rows: the shape would hide that from
  // the run.
  m = makeModel(13);
  addInput(m.mutable_graph(), "M", onnx::TensorProto::INT64, {});
  addInput(m.mutable_graph(), "x", onnx::TensorProto::FLOAT, {3});
  addNode(addNegateScanLoop(m.mutable_graph(), "M"), "Identity", {"c"}, {"cout"});
  addNode(m.mutable_graph(), "Shape", {"ys"}, {"rows"});
  m.mutable_graph()->mutable_output()->RemoveLast();
  m.mutable_graph()->add_output()->set_name("rows");
  EXPECT_FALSE(compileOnnx(m, {}, {}, error));
  EXPECT_NE(error.find("Shape node"), std::string::npos) << error;
  EXPECT_NE(error.find("a loop that may run out of its rows"), std::string::npos) << error;
}

/// A condition computed from the iteration number and constants folds at
/// each unrolled iteration: the loop (constant trip count 10, condition
/// i < 4, a scan output) is unrolled, 5 iterations, scan output [5, 3]. So
/// is it with a trip count too large to unroll (5000): the condition stops
/// it first. Its scan output has a static length, so other nodes may read
/// it.
TEST(Importer, LoopWithAConditionFromTheIterationNumberUnrolls) {
  for (int64_t trips : {10, 5000}) {
    SCOPED_TRACE("M = " + std::to_string(trips));
    auto m = makeModel(13);
    auto *g = m.mutable_graph();
    addInput(g, "x", onnx::TensorProto::FLOAT, {3});
    addScalarConstant(g, "trips", onnx::TensorProto::INT64, (double)trips);
    auto *body = addNegateScanLoop(g, "trips");
    addScalarConstant(body, "four", onnx::TensorProto::INT64, 4);
    addNode(body, "Less", {"i", "four"}, {"cout"});
    addNode(g, "Neg", {"ys"}, {"neg_ys"});
    g->add_output()->set_name("neg_ys");
    std::string error;
    auto exe = compileOnnx(m, {}, {}, error);
    ASSERT_TRUE(exe) << error;
    ASSERT_EQ(exe->outputs()[1].shape, (std::vector<int64_t>{5, 3}));
    Tensor x(DType::Float32, {3});
    for (int k = 0; k < 3; ++k)
      x.data<float>()[k] = (float)k + 1;
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run({&x}, out, error)) << error;
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(out[0].data<float>()[k], -x.data<float>()[k]); // negated 5 times
      for (int it = 0; it < 5; ++it) {
        EXPECT_EQ(out[1].data<float>()[it * 3 + k], (it % 2 ? -1.0f : 1.0f) * x.data<float>()[k]);
        EXPECT_EQ(out[2].data<float>()[it * 3 + k], -out[1].data<float>()[it * 3 + k]);
      }
    }
  }
}

/// A Scan of more steps than nncc unrolls (T = 100 > 64) runs as a loop:
/// state s += x_t (x [2, T] read backwards along axis 1), scan outputs 2 s
/// (forward, axis 0; read by a Neg: every row is written, so it is an
/// ordinary value, with no hidden row count) and x_t (reversed, along axis
/// 1), against the same arithmetic here; and
/// the same Scan of 20 steps, unrolled, agrees with it too. Training
/// imports (ImportOptions::unrollScans) unroll it whatever its length.
TEST(Importer, LongScanRunsAsALoop) {
  for (auto [T, unroll] : {std::pair<int64_t, bool>{20, false}, {100, false}, {100, true}}) {
    SCOPED_TRACE("T = " + std::to_string(T) + (unroll ? ", unrolled for training" : ""));
    auto m = makeModel(13);
    auto *g = m.mutable_graph();
    addInput(g, "s0", onnx::TensorProto::FLOAT, {2});
    addInput(g, "x", onnx::TensorProto::FLOAT, {2, T});
    auto *scan = addNode(g, "Scan", {"s0", "x"}, {"sT", "twice", "xs"}, "scan");
    auto attr = [&](const char *name, std::vector<int64_t> v) {
      auto *a = scan->add_attribute();
      a->set_name(name);
      if (v.size() == 1 && std::string(name) == "num_scan_inputs") {
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(v[0]);
        return;
      }
      a->set_type(onnx::AttributeProto::INTS);
      for (int64_t x : v)
        a->add_ints(x);
    };
    attr("num_scan_inputs", {1});
    attr("scan_input_directions", {1});
    attr("scan_input_axes", {1});
    attr("scan_output_directions", {0, 1});
    attr("scan_output_axes", {0, 1});
    auto *b = scan->add_attribute();
    b->set_name("body");
    b->set_type(onnx::AttributeProto::GRAPH);
    auto *body = b->mutable_g();
    addInput(body, "s", onnx::TensorProto::FLOAT, {2});
    addInput(body, "xt", onnx::TensorProto::FLOAT, {2});
    addScalarConstant(body, "two", onnx::TensorProto::FLOAT, 2.0);
    addNode(body, "Add", {"s", "xt"}, {"s2"});
    addNode(body, "Mul", {"s2", "two"}, {"y2"});
    addNode(body, "Identity", {"xt"}, {"xo"});
    for (const char *o : {"s2", "y2", "xo"})
      body->add_output()->set_name(o);
    addNode(g, "Neg", {"twice"}, {"minus_twice"});
    for (const char *o : {"sT", "twice", "xs", "minus_twice"})
      g->add_output()->set_name(o);
    std::string error;
    ImportOptions io;
    io.unrollScans = unroll;
    {
      mlir::MLIRContext ctx;
      loadDialects(ctx);
      auto module = importOnnxModel(ctx, m, io, error);
      ASSERT_TRUE(module) << error;
      int loops = 0;
      module->walk([&](nn::LoopOp) { ++loops; });
      EXPECT_EQ(loops, T > 64 && !unroll ? 1 : 0);
      auto fn = *module->getOps<mlir::func::FuncOp>().begin();
      ASSERT_EQ(fn.getNumResults(), 4u) << "no hidden row counts";
      for (unsigned r = 0; r < 4; ++r)
        EXPECT_FALSE(fn.getResultAttr(r, "nn.length_of"));
    }
    auto exe = compileOnnx(m, io, {}, error);
    ASSERT_TRUE(exe) << error;
    Tensor s0(DType::Float32, {2}), x(DType::Float32, {2, T});
    s0.data<float>()[0] = 0.5f, s0.data<float>()[1] = -1;
    for (int64_t e = 0; e < 2 * T; ++e)
      x.data<float>()[e] = 0.25f * (float)(e % 7) - 0.5f;
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run({&s0, &x}, out, error)) << error;
    ASSERT_EQ(out[1].shape(), (std::vector<int64_t>{T, 2}));
    ASSERT_EQ(out[2].shape(), (std::vector<int64_t>{2, T}));
    float s[2] = {0.5f, -1};
    for (int64_t t = 0; t < T; ++t) {
      int64_t from = T - 1 - t; // the input scans backwards, along axis 1
      for (int j = 0; j < 2; ++j) {
        float xt = x.data<float>()[j * T + from];
        s[j] += xt;
        EXPECT_EQ(out[1].data<float>()[t * 2 + j], 2 * s[j]) << "step " << t;
        EXPECT_EQ(out[3].data<float>()[t * 2 + j], -2 * s[j]) << "step " << t;
        // Reversed output along axis 1: step t lands in column T - 1 - t.
        EXPECT_EQ(out[2].data<float>()[j * T + (T - 1 - t)], xt) << "step " << t;
      }
    }
    EXPECT_EQ(out[0].data<float>()[0], s[0]);
    EXPECT_EQ(out[0].data<float>()[1], s[1]);
  }
}

//===----------------------------------------------------------------------===//
// Sequences: known element by element at compile time
//===----------------------------------------------------------------------===//

namespace {

/// x [4, 3] split into its 4 rows (SplitToSequence, keepdims 0).
onnx::ModelProto splitRowsModel() {
  auto m = makeModel(17);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::FLOAT, {4, 3});
  setIntAttribute(addNode(g, "SplitToSequence", {"x"}, {"rows"}), "keepdims", 0);
  return m;
}

Tensor iota(std::vector<int64_t> shape) {
  Tensor x(DType::Float32, shape);
  for (int64_t k = 0; k < x.numElements(); ++k)
    x.data<float>()[k] = (float)k;
  return x;
}

} // namespace

/// SequenceAt whose position is a graph input, not given at compile time:
/// one compiled graph takes the row at each position, negative ones from
/// the back.
TEST(Importer, SequenceAtTakesARunTimePosition) {
  auto m = splitRowsModel();
  auto *g = m.mutable_graph();
  addInput(g, "pos", onnx::TensorProto::INT64, {});
  addNode(g, "SequenceAt", {"rows", "pos"}, {"row"});
  g->add_output()->set_name("row");
  std::string error;
  auto exe = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(exe) << error;
  Tensor x = iota({4, 3});
  for (int64_t pos : {0, 2, 3, -1, -4}) {
    Tensor p = scalarI64(pos);
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run({&x, &p}, out, error)) << error;
    ASSERT_EQ(out[0].shape(), (std::vector<int64_t>{3}));
    int64_t row = pos < 0 ? pos + 4 : pos;
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(out[0].data<float>()[j], (float)(row * 3 + j)) << "position " << pos;
  }
}

/// The pattern of a Python list appended to in a loop: an unrolled Loop
/// carries a sequence, inserting x * (i + 1) at the front on each of its 3
/// iterations, and the result is concatenated; a SequenceMap then adds a
/// tensor to each element of a split and the results are stacked.
TEST(Importer, UnrolledLoopCarriesASequence) {
  auto m = makeModel(17);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::FLOAT, {2});
  addNode(g, "SequenceEmpty", {}, {"empty"});
  auto *tripsNode = addNode(g, "Constant", {}, {"M"});
  auto *a = tripsNode->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(onnx::TensorProto::INT64);
  a->mutable_t()->add_int64_data(3);
  auto *body = addLoop(g, {"M", "", "empty"}, {"seq"});
  addInput(body, "i", onnx::TensorProto::INT64, {});
  addInput(body, "c", onnx::TensorProto::BOOL, {});
  body->add_input()->set_name("seq_in"); // a sequence
  addScalarConstant(body, "one", onnx::TensorProto::FLOAT, 1.0);
  addScalarConstant(body, "front", onnx::TensorProto::INT64, 0);
  setIntAttribute(addNode(body, "Cast", {"i"}, {"fi"}), "to", onnx::TensorProto::FLOAT);
  addNode(body, "Add", {"fi", "one"}, {"f"});
  addNode(body, "Mul", {"x", "f"}, {"xf"});
  addNode(body, "SequenceInsert", {"seq_in", "xf", "front"}, {"seq_out"});
  addNode(body, "Identity", {"c"}, {"cout"});
  body->add_output()->set_name("cout");
  body->add_output()->set_name("seq_out");
  setIntAttribute(addNode(g, "ConcatFromSequence", {"seq"}, {"cat"}), "axis", 0);
  g->add_output()->set_name("cat");
  // SequenceMap: each part of x split in 2 (sizes [1, 1]) plus b, stacked.
  addInput(g, "b", onnx::TensorProto::FLOAT, {1});
  addNode(g, "SplitToSequence", {"x"}, {"parts"});
  auto *map = addNode(g, "SequenceMap", {"parts", "b"}, {"sums"});
  auto *mb = map->add_attribute();
  mb->set_name("body");
  mb->set_type(onnx::AttributeProto::GRAPH);
  auto *mapBody = mb->mutable_g();
  addInput(mapBody, "part", onnx::TensorProto::FLOAT, {1});
  addInput(mapBody, "bias", onnx::TensorProto::FLOAT, {1});
  addNode(mapBody, "Add", {"part", "bias"}, {"sum"});
  mapBody->add_output()->set_name("sum");
  auto *stacked = setIntAttribute(addNode(g, "ConcatFromSequence", {"sums"}, {"stacked"}), "axis", -1);
  setIntAttribute(stacked, "new_axis", 1);
  g->add_output()->set_name("stacked");

  std::string error;
  auto exe = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(exe) << error;
  Tensor x(DType::Float32, {2}), b(DType::Float32, {1});
  x.data<float>()[0] = 1.5f, x.data<float>()[1] = -2;
  b.data<float>()[0] = 0.25f;
  std::vector<Tensor> out;
  ASSERT_TRUE(exe->run({&x, &b}, out, error)) << error;
  ASSERT_EQ(out[0].shape(), (std::vector<int64_t>{6}));
  for (int k = 0; k < 3; ++k) // inserted at the front: iteration 2 first
    for (int j = 0; j < 2; ++j)
      EXPECT_EQ(out[0].data<float>()[k * 2 + j], x.data<float>()[j] * (float)(3 - k)) << k << ", " << j;
  ASSERT_EQ(out[1].shape(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(out[1].data<float>()[0], 1.75f);
  EXPECT_EQ(out[1].data<float>()[1], -1.75f);
}

/// What nncc cannot resolve at compile time is refused with the reason.
TEST(Importer, SequenceErrorsNameTheCause) {
  struct Case {
    const char *what;
    std::function<void(onnx::GraphProto *)> build;
    const char *message;
  };
  std::vector<Case> cases = {
      {"a sequence given to a tensor operator",
       [](onnx::GraphProto *g) {
         addNode(g, "Neg", {"rows"}, {"y"});
         g->add_output()->set_name("y");
       },
       "input 0 ('rows') is a sequence, where the operator takes a tensor"},
      {"a sequence input without its length",
       [](onnx::GraphProto *g) {
         auto *vi = g->add_input();
         vi->set_name("seq");
         vi->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(
             onnx::TensorProto::FLOAT);
         addNode(g, "SequenceLength", {"seq"}, {"n"});
         g->add_output()->set_name("n");
       },
       "graph input 'seq' is a sequence, whose length nncc must know at compile time"},
      {"an erase past the end",
       [](onnx::GraphProto *g) {
         addScalarConstant(g, "p", onnx::TensorProto::INT64, 4);
         addNode(g, "SequenceErase", {"rows", "p"}, {"fewer"});
         addNode(g, "SequenceLength", {"fewer"}, {"n"});
         g->add_output()->set_name("n");
       },
       "position 4 is out of range for a sequence of 4 elements"},
      {"a run-time position over elements of different shapes",
       [](onnx::GraphProto *g) {
         addInput(g, "pos", onnx::TensorProto::INT64, {});
         addInput(g, "z", onnx::TensorProto::FLOAT, {5});
         addNode(g, "SequenceInsert", {"rows", "z"}, {"more"});
         addNode(g, "SequenceAt", {"more", "pos"}, {"y"});
         g->add_output()->set_name("y");
       },
       "the elements' shapes differ"},
      {"an element of another type joining an empty sequence",
       [](onnx::GraphProto *g) {
         setIntAttribute(addNode(g, "SequenceEmpty", {}, {"ints"}), "dtype", onnx::TensorProto::INT64);
         addNode(g, "SequenceInsert", {"ints", "x"}, {"mixed"});
         addNode(g, "SequenceLength", {"mixed"}, {"n"});
         g->add_output()->set_name("n");
       },
       "the sequence holds i64 tensors; a f32 tensor cannot join it"},
      {"a sequence as the scan output of a loop that runs as a loop",
       [](onnx::GraphProto *g) {
         addInput(g, "M", onnx::TensorProto::INT64, {});
         auto *body = addLoop(g, {"M", ""}, {"ys"});
         addInput(body, "i", onnx::TensorProto::INT64, {});
         addInput(body, "c", onnx::TensorProto::BOOL, {});
         addNode(body, "Identity", {"c"}, {"cout"});
         addNode(body, "SequenceConstruct", {"x"}, {"seq"});
         body->add_output()->set_name("cout");
         body->add_output()->set_name("seq");
         g->add_output()->set_name("ys");
       },
       "the body's output 1 ('seq') is a sequence, which is supported only as the carried value"},
      {"a sequence carried by a loop that runs as a loop",
       [](onnx::GraphProto *g) {
         addInput(g, "M", onnx::TensorProto::INT64, {});
         auto *body = addLoop(g, {"M", "", "rows"}, {"seq"});
         addInput(body, "i", onnx::TensorProto::INT64, {});
         addInput(body, "c", onnx::TensorProto::BOOL, {});
         body->add_input()->set_name("seq_in");
         addNode(body, "Identity", {"c"}, {"cout"});
         addNode(body, "Identity", {"seq_in"}, {"seq_out"});
         body->add_output()->set_name("cout");
         body->add_output()->set_name("seq_out");
         addNode(g, "SequenceLength", {"seq"}, {"n"});
         g->add_output()->set_name("n");
       },
       "carries a sequence (input 2), which is not supported"},
  };
  for (auto &c : cases) {
    auto m = splitRowsModel();
    c.build(m.mutable_graph());
    std::string error;
    auto exe = compileOnnx(m, {}, {}, error);
    EXPECT_FALSE(exe) << c.what;
    EXPECT_NE(error.find(c.message), std::string::npos) << c.what << ": " << error;
  }
}

/// A sequence graph input is one argument per element, named `name[k]`, its
/// length given by the elements' shapes (--input-shape xs[0]=... in the
/// tool); a sequence output is one result per element.
TEST(Importer, SequenceInputsAndOutputsPassAsTheirElements) {
  auto m = makeModel(17);
  auto *g = m.mutable_graph();
  auto *vi = g->add_input();
  vi->set_name("xs");
  vi->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto::FLOAT);
  addInput(g, "z", onnx::TensorProto::FLOAT, {1});
  addNode(g, "SequenceInsert", {"xs", "z"}, {"more"});
  addNode(g, "SequenceLength", {"more"}, {"n"});
  g->add_output()->set_name("more");
  g->add_output()->set_name("n");
  ImportOptions io;
  io.inputShapes["xs[0]"] = {2};
  io.inputShapes["xs[1]"] = {3};
  std::string error;
  auto exe = compileOnnx(m, io, {}, error);
  ASSERT_TRUE(exe) << error;
  std::vector<std::string> in, out;
  for (auto &s : exe->inputs())
    in.push_back(s.name);
  for (auto &s : exe->outputs())
    out.push_back(s.name);
  EXPECT_EQ(in, (std::vector<std::string>{"xs[0]", "xs[1]", "z"}));
  EXPECT_EQ(out, (std::vector<std::string>{"more[0]", "more[1]", "more[2]", "n"}));
  Tensor a = iota({2}), b = iota({3}), z(DType::Float32, {1});
  z.data<float>()[0] = -1;
  std::vector<Tensor> results;
  ASSERT_TRUE(exe->run({&a, &b, &z}, results, error)) << error;
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[1].shape(), (std::vector<int64_t>{3}));
  EXPECT_EQ(results[1].data<float>()[2], 2.0f);
  EXPECT_EQ(results[2].data<float>()[0], -1.0f);
  EXPECT_EQ(results[3].data<int64_t>()[0], 3);
  // Given its length, a sequence may be empty.
  io.inputShapes.clear();
  io.sequenceLengths["xs"] = 0;
  exe = compileOnnx(m, io, {}, error);
  ASSERT_TRUE(exe) << error;
  ASSERT_TRUE(exe->run({&z}, results, error)) << error;
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].data<float>()[0], -1.0f);
  EXPECT_EQ(results[1].data<int64_t>()[0], 1);
}

/// Optionals: whether one holds a value is known at compile time. An
/// optional graph input takes its value's argument, or none when given as
/// empty; OptionalHasElement folds to a constant that an If can branch on;
/// reading an empty optional names the cause.
TEST(Importer, OptionalsAreResolvedAtCompileTime) {
  auto build = [] {
    auto m = makeModel(16);
    auto *g = m.mutable_graph();
    auto *vi = g->add_input();
    vi->set_name("maybe");
    auto *tt = vi->mutable_type()->mutable_optional_type()->mutable_elem_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_value(2);
    addInput(g, "x", onnx::TensorProto::FLOAT, {2});
    addNode(g, "OptionalHasElement", {"maybe"}, {"has"});
    // If it has a value: value + x, else x.
    auto *ifNode = addNode(g, "If", {"has"}, {"y"});
    for (const char *branch : {"then_branch", "else_branch"}) {
      auto *a = ifNode->add_attribute();
      a->set_name(branch);
      a->set_type(onnx::AttributeProto::GRAPH);
      auto *b = a->mutable_g();
      if (std::string(branch) == "then_branch") {
        addNode(b, "OptionalGetElement", {"maybe"}, {"value"});
        addNode(b, "Add", {"value", "x"}, {"out"});
      } else {
        addNode(b, "Identity", {"x"}, {"out"});
      }
      b->add_output()->set_name("out");
    }
    g->add_output()->set_name("y");
    g->add_output()->set_name("has");
    return m;
  };
  Tensor x = iota({2}), value(DType::Float32, {2});
  value.data<float>()[0] = 10, value.data<float>()[1] = 20;
  std::string error;
  std::vector<Tensor> out;
  auto exe = compileOnnx(build(), {}, {}, error);
  ASSERT_TRUE(exe) << error;
  ASSERT_EQ(exe->inputs().size(), 2u);
  ASSERT_TRUE(exe->run({&value, &x}, out, error)) << error;
  EXPECT_EQ(out[0].data<float>()[1], 21.0f);
  EXPECT_TRUE(out[1].data<bool>()[0]);
  ImportOptions io;
  io.emptyOptionals.insert("maybe");
  exe = compileOnnx(build(), io, {}, error);
  ASSERT_TRUE(exe) << error;
  ASSERT_EQ(exe->inputs().size(), 1u) << "an empty optional takes no argument";
  ASSERT_TRUE(exe->run({&x}, out, error)) << error;
  EXPECT_EQ(out[0].data<float>()[1], 1.0f);
  EXPECT_FALSE(out[1].data<bool>()[0]);
  // Read without the guard.
  auto m = build();
  addNode(m.mutable_graph(), "OptionalGetElement", {"maybe"}, {"unguarded"});
  m.mutable_graph()->add_output()->set_name("unguarded");
  exe = compileOnnx(m, io, {}, error);
  EXPECT_FALSE(exe);
  EXPECT_NE(error.find("the optional 'maybe' is empty"), std::string::npos) << error;
}

/// NonMaxSuppression selects as many boxes as the data allow: its output
/// has room for all (max_output_boxes_per_class from a graph input, known
/// only at run time, leaves room for every box) and is trimmed to the rows
/// selected, per run; its Shape holds that many rows.
TEST(Importer, NonMaxSuppressionRowsAreKnownAtRunTime) {
  auto build = [](bool readIt) {
    auto m = makeModel(13);
    auto *g = m.mutable_graph();
    addInput(g, "boxes", onnx::TensorProto::FLOAT, {1, 6, 4});
    addInput(g, "scores", onnx::TensorProto::FLOAT, {1, 1, 6});
    addInput(g, "max_out", onnx::TensorProto::INT64, {1});
    addInput(g, "iou", onnx::TensorProto::FLOAT, {1});
    addNode(g, "NonMaxSuppression", {"boxes", "scores", "max_out", "iou"}, {"selected"}, "nms");
    if (readIt)
      addNode(g, "Shape", {"selected"}, {"n"});
    g->add_output()->set_name(readIt ? "n" : "selected");
    return m;
  };
  std::string error;
  auto exe = compileOnnx(build(false), {}, {}, error);
  ASSERT_TRUE(exe) << error;
  // ONNX's suppress-by-IoU example: boxes 0-2 overlap, 3-4 overlap, 5 alone.
  const float corners[6][4] = {{0, 0, 1, 1}, {0, 0.1f, 1, 1.1f}, {0, -0.1f, 1, 0.9f},
                               {0, 10, 1, 11}, {0, 10.1f, 1, 11.1f}, {0, 100, 1, 101}};
  const float score[6] = {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f};
  Tensor boxes(DType::Float32, {1, 6, 4}), scores(DType::Float32, {1, 1, 6}), iou(DType::Float32, {1});
  for (int b = 0; b < 6; ++b) {
    scores.data<float>()[b] = score[b];
    for (int k = 0; k < 4; ++k)
      boxes.data<float>()[b * 4 + k] = corners[b][k];
  }
  iou.data<float>()[0] = 0.5f;
  struct Case {
    int64_t maxOut;
    std::vector<int64_t> boxes;
  };
  for (const Case &c : {Case{3, {3, 0, 5}}, Case{2, {3, 0}}, Case{10, {3, 0, 5}}, Case{0, {}}}) {
    Tensor maxOut(DType::Int64, {1});
    maxOut.data<int64_t>()[0] = c.maxOut;
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run({&boxes, &scores, &maxOut, &iou}, out, error)) << error;
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].shape(), (std::vector<int64_t>{(int64_t)c.boxes.size(), 3})) << "max " << c.maxOut;
    for (size_t r = 0; r < c.boxes.size(); ++r) {
      EXPECT_EQ(out[0].data<int64_t>()[r * 3], 0);
      EXPECT_EQ(out[0].data<int64_t>()[r * 3 + 1], 0);
      EXPECT_EQ(out[0].data<int64_t>()[r * 3 + 2], c.boxes[r]) << "max " << c.maxOut << ", row " << r;
    }
  }
  // Its Shape: the rows selected, at run time.
  exe = compileOnnx(build(true), {}, {}, error);
  ASSERT_TRUE(exe) << error;
  for (const Case &c : {Case{3, {3, 0, 5}}, Case{0, {}}}) {
    Tensor maxOut(DType::Int64, {1});
    maxOut.data<int64_t>()[0] = c.maxOut;
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run({&boxes, &scores, &maxOut, &iou}, out, error)) << error;
    EXPECT_EQ(std::vector<int64_t>(out[0].data<int64_t>(), out[0].data<int64_t>() + 2),
              (std::vector<int64_t>{(int64_t)c.boxes.size(), 3}));
  }
}

/// x[x > 0] * w, as PyTorch exports boolean-mask indexing: NonZero's count
/// carries through Transpose, GatherND and Mul into the output, which holds
/// as many values as a run found.
static onnx::ModelProto maskedSelectModel(const std::string &after = "", int64_t axis = 0) {
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::FLOAT, {3, 4});
  addScalarConstant(g, "zero", onnx::TensorProto::FLOAT, 0);
  addFloatInitializer(g, "w", {1}, {2.0f});
  addNode(g, "Greater", {"x", "zero"}, {"mask"});
  addNode(g, "NonZero", {"mask"}, {"nz"}, "nonzero");
  addNode(g, "Transpose", {"nz"}, {"rows"});
  addNode(g, "GatherND", {"x", "rows"}, {"picked"});
  addNode(g, "Mul", {"picked", "w"}, {"y"});
  std::string out = "y";
  if (after == "ReduceSum") {
    setIntAttribute(addNode(g, after, {"y"}, {"z"}, "reader"), "keepdims", 0);
    out = "z";
  } else if (after == "ReduceMax") { // of the int64 indices (all axes): no neutral element to mask with
    setIntAttribute(addNode(g, after, {"rows"}, {"z"}, "reader"), "keepdims", 0);
    out = "z";
  } else if (after == "ArgMax") {
    auto *n = setIntAttribute(addNode(g, after, {"rows"}, {"z"}, "reader"), "axis", 1);
    setIntAttribute(n, "keepdims", 0);
    out = "z";
  } else if (after == "Gather") {
    addScalarConstant(g, "i", onnx::TensorProto::INT64, 0);
    setIntAttribute(addNode(g, "Gather", {"rows", "i"}, {"z"}, "reader"), "axis", axis);
    out = "z";
  } else if (after == "Add") {
    addFloatInitializer(g, "bias", {12}, std::vector<float>(12, 1.0f)); // (only a full mask agrees)
    addNode(g, "Add", {"y", "bias"}, {"z"}, "reader");
    out = "z";
  } else if (after == "Concat") {
    setIntAttribute(addNode(g, "Concat", {"rows", "rows"}, {"z"}, "reader"), "axis", axis);
    out = "z";
  } else if (after == "Slice") { // y[axis:3] (a negative axis: from the end)
    addInt64Initializer(g, "starts", {1}, {axis});
    addInt64Initializer(g, "ends", {1}, {3});
    addNode(g, "Slice", {"y", "starts", "ends"}, {"z"}, "reader");
    out = "z";
  }
  g->add_output()->set_name(out);
  return m;
}

TEST(Importer, RunTimeLengthsCarryThroughRowWiseOps) {
  std::string error;
  auto exe = compileOnnx(maskedSelectModel(), {}, {}, error);
  ASSERT_TRUE(exe) << error;
  Tensor x(DType::Float32, {3, 4});
  for (int positives : {5, 12, 0}) {
    std::vector<float> expected;
    for (int k = 0; k < 12; ++k) {
      // Positives at odd places first, so a run picks them out of order.
      bool positive = (k % 2 == 1 && k / 2 < positives) || (k % 2 == 0 && 6 + k / 2 < positives);
      x.data<float>()[k] = positive ? 0.5f + k : -1.0f - k;
      if (positive)
        expected.push_back(2 * (0.5f + k));
    }
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run({&x}, out, error)) << error;
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].shape(), (std::vector<int64_t>{(int64_t)expected.size()})) << positives << " positives";
    for (size_t k = 0; k < expected.size(); ++k)
      EXPECT_EQ(out[0].data<float>()[k], expected[k]) << positives << " positives, value " << k;
  }
  // Readers of the [count, 2] indices that carry the count: their results
  // have as many rows as x has positives (here 8; ctest ops_vs_pytorch runs
  // more readers against PyTorch).
  for (int k = 0; k < 12; ++k)
    x.data<float>()[k] = k % 5 < 3 ? 1.0f : -1.0f;
  struct Reader {
    const char *after;
    int64_t axis;
    std::vector<int64_t> shape;
  };
  for (const Reader &r : {Reader{"ArgMax", 0, {8}}, Reader{"Gather", 1, {8}}, Reader{"Concat", 1, {8, 4}},
                          Reader{"Slice", 1, {2}}, Reader{"ReduceSum", 0, {}}}) {
    auto exe = compileOnnx(maskedSelectModel(r.after, r.axis), {}, {}, error);
    ASSERT_TRUE(exe) << r.after << ": " << error;
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run({&x}, out, error)) << error;
    EXPECT_EQ(out[0].shape(), r.shape) << r.after;
    if (std::string(r.after) == "Gather") // the rows of the positives (x[k] > 0 where k % 5 < 3)
      EXPECT_EQ(std::vector<int64_t>(out[0].data<int64_t>(), out[0].data<int64_t>() + 8),
                (std::vector<int64_t>{0, 0, 0, 1, 1, 1, 2, 2}));
    if (std::string(r.after) == "ReduceSum") // along the run-time length: the 8 in use only (each 2)
      EXPECT_EQ(out[0].data<float>()[0], 16.0f);
    if (std::string(r.after) == "Slice") // y[1:3]: two positives (each 1), doubled
      EXPECT_EQ(std::vector<float>(out[0].data<float>(), out[0].data<float>() + 2), (std::vector<float>{2, 2}));
  }
  // Readers that would mix the unused entries into the used ones.
  struct Refusal {
    const char *after;
    int64_t axis;
    const char *why;
  };
  for (const Refusal &r : {Refusal{"ReduceMax", 0, "it reduces along that dimension"},
                           Refusal{"Gather", 0, "it gathers along that dimension"},
                           Refusal{"Add", 0, "whose dimension 0 has the fixed extent 12"},
                           Refusal{"Concat", 0, "it is concatenated along that dimension"},
                           Refusal{"Slice", -2, "which entries it takes depends on the length"}}) {
    EXPECT_FALSE(compileOnnx(maskedSelectModel(r.after, r.axis), {}, {}, error)) << r.after;
    EXPECT_NE(error.find(std::string(r.after) + " node 'reader' reads"), std::string::npos) << error;
    EXPECT_NE(error.find("computed from the indices NonZero found: its length (dimension"), std::string::npos)
        << error;
    EXPECT_NE(error.find(r.why), std::string::npos) << error;
  }
}

TEST(Importer, NonZeroAndUniqueOutputsAreTrimmedAlongTheirDimension) {
  // NonZero's [rank, count] and Unique's columns (axis 1) are packed along
  // a dimension after the first; a run trims them to what it found.
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::INT64, {2, 5});
  addNode(g, "NonZero", {"x"}, {"nz"});
  setIntAttribute(addNode(g, "Unique", {"x"}, {"u", "first", "inverse", "counts"}), "axis", 1);
  for (auto name : {"nz", "u", "first", "inverse", "counts"})
    g->add_output()->set_name(name);
  std::string error;
  auto exe = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(exe) << error;
  Tensor x(DType::Int64, {2, 5});
  const int64_t values[10] = {3, 0, 3, 1, 0, //
                              7, 0, 7, 2, 0};
  std::copy(values, values + 10, x.data<int64_t>());
  std::vector<Tensor> out;
  ASSERT_TRUE(exe->run({&x}, out, error)) << error;
  ASSERT_EQ(out.size(), 5u);
  auto ints = [](const Tensor &t) { return std::vector<int64_t>(t.data<int64_t>(), t.data<int64_t>() + t.numElements()); };
  EXPECT_EQ(out[0].shape(), (std::vector<int64_t>{2, 6}));
  EXPECT_EQ(ints(out[0]), (std::vector<int64_t>{0, 0, 0, 1, 1, 1, 0, 2, 3, 0, 2, 3}));
  // Columns (3,7), (0,0), (1,2): sorted (0,0), (1,2), (3,7).
  EXPECT_EQ(out[1].shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ints(out[1]), (std::vector<int64_t>{0, 1, 3, 0, 2, 7}));
  EXPECT_EQ(ints(out[2]), (std::vector<int64_t>{1, 3, 0}));
  EXPECT_EQ(ints(out[3]), (std::vector<int64_t>{2, 0, 2, 1, 0}));
  EXPECT_EQ(ints(out[4]), (std::vector<int64_t>{2, 1, 2}));
  // All zeros: nothing found, one distinct column.
  std::fill(x.data<int64_t>(), x.data<int64_t>() + 10, 0);
  ASSERT_TRUE(exe->run({&x}, out, error)) << error;
  EXPECT_EQ(out[0].shape(), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(out[1].shape(), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(ints(out[4]), (std::vector<int64_t>{5}));
}

TEST(Importer, CompressWithARunTimeConditionKeepsWhatItSelects) {
  // The condition is a graph input with no value at compile time: the
  // result's length along the axis is known only at run time. Its last
  // element lies past x's extent, and ONNX ignores it.
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::FLOAT, {2, 4});
  addInput(g, "cond", onnx::TensorProto::BOOL, {5});
  setIntAttribute(addNode(g, "Compress", {"x", "cond"}, {"y"}), "axis", 1);
  g->add_output()->set_name("y");
  std::string error;
  auto exe = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(exe) << error;
  Tensor x(DType::Float32, {2, 4}), cond(DType::Bool, {5});
  for (int k = 0; k < 8; ++k)
    x.data<float>()[k] = (float)k;
  struct Case {
    std::vector<uint8_t> cond;
    std::vector<int64_t> shape;
    std::vector<float> y;
  };
  for (const Case &c : {Case{{0, 1, 0, 1, 1}, {2, 2}, {1, 3, 5, 7}}, Case{{1, 1, 1, 1, 0}, {2, 4}, {0, 1, 2, 3, 4, 5, 6, 7}},
                        Case{{0, 0, 0, 0, 1}, {2, 0}, {}}}) {
    std::copy(c.cond.begin(), c.cond.end(), cond.data<uint8_t>());
    std::vector<Tensor> out;
    ASSERT_TRUE(exe->run({&x, &cond}, out, error)) << error;
    ASSERT_EQ(out[0].shape(), c.shape);
    EXPECT_EQ(std::vector<float>(out[0].data<float>(), out[0].data<float>() + out[0].numElements()), c.y);
  }
}

TEST(Importer, GradientOperatorMatchesFiniteDifferences) {
  // ai.onnx.preview.training Gradient of h = tanh(x W) (not a scalar: its
  // sum) w.r.t. x and W, in double precision, against central differences
  // of sum(tanh(x W)).
  auto m = makeModel(13);
  auto *o = m.add_opset_import();
  o->set_domain("ai.onnx.preview.training");
  o->set_version(1);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::DOUBLE, {2, 3});
  addInput(g, "W", onnx::TensorProto::DOUBLE, {3, 2});
  addNode(g, "MatMul", {"x", "W"}, {"xw"});
  addNode(g, "Tanh", {"xw"}, {"h"});
  // (xw, an intermediate: d sum(tanh(xw)) / d xw = 1 - h^2)
  auto *grad = addNode(g, "Gradient", {"x", "W", "xw"}, {"dx", "dW", "dxw"}, "grad");
  grad->set_domain("ai.onnx.preview.training");
  auto *xs = grad->add_attribute();
  xs->set_name("xs");
  xs->set_type(onnx::AttributeProto::STRINGS);
  for (auto name : {"x", "W", "xw"})
    xs->add_strings(name);
  auto *y = grad->add_attribute();
  y->set_name("y");
  y->set_type(onnx::AttributeProto::STRING);
  y->set_s("h");
  for (auto name : {"h", "dx", "dW", "dxw"})
    g->add_output()->set_name(name);
  std::string error;
  auto exe = compileOnnx(m, {}, {}, error);
  ASSERT_TRUE(exe) << error;
  // Inputs other than the values xs name would ask for the gradient at
  // other points: refused.
  auto swapped = m;
  swapped.mutable_graph()->mutable_node(2)->set_input(0, "W");
  swapped.mutable_graph()->mutable_node(2)->set_input(1, "x");
  EXPECT_FALSE(compileOnnx(swapped, {}, {}, error));
  EXPECT_NE(error.find("input 0 is not the value of 'x'"), std::string::npos) << error;
  Tensor x(DType::Float64, {2, 3}), w(DType::Float64, {3, 2});
  for (int k = 0; k < 6; ++k) {
    x.data<double>()[k] = 0.3 * k - 0.7;
    w.data<double>()[k] = 0.5 - 0.2 * k;
  }
  std::vector<Tensor> out;
  ASSERT_TRUE(exe->run({&x, &w}, out, error)) << error;
  ASSERT_EQ(out.size(), 4u);
  for (int k = 0; k < 4; ++k) {
    double h = out[0].data<double>()[k];
    EXPECT_NEAR(out[3].data<double>()[k], 1 - h * h, 1e-12) << "dxw[" << k << "]";
  }
  auto f = [&]() {
    double s = 0;
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) {
        double v = 0;
        for (int k = 0; k < 3; ++k)
          v += x.data<double>()[i * 3 + k] * w.data<double>()[k * 2 + j];
        s += std::tanh(v);
      }
    return s;
  };
  for (int which = 0; which < 2; ++which) {
    Tensor &t = which ? w : x;
    for (int k = 0; k < 6; ++k) {
      double keep = t.data<double>()[k], h = 1e-6;
      t.data<double>()[k] = keep + h;
      double up = f();
      t.data<double>()[k] = keep - h;
      double down = f();
      t.data<double>()[k] = keep;
      EXPECT_NEAR(out[1 + which].data<double>()[k], (up - down) / (2 * h), 1e-8) << (which ? "dW[" : "dx[") << k << "]";
    }
  }
}

TEST(Api, SymbolicDimensionsCompilePerShapeOfTheInputs) {
  // y = relu(x W) with x [N, 3], N symbolic: fromOnnxFile compiles nothing;
  // each new N compiles at run(), and the last two shapes are kept.
  auto m = makeModel(13);
  auto *g = m.mutable_graph();
  addInput(g, "x", onnx::TensorProto::FLOAT, {-1, 3});
  g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_param("N");
  addFloatInitializer(g, "W", {3, 2}, {1, -1, 2, 0, -1, 1});
  addNode(g, "MatMul", {"x", "W"}, {"xw"});
  addNode(g, "Relu", {"xw"}, {"y"});
  g->add_output()->set_name("y");
  std::string path = ::testing::TempDir() + "/symbolic_batch.onnx", error;
  {
    std::ofstream f(path, std::ios::binary);
    ASSERT_TRUE(m.SerializeToOstream(&f));
  }
  ModelOptions options;
  options.shapesKept = 2;
  auto model = CompiledModel::fromOnnxFile(path, error, options);
  ASSERT_TRUE(model) << error;
  EXPECT_EQ(model->inputs()[0].shape, (std::vector<int64_t>{-1, 3}));
  EXPECT_EQ(model->compiledShapes(), 0);
  auto runFor = [&](int64_t n) {
    Tensor x(DType::Float32, {n, 3});
    for (int64_t k = 0; k < n * 3; ++k)
      x.data<float>()[k] = (float)(k % 5) - 1.5f;
    std::vector<Tensor> out;
    std::string why; // (runs on several threads below)
    ASSERT_TRUE(model->run({x}, out, why)) << why;
    ASSERT_EQ(out[0].shape(), (std::vector<int64_t>{n, 2}));
    for (int64_t r = 0; r < n; ++r) {
      const float *row = x.data<float>() + r * 3;
      EXPECT_EQ(out[0].data<float>()[r * 2], std::max(0.0f, row[0] + 2 * row[1] - row[2])) << "n " << n;
      EXPECT_EQ(out[0].data<float>()[r * 2 + 1], std::max(0.0f, -row[0] + row[2])) << "n " << n;
    }
  };
  runFor(2);
  runFor(5);
  runFor(2);
  EXPECT_EQ(model->compiledShapes(), 2);
  EXPECT_EQ(model->compilations(), 2);
  runFor(7); // (5 goes: 2 ran more recently)
  EXPECT_EQ(model->compiledShapes(), 2);
  runFor(2);
  EXPECT_EQ(model->compilations(), 3) << "2 was kept";
  runFor(5);
  EXPECT_EQ(model->compilations(), 4) << "5 was dropped";
  // Threads running new and kept shapes at once each get their own
  // shape's results (a compilation does not hold the model).
  std::vector<std::thread> threads;
  for (int64_t n : {3, 4, 5, 2})
    threads.emplace_back([&runFor, n] {
      for (int r = 0; r < 3; ++r)
        runFor(n);
    });
  for (auto &t : threads)
    t.join();
  EXPECT_EQ(model->compiledShapes(), 2);
  // A declared extent still holds.
  Tensor wrong(DType::Float32, {2, 4});
  std::vector<Tensor> out;
  EXPECT_FALSE(model->run({wrong}, out, error));
  EXPECT_NE(error.find("input 0 ('x') has shape [2, 4], but the model declares [-1, 3]"), std::string::npos) << error;
  // Fixing the shape compiles at once, as before.
  options.inputShapes["x"] = {4, 3};
  model = CompiledModel::fromOnnxFile(path, error, options);
  ASSERT_TRUE(model) << error;
  EXPECT_EQ(model->compiledShapes(), 1);
  EXPECT_EQ(model->inputs()[0].shape, (std::vector<int64_t>{4, 3}));
  std::remove(path.c_str());
}
