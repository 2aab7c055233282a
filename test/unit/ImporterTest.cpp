// The ONNX importer on models built in the test: unsupported operators are
// all named at once, shape-determining inputs are specialized, and a small
// graph runs through the JIT.
#include "driver/Compiler.h"

#include "onnx/onnx_pb.h"
#include <gtest/gtest.h>

using namespace nncc;

namespace {

onnx::ModelProto makeModel(int opset) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto *o = m.add_opset_import();
  o->set_domain("");
  o->set_version(opset);
  return m;
}

void addInput(onnx::GraphProto *g, const std::string &name, int type, std::vector<int64_t> shape) {
  auto *vi = g->add_input();
  vi->set_name(name);
  auto *tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(type);
  for (int64_t d : shape)
    tt->mutable_shape()->add_dim()->set_dim_value(d);
}

onnx::NodeProto *addNode(onnx::GraphProto *g, const std::string &op, std::vector<std::string> in,
                         std::vector<std::string> out, const std::string &name = "") {
  auto *n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (auto &i : in) n->add_input(i);
  for (auto &o : out) n->add_output(o);
  return n;
}

} // namespace

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
  auto *n = addNode(g, "Add", {"a", "b"}, {"s"}, "add");
  auto *attr = n->add_attribute();
  attr->set_name("broadcast");
  attr->set_type(onnx::AttributeProto::INT);
  attr->set_i(1);
  attr = n->add_attribute();
  attr->set_name("axis");
  attr->set_type(onnx::AttributeProto::INT);
  attr->set_i(1);
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
