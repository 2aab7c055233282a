//===- nncc.h - the nncc C++ API --------------------------------*- C++ -*-===//
//
// Compile a model for this machine and run it on tensors:
//
//   std::string error;
//   auto model = nncc::CompiledModel::fromOnnxFile("model.onnx", error);
//   std::vector<nncc::Tensor> outputs;
//   model->run({input}, outputs, error);
//
// See docs/cpp-api.md and docs/examples/run_model.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_DRIVER_NNCC_H
#define NNCC_DRIVER_NNCC_H

#include "frontend/onnx/OnnxImporter.h"
#include "runtime/Tensor.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace nncc {

class Executable;

struct ModelOptions {
  /// Shapes for inputs with symbolic dimensions ("batch" -> [1, 3, 224, 224]).
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// Values of inputs that determine shapes (a Reshape's shape given as a
  /// graph input, ...). The model is compiled for these values.
  std::map<std::string, const Tensor *> inputValues;
  /// LLVM optimization level, 0 to 3.
  unsigned optLevel = 2;
};

class CompiledModel {
public:
  ~CompiledModel();
  /// Loads an ONNX model (any file name; recognised by content) and compiles
  /// it for the host. Returns null and sets `error` on failure.
  static std::unique_ptr<CompiledModel> fromOnnxFile(const std::string &path, std::string &error,
                                                     const ModelOptions &options = {});

  const std::vector<TensorSignature> &inputs() const;
  const std::vector<TensorSignature> &outputs() const;
  /// Runs on `inputs` (graph-input order); fills `outputs`. Checks element
  /// types and shapes. Calls are serialized; the model may be shared.
  bool run(const std::vector<Tensor> &inputs, std::vector<Tensor> &outputs, std::string &error);
  /// Bytes of the planned workspace for intermediate tensors.
  int64_t workspaceBytes() const;

private:
  std::unique_ptr<Executable> exe;
};

/// ONNX TensorProto files (the backend-test `input_0.pb` format).
bool readTensor(const std::string &path, Tensor &tensor, std::string &error);
bool writeTensor(const std::string &path, const Tensor &tensor, std::string &error);

} // namespace nncc

#endif
