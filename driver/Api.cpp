//===- Api.cpp - the C++ API (driver/nncc.h) ------------------------------===//
#include "driver/nncc.h"
#include "driver/Compiler.h"
#include "frontend/onnx/TensorProto.h"

#include "onnx/onnx_pb.h"

namespace nncc {

CompiledModel::~CompiledModel() = default;

std::unique_ptr<CompiledModel> CompiledModel::fromOnnxFile(const std::string &path, std::string &error,
                                                           const ModelOptions &options) {
  onnx::ModelProto model;
  if (!loadOnnxModel(path, model, error))
    return nullptr;
  ImportOptions importOptions;
  importOptions.inputShapes = options.inputShapes;
  importOptions.inputValues = options.inputValues;
  auto slash = path.find_last_of('/');
  importOptions.baseDir = slash == std::string::npos ? "." : path.substr(0, slash);
  CompileOptions compileOptions;
  compileOptions.optLevel = options.optLevel;
  auto exe = compileOnnx(model, importOptions, compileOptions, error);
  if (!exe)
    return nullptr;
  auto m = std::unique_ptr<CompiledModel>(new CompiledModel());
  m->exe = std::move(exe);
  return m;
}

const std::vector<TensorSignature> &CompiledModel::inputs() const { return exe->inputs(); }
const std::vector<TensorSignature> &CompiledModel::outputs() const { return exe->outputs(); }
int64_t CompiledModel::workspaceBytes() const { return exe->workspaceBytes(); }

bool CompiledModel::run(const std::vector<Tensor> &inputs, std::vector<Tensor> &outputs, std::string &error) {
  std::vector<const Tensor *> in;
  for (auto &t : inputs)
    in.push_back(&t);
  return exe->run(in, outputs, error);
}

bool readTensor(const std::string &path, Tensor &tensor, std::string &error) {
  std::string name;
  return readTensorFile(path, tensor, name, error);
}

bool writeTensor(const std::string &path, const Tensor &tensor, std::string &error) {
  return writeTensorFile(path, tensor, "", error);
}

} // namespace nncc
