//===- OnnxBuild.h - ONNX models built in unit tests ------------*- C++ -*-===//
#ifndef NNCC_TEST_UNIT_ONNXBUILD_H
#define NNCC_TEST_UNIT_ONNXBUILD_H

#include "onnx/onnx_pb.h"

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace nncc {
namespace test {

inline onnx::ModelProto makeModel(int opset) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto *o = m.add_opset_import();
  o->set_domain("");
  o->set_version(opset);
  return m;
}

/// A graph input (or a subgraph's) of element type `type` and `shape`.
inline void addInput(onnx::GraphProto *g, const std::string &name, int type, std::vector<int64_t> shape) {
  auto *vi = g->add_input();
  vi->set_name(name);
  auto *tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(type);
  tt->mutable_shape(); // rank 0 when no dimension follows
  for (int64_t d : shape)
    tt->mutable_shape()->add_dim()->set_dim_value(d);
}

inline onnx::NodeProto *addNode(onnx::GraphProto *g, const std::string &op, std::vector<std::string> in,
                                std::vector<std::string> out, const std::string &name = "") {
  auto *n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (auto &i : in)
    n->add_input(i);
  for (auto &o : out)
    n->add_output(o);
  return n;
}

/// Sets the integer attribute `name` of `node`; returns the node.
inline onnx::NodeProto *setIntAttribute(onnx::NodeProto *node, const std::string &name, int64_t value) {
  auto *a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
  return node;
}

/// A 0-d float/int64/bool Constant node in `g` (an int64 is given exactly).
inline void addScalarConstant(onnx::GraphProto *g, const std::string &name, int type, double v,
                              int64_t i64 = 0) {
  auto *n = addNode(g, "Constant", {}, {name});
  auto *a = n->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  auto *t = a->mutable_t();
  t->set_data_type(type);
  if (type == onnx::TensorProto::FLOAT)
    t->add_float_data((float)v);
  else if (type == onnx::TensorProto::INT64)
    t->add_int64_data(i64 ? i64 : (int64_t)v);
  else
    t->add_int32_data((int32_t)v);
}

/// A 0-d bool Constant node in `g`.
inline void addBoolConstant(onnx::GraphProto *g, const std::string &name, bool v) {
  auto *a = addNode(g, "Constant", {}, {name})->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(onnx::TensorProto::BOOL);
  a->mutable_t()->add_int32_data(v ? 1 : 0);
}

/// An initializer of `g` of element type `type` (FLOAT or INT64).
template <typename T>
inline void addInitializerOf(onnx::GraphProto *g, const std::string &name, int type, std::vector<int64_t> shape,
                             const std::vector<T> &values) {
  auto *t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (int64_t d : shape)
    t->add_dims(d);
  for (T v : values) {
    if constexpr (std::is_same<T, float>::value)
      t->add_float_data(v);
    else
      t->add_int64_data(v);
  }
}

inline void addFloatInitializer(onnx::GraphProto *g, const std::string &name, std::vector<int64_t> shape,
                                const std::vector<float> &values) {
  addInitializerOf(g, name, onnx::TensorProto::FLOAT, shape, values);
}

inline void addInt64Initializer(onnx::GraphProto *g, const std::string &name, std::vector<int64_t> shape,
                                const std::vector<int64_t> &values) {
  addInitializerOf(g, name, onnx::TensorProto::INT64, shape, values);
}

/// A Loop node; returns its body graph (inputs: i, cond, carried...), which
/// the caller fills.
inline onnx::GraphProto *addLoop(onnx::GraphProto *g, std::vector<std::string> in, std::vector<std::string> out) {
  auto *n = addNode(g, "Loop", in, out, "loop");
  auto *a = n->add_attribute();
  a->set_name("body");
  a->set_type(onnx::AttributeProto::GRAPH);
  return a->mutable_g();
}

} // namespace test
} // namespace nncc

#endif
