//===- Api.cpp - the C++ API (driver/nncc.h) ------------------------------===//
#include "driver/nncc.h"
#include "driver/Compiler.h"
#include "driver/Trainer.h"
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
  importOptions.sequenceLengths = options.sequenceLengths;
  importOptions.emptyOptionals = options.emptyOptionals;
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

std::unique_ptr<CompiledModel> CompiledModel::fromBuilder(GraphBuilder &graph, std::string &error,
                                                          const ModelOptions &options) {
  mlir::ModuleOp *module = graph.module(error);
  if (!module)
    return nullptr;
  loadDialects(*module->getContext()); // the lowering's dialects
  CompileOptions compileOptions;
  compileOptions.optLevel = options.optLevel;
  auto exe = compileModule(*module, compileOptions, error);
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

struct Trainer::Impl {
  onnx::ModelProto model;
  std::unique_ptr<TrainingSession> session;
  int find(const std::string &name, std::string &error) const {
    const auto &names = session->paramNames();
    for (size_t k = 0; k < names.size(); ++k)
      if (names[k] == name)
        return (int)k;
    error = "the model has no trainable parameter '" + name + "'";
    return -1;
  }
};

Trainer::~Trainer() = default;

std::unique_ptr<Trainer> Trainer::fromOnnxFile(const std::string &path, const TrainOptions &options,
                                               std::string &error) {
  auto t = std::unique_ptr<Trainer>(new Trainer());
  t->impl = std::make_unique<Impl>();
  if (!loadOnnxModel(path, t->impl->model, error))
    return nullptr;
  TrainStepOptions opt;
  opt.loss = options.loss;
  opt.batch = options.batch;
  opt.solver.solver = options.solver;
  opt.solver.momentum = options.momentum;
  opt.solver.beta2 = options.beta2;
  opt.solver.rmsDecay = options.rmsDecay;
  opt.solver.eps = options.eps;
  opt.solver.weightDecay = options.weightDecay;
  opt.solver.clipNorm = options.clipNorm;
  t->impl->session = TrainingSession::create(t->impl->model, opt, error);
  if (!t->impl->session)
    return nullptr;
  return t;
}

const TensorSignature &Trainer::input() const { return impl->session->input(); }
const TensorSignature &Trainer::output() const { return impl->session->output(); }

bool Trainer::step(const Tensor &x, const Tensor &labels, double lr, float &loss, std::string &error) {
  return impl->session->step(x, labels, lr, loss, error);
}

std::vector<Tensor> &Trainer::carriedStates() { return impl->session->carried(); }

std::vector<Tensor> &Trainer::givenInputs() { return impl->session->given(); }

bool Trainer::predict(const Tensor &x, Tensor &y, std::string &error) { return impl->session->predict(x, y, error); }

std::vector<std::string> Trainer::parameterNames() const { return impl->session->paramNames(); }

bool Trainer::getParameter(const std::string &name, Tensor &value, std::string &error) const {
  int k = impl->find(name, error);
  if (k < 0)
    return false;
  value = impl->session->params()[k];
  return true;
}

bool Trainer::setParameter(const std::string &name, const Tensor &value, std::string &error) {
  int k = impl->find(name, error);
  if (k < 0)
    return false;
  Tensor &p = impl->session->params()[k];
  if (value.dtype() != p.dtype() || value.shape() != p.shape()) {
    error = "parameter '" + name + "' is " + p.describe() + ", got " + value.describe();
    return false;
  }
  p = value;
  return true;
}

bool Trainer::save(const std::string &path, std::string &error) const {
  return saveOnnxWithParams(impl->model, impl->session->paramNames(), impl->session->params(), path, error);
}

} // namespace nncc
